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

mod object;
mod seq;

use std::borrow::Cow;

use serde::de::value::{BorrowedStrDeserializer, StrDeserializer, StringDeserializer};
use serde::de::{Deserializer, IgnoredAny, Visitor};
use serde::{forward_to_deserialize_any, Deserialize};

use self::object::{MapDe, ObjMap, Source};
use self::seq::{ArrAccess, TupleAccess};
use super::error::Error;
use super::schema::{Ix, Lit, Member, Node, Proto, Scalar};
use super::wire::{unzigzag, Reader};

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
pub(super) struct Cx<'p> {
    pub(super) proto: &'p Proto,
    /// Objects look ahead and keep the last of a repeated field.
    pub(super) dedupe: bool,
}

/// What the Rust type asked for, where the schema alone does not decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    Any,
    Option,
    Enum,
    Tuple(usize),
}

/// One value of one node.
pub(super) struct ValDe<'a, 'de, 'p> {
    pub(super) r: &'a mut Reader<'de>,
    pub(super) cx: Cx<'p>,
    pub(super) ty: Ix,
}

impl<'a, 'de, 'p> ValDe<'a, 'de, 'p> {
    /// One dispatch on the node per value (each `match` on it is an indirect jump, and
    /// values of different kinds alternate: two per value cost a mispredicted jump each).
    fn go<V: Visitor<'de>>(self, want: Want, v: V) -> Result<V::Value, Error> {
        let node = self.cx.proto.node(self.ty);
        // Only these can be `null` (or `undefined`); any other value is `Some`.
        if want == Want::Option
            && !matches!(
                node,
                Node::Union { .. }
                    | Node::Intersection(_)
                    | Node::Literal(_)
                    | Node::NonNullable(_)
                    | Node::Any
                    | Node::Object
            )
        {
            return v.visit_some(self);
        }
        let r = self.r;
        match node {
            Node::Union { members, .. } | Node::Intersection(members) => {
                ValDe { r, ..self }.union(members, want, v)
            }
            Node::Literal(l) => LitDe(l).go(want, v),
            Node::NonNullable(t) => ValDe { r, ty: *t, ..self }.go(want, v),
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
            Node::Any | Node::Object => json(r.str()?, want, v, matches!(node, Node::Object)),
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
                r.rewind(start)?;
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
                r.rewind(at)?;
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

pub(super) fn find(members: &[Member], id: u64) -> Option<&Member> {
    members.iter().find(|m| m.id == id)
}

/// `any` / `object`: JSON text (or `undefined`).
/// An `any` or `object` value from its JSON text; `object_only`: tsbuffer validates what it
/// decoded, and `object` holds an object or an array.
fn json<'de, V: Visitor<'de>>(
    text: Cow<'de, str>,
    want: Want,
    v: V,
    object_only: bool,
) -> Result<V::Value, Error> {
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
    if object_only && !matches!(text.trim_start().as_bytes().first(), Some(b'{' | b'[')) {
        return Err(Error::decode(
            "Expected type to be `Object`: an object or an array",
        ));
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
pub(super) struct LitDe<'l>(pub(super) &'l Lit);

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
