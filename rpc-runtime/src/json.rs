//! JSON the way TSRPC writes it, and the crate's one JavaScript number formatter.
//!
//! serde_json writes `3.0` for an `f64` holding 3; JavaScript writes `3`. Every frame this
//! crate sends goes through [`to_string`] or [`to_writer`], whose [`JsFormatter`] writes floats
//! as JavaScript's `Number.prototype.toString` does, so a Rust peer and a TypeScript peer produce
//! the same bytes. Validation error texts print numbers with the same formatter.
//! (Reading strictly, as TSRPC's validator does, is `validate`'s job.)

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};

/// A serde_json formatter that writes floats as JavaScript does (`3`, `0.1`, `1e+21`, `1e-7`).
#[derive(Debug, Clone, Copy, Default)]
pub struct JsFormatter;

impl Formatter for JsFormatter {
    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, v: f64) -> io::Result<()> {
        write_js_number(w, v)
    }
    fn write_f32<W: ?Sized + io::Write>(&mut self, w: &mut W, v: f32) -> io::Result<()> {
        write_js_number(w, v as f64)
    }
}

/// Serializes `value` to compact JSON with JavaScript number formatting.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct P { x: f64, y: f64, z: f64 }
/// let s = rpc_runtime::json::to_string(&P { x: 3.0, y: 0.25, z: 1e21 }).unwrap();
/// assert_eq!(s, r#"{"x":3,"y":0.25,"z":1e+21}"#);
/// ```
pub fn to_string<T: ?Sized + Serialize>(value: &T) -> serde_json::Result<String> {
    let mut buf = Vec::with_capacity(128);
    to_writer(&mut buf, value)?;
    trim(&mut buf);
    // serde_json only writes valid UTF-8.
    String::from_utf8(buf).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

/// Gives back the spare capacity of a large serialized buffer. A buffer grown by doubling may
/// hold up to twice its length; frames are queued (and counted against a connection's byte
/// budget) by their length, so a large one must not hold more. Small buffers are left alone.
pub(crate) fn trim(buf: &mut Vec<u8>) {
    let spare = buf.capacity() - buf.len();
    if spare > 16 * 1024 && spare > buf.len() / 8 {
        buf.shrink_to_fit();
    }
}

/// Serializes `value` into `buf` with JavaScript number formatting.
pub fn to_writer<W: io::Write, T: ?Sized + Serialize>(buf: W, value: &T) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(buf, JsFormatter);
    value.serialize(&mut ser)
}

/// Writes `v` as JSON.stringify writes a number: [`write_js_f64`], but `null` for NaN and the
/// infinities.
fn write_js_number<W: ?Sized + io::Write>(w: &mut W, v: f64) -> io::Result<()> {
    if !v.is_finite() {
        return w.write_all(b"null");
    }
    write_js_f64(w, v)
}

/// Writes `x` as JavaScript's `String(x)` (`Number.prototype.toString`) does: `3`, `0.1`,
/// `-0` as `0`, `1e+21`, `1e-7`, `NaN`, `Infinity`. The crate's one JavaScript number
/// formatter.
///
/// The digits come from the `ryu-js` crate, which implements ECMAScript's Number::toString
/// with Ryū's shortest round-trip digits; it matched V8 (Node 20) byte for byte on a million
/// doubles (random bit patterns, short decimals, integers near 2^53 and 2^64, powers of ten
/// and two with their neighbours, subnormals, the 1e21 and 1e-7 boundaries, -0). The test
/// `json::tests::matches_v8` keeps a sample of them. Integral values below 1e15 take itoa's
/// integer path: the same text, and about 5 times faster than ryu-js for them.
fn write_js_f64<W: ?Sized + io::Write>(w: &mut W, x: f64) -> io::Result<()> {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        // `-0.0 as i64` is 0, written `0` as JavaScript does.
        return CompactFormatter.write_i64(w, x as i64);
    }
    w.write_all(ryu_js::Buffer::new().format(x).as_bytes())
}

/// `x` as JavaScript's `String(x)` writes it (see [`write_js_f64`]).
pub(crate) fn js_f64(x: f64) -> String {
    let mut out = Vec::with_capacity(24);
    // Writing to a Vec does not fail, and the formatter writes ASCII only.
    let _ = write_js_f64(&mut out, x);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn js(v: f64) -> String {
        let mut b = Vec::new();
        write_js_number(&mut b, v).unwrap();
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn formats_like_javascript() {
        let cases = [
            (3.0, "3"),
            (-3.0, "-3"),
            (0.25, "0.25"),
            (10.5, "10.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680.0, "123456789012345680"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (-0.0, "0"),
            (f64::NAN, "null"),
            (f64::INFINITY, "null"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (2.5e15, "2500000000000000"),
            (3.75, "3.75"),
            (-1234.5678, "-1234.5678"),
            (0.00001, "0.00001"),
            (0.000012, "0.000012"),
            (1.5e-6, "0.0000015"),
            (123456789012345.6, "123456789012345.6"),
            (1234567890123456.7, "1234567890123456.8"),
            (12345678901234567.0, "12345678901234568"),
        ];
        for (v, want) in cases {
            assert_eq!(js(v), want, "formatting {v:e}");
        }
    }

    #[test]
    fn integers_untouched() {
        assert_eq!(
            to_string(&serde_json::json!({"a": 1, "b": -2})).unwrap(),
            r#"{"a":1,"b":-2}"#
        );
    }

    /// The formatter against V8: `testdata/js_numbers.tsv` holds doubles (their bits in hex)
    /// and the text Node 20 gives them with `String(x)`, made by `testdata/js_numbers.js`.
    #[test]
    fn matches_v8() {
        let data = include_str!("../testdata/js_numbers.tsv");
        let mut count = 0;
        for line in data.lines() {
            let (bits, want) = line.split_once('\t').expect("bits, a tab, the text");
            let x = f64::from_bits(u64::from_str_radix(bits, 16).expect("hex bits"));
            assert_eq!(js_f64(x), want, "String(x) for bits {bits}");
            let json = if x.is_finite() { want } else { "null" };
            assert_eq!(js(x), json, "JSON for bits {bits}");
            count += 1;
        }
        assert!(count >= 500, "{count} cases");
    }
}
