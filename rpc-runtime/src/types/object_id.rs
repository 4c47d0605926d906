//! MongoDB's `ObjectId`: 12 bytes (length-prefixed in TSBuffer binary), 24 hex digits in JSON.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// A MongoDB `ObjectId` (the custom proto references `?mongodb/ObjectId`, `?bson/ObjectId`
/// and their `ObjectID` spellings): 12 bytes, written in JSON as 24 lower-case hex digits, as
/// bson's `toHexString` writes it (upper-case digits are read too).
///
/// ```
/// use rpc_runtime::types::ObjectId;
/// let id: ObjectId = "65a1f0c2e4b0a1b2c3d4e5f6".parse()?;
/// assert_eq!(id.bytes()[0], 0x65);
/// assert_eq!(serde_json::to_string(&id)?, r#""65a1f0c2e4b0a1b2c3d4e5f6""#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ObjectId([u8; 12]);

impl ObjectId {
    /// The id made of these 12 bytes.
    pub const fn from_bytes(bytes: [u8; 12]) -> Self {
        ObjectId(bytes)
    }

    /// Its 12 bytes.
    pub const fn bytes(&self) -> [u8; 12] {
        self.0
    }
}

/// Why a text is not an [`ObjectId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an ObjectId: expected 24 hex digits")]
pub struct ObjectIdError(String);

impl FromStr for ObjectId {
    type Err = ObjectIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ObjectIdError(s.chars().take(40).collect());
        if s.len() != 24 {
            return Err(bad());
        }
        let mut out = [0u8; 12];
        for (i, pair) in s.as_bytes().chunks(2).enumerate() {
            let hi = hex_value(pair[0]).ok_or_else(bad)?;
            let lo = hex_value(pair[1]).ok_or_else(bad)?;
            out[i] = hi << 4 | lo;
        }
        Ok(ObjectId(out))
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl Serialize for ObjectId {
    /// 24 hex digits in JSON; the 12 bytes for a binary format (TSBuffer's serializer, which
    /// is not human-readable).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for ObjectId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = ObjectId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ObjectId: 24 hex digits")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ObjectId, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<ObjectId, E> {
                <[u8; 12]>::try_from(v).map(ObjectId).map_err(|_| {
                    E::custom(format!("{} bytes are not an ObjectId (12 bytes)", v.len()))
                })
            }
        }
        if d.is_human_readable() {
            d.deserialize_str(V)
        } else {
            d.deserialize_bytes(V)
        }
    }
}

impl JsonSchema for ObjectId {
    fn schema_name() -> Cow<'static, str> {
        "ObjectId".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": "^[0-9a-fA-F]{24}$" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_both_ways() {
        let id: ObjectId = "65A1f0c2e4b0a1b2c3d4e5f6".parse().unwrap();
        assert_eq!(
            id.bytes(),
            [0x65, 0xa1, 0xf0, 0xc2, 0xe4, 0xb0, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6]
        );
        assert_eq!(id.to_string(), "65a1f0c2e4b0a1b2c3d4e5f6");
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"65a1f0c2e4b0a1b2c3d4e5f6\"");
        assert_eq!(serde_json::from_str::<ObjectId>(&json).unwrap(), id);
        assert_eq!(ObjectId::from_bytes(id.bytes()), id);
    }

    #[test]
    fn refuses_what_is_not_24_hex_digits() {
        for bad in [
            "\"65a1f0c2e4b0a1b2c3d4e5f\"",
            "\"65a1f0c2e4b0a1b2c3d4e5f6a\"",
            "\"65a1f0c2e4b0a1b2c3d4e5fg\"",
            "\"é5a1f0c2e4b0a1b2c3d4e5f\"",
            "12",
            "null",
        ] {
            assert!(serde_json::from_str::<ObjectId>(bad).is_err(), "{bad}");
        }
        let err = "xyz".parse::<ObjectId>().unwrap_err().to_string();
        assert_eq!(err, "`xyz` is not an ObjectId: expected 24 hex digits");
    }

    #[test]
    fn schema_is_a_string() {
        let schema = schemars::schema_for!(ObjectId).to_value();
        assert_eq!(schema["type"], "string");
    }
}
