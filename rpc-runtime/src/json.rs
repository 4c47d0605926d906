//! JSON the way TSRPC writes it, and the crate's one JavaScript number formatter.
//!
//! serde_json writes `3.0` for an `f64` holding 3; JavaScript writes `3`. Every frame this
//! crate sends goes through [`to_string`] or [`to_writer`], whose [`JsFormatter`] writes floats
//! as JavaScript's `Number.prototype.toString` does, so a Rust peer and a TypeScript peer produce
//! the same bytes. Validation error texts print numbers with the same formatter.
//! (Reading strictly, as TSRPC's validator does, is `validate`'s job.)
//!
//! Integers are where the two languages part: TSRPC's `uint`/`int` map to `u64`/`i64`, but
//! JavaScript reads every number as a double, exact only up to 2^53 - 1
//! ([`MAX_SAFE_INTEGER`]). [`to_string`] and [`to_writer`] refuse an integer beyond that range
//! with an error naming the field, rather than send a value the peer would silently round.

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};

/// A serde_json formatter that writes numbers as a JavaScript peer reads them: floats as
/// JavaScript writes them (`3`, `0.1`, `1e+21`, `1e-7`), and integers only within JavaScript's
/// safe range ([`MAX_SAFE_INTEGER`]): one beyond it is an I/O error of kind `InvalidData`,
/// which [`to_writer`] turns into an error naming the field.
///
/// The untyped layer uses the same type with the check off, rather than a second formatter
/// type: every serde_json function reachable from both would be compiled twice into the crate
/// that sends, and that alone added 5-7% to the W3 bench server's instructions per message
/// (compiler inlining and codegen-unit placement; bench/README.md has the figures).
#[derive(Debug, Clone, Copy)]
pub struct JsFormatter {
    /// Refuse integers beyond [`MAX_SAFE_INTEGER`]; false only for [`to_string_untyped`].
    safe_integers: bool,
}

impl JsFormatter {
    /// The formatter of [`to_string`] and [`to_writer`], safe-integer check included.
    pub const fn new() -> Self {
        Self {
            safe_integers: true,
        }
    }
}

impl Default for JsFormatter {
    fn default() -> Self {
        Self::new()
    }
}

/// JavaScript's `Number.MAX_SAFE_INTEGER`, 2^53 - 1: the largest integer a double holds
/// exactly, and so the largest integer (in magnitude) this crate encodes.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The refusal of an integer beyond [`MAX_SAFE_INTEGER`]: out of line and allocation-free (an
/// `ErrorKind` alone), so the serializer's hot code holds a compare and a call.
#[cold]
#[inline(never)]
fn refused() -> io::Error {
    io::ErrorKind::InvalidData.into()
}

impl Formatter for JsFormatter {
    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, v: f64) -> io::Result<()> {
        write_js_number(w, v)
    }
    fn write_f32<W: ?Sized + io::Write>(&mut self, w: &mut W, v: f32) -> io::Result<()> {
        write_js_number(w, v as f64)
    }
    fn write_u64<W: ?Sized + io::Write>(&mut self, w: &mut W, v: u64) -> io::Result<()> {
        if v > MAX_SAFE_INTEGER && self.safe_integers {
            return Err(refused());
        }
        CompactFormatter.write_u64(w, v)
    }
    fn write_i64<W: ?Sized + io::Write>(&mut self, w: &mut W, v: i64) -> io::Result<()> {
        if v.unsigned_abs() > MAX_SAFE_INTEGER && self.safe_integers {
            return Err(refused());
        }
        CompactFormatter.write_i64(w, v)
    }
    fn write_u128<W: ?Sized + io::Write>(&mut self, w: &mut W, v: u128) -> io::Result<()> {
        if v > MAX_SAFE_INTEGER as u128 && self.safe_integers {
            return Err(refused());
        }
        CompactFormatter.write_u128(w, v)
    }
    fn write_i128<W: ?Sized + io::Write>(&mut self, w: &mut W, v: i128) -> io::Result<()> {
        if v.unsigned_abs() > MAX_SAFE_INTEGER as u128 && self.safe_integers {
            return Err(refused());
        }
        CompactFormatter.write_i128(w, v)
    }
}

/// [`JsFormatter`]'s integer check that keeps the integer it refuses, for
/// [`unsafe_integer_error`] (the error path only; it writes into `io::sink`, so floats need
/// no JavaScript formatting there).
struct Recording<'a>(&'a mut Option<i128>);

impl Recording<'_> {
    fn keep(&mut self, r: io::Result<()>, v: i128) -> io::Result<()> {
        if r.is_err() {
            *self.0 = Some(v);
        }
        r
    }
}

impl Formatter for Recording<'_> {
    fn write_u64<W: ?Sized + io::Write>(&mut self, w: &mut W, v: u64) -> io::Result<()> {
        let r = JsFormatter::new().write_u64(w, v);
        self.keep(r, v.into())
    }
    fn write_i64<W: ?Sized + io::Write>(&mut self, w: &mut W, v: i64) -> io::Result<()> {
        let r = JsFormatter::new().write_i64(w, v);
        self.keep(r, v.into())
    }
    fn write_u128<W: ?Sized + io::Write>(&mut self, w: &mut W, v: u128) -> io::Result<()> {
        let r = JsFormatter::new().write_u128(w, v);
        self.keep(r, v.min(i128::MAX as u128) as i128)
    }
    fn write_i128<W: ?Sized + io::Write>(&mut self, w: &mut W, v: i128) -> io::Result<()> {
        let r = JsFormatter::new().write_i128(w, v);
        self.keep(r, v)
    }
}

/// Serializes `value` to compact JSON with JavaScript number formatting.
///
/// An integer beyond JavaScript's safe range ([`MAX_SAFE_INTEGER`]) is an error naming the
/// field, since a TypeScript peer would read it rounded:
///
/// ```
/// #[derive(serde::Serialize)]
/// struct ReqPay { amount: u64 }
/// let err = rpc_runtime::json::to_string(&ReqPay { amount: 1 << 60 }).unwrap_err();
/// assert!(err.to_string().contains("`amount`"), "{err}");
/// assert!(rpc_runtime::json::to_string(&ReqPay { amount: (1 << 53) - 1 }).is_ok());
/// ```
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

/// [`to_string`] without the safe-integer check, for what the crate re-encodes or sends as it
/// was given: the untyped `_raw` layer (`serde_json::Value`), a flow's re-encoding of a body
/// that came in, an error's extra fields. Such a value may hold an integer beyond 2^53 - 1 that
/// a peer sent; refusing it there would turn it into `null`.
pub(crate) fn to_string_untyped<T: ?Sized + Serialize>(value: &T) -> serde_json::Result<String> {
    let mut buf = Vec::with_capacity(128);
    let unchecked = JsFormatter {
        safe_integers: false,
    };
    value.serialize(&mut serde_json::Serializer::with_formatter(
        &mut buf, unchecked,
    ))?;
    trim(&mut buf);
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

/// Serializes `value` into `buf` with JavaScript number formatting; an integer beyond
/// [`MAX_SAFE_INTEGER`] is an error naming the field (see [`to_string`]). On that error `buf`
/// holds a partial document.
pub fn to_writer<W: io::Write, T: ?Sized + Serialize>(buf: W, value: &T) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(buf, JsFormatter::new());
    match value.serialize(&mut ser) {
        Ok(()) => Ok(()),
        Err(e) if e.is_io() => Err(unsafe_integer_error(value).unwrap_or(e)),
        Err(e) => Err(e),
    }
}

/// After an I/O error: the error for an integer beyond the safe range in `value`, if that was
/// the cause (`None`: the writer failed). Only on that error path: `value` is serialized
/// again, into nothing, with its path tracked, to name the field.
#[cold]
fn unsafe_integer_error<T: ?Sized + Serialize>(value: &T) -> Option<serde_json::Error> {
    let mut seen = None;
    let mut ser = serde_json::Serializer::with_formatter(io::sink(), Recording(&mut seen));
    let path = match serde_path_to_error::serialize(value, &mut ser) {
        Err(e) => e.path().to_string(),
        Ok(()) => ".".to_owned(),
    };
    let v = seen?;
    let ty = std::any::type_name::<T>();
    let ty = ty.rsplit("::").next().unwrap_or(ty);
    let place = if path == "." {
        format!("`{ty}`")
    } else {
        format!("field `{path}` of `{ty}`")
    };
    Some(serde::ser::Error::custom(format!(
        "{place}: the integer {v} is beyond JavaScript's safe range (-(2^53 - 1) to 2^53 - 1), \
         so a TypeScript peer would read it rounded; not sent"
    )))
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

    #[derive(serde::Serialize)]
    struct Inner {
        id: i64,
    }

    #[derive(serde::Serialize)]
    struct ReqBig {
        small: u32,
        items: Vec<Inner>,
        big: Option<u64>,
    }

    #[test]
    fn refuses_integers_beyond_the_safe_range() {
        let max = MAX_SAFE_INTEGER;
        let ok = ReqBig {
            small: u32::MAX,
            items: vec![Inner { id: -(max as i64) }, Inner { id: max as i64 }],
            big: Some(max),
        };
        assert_eq!(
            to_string(&ok).unwrap(),
            r#"{"small":4294967295,"items":[{"id":-9007199254740991},{"id":9007199254740991}],"big":9007199254740991}"#
        );

        let err = to_string(&ReqBig {
            big: Some(max + 1),
            ..ok
        })
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "field `big` of `ReqBig`: the integer 9007199254740992 is beyond JavaScript's safe \
             range (-(2^53 - 1) to 2^53 - 1), so a TypeScript peer would read it rounded; not sent"
        );

        let nested = ReqBig {
            small: 1,
            items: vec![Inner { id: 1 }, Inner { id: i64::MIN }],
            big: None,
        };
        let err = to_string(&nested).unwrap_err().to_string();
        assert!(
            err.starts_with("field `items[1].id` of `ReqBig`: the integer -9223372036854775808 "),
            "{err}"
        );

        let err = to_string(&u64::MAX).unwrap_err().to_string();
        assert!(
            err.starts_with("`u64`: the integer 18446744073709551615 "),
            "{err}"
        );
        assert!(to_string(&u128::MAX).is_err());
        assert!(to_string(&-(1i128 << 60)).is_err());
        assert!(to_string(&serde_json::json!({"a": [1u64 << 54]}))
            .unwrap_err()
            .to_string()
            .starts_with("field `a[0]` of `Value`"));
    }

    #[test]
    fn the_untyped_layer_sends_integers_as_given() {
        let v = serde_json::json!({"a": 1u64 << 60, "b": i64::MIN, "x": 3.0});
        assert_eq!(
            to_string_untyped(&v).unwrap(),
            r#"{"a":1152921504606846976,"b":-9223372036854775808,"x":3}"#
        );
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
