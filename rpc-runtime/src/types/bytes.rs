//! Binary data: `Uint8Array` / `ArrayBuffer` ([`Bytes`]) and the other typed arrays
//! ([`TypedArray`]), base64 in JSON as TSRPC writes them.

use std::borrow::Cow;
use std::fmt;
use std::ops::{Deref, DerefMut};

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// A TypeScript `Uint8Array` or `ArrayBuffer`: bytes, written in JSON as standard base64 with
/// padding (what TSRPC's JSON mode sends; decoding also takes it without the padding).
///
/// ```
/// use rpc_runtime::types::Bytes;
/// let b = Bytes::from(vec![1, 2, 3]);
/// assert_eq!(serde_json::to_string(&b)?, r#""AQID""#);
/// assert_eq!(serde_json::from_str::<Bytes>(r#""AQID""#)?, b);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Bytes(pub Vec<u8>);

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({})", base64_encode(&self.0))
    }
}

impl Deref for Bytes {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl DerefMut for Bytes {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v)
    }
}

impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Self {
        Bytes(v.to_vec())
    }
}

impl From<Bytes> for Vec<u8> {
    fn from(b: Bytes) -> Self {
        b.0
    }
}

impl Serialize for Bytes {
    /// Base64 text in JSON; raw bytes for a binary format (TSBuffer's serializer, which is
    /// not human-readable).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&base64_encode(&self.0))
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_binary(d).map(Bytes)
    }
}

/// Reads binary data in either form: base64 text (JSON) or raw bytes (a binary format).
/// Each form is told apart by how it arrives, never guessed from the content.
fn deserialize_binary<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    struct BinaryVisitor;
    impl de::Visitor<'_> for BinaryVisitor {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a base64 string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
            base64_decode(v).map_err(E::custom)
        }
        fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
        fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
    }
    if d.is_human_readable() {
        d.deserialize_str(BinaryVisitor)
    } else {
        d.deserialize_bytes(BinaryVisitor)
    }
}

impl JsonSchema for Bytes {
    fn schema_name() -> Cow<'static, str> {
        "Bytes".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "contentEncoding": "base64" })
    }
}

/// An element of a [`TypedArray`]: its size and little-endian bytes (TSRPC sends a typed
/// array's raw memory, little-endian on every platform it runs on).
pub trait TypedElement: Copy + fmt::Debug + PartialEq + Default + Send + Sync + 'static {
    /// The TypeScript name of the array (`Float32Array`).
    const ARRAY_NAME: &'static str;
    /// Bytes per element.
    const SIZE: usize;
    /// Appends the element's little-endian bytes.
    fn write_le(self, out: &mut Vec<u8>);
    /// The element from exactly [`Self::SIZE`] little-endian bytes.
    fn read_le(bytes: &[u8]) -> Self;
}

macro_rules! typed_element {
    ($($ty:ty => $name:literal),* $(,)?) => {$(
        impl TypedElement for $ty {
            const ARRAY_NAME: &'static str = $name;
            const SIZE: usize = std::mem::size_of::<$ty>();
            fn write_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn read_le(bytes: &[u8]) -> Self {
                let mut raw = [0u8; std::mem::size_of::<$ty>()];
                raw.copy_from_slice(bytes);
                <$ty>::from_le_bytes(raw)
            }
        }
    )*};
}

typed_element!(
    i8 => "Int8Array",
    i16 => "Int16Array",
    i32 => "Int32Array",
    u16 => "Uint16Array",
    u32 => "Uint32Array",
    f32 => "Float32Array",
    f64 => "Float64Array",
);

/// A TypeScript typed array other than `Uint8Array` (that one is [`Bytes`]): its elements,
/// written in JSON as base64 of their little-endian bytes (`Float32Array [0.5, -1.25]` ->
/// `"AAAAPwAAoL8="`). `BigInt64Array` and `BigUint64Array` are left out on purpose: TSBuffer
/// cannot encode them.
///
/// ```
/// use rpc_runtime::types::Float32Array;
/// let path = Float32Array::from(vec![0.5, -1.25]);
/// assert_eq!(serde_json::to_string(&path)?, r#""AAAAPwAAoL8=""#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Default)]
pub struct TypedArray<T: TypedElement>(pub Vec<T>);

/// `Int8Array`.
pub type Int8Array = TypedArray<i8>;
/// `Int16Array`.
pub type Int16Array = TypedArray<i16>;
/// `Int32Array`.
pub type Int32Array = TypedArray<i32>;
/// `Uint16Array`.
pub type Uint16Array = TypedArray<u16>;
/// `Uint32Array`.
pub type Uint32Array = TypedArray<u32>;
/// `Float32Array`.
pub type Float32Array = TypedArray<f32>;
/// `Float64Array`.
pub type Float64Array = TypedArray<f64>;

impl<T: TypedElement> fmt::Debug for TypedArray<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:?}", T::ARRAY_NAME, self.0)
    }
}

impl<T: TypedElement> Deref for TypedArray<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

impl<T: TypedElement> DerefMut for TypedArray<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        &mut self.0
    }
}

impl<T: TypedElement> From<Vec<T>> for TypedArray<T> {
    fn from(v: Vec<T>) -> Self {
        TypedArray(v)
    }
}

impl<T: TypedElement> TypedArray<T> {
    /// The raw little-endian bytes (what binary mode and JSON's base64 carry).
    pub fn to_le_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len() * T::SIZE);
        for x in &self.0 {
            x.write_le(&mut out);
        }
        out
    }

    /// The array from raw little-endian bytes; `None` when their length is not a multiple
    /// of the element size (JavaScript throws a `RangeError` there).
    pub fn from_le_bytes(bytes: &[u8]) -> Option<Self> {
        if !bytes.len().is_multiple_of(T::SIZE) {
            return None;
        }
        Some(TypedArray(
            bytes.chunks_exact(T::SIZE).map(T::read_le).collect(),
        ))
    }
}

impl<T: TypedElement> Serialize for TypedArray<T> {
    /// Base64 of the little-endian bytes in JSON; those bytes for a binary format.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&base64_encode(&self.to_le_bytes()))
        } else {
            s.serialize_bytes(&self.to_le_bytes())
        }
    }
}

impl<'de, T: TypedElement> Deserialize<'de> for TypedArray<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bytes = deserialize_binary(d)?;
        TypedArray::from_le_bytes(&bytes).ok_or_else(|| {
            de::Error::custom(format!(
                "{} bytes are not a whole number of {} elements ({} bytes each)",
                bytes.len(),
                T::ARRAY_NAME,
                T::SIZE
            ))
        })
    }
}

impl<T: TypedElement> JsonSchema for TypedArray<T> {
    fn schema_name() -> Cow<'static, str> {
        T::ARRAY_NAME.into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "contentEncoding": "base64" })
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with `=` padding (Node's `Buffer#toString('base64')`).
fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64; the `=` padding may be left out. Anything else (a character out
/// of the alphabet, padding in the middle, a lone trailing character) is an error.
fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let body = text.trim_end_matches('=');
    let padding = text.len() - body.len();
    if padding > 2 || (padding > 0 && !text.len().is_multiple_of(4)) || body.len() % 4 == 1 {
        return Err(format!("`{}` is not base64", preview(text)));
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in body.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("`{}` is not base64", preview(text))),
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

fn preview(text: &str) -> String {
    let mut s: String = text.chars().take(24).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_node_writes_it() {
        for (bytes, b64) in [
            (&b""[..], ""),
            (b"\x01", "AQ=="),
            (b"\x01\x02", "AQI="),
            (b"\x01\x02\x03", "AQID"),
            (b"\x09\x08\x07\x06", "CQgHBg=="),
            (
                b"\x00\x01\x02\x03\x04\x05\x06\x07\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xff",
                "AAECAwQFBgf4+fr7/P3+/w==",
            ),
        ] {
            assert_eq!(base64_encode(bytes), b64);
            assert_eq!(base64_decode(b64).unwrap(), bytes);
        }
        assert_eq!(base64_decode("AQ").unwrap(), [1]);
        for bad in ["A", "AQ=", "A===", "AQ==AQ==", "AQ*D", "AQID=", "é"] {
            assert!(base64_decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bytes_json() {
        let b: Bytes = serde_json::from_str("\"iVBORwD/\"").unwrap();
        assert_eq!(b.0, [0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"iVBORwD/\"");
        assert!(serde_json::from_str::<Bytes>("[1,2]").is_err());
        assert_eq!(format!("{b:?}"), "Bytes(iVBORwD/)");
    }

    /// Bytes that arrive as bytes (a binary format) are taken as they are, even when they
    /// happen to be valid base64 text. (The binary writing is tested with TSBuffer's encoder.)
    #[test]
    fn bytes_that_arrive_as_bytes_stay_bytes() {
        use serde::de::value::{BytesDeserializer, Error as DeError};
        use serde::de::IntoDeserializer;
        let d: BytesDeserializer<'_, DeError> = b"AQID"[..].into_deserializer();
        assert_eq!(Bytes::deserialize(d).unwrap().0, b"AQID");
        let d: BytesDeserializer<'_, DeError> = b"\x01\x00\xfe\xff"[..].into_deserializer();
        assert_eq!(Int16Array::deserialize(d).unwrap().0, [1, -2]);
    }

    #[test]
    fn typed_arrays_are_little_endian() {
        let path: Float32Array = serde_json::from_str("\"AAAAPwAAoL8AAEBAAACAQA==\"").unwrap();
        assert_eq!(path.0, [0.5, -1.25, 3.0, 4.0]);
        assert_eq!(
            serde_json::to_string(&path).unwrap(),
            "\"AAAAPwAAoL8AAEBAAACAQA==\""
        );
        let ints = Int16Array::from(vec![1, -2]);
        assert_eq!(ints.to_le_bytes(), [1, 0, 0xfe, 0xff]);
        let err = serde_json::from_str::<Float64Array>("\"AQID\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("3 bytes are not a whole number of Float64Array elements"),
            "{err}"
        );
    }
}
