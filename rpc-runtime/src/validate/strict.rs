//! The strict deserializer: serde_json's deserializer, refusing what TSRPC's validator refuses.
//!
//! serde's derived impls are more lenient than TSRPC's validator in a few places: a struct also
//! takes a sequence of its fields (`[1,2]` for `{a,b}`), and a unit variant also takes
//! `{"Variant":null}`. [`from_str_strict`] decodes through a thin wrapper around serde_json's
//! deserializer that refuses both, and reports whether the decode went through a path it cannot
//! watch (serde's buffered `Content`, used by internally tagged, adjacently tagged and untagged
//! enums, or a custom `deserialize_any`): only then must the caller check the value against the
//! schema as well. It lives here rather than in [`crate::json`] because it is part of decoding
//! like TSRPC validates: [`super::decode`] is its only caller.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};

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
