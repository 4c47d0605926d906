//! Encoding: a serde [`Serializer`] that walks the schema beside the Rust value and writes
//! TSBuffer bytes as it goes, with no tree in between.
//!
//! Values are matched against their schema the way tsbuffer-validator checks them before
//! tsbuffer encodes (excess properties ignored, `null` as `undefined` where the schema has no
//! `null`), so a value TSRPC would refuse is refused here, and a union member is chosen as
//! tsbuffer chooses it: a member "validates" when the value encodes with it. For an object
//! every member that validates is written (fields an earlier member wrote are not written
//! again); for anything else only the first.
//!
//! Object fields arrive in the Rust struct's order; when that is the order tsbuffer writes
//! (one block, fields in schema order) they stay where they land, otherwise they are written
//! where they land and moved into blocks and order when the object ends.
//!
//! The runtime's value types say what they are through serde's `is_human_readable`, which is
//! `false` here: `Date` comes as milliseconds, `Bytes`, typed arrays and `ObjectId` as bytes.
//! Their JSON forms (an ISO text for a date, 24 hex digits for an ObjectId) are taken too.

use std::borrow::Cow;
use std::fmt::Display;

use serde::ser::{
    Impossible, Serialize, SerializeMap, SerializeSeq, SerializeStruct, SerializeTuple,
    SerializeTupleStruct, Serializer,
};

use super::error::Error;
use super::schema::{
    FieldSet, Ix, Lit, Member, Node, NullMode, Plan, Proto, Scalar, TupleElem, NO_BLOCK,
};
use super::wire::{patch_varint, put_bytes, put_str, put_varint, reserve_varint, zigzag};

/// What writing a value gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// `undefined` (or `null` taken as `undefined`): nothing written, the field is left out.
    Absent,
    /// A value JavaScript's `typeof` does not call an object.
    Scalar,
    /// An object, an array, a date, bytes or `null`: a union tries its next members too.
    Object,
}

/// The bytes of one field written so far: where, and where it goes.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key: u32,
    block: u16,
    start: usize,
    end: usize,
}

/// One encode: the output and the scratch space objects and unions use.
#[derive(Debug)]
pub(crate) struct Encoder<'p> {
    proto: &'p Proto,
    pub(crate) out: Vec<u8>,
    entries: Vec<Entry>,
    scratch: Vec<u8>,
    /// Names written by the members of the unions being written (tsbuffer's `skipFields`).
    skips: Vec<Cow<'p, str>>,
    /// Inside a union member being tried: errors are thrown away, so they stay cheap.
    trial: u32,
}

impl<'p> Encoder<'p> {
    pub(crate) fn new(proto: &'p Proto, out: Vec<u8>) -> Self {
        Encoder {
            proto,
            out,
            entries: Vec::new(),
            scratch: Vec::new(),
            skips: Vec::new(),
            trial: 0,
        }
    }

    /// An error, with its text only when it will be seen.
    fn fail(&self, reason: impl FnOnce() -> String) -> Error {
        if self.trial > 0 {
            Error::encode("")
        } else {
            Error::encode(reason())
        }
    }

    fn located(&self, e: Error, field: impl Display) -> Error {
        if self.trial > 0 {
            e
        } else {
            e.within(&field.to_string())
        }
    }

    /// Writes `v` as a value of `ty` (no header).
    pub(crate) fn write_value<T: ?Sized + Serialize>(
        &mut self,
        v: &T,
        ty: Ix,
        null: NullMode,
        skip: Option<usize>,
    ) -> Result<Outcome, Error> {
        let proto = self.proto;
        match proto.node(ty) {
            Node::Union { members, null_ok } => self.write_union(v, members, *null_ok, null, skip),
            Node::Intersection(members) => self.write_intersection(v, members, skip),
            Node::Any => self.write_json(v, null, false),
            Node::Object => self.write_json(v, null, true),
            Node::NonNullable(t) => {
                if is_null(v) {
                    return Err(self.fail(|| "Expected a value that is not null".into()));
                }
                self.write_value(v, *t, NullMode::Null, skip)
            }
            Node::Unsupported(why) => {
                if null == NullMode::Absent && is_null(v) {
                    return Ok(Outcome::Absent);
                }
                Err(self.fail(|| why.to_string()))
            }
            _ => v.serialize(ValSer {
                enc: self,
                ty,
                null,
                skip,
            }),
        }
    }

    fn write_union<T: ?Sized + Serialize>(
        &mut self,
        v: &T,
        members: &'p [Member],
        null_ok: bool,
        null: NullMode,
        skip: Option<usize>,
    ) -> Result<Outcome, Error> {
        if null == NullMode::Absent && is_null(v) {
            return Ok(Outcome::Absent);
        }
        let start = self.out.len();
        let count_at = reserve_varint(&mut self.out);
        let frame = skip.unwrap_or(self.skips.len());
        let member_null = if null_ok {
            NullMode::Null
        } else {
            NullMode::Undefined
        };
        let (mut count, mut object) = (0u64, false);
        for m in members {
            let at = self.out.len();
            let skips_at = self.skips.len();
            put_varint(&mut self.out, m.header);
            let len_at = m.prefix.then(|| reserve_varint(&mut self.out));
            self.trial += 1;
            let r = self.write_value(v, m.ty, member_null, Some(frame));
            self.trial -= 1;
            match r {
                Ok(Outcome::Absent) | Err(_) => {
                    self.out.truncate(at);
                    self.skips.truncate(skips_at);
                }
                Ok(outcome) => {
                    if let Some(len_at) = len_at {
                        end_length(&mut self.out, len_at, 0);
                    }
                    count += 1;
                    if outcome == Outcome::Scalar {
                        break;
                    }
                    object = true;
                }
            }
        }
        if skip.is_none() {
            self.skips.truncate(frame);
        }
        if count == 0 {
            self.out.truncate(start);
            return Err(self.fail(|| "Non member is satisfied for union type".into()));
        }
        patch_varint(&mut self.out, count_at, count);
        Ok(if object {
            Outcome::Object
        } else {
            Outcome::Scalar
        })
    }

    fn write_intersection<T: ?Sized + Serialize>(
        &mut self,
        v: &T,
        members: &'p [Member],
        skip: Option<usize>,
    ) -> Result<Outcome, Error> {
        put_varint(&mut self.out, members.len() as u64);
        for m in members {
            put_varint(&mut self.out, m.header);
            let len_at = m.prefix.then(|| reserve_varint(&mut self.out));
            // Each member starts from a copy of the names already written.
            let frame = skip.map(|base| {
                let copy = self.skips[base..].to_vec();
                let at = self.skips.len();
                self.skips.extend(copy);
                at
            });
            let r = self.write_value(v, m.ty, NullMode::Null, frame);
            if let Some(at) = frame {
                self.skips.truncate(at);
            }
            match r? {
                Outcome::Absent => {
                    return Err(self.fail(|| "an intersection of undefined".into()));
                }
                _ => {
                    if let Some(len_at) = len_at {
                        end_length(&mut self.out, len_at, 0);
                    }
                }
            }
        }
        Ok(Outcome::Object)
    }

    /// `any` / `object`: the value's JSON text (`JSON.stringify`), length-prefixed.
    fn write_json<T: ?Sized + Serialize>(
        &mut self,
        v: &T,
        null: NullMode,
        object_only: bool,
    ) -> Result<Outcome, Error> {
        let start = self.out.len();
        let len_at = reserve_varint(&mut self.out);
        crate::json::to_writer(&mut self.out, v).map_err(|e| {
            self.out.truncate(start);
            self.fail(|| format!("cannot write the value as JSON: {e}"))
        })?;
        let text = &self.out[len_at + 1..];
        let is_null = text == b"null";
        let outcome = match text.first() {
            Some(b'{' | b'[') => Outcome::Object,
            _ if is_null => match null {
                NullMode::Absent => {
                    self.out.truncate(start);
                    return Ok(Outcome::Absent);
                }
                NullMode::Undefined if !object_only => {
                    self.out.truncate(len_at + 1);
                    self.out.extend_from_slice(b"undefined");
                    Outcome::Scalar
                }
                _ => Outcome::Object,
            },
            _ => Outcome::Scalar,
        };
        if object_only && (outcome != Outcome::Object || is_null) {
            self.out.truncate(start);
            return Err(self.fail(|| "Expected type to be `Object`: an object or an array".into()));
        }
        end_length(&mut self.out, len_at, 0);
        Ok(outcome)
    }
}

/// Fills in the length reserved at `len_at`: the bytes written after it, plus `extra` (the
/// key of an index entry, which tsbuffer counts in).
fn end_length(out: &mut Vec<u8>, len_at: usize, extra: usize) {
    let n = out.len() - len_at - 1 + extra;
    patch_varint(out, len_at, n as u64);
}

/// Whether `v` serializes as `null` (`None`, `()`).
pub(crate) fn is_null<T: ?Sized + Serialize>(v: &T) -> bool {
    v.serialize(NullProbe).unwrap_or(false)
}

/// A number as it came.
#[derive(Debug, Clone, Copy)]
enum Num {
    I(i64),
    U(u64),
    F(f64),
}

impl Num {
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
struct ValSer<'e, 'p> {
    enc: &'e mut Encoder<'p>,
    ty: Ix,
    null: NullMode,
    skip: Option<usize>,
}

impl<'e, 'p> ValSer<'e, 'p> {
    fn node(&self) -> &'p Node {
        self.enc.proto.node(self.ty)
    }

    fn mismatch(&self, got: &str) -> Error {
        let want = expected(self.node());
        self.enc.fail(|| format!("Expected {want}, got {got}"))
    }

    fn number(self, n: Num) -> Result<Outcome, Error> {
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
            Err(_) => self.number(Num::F(v as f64)),
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
            Err(_) => self.number(Num::F(v as f64)),
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

/// An object: a struct's fields or a map's entries, written against a [`Plan`].
pub(crate) struct ObjEnc<'e, 'p> {
    enc: &'e mut Encoder<'p>,
    plan: &'p Plan,
    /// Where the object starts: one byte reserved for the first block's count.
    start: usize,
    /// Its entries are `enc.entries[base..]`.
    base: usize,
    seen: FieldSet,
    last_key: u32,
    in_order: bool,
    skip: Option<usize>,
    guess: usize,
    key: String,
}

impl<'e, 'p> ObjEnc<'e, 'p> {
    fn new(enc: &'e mut Encoder<'p>, plan: &'p Plan, skip: Option<usize>) -> Self {
        let start = reserve_varint(&mut enc.out);
        let base = enc.entries.len();
        ObjEnc {
            enc,
            plan,
            start,
            base,
            seen: FieldSet::default(),
            last_key: 0,
            in_order: true,
            skip,
            guess: 0,
            key: String::new(),
        }
    }

    fn skipped(&self, name: &str) -> bool {
        self.skip
            .is_some_and(|b| self.enc.skips[b..].iter().any(|s| s == name))
    }

    fn field<T: ?Sized + Serialize>(&mut self, name: &str, v: &T) -> Result<(), Error> {
        let plan = self.plan;
        let Some(fi) = plan.find(name, self.guess) else {
            return self.other(name, v);
        };
        self.guess = usize::from(fi) + 1;
        let f = &plan.fields[usize::from(fi)];
        if self.seen.get(fi) {
            return Err(self
                .enc
                .fail(|| format!("the field `{name}` is written twice")));
        }
        if f.block == NO_BLOCK {
            if is_null(v) {
                return Ok(());
            }
            return Err(self.enc.fail(|| {
                format!(
                    "`{name}` is inherited through `extends` of a mapped type, which TSBuffer \
                     does not write (the peer could not decode it)"
                )
            }));
        }
        let skipped = self.skipped(name);
        let enc = &mut *self.enc;
        if f.literal {
            let r = enc.write_value(v, f.ty, f.null, None);
            match r {
                Ok(Outcome::Absent) => {}
                Ok(_) => {
                    self.seen.set(fi);
                    if self.skip.is_some() && !skipped {
                        enc.skips.push(Cow::Borrowed(&f.name));
                    }
                }
                Err(e) => return Err(enc.located(e, name)),
            }
            return Ok(());
        }
        let at = enc.out.len();
        put_varint(&mut enc.out, f.header);
        let (len_at, extra) = if f.index_entry {
            let key_at = enc.out.len();
            put_str(&mut enc.out, name);
            let len_at = f.prefix.then(|| reserve_varint(&mut enc.out));
            (len_at, len_at.map_or(0, |l| l - key_at))
        } else {
            (f.prefix.then(|| reserve_varint(&mut enc.out)), 0)
        };
        match enc.write_value(v, f.ty, f.null, None) {
            Ok(Outcome::Absent) => {
                enc.out.truncate(at);
                return Ok(());
            }
            Ok(_) => {}
            Err(e) => {
                enc.out.truncate(at);
                return Err(enc.located(e, name));
            }
        }
        if let Some(len_at) = len_at {
            end_length(&mut enc.out, len_at, extra);
        }
        self.seen.set(fi);
        if skipped {
            enc.out.truncate(at);
            return Ok(());
        }
        if self.skip.is_some() {
            enc.skips.push(Cow::Borrowed(&f.name));
        }
        let key = if f.index_entry {
            plan.blocks[usize::from(f.block)].index_key
        } else {
            f.key
        };
        self.record(key, f.block, at);
        Ok(())
    }

    fn record(&mut self, key: u32, block: u16, start: usize) {
        if key < self.last_key {
            self.in_order = false;
        }
        self.last_key = key;
        let end = self.enc.out.len();
        self.enc.entries.push(Entry {
            key,
            block,
            start,
            end,
        });
    }

    /// A key that is not a field: an index-signature entry, or an excess property (ignored,
    /// as tsbuffer ignores them).
    fn other<T: ?Sized + Serialize>(&mut self, name: &str, v: &T) -> Result<(), Error> {
        let plan = self.plan;
        let Some(ix) = &plan.open_index else {
            return Ok(());
        };
        if ix.except.iter().any(|k| &**k == name) {
            return Ok(());
        }
        if ix.number_keys && !is_number_key(name) {
            return Err(self.enc.fail(|| {
                format!("`{name}` is not a valid key, the key here should be a `number`.")
            }));
        }
        let skipped = self.skipped(name);
        let enc = &mut *self.enc;
        let at = enc.out.len();
        put_varint(&mut enc.out, ix.header);
        let key_at = enc.out.len();
        put_str(&mut enc.out, name);
        let len_at = ix.prefix.then(|| reserve_varint(&mut enc.out));
        match enc.write_value(v, ix.ty, ix.null, None) {
            Ok(Outcome::Absent) => {
                enc.out.truncate(at);
                return Ok(());
            }
            Ok(_) => {}
            Err(e) => {
                enc.out.truncate(at);
                return Err(enc.located(e, name));
            }
        }
        if let Some(len_at) = len_at {
            end_length(&mut enc.out, len_at, len_at - key_at);
        }
        if skipped {
            enc.out.truncate(at);
            return Ok(());
        }
        if self.skip.is_some() {
            enc.skips.push(Cow::Owned(name.to_owned()));
        }
        self.record(plan.blocks[usize::from(ix.block)].index_key, ix.block, at);
        Ok(())
    }

    fn finish(self) -> R {
        let plan = self.plan;
        if let Some(&missing) = plan.required.iter().find(|&&r| !self.seen.get(r)) {
            let name = &plan.fields[usize::from(missing)].name;
            return Err(self
                .enc
                .fail(|| format!("Missing required property `{name}`.")));
        }
        let enc = self.enc;
        let count = enc.entries.len() - self.base;
        if plan.flat && self.in_order {
            patch_varint(&mut enc.out, self.start, count as u64);
        } else {
            let region = self.start + 1;
            enc.scratch.clear();
            enc.scratch.extend_from_slice(&enc.out[region..]);
            enc.out.truncate(self.start);
            let entries = &mut enc.entries[self.base..];
            entries.sort_by_key(|e| e.key);
            let src = Src {
                bytes: &enc.scratch,
                offset: region,
                plan,
            };
            let mut rest: &[Entry] = entries;
            for &root in plan.roots.iter() {
                let hi = plan.blocks[usize::from(root)].index_key;
                let n = rest.iter().take_while(|e| e.key <= hi).count();
                let (mine, after) = rest.split_at(n);
                src.block(&mut enc.out, root, mine);
                rest = after;
            }
        }
        enc.entries.truncate(self.base);
        Ok(Outcome::Object)
    }
}

/// The bytes of an object's fields as written, to be copied into their blocks.
struct Src<'a, 'p> {
    bytes: &'a [u8],
    offset: usize,
    plan: &'p Plan,
}

impl Src<'_, '_> {
    /// Writes block `b`: its count, then its entries and nested blocks in order.
    fn block(&self, out: &mut Vec<u8>, b: u16, entries: &[Entry]) {
        let runs = self.runs(b, entries);
        put_varint(out, runs.len() as u64);
        for (child, run) in runs {
            match child {
                None => {
                    let e = run[0];
                    out.extend_from_slice(&self.bytes[e.start - self.offset..e.end - self.offset]);
                }
                Some(c) => {
                    put_varint(out, self.plan.blocks[usize::from(c)].header);
                    self.block(out, c, run);
                }
            }
        }
    }

    /// The items of block `b`: each own entry alone, each child block with its entries.
    fn runs<'x>(&self, b: u16, entries: &'x [Entry]) -> Vec<(Option<u16>, &'x [Entry])> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < entries.len() {
            let e = entries[i];
            if e.block == b {
                out.push((None, &entries[i..=i]));
                i += 1;
                continue;
            }
            let c = self.plan.child_toward(b, e.block);
            let cb = &self.plan.blocks[usize::from(c)];
            let (lo, hi) = (2 * u32::from(cb.first_field) + 2, cb.index_key);
            let n = entries[i..]
                .iter()
                .take_while(|x| x.key >= lo && x.key <= hi)
                .count()
                .max(1);
            out.push((Some(c), &entries[i..i + n]));
            i += n;
        }
        out
    }
}

impl SerializeStruct for ObjEnc<'_, '_> {
    type Ok = Outcome;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        self.field(key, v)
    }
    fn end(self) -> R {
        self.finish()
    }
}

impl SerializeMap for ObjEnc<'_, '_> {
    type Ok = Outcome;
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        self.key.clear();
        key.serialize(KeySer(&mut self.key)).map_err(|_| {
            self.enc
                .fail(|| "an object key that is not a string or a number".into())
        })
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Error> {
        let key = std::mem::take(&mut self.key);
        let r = self.field(&key, v);
        self.key = key;
        r
    }
    fn end(self) -> R {
        self.finish()
    }
}

/// tsbuffer-validator's `_isNumberKey`: `String(parseInt(key)) === key`.
fn is_number_key(key: &str) -> bool {
    match key.parse::<f64>() {
        Ok(f) if f.fract() == 0.0 && f.abs() < 1e21 && !key.starts_with('+') => {
            format!("{f}") == key && key != "-0"
        }
        _ => false,
    }
}

/// Writes a map key as the string JavaScript would have for it.
struct KeySer<'a>(&'a mut String);

impl Serializer for KeySer<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.0.push_str(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.0.push(v);
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        use std::fmt::Write;
        let _ = write!(self.0, "{v}");
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        use std::fmt::Write;
        let _ = write!(self.0, "{v}");
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(v.into())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, v: &'static str) -> Result<(), Error> {
        self.serialize_str(v)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_bool(self, _: bool) -> Result<(), Error> {
        Err(Error::encode("key"))
    }
    fn serialize_f32(self, _: f32) -> Result<(), Error> {
        Err(Error::encode("key"))
    }
    fn serialize_f64(self, _: f64) -> Result<(), Error> {
        Err(Error::encode("key"))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        Err(Error::encode("key"))
    }
    fn serialize_none(self) -> Result<(), Error> {
        Err(Error::encode("key"))
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<(), Error> {
        Err(Error::encode("key"))
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Err(Error::encode("key"))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        Err(Error::encode("key"))
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(Error::encode("key"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(Error::encode("key"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(Error::encode("key"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(Error::encode("key"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(Error::encode("key"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(Error::encode("key"))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(Error::encode("key"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(Error::encode("key"))
    }
}

/// Answers whether a value serializes as `null`; gives up (`Err`) at anything else.
struct NullProbe;

macro_rules! not_null {
    ($($name:ident($($arg:ty),*)),* $(,)?) => {$(
        fn $name(self, $(_: $arg),*) -> Result<bool, Error> {
            Ok(false)
        }
    )*};
}

impl Serializer for NullProbe {
    type Ok = bool;
    type Error = Error;
    type SerializeSeq = Impossible<bool, Error>;
    type SerializeTuple = Impossible<bool, Error>;
    type SerializeTupleStruct = Impossible<bool, Error>;
    type SerializeTupleVariant = Impossible<bool, Error>;
    type SerializeMap = Impossible<bool, Error>;
    type SerializeStruct = Impossible<bool, Error>;
    type SerializeStructVariant = Impossible<bool, Error>;

    not_null!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_none(self) -> Result<bool, Error> {
        Ok(true)
    }
    fn serialize_unit(self) -> Result<bool, Error> {
        Ok(true)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<bool, Error> {
        Ok(true)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<bool, Error> {
        v.serialize(self)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<bool, Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<bool, Error> {
        Ok(false)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(Error::encode(""))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(Error::encode(""))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(Error::encode(""))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(Error::encode(""))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(Error::encode(""))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(Error::encode(""))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(Error::encode(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_keys_are_what_javascript_writes() {
        for ok in ["0", "1", "12", "-3", "9007199254740991"] {
            assert!(is_number_key(ok), "{ok}");
        }
        for bad in ["", "01", "-0", "1.5", "+1", "a", "1e3", " 1", "NaN"] {
            assert!(!is_number_key(bad), "{bad}");
        }
    }

    #[test]
    fn doubles_wrap_as_varint64_does() {
        assert_eq!(wrap_u64(18_446_744_073_709_551_616.0), 0);
        assert_eq!(wrap_u64(3.0), 3);
        assert_eq!(wrap_u64(-1.0), u64::MAX);
    }

    #[test]
    fn null_probe() {
        assert!(is_null(&None::<u8>));
        assert!(is_null(&()));
        assert!(is_null(&Some(None::<u8>)));
        assert!(!is_null(&Some(1)));
        assert!(!is_null(&vec![1]));
        assert!(!is_null("x"));
    }
}
