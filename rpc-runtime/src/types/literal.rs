//! Literal types (`2`, `true`) and the `x?: T | null` field helper.

use std::borrow::Cow;
use std::fmt;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// The TypeScript literal type `N` (an integer): writes `N`, reads only `N` (also written
/// `N.0`, which JavaScript does not tell apart). A tag such as `type: RewardType.Gold` (the
/// proto says `{"type":"Literal","literal":1}`) is `LitInt<1>`.
///
/// ```
/// use rpc_runtime::types::LitInt;
/// assert_eq!(serde_json::to_string(&LitInt::<2>)?, "2");
/// assert!(serde_json::from_str::<LitInt<2>>("3").is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct LitInt<const N: i64>;

/// The TypeScript literal type `true` or `false`: writes it, reads only it.
///
/// ```
/// use rpc_runtime::types::LitBool;
/// assert_eq!(serde_json::to_string(&LitBool::<false>)?, "false");
/// assert!(serde_json::from_str::<LitBool<false>>("true").is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct LitBool<const B: bool>;

impl<const N: i64> fmt::Debug for LitInt<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LitInt<{N}>")
    }
}

impl<const B: bool> fmt::Debug for LitBool<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LitBool<{B}>")
    }
}

impl<const N: i64> Serialize for LitInt<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(N)
    }
}

impl<const B: bool> Serialize for LitBool<B> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(B)
    }
}

struct LitIntVisitor<const N: i64>;

impl<const N: i64> de::Visitor<'_> for LitIntVisitor<N> {
    type Value = LitInt<N>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the number {N}")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<LitInt<N>, E> {
        if v == N {
            Ok(LitInt)
        } else {
            Err(E::invalid_value(de::Unexpected::Signed(v), &self))
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<LitInt<N>, E> {
        if i64::try_from(v) == Ok(N) {
            Ok(LitInt)
        } else {
            Err(E::invalid_value(de::Unexpected::Unsigned(v), &self))
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<LitInt<N>, E> {
        if v == N as f64 {
            Ok(LitInt)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }
}

impl<'de, const N: i64> Deserialize<'de> for LitInt<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LitIntVisitor::<N>)
    }
}

impl<'de, const B: bool> Deserialize<'de> for LitBool<B> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if bool::deserialize(d)? == B {
            Ok(LitBool)
        } else {
            Err(de::Error::custom(format!("expected the literal `{B}`")))
        }
    }
}

impl<const N: i64> JsonSchema for LitInt<N> {
    fn schema_name() -> Cow<'static, str> {
        format!("LitInt_{N}").into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "const": N })
    }
}

impl<const B: bool> JsonSchema for LitBool<B> {
    fn schema_name() -> Cow<'static, str> {
        format!("LitBool_{B}").into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "const": B })
    }
}

/// For a field that may be absent, `null` or a value (`x?: T | null`): a
/// `deserialize_with` that tells `null` (`Some(None)`) from absent (`None`, with
/// `#[serde(default)]`). Writing needs no helper: `Some(None)` is written `null` and `None` is
/// left out by `skip_serializing_if = "Option::is_none"`.
///
/// ```
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Patch {
///     #[serde(default, skip_serializing_if = "Option::is_none",
///             deserialize_with = "rpc_runtime::types::nullable")]
///     bio: Option<Option<String>>,
/// }
/// let p: Patch = serde_json::from_str(r#"{"bio":null}"#)?;
/// assert_eq!(p.bio, Some(None));
/// assert_eq!(serde_json::to_string(&p)?, r#"{"bio":null}"#);
/// let p: Patch = serde_json::from_str("{}")?;
/// assert_eq!(p.bio, None);
/// assert_eq!(serde_json::to_string(&p)?, "{}");
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_literal() {
        assert_eq!(serde_json::to_string(&LitInt::<-3>).unwrap(), "-3");
        assert!(serde_json::from_str::<LitInt<2>>("2").is_ok());
        assert!(serde_json::from_str::<LitInt<2>>("2.0").is_ok());
        assert!(serde_json::from_str::<LitInt<-3>>("-3").is_ok());
        for bad in ["3", "2.5", "\"2\"", "null", "true"] {
            assert!(serde_json::from_str::<LitInt<2>>(bad).is_err(), "{bad}");
        }
        assert_eq!(format!("{:?}", LitInt::<7>), "LitInt<7>");
        assert_eq!(schemars::schema_for!(LitInt<7>).to_value()["const"], 7);
    }

    #[test]
    fn bool_literal() {
        assert_eq!(serde_json::to_string(&LitBool::<true>).unwrap(), "true");
        assert!(serde_json::from_str::<LitBool<true>>("true").is_ok());
        assert!(serde_json::from_str::<LitBool<true>>("false").is_err());
        assert!(serde_json::from_str::<LitBool<true>>("1").is_err());
        assert_eq!(
            schemars::schema_for!(LitBool<false>).to_value()["const"],
            false
        );
    }
}
