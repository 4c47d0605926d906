//! JSON the way TSRPC writes it: numbers formatted as JavaScript's `JSON.stringify` does.
//!
//! serde_json writes `3.0` for an `f64` holding 3; JavaScript writes `3`. Every frame this crate
//! sends goes through [`to_string`], so a Rust peer and a TypeScript peer produce the same bytes.

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

/// Writes `v` as `Number.prototype.toString` would (NaN and infinities as `null`, as JSON.stringify).
fn write_js_number<W: ?Sized + io::Write>(w: &mut W, v: f64) -> io::Result<()> {
    if !v.is_finite() {
        return w.write_all(b"null");
    }
    if v == 0.0 {
        return w.write_all(b"0");
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return CompactFormatter.write_i64(w, v as i64);
    }
    let mut buf = ryu::Buffer::new();
    if v.fract() != 0.0 {
        // ryu writes plain decimals (no exponent) only for 1e-5 <= |v| < 1e16, where JavaScript
        // also writes plain decimals with the same shortest digits: no allocation then.
        let s = buf.format_finite(v);
        if !s.contains(['e', 'E']) {
            return w.write_all(s.as_bytes());
        }
    }
    let mut out = String::with_capacity(24);
    js_number_string(v, &mut out);
    w.write_all(out.as_bytes())
}

/// ECMAScript Number::toString for a finite, non-zero value.
fn js_number_string(v: f64, out: &mut String) {
    if v < 0.0 {
        out.push('-');
    }
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(v.abs());
    // Split ryu's output into significant digits and the decimal point position `n`
    // (value = 0.DIGITS * 10^n).
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().unwrap_or(0)),
        None => (s, 0),
    };
    let (int_part, frac_part) = mant.split_once('.').unwrap_or((mant, ""));
    let mut digits: String = int_part.chars().chain(frac_part.chars()).collect();
    let mut n = int_part.len() as i32 + exp;
    let lead = digits.len() - digits.trim_start_matches('0').len();
    digits.drain(..lead);
    n -= lead as i32;
    let trimmed = digits.trim_end_matches('0').len();
    digits.truncate(trimmed);
    let k = digits.len() as i32;
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        let e = n - 1;
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if e < 0 { '-' } else { '+' });
        out.push_str(&e.abs().to_string());
    }
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
}
