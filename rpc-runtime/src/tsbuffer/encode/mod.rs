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

mod object;
mod probe;
mod value;

use std::borrow::Cow;
use std::fmt::Display;

use serde::ser::Serialize;

use super::error::Error;
use super::schema::{Ix, Member, Node, NullMode, Proto};
use super::wire::{patch_varint, put_varint, reserve_varint};

pub(crate) use self::probe::is_null;
use self::value::ValSer;

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
pub(super) struct Entry {
    pub(super) key: u32,
    pub(super) block: u16,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// One encode: the output and the scratch space objects and unions use.
#[derive(Debug)]
pub(crate) struct Encoder<'p> {
    pub(super) proto: &'p Proto,
    pub(crate) out: Vec<u8>,
    pub(super) entries: Vec<Entry>,
    pub(super) scratch: Vec<u8>,
    /// Names written by the members of the unions being written (tsbuffer's `skipFields`).
    pub(super) skips: Vec<Cow<'p, str>>,
    /// Inside a union member being tried: errors are thrown away, so they stay cheap.
    trial: u32,
}

/// The scratch vectors of the last encode on this thread, kept so that the next one does not
/// allocate them again (an encode of a small message would otherwise spend a tenth of its time
/// there).
type Spare = (Vec<Entry>, Vec<u8>);

thread_local! {
    static SPARE: std::cell::Cell<Spare> = const { std::cell::Cell::new((Vec::new(), Vec::new())) };
}

/// Scratch space larger than this is not kept for the next encode.
const KEEP: usize = 64 * 1024;

impl<'p> Encoder<'p> {
    pub(crate) fn new(proto: &'p Proto, out: Vec<u8>) -> Self {
        let (entries, scratch) = SPARE.with(|s| s.take());
        Encoder {
            proto,
            out,
            entries,
            scratch,
            skips: Vec::new(),
            trial: 0,
        }
    }

    /// The output; the scratch space goes back for the next encode.
    pub(crate) fn finish(self) -> Vec<u8> {
        let Encoder {
            out,
            mut entries,
            mut scratch,
            ..
        } = self;
        if entries.capacity() * std::mem::size_of::<Entry>() <= KEEP && scratch.capacity() <= KEEP {
            entries.clear();
            scratch.clear();
            SPARE.with(|s| s.set((entries, scratch)));
        }
        out
    }

    /// An error, with its text only when it will be seen.
    pub(super) fn fail(&self, reason: impl FnOnce() -> String) -> Error {
        if self.trial > 0 {
            Error::encode("")
        } else {
            Error::encode(reason())
        }
    }

    pub(super) fn located(&self, e: Error, field: impl Display) -> Error {
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
                Err(e) if e.is_unsendable() => {
                    self.out.truncate(at);
                    self.skips.truncate(skips_at);
                    return Err(e);
                }
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
pub(super) fn end_length(out: &mut Vec<u8>, len_at: usize, extra: usize) {
    let n = out.len() - len_at - 1 + extra;
    patch_varint(out, len_at, n as u64);
}
