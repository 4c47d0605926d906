//! Whether a value is `null`, asked before a schema decides what `null` means there.

use serde::ser::{Impossible, Serialize, Serializer};

use crate::tsbuffer::error::Error;

/// Whether `v` serializes as `null` (`None`, `()`).
pub(crate) fn is_null<T: ?Sized + Serialize>(v: &T) -> bool {
    v.serialize(NullProbe).unwrap_or(false)
}

/// Answers whether a value serializes as `null`; gives up (`Err`) at anything else.
struct NullProbe;

macro_rules! not_null {
    ($($name:ident($($arg:ty),*)),* $(,)?) => {$(
        fn $name(self, $(_: $arg),*) -> Result<bool, Error> {
            Ok(false)
        }
    )*};
}

impl Serializer for NullProbe {
    type Ok = bool;
    type Error = Error;
    type SerializeSeq = Impossible<bool, Error>;
    type SerializeTuple = Impossible<bool, Error>;
    type SerializeTupleStruct = Impossible<bool, Error>;
    type SerializeTupleVariant = Impossible<bool, Error>;
    type SerializeMap = Impossible<bool, Error>;
    type SerializeStruct = Impossible<bool, Error>;
    type SerializeStructVariant = Impossible<bool, Error>;

    not_null!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_none(self) -> Result<bool, Error> {
        Ok(true)
    }
    fn serialize_unit(self) -> Result<bool, Error> {
        Ok(true)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<bool, Error> {
        Ok(true)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<bool, Error> {
        v.serialize(self)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<bool, Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<bool, Error> {
        Ok(false)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(Error::encode(""))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(Error::encode(""))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(Error::encode(""))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(Error::encode(""))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(Error::encode(""))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(Error::encode(""))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(Error::encode(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_probe() {
        assert!(is_null(&None::<u8>));
        assert!(is_null(&()));
        assert!(is_null(&Some(None::<u8>)));
        assert!(!is_null(&Some(1)));
        assert!(!is_null(&vec![1]));
        assert!(!is_null("x"));
    }
}
