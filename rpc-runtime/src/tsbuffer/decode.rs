//! Decoding: a serde [`Deserializer`] driven by the schema, reading TSBuffer bytes straight
//! into the Rust value (strings and bytes borrowed from the input where the type allows).
//!
//! It reads as tsbuffer's `Decoder` reads, so what a TSRPC server accepts is accepted:
//! blocks in any order, unknown ids skipped by their length type, trailing bytes ignored,
//! non-minimal varints, invalid UTF-8 as U+FFFD, literal fields put back, an absent field
//! that can be `null` but not `undefined` read as `null`, and a field given twice taken from
//! its last block (serde's derive refuses a duplicate field: the first duplicate makes the
//! whole input be decoded again, each object looking ahead to keep only the last one).
//!
//! Deliberate differences (each refused where tsbuffer reads garbage or past the end):
//! - a string, a buffer or a skipped block whose length runs past the input (tsbuffer
//!   silently truncates it), and a varint cut short with fewer than 4 bytes left;
//! - a count (blocks, array elements) larger than the bytes left, before anything is read
//!   or allocated for it (an array of zero-byte elements, such as literals, is limited to
//!   as many elements as there are bytes left);
//! - a date outside JavaScript's range (tsbuffer gives an `Invalid Date`); a date before 1970
//!   is read back as the negative number of milliseconds it was written as (tsbuffer reads it
//!   as a huge positive one, also an `Invalid Date`);
//! - several members of a union that are not all objects: the last one is taken (as tsbuffer
//!   does), but objects are only merged when every member read is an object;
//! - nesting deeper than [`MAX_DEPTH`](super::wire::MAX_DEPTH).

use std::borrow::Cow;

use serde::de::value::{BorrowedStrDeserializer, StrDeserializer, StringDeserializer};
use serde::de::{
    DeserializeSeed, Deserializer, IgnoredAny, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde::{forward_to_deserialize_any, Deserialize};

use super::error::Error;
use super::schema::{FieldSet, Ix, Lit, Member, Node, Plan, Proto, Scalar, TupleElem};
use super::wire::{length_type, unzigzag, Reader};

/// Decodes `bytes` as a value of `ty`.
pub(crate) fn decode<'de, T: Deserialize<'de>>(
    proto: &Proto,
    ty: Ix,
    bytes: &'de [u8],
) -> Result<T, Error> {
    match decode_with(proto, ty, bytes, false) {
        Err(e) if e.is_duplicate() => decode_with(proto, ty, bytes, true),
        other => other,
    }
}

fn decode_with<'de, T: Deserialize<'de>>(
    proto: &Proto,
    ty: Ix,
    bytes: &'de [u8],
    dedupe: bool,
) -> Result<T, Error> {
    let mut r = Reader::new(bytes);
    T::deserialize(ValDe {
        r: &mut r,
        cx: Cx { proto, dedupe },
        ty,
    })
}

#[derive(Debug, Clone, Copy)]
struct Cx<'p> {
    proto: &'p Proto,
    /// Objects look ahead and keep the last of a repeated field.
    dedupe: bool,
}

/// What the Rust type asked for, where the schema alone does not decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Any,
    Option,
    Enum,
    Tuple(usize),
}

/// One value of one node.
struct ValDe<'a, 'de, 'p> {
    r: &'a mut Reader<'de>,
    cx: Cx<'p>,
    ty: Ix,
}

impl<'a, 'de, 'p> ValDe<'a, 'de, 'p> {
    fn go<V: Visitor<'de>>(self, want: Want, v: V) -> Result<V::Value, Error> {
        let proto = self.cx.proto;
        match proto.node(self.ty) {
            Node::Union { members, .. } => self.union(members, want, v),
            Node::Intersection(members) => self.union(members, want, v),
            Node::Literal(l) => LitDe(l).go(want, v),
            Node::NonNullable(t) => ValDe { ty: *t, ..self }.go(want, v),
            // JSON text: `null` in it is `None`.
            node @ (Node::Any | Node::Object) => self.read(node, want, v),
            _ if want == Want::Option => v.visit_some(self),
            node => self.read(node, want, v),
        }
    }

    fn read<V: Visitor<'de>>(self, node: &'p Node, want: Want, v: V) -> Result<V::Value, Error> {
        let r = self.r;
        match node {
            Node::Boolean => v.visit_bool(r.bool()?),
            Node::Number(Scalar::Uint) => v.visit_u64(r.varint()?),
            Node::Number(Scalar::Int) => v.visit_i64(unzigzag(r.varint()?)),
            Node::Number(Scalar::Double) => v.visit_f64(r.f64()?),
            Node::Number(Scalar::Big(name)) => {
                Err(Error::decode(format!("Scalar type not support : {name}")))
            }
            Node::String => match (r.str()?, want) {
                (Cow::Borrowed(s), Want::Enum) => v.visit_enum(BorrowedStrDeserializer::new(s)),
                (Cow::Owned(s), Want::Enum) => v.visit_enum(StringDeserializer::new(s)),
                (Cow::Borrowed(s), _) => v.visit_borrowed_str(s),
                (Cow::Owned(s), _) => v.visit_string(s),
            },
            Node::Array(elem) => {
                r.enter()?;
                let n = r.count("array element")?;
                let out = v.visit_seq(ArrAccess {
                    r: &mut *r,
                    cx: self.cx,
                    elem: *elem,
                    left: n,
                    seen: 0,
                })?;
                r.leave();
                Ok(out)
            }
            Node::Tuple(elems) => {
                r.enter()?;
                let mask = r.varint()?;
                let top = 64 - mask.leading_zeros() as usize;
                if top > elems.len() {
                    return Err(Error::decode(format!(
                        "the tuple's mask selects element {} of a {}-element tuple",
                        top - 1,
                        elems.len()
                    )));
                }
                let pad = match want {
                    Want::Tuple(len) => len.min(elems.len()),
                    _ => 0,
                };
                let out = v.visit_seq(TupleAccess {
                    r: &mut *r,
                    cx: self.cx,
                    elems,
                    mask,
                    i: 0,
                    upto: top.max(pad),
                })?;
                r.leave();
                Ok(out)
            }
            Node::Enum(members) => {
                let id = r.varint()?;
                let Some(m) = members.iter().find(|m| m.id == id) else {
                    return Err(Error::decode(format!(
                        "Invalid enum encoding: unexpected id {id}"
                    )));
                };
                LitDe(&m.value).go(want, v)
            }
            Node::Any | Node::Object => json(r.str()?, want, v),
            Node::Record(p) => {
                r.enter()?;
                let plan = self.cx.proto.plan(*p);
                let map = ObjMap::new(&mut *r, self.cx, Source::Plan(plan))?;
                let out = v.visit_map(map)?;
                r.leave();
                Ok(out)
            }
            Node::Buffer | Node::ObjectId => v.visit_borrowed_bytes(r.bytes()?),
            Node::Date => v.visit_i64(r.varint()? as i64),
            Node::Unsupported(why) => Err(Error::decode(why.to_string())),
            Node::Union { .. }
            | Node::Intersection(_)
            | Node::Literal(_)
            | Node::NonNullable(_) => Err(Error::decode("internal: a node read out of turn")),
        }
    }

    /// A union or an intersection: the member blocks present. One member is read as that
    /// member; several objects are merged into one map; otherwise the last member wins.
    fn union<V: Visitor<'de>>(
        self,
        members: &'p [Member],
        want: Want,
        v: V,
    ) -> Result<V::Value, Error> {
        let cx = self.cx;
        let r = self.r;
        r.enter()?;
        let start = r.pos;
        let n = r.count("member")?;
        let mut end = None;
        let mut one = None;
        if n == 1 {
            let h = r.varint()?;
            match find(members, h >> 2) {
                Some(m) => {
                    if m.prefix {
                        r.varint()?;
                    }
                    one = Some(m.ty);
                }
                None => r.skip((h & 3) as u8)?,
            }
        } else if n > 1 {
            let mut known = Vec::new();
            for _ in 0..n {
                let h = r.varint()?;
                match find(members, h >> 2) {
                    Some(m) => {
                        if m.prefix {
                            r.varint()?;
                        }
                        let at = r.pos;
                        IgnoredAny::deserialize(ValDe {
                            r: &mut *r,
                            cx,
                            ty: m.ty,
                        })?;
                        known.push((m.ty, at));
                    }
                    None => r.skip((h & 3) as u8)?,
                }
            }
            end = Some(r.pos);
            let all_objects = known.len() > 1
                && known
                    .iter()
                    .all(|&(t, _)| matches!(cx.proto.node(t), Node::Record(_)));
            if all_objects {
                r.pos = start;
                let n = r.varint()?;
                let map = ObjMap::new(&mut *r, cx, Source::Members(members, n))?;
                let out = if want == Want::Option {
                    v.visit_some(MapDe(map))
                } else {
                    v.visit_map(map)
                }?;
                r.leave();
                return Ok(out);
            }
            if let Some(&(t, at)) = known.last() {
                r.pos = at;
                one = Some(t);
            }
        }
        let out = match one {
            // `undefined`: tsbuffer's `undefinedAsNull` makes it `null` when the union can
            // hold `null`; either way there is no value.
            None => match want {
                Want::Option => v.visit_none(),
                _ => v.visit_unit(),
            },
            Some(ty) => ValDe { r: &mut *r, cx, ty }.go(want, v),
        }?;
        if let Some(end) = end {
            r.pos = end;
        }
        r.leave();
        Ok(out)
    }
}

fn find(members: &[Member], id: u64) -> Option<&Member> {
    members.iter().find(|m| m.id == id)
}

/// `any` / `object`: JSON text (or `undefined`).
fn json<'de, V: Visitor<'de>>(text: Cow<'de, str>, want: Want, v: V) -> Result<V::Value, Error> {
    fn go<'de, R: serde_json::de::Read<'de>, V: Visitor<'de>>(
        mut de: serde_json::Deserializer<R>,
        want: Want,
        v: V,
    ) -> Result<V::Value, Error> {
        let out = match want {
            Want::Option => de.deserialize_option(v),
            Want::Enum => de.deserialize_enum("", &[], v),
            Want::Tuple(len) => de.deserialize_tuple(len, v),
            Want::Any => de.deserialize_any(v),
        }
        .map_err(|e| Error::decode(format!("bad JSON in an `any` value: {e}")))?;
        de.end()
            .map_err(|e| Error::decode(format!("bad JSON in an `any` value: {e}")))?;
        Ok(out)
    }
    if text == "undefined" {
        return match want {
            Want::Option => v.visit_none(),
            _ => v.visit_unit(),
        };
    }
    match text {
        Cow::Borrowed(s) => go(serde_json::Deserializer::from_str(s), want, v),
        Cow::Owned(s) => go(
            serde_json::Deserializer::new(serde_json::de::IoRead::new(s.as_bytes())),
            want,
            v,
        ),
    }
}

macro_rules! by_want {
    () => {
        fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            self.go(Want::Any, v)
        }
        fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            self.go(Want::Option, v)
        }
        fn deserialize_enum<V: Visitor<'de>>(
            self,
            _: &'static str,
            _: &'static [&'static str],
            v: V,
        ) -> Result<V::Value, Error> {
            self.go(Want::Enum, v)
        }
        fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, Error> {
            self.go(Want::Tuple(len), v)
        }
        fn deserialize_tuple_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            len: usize,
            v: V,
        ) -> Result<V::Value, Error> {
            self.go(Want::Tuple(len), v)
        }
        fn deserialize_newtype_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            v: V,
        ) -> Result<V::Value, Error> {
            v.visit_newtype_struct(self)
        }
        fn is_human_readable(&self) -> bool {
            false
        }
        forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf unit unit_struct seq map struct identifier ignored_any
        }
    };
}

impl<'de> Deserializer<'de> for ValDe<'_, 'de, '_> {
    type Error = Error;
    by_want!();
}

/// A literal (or an enum member's value): no bytes, the value is in the schema.
struct LitDe<'l>(&'l Lit);

impl LitDe<'_> {
    fn go<'de, V: Visitor<'de>>(self, want: Want, v: V) -> Result<V::Value, Error> {
        match (want, self.0) {
            (Want::Option, Lit::Null | Lit::Undefined) => v.visit_none(),
            (Want::Option, _) => v.visit_some(self),
            (Want::Enum, Lit::Str(s)) => v.visit_enum(StrDeserializer::<Error>::new(s)),
            (_, Lit::Str(s)) => v.visit_str(s),
            (_, Lit::Num(x)) => {
                if x.fract() == 0.0 && x.abs() < 9.3e18 {
                    v.visit_i64(*x as i64)
                } else {
                    v.visit_f64(*x)
                }
            }
            (_, Lit::Bool(b)) => v.visit_bool(*b),
            (_, Lit::Null | Lit::Undefined) => v.visit_unit(),
        }
    }
}

impl<'de> Deserializer<'de> for LitDe<'_> {
    type Error = Error;
    by_want!();
}

struct ArrAccess<'a, 'de, 'p> {
    r: &'a mut Reader<'de>,
    cx: Cx<'p>,
    elem: Ix,
    left: u64,
    /// Elements read so far (the index of the next one).
    seen: u64,
}

impl<'de> SeqAccess<'de> for ArrAccess<'_, 'de, '_> {
    type Error = Error;
    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let at = self.seen;
        self.seen += 1;
        seed.deserialize(ValDe {
            r: &mut *self.r,
            cx: self.cx,
            ty: self.elem,
        })
        .map(Some)
        .map_err(|e| e.within(&at.to_string()))
    }
    fn size_hint(&self) -> Option<usize> {
        usize::try_from(self.left).ok()
    }
}

struct TupleAccess<'a, 'de, 'p> {
    r: &'a mut Reader<'de>,
    cx: Cx<'p>,
    elems: &'p [TupleElem],
    mask: u64,
    i: usize,
    /// Elements handed out: up to the last present one, or the Rust tuple's length.
    upto: usize,
}

impl<'de> SeqAccess<'de> for TupleAccess<'_, 'de, '_> {
    type Error = Error;
    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        if self.i >= self.upto {
            return Ok(None);
        }
        let at = self.i;
        self.i += 1;
        if self.mask & 1 << at == 0 {
            // Absent (a hole reads as `undefined`, written `null` in JSON).
            return seed.deserialize(LitDe(&Lit::Null)).map(Some);
        }
        seed.deserialize(ValDe {
            r: &mut *self.r,
            cx: self.cx,
            ty: self.elems[at].ty,
        })
        .map(Some)
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.upto - self.i)
    }
}

/// Where an object's blocks come from.
#[derive(Clone, Copy)]
enum Source<'p> {
    /// One interface-like schema.
    Plan(&'p Plan),
    /// The object members of a union or an intersection, merged (`n` member blocks).
    Members(&'p [Member], u64),
}

/// The blocks of one plan being read: a stack of (block, blocks left in it).
struct Cursor<'p> {
    plan: &'p Plan,
    next_root: usize,
    levels: Levels,
    seen: FieldSet,
    /// Past the blocks: the next fill to look at.
    fill: Option<usize>,
}

/// A small stack that lives inline for the usual depth.
#[derive(Default)]
struct Levels {
    inline: [(u16, u64); 4],
    len: usize,
    spill: Vec<(u16, u64)>,
}

impl Levels {
    fn push(&mut self, l: (u16, u64)) {
        if self.len < self.inline.len() {
            self.inline[self.len] = l;
        } else {
            self.spill.push(l);
        }
        self.len += 1;
    }
    fn pop(&mut self) {
        self.len -= 1;
        if self.len >= self.inline.len() {
            self.spill.pop();
        }
    }
    fn top(&mut self) -> Option<&mut (u16, u64)> {
        match self.len {
            0 => None,
            n if n <= self.inline.len() => Some(&mut self.inline[n - 1]),
            _ => self.spill.last_mut(),
        }
    }
}

/// What the next block of an object holds.
enum Step<'de> {
    Field(u16, Ix),
    /// Read and dropped (left out by `Pick` / `Omit`).
    Hidden(Ix),
    Index(Cow<'de, str>, Ix, bool),
    Fill(u16),
    Done,
}

impl<'p> Cursor<'p> {
    fn new(plan: &'p Plan) -> Self {
        Cursor {
            plan,
            next_root: 0,
            levels: Levels::default(),
            seen: FieldSet::default(),
            fill: None,
        }
    }

    fn next<'de>(&mut self, r: &mut Reader<'de>) -> Result<Step<'de>, Error> {
        let plan = self.plan;
        loop {
            if let Some(i) = self.fill {
                for (j, &fi) in plan.fills.iter().enumerate().skip(i) {
                    if !self.seen.get(fi) {
                        self.fill = Some(j + 1);
                        return Ok(Step::Fill(fi));
                    }
                }
                self.fill = Some(plan.fills.len());
                return Ok(Step::Done);
            }
            let Some(top) = self.levels.top() else {
                if let Some(&root) = plan.roots.get(self.next_root) {
                    self.next_root += 1;
                    let n = r.count("block")?;
                    self.levels.push((root, n));
                } else {
                    self.fill = Some(0);
                }
                continue;
            };
            if top.1 == 0 {
                self.levels.pop();
                continue;
            }
            top.1 -= 1;
            let block = &plan.blocks[usize::from(top.0)];
            let h = r.varint()?;
            let (id, lt) = (h >> 2, (h & 3) as u8);
            if id == 0 {
                let Some(ix) = &block.index else {
                    r.skip(length_type::DELIMITED)?;
                    r.skip(lt)?;
                    continue;
                };
                let key = r.str()?;
                if ix.prefix {
                    r.varint()?;
                }
                let shown = ix.filter.allows(&key);
                return Ok(Step::Index(key, ix.ty, shown));
            }
            if id <= 9 {
                match block.extends.iter().find(|e| e.0 == id - 1) {
                    Some(&(_, child)) => {
                        let n = r.count("block")?;
                        self.levels.push((child, n));
                    }
                    None => r.skip(lt)?,
                }
                continue;
            }
            let pid = id - 10;
            let prop = usize::try_from(pid)
                .ok()
                .and_then(|i| block.props.get(i))
                .filter(|p| p.id == pid)
                .or_else(|| block.props.iter().find(|p| p.id == pid));
            let Some(p) = prop else {
                r.skip(lt)?;
                continue;
            };
            if p.prefix {
                r.varint()?;
            }
            return Ok(match p.field {
                Some(fi) => {
                    self.seen.set(fi);
                    Step::Field(fi, p.ty)
                }
                None => Step::Hidden(p.ty),
            });
        }
    }
}

/// What `next_value` reads.
enum Pending<'p> {
    None,
    Value(Ix),
    Lit(&'p Lit),
}

/// An object as a serde map: the keys are the schema's property names (and index-signature
/// keys), in the order of the input, then the fields the decoder puts back.
struct ObjMap<'a, 'de, 'p> {
    r: &'a mut Reader<'de>,
    cx: Cx<'p>,
    cur: Option<Cursor<'p>>,
    members: &'p [Member],
    members_left: u64,
    pending: Pending<'p>,
    /// The field whose value is pending, for errors.
    pending_name: Option<&'p str>,
    ordinal: usize,
    /// With `dedupe`: which keys (by ordinal) a later one repeats.
    drop: Vec<bool>,
}

impl<'a, 'de, 'p> ObjMap<'a, 'de, 'p> {
    fn new(r: &'a mut Reader<'de>, cx: Cx<'p>, source: Source<'p>) -> Result<Self, Error> {
        let mut drop = Vec::new();
        if cx.dedupe {
            let (pos, depth) = (r.pos, r.depth);
            let mut names: Vec<String> = Vec::new();
            {
                let plain = Cx {
                    dedupe: false,
                    ..cx
                };
                let mut dry = ObjMap::plain(&mut *r, plain, source);
                while let Some(k) = dry.next_key::<String>()? {
                    names.push(k);
                    dry.next_value::<IgnoredAny>()?;
                }
            }
            r.pos = pos;
            r.depth = depth;
            drop = (0..names.len())
                .map(|i| names[i + 1..].contains(&names[i]))
                .collect();
        }
        let mut map = ObjMap::plain(r, cx, source);
        map.drop = drop;
        Ok(map)
    }

    fn plain(r: &'a mut Reader<'de>, cx: Cx<'p>, source: Source<'p>) -> Self {
        let (cur, members, members_left) = match source {
            Source::Plan(plan) => (Some(Cursor::new(plan)), &[][..], 0),
            Source::Members(members, n) => (None, members, n),
        };
        ObjMap {
            r,
            cx,
            cur,
            members,
            members_left,
            pending: Pending::None,
            pending_name: None,
            ordinal: 0,
            drop: Vec::new(),
        }
    }

    /// Starts the next object member of a merged union; `false` when there is none.
    fn next_member(&mut self) -> Result<bool, Error> {
        while self.members_left > 0 {
            self.members_left -= 1;
            let h = self.r.varint()?;
            let Some(m) = find(self.members, h >> 2) else {
                self.r.skip((h & 3) as u8)?;
                continue;
            };
            if m.prefix {
                self.r.varint()?;
            }
            match self.cx.proto.node(m.ty) {
                Node::Record(p) => {
                    self.cur = Some(Cursor::new(self.cx.proto.plan(*p)));
                    return Ok(true);
                }
                _ => {
                    return Err(Error::decode(
                        "a union member that is not an object among objects",
                    ))
                }
            }
        }
        Ok(false)
    }

    fn skip_value(&mut self, ty: Ix) -> Result<(), Error> {
        IgnoredAny::deserialize(ValDe {
            r: &mut *self.r,
            cx: self.cx,
            ty,
        })
        .map(drop)
    }
}

impl<'de, 'p> MapAccess<'de> for ObjMap<'_, 'de, 'p> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        loop {
            let Some(cur) = &mut self.cur else {
                if self.next_member()? {
                    continue;
                }
                return Ok(None);
            };
            let plan = cur.plan;
            let step = cur.next(self.r)?;
            let (key, pending): (KeyDe<'p, 'de>, Pending<'p>) = match step {
                Step::Done => {
                    self.cur = None;
                    continue;
                }
                Step::Hidden(ty) | Step::Index(_, ty, false) => {
                    self.skip_value(ty)?;
                    continue;
                }
                Step::Field(fi, ty) => (
                    KeyDe::Name(&plan.fields[usize::from(fi)].name),
                    Pending::Value(ty),
                ),
                Step::Index(key, ty, true) => (KeyDe::Input(key), Pending::Value(ty)),
                Step::Fill(fi) => {
                    let f = &plan.fields[usize::from(fi)];
                    let lit = match self.cx.proto.node(f.ty) {
                        Node::Literal(l) => l,
                        _ => &Lit::Null,
                    };
                    (KeyDe::Name(&f.name), Pending::Lit(lit))
                }
            };
            let ordinal = self.ordinal;
            self.ordinal += 1;
            if self.drop.get(ordinal) == Some(&true) {
                if let Pending::Value(ty) = pending {
                    self.skip_value(ty)?;
                }
                continue;
            }
            self.pending = pending;
            self.pending_name = match &key {
                KeyDe::Name(name) => Some(*name),
                KeyDe::Input(_) => None,
            };
            return seed.deserialize(key).map(Some);
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        match std::mem::replace(&mut self.pending, Pending::None) {
            Pending::Value(ty) => seed
                .deserialize(ValDe {
                    r: &mut *self.r,
                    cx: self.cx,
                    ty,
                })
                .map_err(|e| match self.pending_name {
                    Some(name) => e.within(name),
                    None => e,
                }),
            Pending::Lit(l) => seed.deserialize(LitDe(l)),
            Pending::None => Err(Error::decode("internal: a value asked for before its key")),
        }
    }
}

/// A merged union handed to `visit_some`.
struct MapDe<'a, 'de, 'p>(ObjMap<'a, 'de, 'p>);

impl<'de> Deserializer<'de> for MapDe<'_, 'de, '_> {
    type Error = Error;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_map(self.0)
    }
    fn is_human_readable(&self) -> bool {
        false
    }
    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// An object key: a property name from the schema, or an index-signature key from the input.
enum KeyDe<'k, 'de> {
    Name(&'k str),
    Input(Cow<'de, str>),
}

impl KeyDe<'_, '_> {
    fn text(&self) -> &str {
        match self {
            KeyDe::Name(s) => s,
            KeyDe::Input(s) => s,
        }
    }
}

macro_rules! parsed_key {
    ($($method:ident => $visit:ident: $ty:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            match self.text().parse::<$ty>() {
                Ok(n) => v.$visit(n),
                Err(_) => self.deserialize_any(v),
            }
        }
    )*};
}

impl<'de> Deserializer<'de> for KeyDe<'_, 'de> {
    type Error = Error;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self {
            KeyDe::Name(s) => v.visit_str(s),
            KeyDe::Input(Cow::Borrowed(s)) => v.visit_borrowed_str(s),
            KeyDe::Input(Cow::Owned(s)) => v.visit_string(s),
        }
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        v.visit_enum(self.text().to_owned().into_deserializer())
    }
    parsed_key!(
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
    );
    forward_to_deserialize_any! {
        bool i128 u128 f32 f64 char str string bytes byte_buf option unit unit_struct
        newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}
