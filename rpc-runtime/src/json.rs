//! JSON the way TSRPC writes and reads it.
//!
//! Writing: serde_json writes `3.0` for an `f64` holding 3; JavaScript writes `3`. Every frame
//! this crate sends goes through [`to_string`], so a Rust peer and a TypeScript peer produce the
//! same bytes.
//!
//! Reading: serde's derived impls are more lenient than TSRPC's validator in a few places: a
//! struct also takes a sequence of its fields (`[1,2]` for `{a,b}`), and a unit variant also
//! takes `{"Variant":null}`. [`from_str_strict`] decodes through a thin wrapper around
//! serde_json's deserializer that refuses both, and reports whether the decode went through a
//! path it cannot watch (serde's buffered `Content`, used by internally tagged, adjacently
//! tagged and untagged enums, or a custom `deserialize_any`): only then must the caller check
//! the value against the schema as well.

use std::cell::Cell;
use std::fmt;
use std::io;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};
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

// ---------------------------------------------------------------------------
// Strict reading
// ---------------------------------------------------------------------------

/// Decodes `text` into `T` like `serde_json::from_str`, except that structs (and struct
/// variants) take only JSON objects and unit variants only strings, at every depth.
///
/// The flag is true when the decode went through a path this wrapper cannot watch (serde's
/// buffered `Content`, a custom `deserialize_any`): then a success may still hold something
/// TSRPC's validator refuses, such as an array for a struct inside an untagged enum, and the
/// caller has to validate the value against the schema. Plain structs, `Option`, sequences,
/// maps, unit enums and `serde_json::Value` fields keep the flag false.
pub(crate) fn from_str_strict<'de, T: de::Deserialize<'de>>(
    text: &'de str,
) -> (serde_json::Result<T>, bool) {
    let lenient = Cell::new(false);
    let mut de = serde_json::Deserializer::from_str(text);
    let decoded = T::deserialize(Strict {
        de: &mut de,
        lenient: &lenient,
    })
    .and_then(|value| de.end().map(|()| value));
    (decoded, lenient.get())
}

/// serde_json's name for the newtype that captures a `RawValue` (its text is passed through).
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// A deserializer that forwards to `de`, refusing sequences for structs and maps for unit
/// variants, and wrapping every nested deserializer the same way.
struct Strict<'f, D> {
    de: D,
    /// Set when the input went through a path that is not watched.
    lenient: &'f Cell<bool>,
}

/// A visitor whose nested deserializers, sequences and maps are wrapped in [`Strict`].
struct StrictVisitor<'f, V> {
    inner: V,
    lenient: &'f Cell<bool>,
}

/// A seed that deserializes through [`Strict`].
struct StrictSeed<'f, S> {
    inner: S,
    lenient: &'f Cell<bool>,
}

struct StrictSeq<'f, A> {
    inner: A,
    lenient: &'f Cell<bool>,
}

struct StrictMap<'f, A> {
    inner: A,
    lenient: &'f Cell<bool>,
}

impl<'f, D> Strict<'f, D> {
    fn wrap<V>(&self, inner: V) -> StrictVisitor<'f, V> {
        StrictVisitor {
            inner,
            lenient: self.lenient,
        }
    }
}

/// Forwards `deserialize_*` methods whose visitors only ever get scalars from serde_json.
macro_rules! forward_scalars {
    ($($method:ident)*) => {$(
        #[inline]
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.de.$method(visitor)
        }
    )*};
}

/// Forwards `deserialize_*` methods with the visitor wrapped.
macro_rules! forward_wrapped {
    ($($method:ident)*) => {$(
        #[inline]
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            let visitor = self.wrap(visitor);
            self.de.$method(visitor)
        }
    )*};
}

impl<'de, 'f, D: Deserializer<'de>> Deserializer<'de> for Strict<'f, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        // serde_json's own visitors (`Value`, `Number`) build no Rust structs; anything else
        // (serde's `Content`, a custom impl) may build one from a sequence unseen.
        if !std::any::type_name::<V>().starts_with("serde_json::") {
            self.lenient.set(true);
        }
        let visitor = self.wrap(visitor);
        self.de.deserialize_any(visitor)
    }

    forward_scalars! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_unit deserialize_identifier deserialize_ignored_any
    }

    forward_wrapped! {
        deserialize_bytes deserialize_byte_buf deserialize_option deserialize_seq
        deserialize_map
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.de.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        if name == RAW_VALUE_TOKEN {
            return self.de.deserialize_newtype_struct(name, visitor);
        }
        let visitor = self.wrap(visitor);
        self.de.deserialize_newtype_struct(name, visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = self.wrap(visitor);
        self.de.deserialize_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = self.wrap(visitor);
        self.de.deserialize_tuple_struct(name, len, visitor)
    }

    /// A struct is an interface: only a JSON object (serde_json's `deserialize_struct` also
    /// takes an array of the fields in order).
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = self.wrap(visitor);
        self.de.deserialize_map(visitor)
    }

    /// A unit variant only as a string (a literal type for TSRPC); a variant with data only
    /// as serde's `{"Variant": data}`, its data read strictly.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.de.deserialize_any(EnumForm {
            inner: visitor,
            lenient: self.lenient,
        })
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

/// Forwards `visit_*` methods that take a plain value.
macro_rules! forward_visits {
    ($($method:ident($ty:ty))*) => {$(
        #[inline]
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, 'f, V: Visitor<'de>> Visitor<'de> for StrictVisitor<'f, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visits! {
        visit_bool(bool) visit_i8(i8) visit_i16(i16) visit_i32(i32) visit_i64(i64)
        visit_i128(i128) visit_u8(u8) visit_u16(u16) visit_u32(u32) visit_u64(u64)
        visit_u128(u128) visit_f32(f32) visit_f64(f64) visit_char(char) visit_str(&str)
        visit_string(String) visit_bytes(&[u8]) visit_byte_buf(Vec<u8>)
    }

    #[inline]
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        self.inner.visit_borrowed_str(v)
    }

    #[inline]
    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<V::Value, E> {
        self.inner.visit_borrowed_bytes(v)
    }

    #[inline]
    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    #[inline]
    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    #[inline]
    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(Strict {
            de,
            lenient: self.lenient,
        })
    }

    #[inline]
    fn visit_newtype_struct<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(Strict {
            de,
            lenient: self.lenient,
        })
    }

    #[inline]
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(StrictSeq {
            inner: seq,
            lenient: self.lenient,
        })
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(StrictMap {
            inner: map,
            lenient: self.lenient,
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        // serde_json calls this only from `deserialize_enum`, which `Strict` routes through
        // `EnumForm`; another source is not watched.
        self.lenient.set(true);
        self.inner.visit_enum(data)
    }
}

impl<'de, 'f, S: DeserializeSeed<'de>> DeserializeSeed<'de> for StrictSeed<'f, S> {
    type Value = S::Value;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(Strict {
            de,
            lenient: self.lenient,
        })
    }
}

impl<'de, 'f, A: SeqAccess<'de>> SeqAccess<'de> for StrictSeq<'f, A> {
    type Error = A::Error;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.inner.next_element_seed(StrictSeed {
            inner: seed,
            lenient: self.lenient,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, 'f, A: MapAccess<'de>> MapAccess<'de> for StrictMap<'f, A> {
    type Error = A::Error;

    /// Keys are strings in JSON: nothing to watch.
    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(seed)
    }

    #[inline]
    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.next_value_seed(StrictSeed {
            inner: seed,
            lenient: self.lenient,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// The visitor of [`Strict::deserialize_enum`]: a string is a unit variant, an object
/// `{"Variant": data}` a variant with data; anything else is refused with the enum's own
/// expectation text.
struct EnumForm<'f, V> {
    inner: V,
    lenient: &'f Cell<bool>,
}

impl<'de, 'f, V: Visitor<'de>> Visitor<'de> for EnumForm<'f, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        self.inner
            .visit_enum(de::value::BorrowedStrDeserializer::<E>::new(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.inner
            .visit_enum(de::value::StrDeserializer::<E>::new(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(MapVariant {
            map: StrictMap {
                inner: map,
                lenient: self.lenient,
            },
        })
    }
}

/// `{"Variant": data}` read as an enum: the key names the variant, the value is its data.
/// serde_json refuses a second key after the visitor returns.
struct MapVariant<'f, A> {
    map: StrictMap<'f, A>,
}

impl<'de, 'f, A: MapAccess<'de>> EnumAccess<'de> for MapVariant<'f, A> {
    type Error = A::Error;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(
        mut self,
        seed: S,
    ) -> Result<(S::Value, Self), A::Error> {
        match self.map.next_key_seed(seed)? {
            Some(variant) => Ok((variant, self)),
            None => Err(de::Error::invalid_length(0, &"an object with one key")),
        }
    }
}

impl<'de, 'f, A: MapAccess<'de>> de::VariantAccess<'de> for MapVariant<'f, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        Err(de::Error::invalid_type(
            de::Unexpected::Map,
            &"a unit variant as a string",
        ))
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(
        mut self,
        seed: S,
    ) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(seed)
    }

    fn tuple_variant<V: Visitor<'de>>(
        mut self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(TupleSeed { len, visitor })
    }

    fn struct_variant<V: Visitor<'de>>(
        mut self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(StructSeed { fields, visitor })
    }
}

/// The data of a tuple variant (the seed's deserializer is [`Strict`] already).
struct TupleSeed<V> {
    len: usize,
    visitor: V,
}

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for TupleSeed<V> {
    type Value = V::Value;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        de.deserialize_tuple(self.len, self.visitor)
    }
}

/// The data of a struct variant (the seed's deserializer is [`Strict`] already).
struct StructSeed<V> {
    fields: &'static [&'static str],
    visitor: V,
}

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for StructSeed<V> {
    type Value = V::Value;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        de.deserialize_struct("", self.fields, self.visitor)
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

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Pair {
        a: f64,
        b: Option<Vec<u32>>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Loose {
        any: serde_json::Value,
        map: std::collections::HashMap<String, Pair>,
        raw: Box<serde_json::value::RawValue>,
        unit: Mode,
    }

    #[derive(Debug, serde::Deserialize)]
    enum Mode {
        On,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(tag = "type")]
    #[allow(dead_code)]
    enum Tagged {
        P { p: f64 },
    }

    #[test]
    fn strict_refuses_arrays_for_structs_and_maps_for_unit_variants() {
        let strict = |t: &str| from_str_strict::<Pair>(t).0.map(|_| ());
        assert!(strict(r#"{"a":1,"b":[2]}"#).is_ok());
        assert!(strict(r#"{"a":1,"b":null} "#).is_ok());
        assert!(serde_json::from_str::<Pair>("[1,[2]]").is_ok());
        let e = strict("[1,[2]]").unwrap_err();
        assert!(e.to_string().starts_with("invalid type: sequence"), "{e}");
        assert!(strict(r#"{"a":1} x"#).is_err());
        let (mode, _) = from_str_strict::<Mode>(r#""On""#);
        assert!(matches!(mode, Ok(Mode::On)));
        assert!(serde_json::from_str::<Mode>(r#"{"On":null}"#).is_ok());
        assert!(from_str_strict::<Mode>(r#"{"On":null}"#).0.is_err());
        assert!(from_str_strict::<Mode>(r#""Off""#).0.is_err());
        assert!(from_str_strict::<Mode>("1").0.is_err());
    }

    /// Only decodes through serde's buffered `Content` are reported as unwatched: the usual
    /// types (structs, options, maps, `Value`, `RawValue`, unit enums) are not.
    #[test]
    fn strict_reports_unwatched_paths() {
        let text = r#"{"any":[1,{"x":[]}],"map":{"k":{"a":1}},"raw":[1, 2],"unit":"On"}"#;
        let (loose, unwatched) = from_str_strict::<Loose>(text);
        let loose = loose.unwrap();
        assert_eq!(loose.raw.get(), "[1, 2]");
        assert_eq!(loose.any, serde_json::json!([1, {"x": []}]));
        assert!(!unwatched);
        let (tagged, unwatched) = from_str_strict::<Tagged>(r#"{"type":"P","p":1}"#);
        assert!(tagged.is_ok());
        assert!(unwatched);
    }
}
