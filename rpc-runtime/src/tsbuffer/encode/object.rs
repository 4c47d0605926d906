//! Objects: a struct's fields or a map's entries written against a [`Plan`], in place when
//! they come in the plan's order, moved into their blocks when the object ends otherwise.

use std::borrow::Cow;

use serde::ser::{Impossible, Serialize, SerializeMap, SerializeStruct, Serializer};

use super::probe::is_null;
use super::{end_length, Encoder, Entry, Outcome};
use crate::tsbuffer::error::Error;
use crate::tsbuffer::schema::{is_number_key, FieldSet, Plan, NO_BLOCK};
use crate::tsbuffer::wire::{patch_varint, put_str, put_varint, reserve_varint};

type R = Result<Outcome, Error>;

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
    pub(super) fn new(enc: &'e mut Encoder<'p>, plan: &'p Plan, skip: Option<usize>) -> Self {
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

    #[inline]
    fn skipped(&self, name: &str) -> bool {
        match self.skip {
            None => false,
            Some(b) => self.enc.skips[b..].iter().any(|s| s == name),
        }
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

/// Writes a map key as the string JavaScript would have for it.
struct KeySer<'a>(&'a mut String);

macro_rules! not_a_key {
    ($($name:ident($($arg:ty),*) -> $ret:ty),* $(,)?) => {$(
        fn $name(self, $(_: $arg),*) -> Result<$ret, Error> {
            Err(Error::encode("an object key that is not a string or a number"))
        }
    )*};
}

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
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<(), Error> {
        Err(Error::encode(
            "an object key that is not a string or a number",
        ))
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(Error::encode(
            "an object key that is not a string or a number",
        ))
    }
    not_a_key!(
        serialize_bool(bool) -> (),
        serialize_f32(f32) -> (),
        serialize_f64(f64) -> (),
        serialize_bytes(&[u8]) -> (),
        serialize_none() -> (),
        serialize_unit() -> (),
        serialize_unit_struct(&'static str) -> (),
        serialize_seq(Option<usize>) -> Self::SerializeSeq,
        serialize_tuple(usize) -> Self::SerializeTuple,
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct,
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant,
        serialize_map(Option<usize>) -> Self::SerializeMap,
        serialize_struct(&'static str, usize) -> Self::SerializeStruct,
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant,
    );
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
}
