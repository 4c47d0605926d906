//! TSBuffer's wire primitives: varints (written minimal, read exactly as tsbuffer 2.2.23 reads
//! them), zigzag, big-endian doubles, `ff`/`00` booleans, length-prefixed strings and bytes,
//! and skipping a block by its length type.
//!
//! Writing is plain: a `Vec<u8>` and a few free functions. Reading goes through [`Reader`],
//! which refuses anything that would run past the input (tsbuffer reads past the end of a
//! string or buffer and silently truncates it; we refuse, see the module doc of `decode`).

use std::borrow::Cow;

use super::error::Error;

/// How a reader can skip a block it does not know: the low two bits of a block header.
pub(crate) mod length_type {
    /// Strings, buffers, `any`, literals (no payload), and arrays / tuples / `Overwrite`
    /// (which carry an extra length prefix).
    pub(crate) const DELIMITED: u8 = 0;
    /// Booleans, enums, `int`, `uint`, dates.
    pub(crate) const VARINT: u8 = 1;
    /// Doubles (and the 64-bit scalar names).
    pub(crate) const BIT64: u8 = 2;
    /// Interfaces, unions, intersections and the mapped types but `Overwrite`.
    pub(crate) const ID_BLOCK: u8 = 3;
}

/// The deepest nesting a decoder follows (arrays, objects, unions, skipped id-blocks), so that
/// a hostile input cannot exhaust the stack. serde_json stops at the same depth.
pub(crate) const MAX_DEPTH: u32 = 128;

/// How many times over the decoder may read an input again (see [`Reader::rewind`]).
const REREAD_FACTOR: usize = 16;

/// Appends `v` as a minimal unsigned LEB128 varint.
#[inline]
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The number of bytes [`put_varint`] writes for `v`.
#[inline]
pub(crate) fn varint_len(v: u64) -> usize {
    // 1 byte per started group of 7 bits; 0 takes one byte.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// 64-bit zigzag, as tsbuffer writes `int`: 0, -1, 1, -2 ... -> 0, 1, 2, 3 ...
#[inline]
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// The inverse of [`zigzag`].
#[inline]
pub(crate) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Appends a string: its UTF-8 byte length as a varint, then the bytes.
#[inline]
pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

/// Appends bytes with their length as a varint in front.
#[inline]
pub(crate) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Reserves one byte for a varint whose value is known only later (a count, a length, a
/// tuple's mask); [`patch_varint`] fills it in. Returns the byte's position.
#[inline]
pub(crate) fn reserve_varint(out: &mut Vec<u8>) -> usize {
    out.push(0);
    out.len() - 1
}

/// Writes `v` at `at`, where [`reserve_varint`] left one byte, moving what follows when `v`
/// needs more than one byte (so the varint stays minimal, as tsbuffer writes it).
#[inline]
pub(crate) fn patch_varint(out: &mut Vec<u8>, at: usize, v: u64) {
    if v < 0x80 {
        out[at] = v as u8;
        return;
    }
    let n = varint_len(v);
    let mut bytes = [0u8; 10];
    let mut w = v;
    for b in bytes.iter_mut().take(n) {
        *b = w as u8 | 0x80;
        w >>= 7;
    }
    bytes[n - 1] &= 0x7f;
    out.splice(at..at + 1, bytes[..n].iter().copied());
}

/// A cursor over one input, with tsbuffer's reading rules and our bounds checks.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'de> {
    buf: &'de [u8],
    pub(crate) pos: usize,
    /// How deep the decoder is nested now (see [`MAX_DEPTH`]).
    pub(crate) depth: u32,
    /// Bytes read again so far (see [`Reader::rewind`]).
    reread: usize,
}

impl<'de> Reader<'de> {
    pub(crate) fn new(buf: &'de [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            depth: 0,
            reread: 0,
        }
    }

    /// Goes back to `to`, to read from there again (a union with several members, the
    /// look-ahead for a repeated field). Reading again is budgeted: nested, each level would
    /// read its inner levels again and the work could grow exponentially with the nesting;
    /// in all, the input may be read again [`REREAD_FACTOR`] times.
    pub(crate) fn rewind(&mut self, to: usize) -> Result<(), Error> {
        self.reread += self.pos.saturating_sub(to);
        if self.reread > REREAD_FACTOR * self.buf.len() + 4096 {
            return Err(Error::decode(format!(
                "decoding would read the input more than {REREAD_FACTOR} times over (unions \
                 with several members, nested)"
            )));
        }
        self.pos = to;
        Ok(())
    }

    /// Bytes not read yet.
    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Enters one more level of nesting; [`Reader::leave`] undoes it.
    #[inline]
    pub(crate) fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::decode(format!(
                "nested more than {MAX_DEPTH} levels deep"
            )));
        }
        Ok(())
    }

    #[inline]
    pub(crate) fn leave(&mut self) {
        self.depth -= 1;
    }

    #[inline]
    fn byte(&mut self) -> Result<u8, Error> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(Error::varint_out_of_range)?;
        self.pos += 1;
        Ok(b)
    }

    /// A varint, read as tsbuffer's `Varint64.readFromBuffer` reads it: with more than 4
    /// bytes left it reads up to 5 bytes for the low 32 bits; with 4 or fewer it checks the
    /// end before each of the first three bytes and then takes the 4th byte whatever its
    /// continuation bit says (a 4-byte truncated varint is accepted); after 10 bytes with the
    /// continuation bit it fails. Where tsbuffer would take a 4th byte that is not there, we
    /// refuse.
    #[inline(always)]
    pub(crate) fn varint(&mut self) -> Result<u64, Error> {
        // Most varints (headers, counts, small numbers) are one byte.
        if let Some(&b) = self.buf.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(u64::from(b));
            }
        }
        self.varint_long()
    }

    #[inline(never)]
    fn varint_long(&mut self) -> Result<u64, Error> {
        let mut lo: u32 = 0;
        let mut hi: u32 = 0;
        if self.remaining() > 4 {
            for i in 0..4 {
                let b = self.byte()?;
                lo |= u32::from(b & 0x7f) << (i * 7);
                if b < 0x80 {
                    return Ok(u64::from(lo));
                }
            }
            let b = self.byte()?;
            lo |= u32::from(b & 0x7f) << 28;
            hi |= u32::from(b & 0x7f) >> 4;
            if b < 0x80 {
                return Ok(u64::from(hi) << 32 | u64::from(lo));
            }
        } else {
            for i in 0..3 {
                let b = self.byte()?;
                lo |= u32::from(b & 0x7f) << (i * 7);
                if b < 0x80 {
                    return Ok(u64::from(lo));
                }
            }
            let b = self.byte()?;
            lo |= u32::from(b & 0x7f) << 21;
            return Ok(u64::from(lo));
        }
        for i in 0..5 {
            let b = self.byte()?;
            hi |= u32::from(b & 0x7f) << (i * 7 + 3);
            if b < 0x80 {
                return Ok(u64::from(hi) << 32 | u64::from(lo));
            }
        }
        Err(Error::decode("invalid varint encoding"))
    }

    /// A count of things that each take at least one byte (blocks, array elements): refused
    /// when larger than the bytes left, before anything is allocated for it.
    #[inline]
    pub(crate) fn count(&mut self, what: &str) -> Result<u64, Error> {
        let n = self.varint()?;
        if n > self.remaining() as u64 {
            return Err(Error::decode(format!(
                "{what} count {n} but only {} bytes left",
                self.remaining()
            )));
        }
        Ok(n)
    }

    /// A length prefix: refused when it runs past the input.
    #[inline(always)]
    pub(crate) fn length(&mut self) -> Result<usize, Error> {
        let n = self.varint()?;
        match usize::try_from(n) {
            Ok(n) if n <= self.remaining() => Ok(n),
            _ => Err(Error::decode(format!(
                "a length of {n} bytes runs past the input ({} bytes left)",
                self.remaining()
            ))),
        }
    }

    /// `n` raw bytes.
    #[inline(always)]
    pub(crate) fn take(&mut self, n: usize) -> Result<&'de [u8], Error> {
        if n > self.remaining() {
            return Err(Error::out_of_bounds());
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Length-prefixed bytes.
    #[inline(always)]
    pub(crate) fn bytes(&mut self) -> Result<&'de [u8], Error> {
        let n = self.length()?;
        self.take(n)
    }

    /// A length-prefixed string; invalid UTF-8 becomes U+FFFD, as Node's `Buffer.toString`
    /// makes it (both replace each maximal invalid subsequence).
    #[inline(always)]
    pub(crate) fn str(&mut self) -> Result<Cow<'de, str>, Error> {
        let b = self.bytes()?;
        // `from_utf8` first: `from_utf8_lossy` walks the text chunk by chunk, several times
        // slower on the valid text that nearly every input is.
        Ok(match std::str::from_utf8(b) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(b),
        })
    }

    /// A big-endian double.
    #[inline(always)]
    pub(crate) fn f64(&mut self) -> Result<f64, Error> {
        let b = self.take(8)?;
        let mut raw = [0u8; 8];
        raw.copy_from_slice(b);
        Ok(f64::from_be_bytes(raw))
    }

    /// A boolean: `ff` or `00`, nothing else.
    #[inline]
    pub(crate) fn bool(&mut self) -> Result<bool, Error> {
        let at = self.pos;
        match self.take(1)?[0] {
            0xff => Ok(true),
            0 => Ok(false),
            b => Err(Error::decode(format!(
                "Invalid boolean encoding [{b}] at pos {at}"
            ))),
        }
    }

    /// Skips one payload by the length type of its header, as tsbuffer skips an unknown
    /// block (with tsbuffer's flaws: a boolean `ff` tagged Varint reads on into the next byte,
    /// a literal tagged Delimited reads the next byte as a length).
    pub(crate) fn skip(&mut self, lt: u8) -> Result<(), Error> {
        match lt {
            length_type::BIT64 => self.take(8).map(drop),
            length_type::VARINT => self.varint().map(drop),
            length_type::DELIMITED => {
                let n = self.length()?;
                self.take(n).map(drop)
            }
            _ => {
                self.enter()?;
                let n = self.count("block")?;
                for _ in 0..n {
                    let h = self.varint()?;
                    self.skip((h & 3) as u8)?;
                }
                self.leave();
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn varints_are_minimal_and_read_back() {
        for v in [
            0u64,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            1 << 53,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v), "{v}");
            let mut r = Reader::new(&out);
            assert_eq!(r.varint().unwrap(), v);
            assert_eq!(r.remaining(), 0);
        }
        let mut out = Vec::new();
        put_varint(&mut out, 300);
        assert_eq!(hex(&out), "ac02");
    }

    #[test]
    fn zigzag_matches_tsbuffer() {
        assert_eq!(zigzag(0), 0);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        assert_eq!(zigzag(-65), 0x81);
        assert_eq!(zigzag(1 << 31), 1 << 32);
        for v in [0, 1, -1, i64::MAX, i64::MIN, -250, 42] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
    }

    #[test]
    fn patching_keeps_varints_minimal() {
        for v in [0u64, 5, 127, 128, 70_000, u64::MAX] {
            let mut out = vec![0xaa];
            let at = reserve_varint(&mut out);
            out.extend_from_slice(b"xyz");
            patch_varint(&mut out, at, v);
            let mut want = vec![0xaa];
            put_varint(&mut want, v);
            want.extend_from_slice(b"xyz");
            assert_eq!(out, want, "{v}");
        }
    }

    #[test]
    fn reads_varints_as_tsbuffer_does() {
        // Non-minimal forms are taken.
        assert_eq!(Reader::new(&[0x81, 0x80, 0x00]).varint().unwrap(), 1);
        // With exactly 4 bytes left the 4th byte is taken whatever its high bit says.
        let mut r = Reader::new(&[0x95, 0xe1, 0x8a, 0xd0]);
        assert_eq!(
            r.varint().unwrap(),
            0x15 | 0x61 << 7 | 0x0a << 14 | 0x50 << 21
        );
        // With fewer, running out is an error.
        assert!(Reader::new(&[0x95, 0xe1]).varint().is_err());
        assert!(Reader::new(&[]).varint().is_err());
        // 11 continuation bytes.
        let mut long = vec![0xff; 11];
        long.push(1);
        let err = Reader::new(&long).varint().unwrap_err();
        assert_eq!(err.detail(), "invalid varint encoding");
    }

    #[test]
    fn lengths_past_the_end_are_refused() {
        assert!(Reader::new(&[0x09, b'r', b'1']).str().is_err());
        assert!(Reader::new(&[0x05, 1]).count("array").is_err());
        assert_eq!(Reader::new(&[0x02, b'r', b'1']).str().unwrap(), "r1");
        assert_eq!(
            Reader::new(&[0x03, b'r', 0xff, b'1']).str().unwrap(),
            "r\u{fffd}1"
        );
    }

    #[test]
    fn booleans_are_ff_or_00() {
        assert!(Reader::new(&[0xff]).bool().unwrap());
        assert!(!Reader::new(&[0]).bool().unwrap());
        let err = Reader::new(&[1]).bool().unwrap_err();
        assert_eq!(err.detail(), "Invalid boolean encoding [1] at pos 0");
    }
}
