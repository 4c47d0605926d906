//! Integers as JavaScript and tsbuffer see them.
//!
//! JSON has one number type; schemars marks Rust integers `"type": "integer"` with a `format`
//! (`uint8`, `int32`, ...) and sometimes `minimum` / `maximum`, which [`check_integer`] reads as
//! tsbuffer's `int` / `uint` plus the Rust width. An integral float (`1.0`, `1e2`, `-0`) is that
//! integer for JavaScript and for tsbuffer, though serde refuses it for an integer field:
//! [`integral_floats_as_integers`] rewrites a parsed value so that serde takes it. Integer-keyed
//! maps are objects whose keys match schemars' digit patterns ([`pattern_matches`]).

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::grammar::{type_of, Kind};

/// `f` as an integer when it is one that an `i64` or a `u64` holds.
fn integral(f: f64) -> Option<i128> {
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    (f.fract() == 0.0 && (-TWO_64 / 2.0..TWO_64).contains(&f)).then_some(f as i128)
}

/// `value` with every integral float that fits an `i64` or a `u64` written as an integer, as
/// JavaScript sees it: serde refuses `1.0` for an integer field.
pub(crate) fn integral_floats_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(i) = n.as_f64().and_then(integral) {
                if let Ok(i) = i64::try_from(i) {
                    *n = i.into();
                } else if let Ok(u) = u64::try_from(i) {
                    *n = u.into();
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(map) => map.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

/// The range of a schemars integer `format`.
fn integer_range(format: &str) -> (i128, i128) {
    match format {
        "int8" => (i8::MIN.into(), i8::MAX.into()),
        "int16" => (i16::MIN.into(), i16::MAX.into()),
        "int32" => (i32::MIN.into(), i32::MAX.into()),
        "int64" | "int" => (i64::MIN.into(), i64::MAX.into()),
        "uint8" => (0, u8::MAX.into()),
        "uint16" => (0, u16::MAX.into()),
        "uint32" => (0, u32::MAX.into()),
        "uint64" | "uint" => (0, u64::MAX.into()),
        f if f.starts_with("uint") => (0, i128::MAX),
        _ => (i128::MIN, i128::MAX),
    }
}

fn integer_bound(v: &Value) -> Option<i128> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i.into());
    }
    if let Some(u) = n.as_u64() {
        return Some(u.into());
    }
    let f = n.as_f64()?;
    // Only finite bounds within i128 are meaningful here.
    (f.is_finite() && f.abs() < 1e38).then_some(f as i128)
}

/// `"integer"`: tsbuffer's `int` / `uint` scalar types, plus the Rust width.
pub(super) fn check_integer<'s, 'v>(
    obj: &'s Map<String, Value>,
    v: &'v Value,
) -> Result<(), Kind<'s, 'v>> {
    let Value::Number(n) = v else {
        return Err(Kind::Type {
            expect: Cow::Borrowed("number"),
            actual: type_of(v),
        });
    };
    let format = obj.get("format").and_then(Value::as_str).unwrap_or("");
    let (mut lo, mut hi) = integer_range(format);
    if let Some(min) = obj.get("minimum").and_then(integer_bound) {
        lo = lo.max(min);
    }
    if let Some(max) = obj.get("maximum").and_then(integer_bound) {
        hi = hi.min(max);
    }
    let unsigned = format.starts_with("uint") || lo >= 0;
    let exact = n
        .as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from));
    // An integral float (`1.0`, `1e2`) is that integer for JavaScript, and for tsbuffer.
    let exact = exact.or_else(|| integral(n.as_f64()?));
    match exact {
        Some(i) if lo <= i && i <= hi => Ok(()),
        _ => Err(Kind::Scalar {
            value: n,
            scalar: if unsigned { "uint" } else { "int" },
        }),
    }
}

/// The patterns schemars writes for integer-keyed maps: Some(negatives
/// allowed).
pub(super) fn numeric_pattern(pattern: &str) -> Option<bool> {
    match pattern {
        r"^\d+$" | "^[0-9]+$" => Some(false),
        r"^-?\d+$" | "^-?[0-9]+$" => Some(true),
        _ => None,
    }
}

/// Whether `key` matches a `patternProperties` pattern; patterns other than
/// schemars' integer-key ones are taken to match everything.
pub(super) fn pattern_matches(pattern: &str, key: &str) -> bool {
    match numeric_pattern(pattern) {
        Some(signed) => {
            let digits = if signed {
                key.strip_prefix('-').unwrap_or(key)
            } else {
                key
            };
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        }
        None => true,
    }
}
