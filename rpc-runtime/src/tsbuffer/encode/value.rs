//! One value against one node: scalars, and arrays and tuples ([`SeqEnc`]); objects are
//! `object`'s.

use std::fmt::Display;

use serde::ser::{
    Impossible, Serialize, SerializeSeq, SerializeTuple, SerializeTupleStruct, Serializer,
};

use super::object::ObjEnc;
use super::{Encoder, Outcome};
use crate::json::MAX_SAFE_INTEGER;
use crate::tsbuffer::error::Error;
use crate::tsbuffer::schema::{Ix, Lit, Node, NullMode, Scalar, TupleElem};
use crate::tsbuffer::wire::{patch_varint, put_bytes, put_str, put_varint, reserve_varint, zigzag};

/// A number as it came.
#[derive(Debug, Clone, Copy)]
enum Num {
    I(i64),
    U(u64),
    F(f64),
}

impl Num {
    /// An integer a TypeScript peer cannot read exactly (beyond [`MAX_SAFE_INTEGER`]): refused
    /// in binary as in JSON (`crate::json`), whatever the schema (a varint would carry it, but
    /// tsbuffer reads every number into a double). A float is what JavaScript holds already.
    fn beyond_safe_range(self) -> Option<Num> {
        let magnitude = match self {
            Num::I(v) => v.unsigned_abs(),
            Num::U(v) => v,
            Num::F(_) => return None,
        };
        (magnitude > MAX_SAFE_INTEGER).then_some(self)
    }

    fn as_f64(self) -> f64 {
        match self {
            Num::I(v) => v as f64,
            Num::U(v) => v as f64,
            Num::F(v) => v,
        }
    }
}

impl Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Num::I(v) => write!(f, "{v}"),
            Num::U(v) => write!(f, "{v}"),
            Num::F(v) => write!(f, "{v}"),
        }
    }
}

/// A double's integer modulo 2^64, as tsbuffer's `Varint64.from` keeps it.
fn wrap_u64(f: f64) -> u64 {
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    let m = f.abs() % TWO_64;
    let u = m as u64;
    if f < 0.0 {
        u.wrapping_neg()
    } else {
        u
    }
}

/// What a schema expects, for errors.
fn expected(node: &Node) -> &'static str {
    match node {
        Node::Boolean => "a boolean",
        Node::Number(Scalar::Uint) => "a `uint`",
        Node::Number(Scalar::Int) => "an `int`",
        Node::Number(_) => "a number",
        Node::String => "a string",
        Node::Array(_) => "an array",
        Node::Tuple(_) => "a tuple",
        Node::Enum(_) => "an enum member",
        Node::Literal(_) => "a literal",
        Node::Record(_) => "an object",
        Node::Buffer => "bytes",
        Node::Date => "a date",
        Node::ObjectId => "an ObjectId",
        _ => "another value",
    }
}

/// Serializes one value against one node.
pub(super) struct ValSer<'e, 'p> {
    pub(super) enc: &'e mut Encoder<'p>,
    pub(super) ty: Ix,
    pub(super) null: NullMode,
    pub(super) skip: Option<usize>,
}

impl<'e, 'p> ValSer<'e, 'p> {
    fn node(&self) -> &'p Node {
        self.enc.proto.node(self.ty)
    }

    fn mismatch(&self, got: &str) -> Error {
        let want = expected(self.node());
        self.enc.fail(|| format!("Expected {want}, got {got}"))
    }

    /// The refusal of an integer beyond JavaScript's safe range (the text of `crate::json`'s),
    /// whatever the schema: inside a union too, where it ends the search for a member.
    #[cold]
    fn unsafe_integer(&self, v: impl Display) -> Error {
        Error::unsendable(format!(
            "the integer {v} is beyond JavaScript's safe range (-(2^53 - 1) to 2^53 - 1), \
             so a TypeScript peer would read it rounded; not sent"
        ))
    }

    fn number(self, n: Num) -> Result<Outcome, Error> {
        if let Some(v) = n.beyond_safe_range() {
            return Err(self.unsafe_integer(v));
        }
        let node = self.node();
        let out = &mut self.enc.out;
        match node {
            Node::Number(Scalar::Uint) => {
                let v = match n {
                    Num::U(u) => u,
                    Num::I(i) if i >= 0 => i as u64,
                    Num::F(f) if f.is_finite() && f.fract() == 0.0 && f >= 0.0 => wrap_u64(f),
                    _ => return Err(self.enc.fail(|| format!("`{n}` is not a valid `uint`."))),
                };
                put_varint(out, v);
            }
            Node::Number(Scalar::Int) => {
                let v = match n {
                    Num::I(i) => i,
                    Num::U(u) if i64::try_from(u).is_ok() => u as i64,
                    Num::F(f) if f.is_finite() && f.fract() == 0.0 => wrap_u64(f) as i64,
                    _ => return Err(self.enc.fail(|| format!("`{n}` is not a valid `int`."))),
                };
                put_varint(out, zigzag(v));
            }
            Node::Number(Scalar::Double) => out.extend_from_slice(&n.as_f64().to_be_bytes()),
            Node::Number(Scalar::Big(name)) => {
                return Err(self
                    .enc
                    .fail(|| format!("Scalar type not support : {name}")))
            }
            Node::Enum(members) => {
                let x = n.as_f64();
                match members.iter().find(|m| m.value == Lit::Num(x)) {
                    Some(m) => put_varint(out, m.id),
                    None => {
                        return Err(self
                            .enc
                            .fail(|| format!("`{n}` is not a valid enum member.")))
                    }
                }
            }
            Node::Literal(Lit::Num(x)) if *x == n.as_f64() => {}
            Node::Date => {
                let ms = match n {
                    Num::I(i) => i,
                    Num::U(u) => i64::try_from(u).unwrap_or(i64::MAX),
                    Num::F(f) if f.is_finite() => f.trunc() as i64,
                    Num::F(_) => return Err(self.enc.fail(|| "an invalid date".into())),
                };
                // Before 1970: 64-bit two's complement, as `Varint64.from` writes it.
                put_varint(out, ms as u64);
                return Ok(Outcome::Object);
            }
            _ => return Err(self.mismatch("a number")),
        }
        Ok(Outcome::Scalar)
    }

    fn string(self, s: &str) -> Result<Outcome, Error> {
        let node = self.node();
        match node {
            Node::String => put_str(&mut self.enc.out, s),
            Node::Enum(members) => {
                match members
                    .iter()
                    .find(|m| matches!(&m.value, Lit::Str(v) if &**v == s))
                {
                    Some(m) => put_varint(&mut self.enc.out, m.id),
                    None => {
                        return Err(self
                            .enc
                            .fail(|| format!("`{s}` is not a valid enum member.")))
                    }
                }
            }
            Node::Literal(Lit::Str(x)) if &**x == s => {}
            // The JSON forms of the runtime's value types, for serializers that give them.
            Node::Date => {
                let d = match s.parse::<crate::types::Date>() {
                    Ok(d) => d,
                    Err(e) => return Err(self.enc.fail(|| e.to_string())),
                };
                put_varint(&mut self.enc.out, d.millis() as u64);
                return Ok(Outcome::Object);
            }
            Node::ObjectId => {
                let id = match s.parse::<crate::types::ObjectId>() {
                    Ok(id) => id,
                    Err(e) => return Err(self.enc.fail(|| e.to_string())),
                };
                put_bytes(&mut self.enc.out, &id.bytes());
            }
            _ => return Err(self.mismatch("a string")),
        }
        Ok(Outcome::Scalar)
    }

    fn null_value(self) -> Result<Outcome, Error> {
        match (self.null, self.node()) {
            (NullMode::Absent, _) => Ok(Outcome::Absent),
            (NullMode::Null, Node::Literal(Lit::Null)) => Ok(Outcome::Object),
            (NullMode::Undefined, Node::Literal(Lit::Undefined)) => Ok(Outcome::Scalar),
            _ => Err(self.mismatch(if self.null == NullMode::Null {
                "null"
            } else {
                "undefined"
            })),
        }
    }

    fn seq(self, len: Option<usize>) -> Result<SeqEnc<'e, 'p>, Error> {
        let kind = match self.node() {
            Node::Array(elem) => {
                let count_at = match len {
                    Some(n) => {
                        put_varint(&mut self.enc.out, n as u64);
                        None
                    }
                    None => Some(reserve_varint(&mut self.enc.out)),
                };
                SeqKind::Array {
                    elem: *elem,
                    count_at,
                    len,
                    count: 0,
                }
            }
            Node::Tuple(elems) => SeqKind::Tuple {
                elems,
                mask_at: reserve_varint(&mut self.enc.out),
                mask: 0,
                i: 0,
            },
            _ => return Err(self.mismatch("an array")),
        };
        Ok(SeqEnc {
            enc: self.enc,
            kind,
        })
    }

    fn object(self) -> Result<ObjEnc<'e, 'p>, Error> {
        match self.node() {
            Node::Record(p) => {
                let plan = self.enc.proto.plan(*p);
                Ok(ObjEnc::new(self.enc, plan, self.skip))
            }
            _ => Err(self.mismatch("an object")),
        }
    }
}

type R = Result<Outcome, Error>;

impl<'e, 'p> Serializer for ValSer<'e, 'p> {
    type Ok = Outcome;
    type Error = Error;
    type SerializeSeq = SeqEnc<'e, 'p>;
    type SerializeTuple = SeqEnc<'e, 'p>;
    type SerializeTupleStruct = SeqEnc<'e, 'p>;
    type SerializeTupleVariant = Impossible<Outcome, Error>;
    type SerializeMap = ObjEnc<'e, 'p>;
    type SerializeStruct = ObjEnc<'e, 'p>;
    type SerializeStructVariant = Impossible<Outcome, Error>;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_bool(self, v: bool) -> R {
        match self.node() {
            Node::Boolean => {
                self.enc.out.push(if v { 0xff } else { 0 });
                Ok(Outcome::Scalar)
            }
            Node::Literal(Lit::Bool(b)) if *b == v => Ok(Outcome::Scalar),
            _ => Err(self.mismatch("a boolean")),
        }
    }

    fn serialize_i8(self, v: i8) -> R {
        self.number(Num::I(v.into()))
    }
    fn serialize_i16(self, v: i16) -> R {
        self.number(Num::I(v.into()))
    }
    fn serialize_i32(self, v: i32) -> R {
        self.number(Num::I(v.into()))
    }
    fn serialize_i64(self, v: i64) -> R {
        self.number(Num::I(v))
    }
    fn serialize_i128(self, v: i128) -> R {
        match i64::try_from(v) {
            Ok(v) => self.number(Num::I(v)),
            Err(_) => Err(self.unsafe_integer(v)),
        }
    }
    fn serialize_u8(self, v: u8) -> R {
        self.number(Num::U(v.into()))
    }
    fn serialize_u16(self, v: u16) -> R {
        self.number(Num::U(v.into()))
    }
    fn serialize_u32(self, v: u32) -> R {
        self.number(Num::U(v.into()))
    }
    fn serialize_u64(self, v: u64) -> R {
        self.number(Num::U(v))
    }
    fn serialize_u128(self, v: u128) -> R {
        match u64::try_from(v) {
            Ok(v) => self.number(Num::U(v)),
            Err(_) => Err(self.unsafe_integer(v)),
        }
    }
    fn serialize_f32(self, v: f32) -> R {
        self.number(Num::F(v.into()))
    }
    fn serialize_f64(self, v: f64) -> R {
        self.number(Num::F(v))
    }

    fn serialize_char(self, v: char) -> R {
        self.string(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> R {
        self.string(v)
    }

    fn serialize_bytes(self, v: &[u8]) -> R {
        match self.node() {
            Node::Buffer => put_bytes(&mut self.enc.out, v),
            Node::ObjectId if v.len() == 12 => put_bytes(&mut self.enc.out, v),
            _ => return Err(self.mismatch("bytes")),
        }
        // A typed array or an ArrayBuffer is an object to JavaScript; an ObjectId (a string
        // in TSRPC's custom type) is not.
        Ok(if matches!(self.node(), Node::Buffer) {
            Outcome::Object
        } else {
            Outcome::Scalar
        })
    }

    fn serialize_none(self) -> R {
        self.null_value()
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_unit(self) -> R {
        self.null_value()
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        self.null_value()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> R {
        self.string(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
        _: &T,
    ) -> R {
        Err(variant_error(self.enc, name, variant))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqEnc<'e, 'p>, Error> {
        self.seq(len)
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqEnc<'e, 'p>, Error> {
        self.seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqEnc<'e, 'p>, Error> {
        self.seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(variant_error(self.enc, name, variant))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<ObjEnc<'e, 'p>, Error> {
        self.object()
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<ObjEnc<'e, 'p>, Error> {
        self.object()
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(variant_error(self.enc, name, variant))
    }
}

fn variant_error(enc: &Encoder<'_>, name: &str, variant: &str) -> Error {
    enc.fail(|| {
        format!(
            "`{name}::{variant}`: an enum variant with data has no TSBuffer form (TypeScript \
             has untagged and literal-tagged unions: use `#[serde(untagged)]` or `#[serde(tag = ..)]`)"
        )
    })
}

enum SeqKind<'p> {
    Array {
        elem: Ix,
        count_at: Option<usize>,
        len: Option<usize>,
        count: usize,
    },
    Tuple {
        elems: &'p [TupleElem],
        mask_at: usize,
        mask: u64,
        i: usize,
    },
}

/// An array (count, then the elements back to back) or a tuple (a mask of the elements
/// present, then those elements).
pub(crate) struct SeqEnc<'e, 'p> {
    enc: &'e mut Encoder<'p>,
    kind: SeqKind<'p>,
}

impl SeqEnc<'_, '_> {
    fn element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Error> {
        match &mut self.kind {
            SeqKind::Array { elem, count, .. } => {
                let r = self.enc.write_value(v, *elem, NullMode::Null, None);
                let at = *count;
                *count += 1;
                match r {
                    Ok(Outcome::Absent) => {
                        Err(self.enc.fail(|| format!("element {at} is undefined")))
                    }
                    Ok(_) => Ok(()),
                    Err(e) => Err(self.enc.located(e, at)),
                }
            }
            SeqKind::Tuple { elems, mask, i, .. } => {
                let at = *i;
                *i += 1;
                let Some(e) = elems.get(at) else {
                    let n = elems.len();
                    return Err(self
                        .enc
                        .fail(|| format!("Value has more elements than the tuple's {n}")));
                };
                match self.enc.write_value(v, e.ty, e.null, None) {
                    Ok(Outcome::Absent) => Ok(()),
                    Ok(_) => {
                        *mask |= 1 << at;
                        Ok(())
                    }
                    Err(err) => Err(self.enc.located(err, at)),
                }
            }
        }
    }

    fn finish(self) -> R {
        match self.kind {
            SeqKind::Array {
                count_at,
                len,
                count,
                ..
            } => {
                if let Some(at) = count_at {
                    patch_varint(&mut self.enc.out, at, count as u64);
                } else if len != Some(count) {
                    return Err(self.enc.fail(|| {
                        format!("a sequence announced {len:?} elements and gave {count}")
                    }));
                }
            }
            SeqKind::Tuple {
                elems,
                mask_at,
                mask,
                ..
            } => {
                if let Some(missing) =
                    (0..elems.len()).find(|&i| elems[i].required && mask & 1 << i == 0)
                {
                    return Err(self
                        .enc
                        .fail(|| format!("Missing required property `{missing}`.")));
                }
                patch_varint(&mut self.enc.out, mask_at, mask);
            }
        }
        Ok(Outcome::Object)
    }
}

impl SerializeSeq for SeqEnc<'_, '_> {
    type Ok = Outcome;
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Error> {
        self.element(v)
    }
    fn end(self) -> R {
        self.finish()
    }
}

impl SerializeTuple for SeqEnc<'_, '_> {
    type Ok = Outcome;
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Error> {
        self.element(v)
    }
    fn end(self) -> R {
        self.finish()
    }
}

impl SerializeTupleStruct for SeqEnc<'_, '_> {
    type Ok = Outcome;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Error> {
        self.element(v)
    }
    fn end(self) -> R {
        self.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_wrap_as_varint64_does() {
        assert_eq!(wrap_u64(18_446_744_073_709_551_616.0), 0);
        assert_eq!(wrap_u64(3.0), 3);
        assert_eq!(wrap_u64(-1.0), u64::MAX);
    }
}
