//! Objects as serde maps: the id-blocks of a plan (and of the object members of a union,
//! merged), keys in the order of the input, then the fields the decoder puts back.

use std::borrow::Cow;

use rustc_hash::FxHashMap;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, IntoDeserializer, MapAccess, Visitor};
use serde::{forward_to_deserialize_any, Deserialize};

use super::{find, Cx, LitDe, ValDe};
use crate::tsbuffer::error::Error;
use crate::tsbuffer::schema::{is_number_key, FieldSet, Ix, Lit, Member, Node, Plan};
use crate::tsbuffer::wire::{length_type, Reader};

/// Where an object's blocks come from.
#[derive(Clone, Copy)]
pub(super) enum Source<'p> {
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

/// The blocks being read, innermost last: (block, blocks left in it). Inline for the usual
/// depth (an interface, its parents, theirs).
#[derive(Default)]
struct Levels {
    inline: [(u16, u32); 4],
    len: usize,
    spill: Vec<(u16, u32)>,
}

impl Levels {
    #[inline]
    fn push(&mut self, l: (u16, u32)) {
        if self.len < self.inline.len() {
            self.inline[self.len] = l;
        } else {
            self.spill.push(l);
        }
        self.len += 1;
    }

    #[inline]
    fn pop(&mut self) {
        self.len -= 1;
        if self.len >= self.inline.len() {
            self.spill.pop();
        }
    }

    #[inline]
    fn top(&mut self) -> Option<&mut (u16, u32)> {
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
    #[inline]
    fn new(plan: &'p Plan) -> Self {
        Cursor {
            plan,
            next_root: 0,
            levels: Levels::default(),
            seen: FieldSet::default(),
            fill: None,
        }
    }

    #[inline]
    fn next<'de>(&mut self, r: &mut Reader<'de>) -> Result<Step<'de>, Error> {
        let plan = self.plan;
        loop {
            let Some(top) = self.levels.top() else {
                if let Some(i) = self.fill {
                    return Ok(self.next_fill(i));
                }
                if let Some(&root) = plan.roots.get(self.next_root) {
                    self.next_root += 1;
                    let n = block_count(r)?;
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
            if id >= 10 {
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
                if shown && ix.number_keys && !is_number_key(&key) {
                    return Err(not_a_number_key(&key));
                }
                return Ok(Step::Index(key, ix.ty, shown));
            }
            match block.extends.iter().find(|e| e.0 == id - 1) {
                Some(&(_, child)) => {
                    let n = block_count(r)?;
                    self.levels.push((child, n));
                }
                None => r.skip(lt)?,
            }
        }
    }

    /// Past the blocks: the next field to put back, from fill `i` on.
    fn next_fill<'de>(&mut self, i: usize) -> Step<'de> {
        let fills = &self.plan.fills;
        for (j, &fi) in fills.iter().enumerate().skip(i) {
            if !self.seen.get(fi) {
                self.fill = Some(j + 1);
                return Step::Fill(fi);
            }
        }
        self.fill = Some(fills.len());
        Step::Done
    }
}

/// A block count (each block takes at least one byte: no more than the bytes left).
#[inline]
fn block_count(r: &mut Reader<'_>) -> Result<u32, Error> {
    let n = r.count("block")?;
    // `count` keeps it under the input's length.
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// What `next_value` reads.
enum Pending<'p> {
    None,
    Value(Ix),
    Lit(&'p Lit),
}

/// An object as a serde map: the keys are the schema's property names (and index-signature
/// keys), in the order of the input, then the fields the decoder puts back.
pub(super) struct ObjMap<'a, 'de, 'p> {
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
    drop: Option<Box<[bool]>>,
}

impl<'a, 'de, 'p> ObjMap<'a, 'de, 'p> {
    /// The map over `source`, at the reader's position.
    #[inline]
    pub(super) fn new(
        r: &'a mut Reader<'de>,
        cx: Cx<'p>,
        source: Source<'p>,
    ) -> Result<Self, Error> {
        if !cx.dedupe {
            return Ok(ObjMap::plain(r, cx, source));
        }
        let drop = look_ahead(&mut *r, cx, source)?;
        let mut map = ObjMap::plain(r, cx, source);
        map.drop = Some(drop);
        Ok(map)
    }

    #[inline]
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
            drop: None,
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

    /// What a step other than a plain field gives: a key and its value, or `None` to go on.
    fn rare_step(
        &mut self,
        plan: &'p Plan,
        step: Step<'de>,
    ) -> Result<Option<(KeyDe<'p, 'de>, Pending<'p>)>, Error> {
        Ok(match step {
            Step::Field(fi, ty) => Some((
                KeyDe::Name(&plan.fields[usize::from(fi)].name),
                Pending::Value(ty),
            )),
            Step::Done => {
                self.cur = None;
                None
            }
            Step::Hidden(ty) | Step::Index(_, ty, false) => {
                self.skip_value(ty)?;
                None
            }
            Step::Index(key, ty, true) => Some((KeyDe::Input(key), Pending::Value(ty))),
            Step::Fill(fi) => {
                let f = &plan.fields[usize::from(fi)];
                let lit = match self.cx.proto.node(f.ty) {
                    Node::Literal(l) => l,
                    _ => &Lit::Null,
                };
                Some((KeyDe::Name(&f.name), Pending::Lit(lit)))
            }
        })
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

    #[inline]
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
            // A field, nearly always: tested first with a plain branch (a `match` here is a
            // jump table, mispredicted as often as the kinds alternate).
            let (key, pending) = if let Step::Field(fi, ty) = step {
                (
                    KeyDe::Name(&plan.fields[usize::from(fi)].name),
                    Pending::Value(ty),
                )
            } else {
                match self.rare_step(plan, step)? {
                    Some(next) => next,
                    None => continue,
                }
            };
            let ordinal = self.ordinal;
            self.ordinal += 1;
            if self
                .drop
                .as_ref()
                .is_some_and(|d| d.get(ordinal) == Some(&true))
            {
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

    #[inline]
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

/// For an object whose input repeats a key: reads it ahead, and gives for each key (by
/// ordinal) whether a later one repeats it (and so replaces it, as in JavaScript).
#[cold]
#[inline(never)]
fn look_ahead(r: &mut Reader<'_>, cx: Cx<'_>, source: Source<'_>) -> Result<Box<[bool]>, Error> {
    let (pos, depth) = (r.pos, r.depth);
    // Each key's last ordinal; the others are dropped.
    let mut last: FxHashMap<String, usize> = FxHashMap::default();
    let mut n = 0;
    {
        let plain = Cx {
            dedupe: false,
            ..cx
        };
        let mut dry = ObjMap::plain(&mut *r, plain, source);
        while let Some(k) = dry.next_key::<String>()? {
            last.insert(k, n);
            n += 1;
            dry.next_value::<IgnoredAny>()?;
        }
    }
    r.rewind(pos)?;
    r.depth = depth;
    let mut drop = vec![true; n];
    for &i in last.values() {
        drop[i] = false;
    }
    Ok(drop.into())
}

/// A merged union handed to `visit_some`.
pub(super) struct MapDe<'a, 'de, 'p>(pub(super) ObjMap<'a, 'de, 'p>);

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

/// The refusal of an index-signature key that is not a number where the signature wants one.
/// (Out of line: the decoder's recursive frames stay small.)
#[cold]
#[inline(never)]
fn not_a_number_key(key: &str) -> Error {
    Error::decode(format!(
        "`{key}` is not a valid key, the key here should be a `number`."
    ))
}
