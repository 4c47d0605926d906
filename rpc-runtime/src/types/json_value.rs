//! TypeScript's `any` / `unknown` / `object`: a JSON value whose objects keep JavaScript's key
//! order.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::JsMap;

/// Any JSON value, as a TypeScript `any`, `unknown` or `object` field holds it.
///
/// `serde_json::Value` sorts object keys (unless serde_json's `preserve_order` feature is on,
/// which this crate does not turn on: it would change every user's `Value`), so a value passed
/// through it would not come back as TSRPC sent it. Here objects are [`JsMap`]s: keys in the
/// order a JavaScript object has them, which is what `JSON.stringify` writes. Numbers are
/// JavaScript's doubles; an integral one is written without a fraction (`3`, not `3.0`).
///
/// ```
/// use rpc_runtime::types::JsonValue;
/// let v: JsonValue = serde_json::from_str(r#"{"window":{"to":"10:00","from":"09:55"},"n":[1,2.5]}"#)?;
/// assert_eq!(serde_json::to_string(&v)?, r#"{"window":{"to":"10:00","from":"09:55"},"n":[1,2.5]}"#);
/// assert_eq!(v["window"]["from"], JsonValue::from("09:55"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub enum JsonValue {
    /// `null`.
    #[default]
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number (a double, as in JavaScript).
    Number(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<JsonValue>),
    /// An object, keys in JavaScript's order.
    Object(JsMap<JsonValue>),
}

/// The largest integer a double holds exactly.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

static NULL: JsonValue = JsonValue::Null;

impl JsonValue {
    /// The value of `key` when this is an object.
    pub fn get(&self, key: &str) -> Option<&JsonValue> {
        match self {
            JsonValue::Object(map) => map.get(key),
            _ => None,
        }
    }

    /// Whether it is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, JsonValue::Null)
    }

    /// The string, when it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            JsonValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, when it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            JsonValue::Number(n) => Some(*n),
            _ => None,
        }
    }
}

impl std::ops::Index<&str> for JsonValue {
    type Output = JsonValue;
    /// The value of `key`, or `null` (for a missing key or a value that is not an object), as
    /// `serde_json::Value` does.
    fn index(&self, key: &str) -> &JsonValue {
        self.get(key).unwrap_or(&NULL)
    }
}

impl std::ops::Index<usize> for JsonValue {
    type Output = JsonValue;
    /// The element at `i`, or `null`.
    fn index(&self, i: usize) -> &JsonValue {
        match self {
            JsonValue::Array(items) => items.get(i).unwrap_or(&NULL),
            _ => &NULL,
        }
    }
}

impl From<&str> for JsonValue {
    fn from(s: &str) -> Self {
        JsonValue::String(s.to_owned())
    }
}

impl From<String> for JsonValue {
    fn from(s: String) -> Self {
        JsonValue::String(s)
    }
}

impl From<f64> for JsonValue {
    fn from(n: f64) -> Self {
        JsonValue::Number(n)
    }
}

impl From<bool> for JsonValue {
    fn from(b: bool) -> Self {
        JsonValue::Bool(b)
    }
}

impl From<serde_json::Value> for JsonValue {
    /// Objects keep `serde_json::Value`'s order (sorted, without `preserve_order`).
    fn from(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => JsonValue::Null,
            serde_json::Value::Bool(b) => JsonValue::Bool(b),
            serde_json::Value::Number(n) => JsonValue::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => JsonValue::String(s),
            serde_json::Value::Array(a) => {
                JsonValue::Array(a.into_iter().map(Into::into).collect())
            }
            serde_json::Value::Object(o) => {
                JsonValue::Object(o.into_iter().map(|(k, v)| (k, v.into())).collect())
            }
        }
    }
}

impl From<JsonValue> for serde_json::Value {
    fn from(v: JsonValue) -> Self {
        match v {
            JsonValue::Null => serde_json::Value::Null,
            JsonValue::Bool(b) => serde_json::Value::Bool(b),
            JsonValue::Number(n) => {
                number(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
            }
            JsonValue::String(s) => serde_json::Value::String(s),
            JsonValue::Array(a) => {
                serde_json::Value::Array(a.into_iter().map(Into::into).collect())
            }
            JsonValue::Object(o) => {
                serde_json::Value::Object(o.into_iter().map(|(k, v)| (k, v.into())).collect())
            }
        }
    }
}

/// A double as a serde_json number: integral ones as integers (JavaScript writes `3`).
fn number(n: f64) -> Option<serde_json::Number> {
    if n.fract() == 0.0 && n.abs() <= MAX_SAFE {
        Some(serde_json::Number::from(n as i64))
    } else {
        serde_json::Number::from_f64(n)
    }
}

impl Serialize for JsonValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            JsonValue::Null => s.serialize_unit(),
            JsonValue::Bool(b) => s.serialize_bool(*b),
            // `-0` is written `0`, as JSON.stringify writes it.
            JsonValue::Number(n) if n.fract() == 0.0 && n.abs() <= MAX_SAFE => {
                s.serialize_i64(*n as i64)
            }
            // NaN and the infinities are written `null`, as JSON.stringify writes them.
            JsonValue::Number(n) if !n.is_finite() => s.serialize_unit(),
            JsonValue::Number(n) => s.serialize_f64(*n),
            JsonValue::String(v) => s.serialize_str(v),
            JsonValue::Array(items) => items.serialize(s),
            JsonValue::Object(map) => map.serialize(s),
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = JsonValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<JsonValue, E> {
        Ok(JsonValue::Null)
    }

    fn visit_none<E>(self) -> Result<JsonValue, E> {
        Ok(JsonValue::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<JsonValue, D::Error> {
        JsonValue::deserialize(d)
    }

    fn visit_bool<E>(self, b: bool) -> Result<JsonValue, E> {
        Ok(JsonValue::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<JsonValue, E> {
        Ok(JsonValue::Number(n as f64))
    }

    fn visit_u64<E>(self, n: u64) -> Result<JsonValue, E> {
        Ok(JsonValue::Number(n as f64))
    }

    fn visit_f64<E>(self, n: f64) -> Result<JsonValue, E> {
        Ok(JsonValue::Number(n))
    }

    fn visit_str<E>(self, s: &str) -> Result<JsonValue, E> {
        Ok(JsonValue::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<JsonValue, E> {
        Ok(JsonValue::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(JsonValue::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<JsonValue, A::Error> {
        let mut map = JsMap::new();
        while let Some((k, v)) = access.next_entry::<String, JsonValue>()? {
            map.insert(k, v);
        }
        Ok(JsonValue::Object(map))
    }
}

impl<'de> Deserialize<'de> for JsonValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

impl JsonSchema for JsonValue {
    fn schema_name() -> Cow<'static, str> {
        "AnyValue".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        Schema::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_javascript_key_order_and_number_form() {
        for text in [
            r#"{"window":{"to":"10:00","from":"09:55"},"regions":["eu","na"]}"#,
            r#"[{"kind":"sticker","id":7},"plain",3.5,null,[1,[2]],true]"#,
            r#"{"theme":"dark","volume":0.8,"keys":["w","a","s","d"]}"#,
            r#"{"b":1,"2":2,"a":{"1":0}}"#,
            "-3",
            "1e+21",
        ] {
            let v: JsonValue = serde_json::from_str(text).unwrap();
            let back = crate::json::to_string(&v).unwrap();
            let expected = text.replace(r#"{"b":1,"2":2,"#, r#"{"2":2,"b":1,"#);
            assert_eq!(back, expected);
        }
        let v: JsonValue = serde_json::from_str("[1.0,-0,9007199254740993]").unwrap();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            "[1,0,9007199254740992.0]"
        );
        assert_eq!(
            crate::json::to_string(&v).unwrap(),
            "[1,0,9007199254740992]"
        );
    }

    #[test]
    fn converts_from_and_to_serde_json() {
        let v = JsonValue::from(serde_json::json!({"b": [1, 2.5], "a": null}));
        assert_eq!(v["a"], JsonValue::Null);
        assert_eq!(v["b"][1].as_f64(), Some(2.5));
        assert_eq!(v["zz"], JsonValue::Null);
        let back = serde_json::Value::from(v);
        assert_eq!(back, serde_json::json!({"a": null, "b": [1, 2.5]}));
    }
}
