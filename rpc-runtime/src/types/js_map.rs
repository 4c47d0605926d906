//! A string-keyed map that writes its keys in the order a JavaScript object enumerates them.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use rustc_hash::FxHashMap;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A TypeScript index signature (`{ [key: string]: T }`, also `{ [key: number]: T }`, whose
/// keys are strings in JSON): a map whose JSON has its keys in the order `JSON.stringify` gives
/// them for a JavaScript object. That order is: keys that are array indices (`"0"`, `"3"`,
/// `"12"`, below 2^32 - 1) in ascending numeric order, then every other key in insertion order.
/// A `HashMap` would shuffle them and a `BTreeMap` would put `"12"` before `"3"`.
///
/// Inserting an existing key replaces its value in place, as assigning a property does (and
/// as `JSON.parse` does with a repeated key). Equality ignores order.
///
/// ```
/// use rpc_runtime::types::JsMap;
/// let mut badges = JsMap::new();
/// badges.insert("welcome", 1);
/// badges.insert("12", 2);
/// badges.insert("3", 3);
/// assert_eq!(serde_json::to_string(&badges)?, r#"{"3":3,"12":2,"welcome":1}"#);
/// assert_eq!(badges.get("12"), Some(&2));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone)]
pub struct JsMap<V> {
    entries: Vec<(String, V)>,
    index: FxHashMap<String, usize>,
}

impl<V> Default for JsMap<V> {
    fn default() -> Self {
        JsMap {
            entries: Vec::new(),
            index: FxHashMap::default(),
        }
    }
}

impl<V> JsMap<V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key`.
    pub fn get<Q: ?Sized + AsRef<str>>(&self, key: &Q) -> Option<&V> {
        let i = *self.index.get(key.as_ref())?;
        Some(&self.entries[i].1)
    }

    /// The value of `key`, mutable.
    pub fn get_mut<Q: ?Sized + AsRef<str>>(&mut self, key: &Q) -> Option<&mut V> {
        let i = *self.index.get(key.as_ref())?;
        Some(&mut self.entries[i].1)
    }

    /// Whether `key` is present.
    pub fn contains_key<Q: ?Sized + AsRef<str>>(&self, key: &Q) -> bool {
        self.index.contains_key(key.as_ref())
    }

    /// Sets `key` to `value`: a new key goes last, an existing one keeps its place. Returns the
    /// value it replaced.
    pub fn insert(&mut self, key: impl Into<String>, value: V) -> Option<V> {
        let key = key.into();
        match self.index.get(&key) {
            Some(&i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push((key, value));
                None
            }
        }
    }

    /// Removes `key`, keeping the order of the others.
    pub fn remove<Q: ?Sized + AsRef<str>>(&mut self, key: &Q) -> Option<V> {
        let i = self.index.remove(key.as_ref())?;
        let (_, value) = self.entries.remove(i);
        for (_, at) in self.index.iter_mut() {
            if *at > i {
                *at -= 1;
            }
        }
        Some(value)
    }

    /// Entries in insertion order (not the JSON order: see [`JsMap::iter_js`]).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Entries in the order JavaScript enumerates them (what the JSON holds).
    pub fn iter_js(&self) -> impl Iterator<Item = (&str, &V)> {
        let mut indices: Vec<(u32, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, (k, _))| array_index(k).map(|n| (n, i)))
            .collect();
        indices.sort_unstable();
        let first = indices.into_iter().map(|(_, i)| i);
        let rest = (0..self.entries.len()).filter(|i| array_index(&self.entries[*i].0).is_none());
        first
            .chain(rest)
            .map(|i| (self.entries[i].0.as_str(), &self.entries[i].1))
    }

    /// Keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// Values in insertion order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }
}

/// `Some(n)` when `key` is a JavaScript array index: the canonical decimal text of an integer
/// from 0 to 2^32 - 2 (`"0"`, `"12"`; not `"012"`, `"-1"`, `"1.5"`, `"4294967295"`).
fn array_index(key: &str) -> Option<u32> {
    let b = key.as_bytes();
    if b.is_empty()
        || b.len() > 10
        || !b.iter().all(u8::is_ascii_digit)
        || (b[0] == b'0' && b.len() > 1)
    {
        return None;
    }
    key.parse::<u64>()
        .ok()
        .filter(|n| *n < u64::from(u32::MAX))
        .map(|n| n as u32)
}

impl<V: fmt::Debug> fmt::Debug for JsMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter_js()).finish()
    }
}

impl<V: PartialEq> PartialEq for JsMap<V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<V: Eq> Eq for JsMap<V> {}

impl<K: Into<String>, V> FromIterator<(K, V)> for JsMap<V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = JsMap::new();
        map.extend(iter);
        map
    }
}

impl<K: Into<String>, V> Extend<(K, V)> for JsMap<V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<V> IntoIterator for JsMap<V> {
    type Item = (String, V);
    type IntoIter = std::vec::IntoIter<(String, V)>;
    /// Entries in insertion order.
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<V, Q: ?Sized + AsRef<str>> std::ops::Index<&Q> for JsMap<V> {
    type Output = V;
    /// The value of `key`; panics when it is absent, as `HashMap`'s index does.
    fn index(&self, key: &Q) -> &V {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no key `{}` in the JsMap", key.as_ref()),
        }
    }
}

impl<V: Serialize> Serialize for JsMap<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter_js() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

struct JsMapVisitor<V>(PhantomData<V>);

impl<'de, V: Deserialize<'de>> Visitor<'de> for JsMapVisitor<V> {
    type Value = JsMap<V>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<JsMap<V>, A::Error> {
        let mut map = JsMap::new();
        while let Some((k, v)) = access.next_entry::<String, V>()? {
            map.insert(k, v);
        }
        Ok(map)
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for JsMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(JsMapVisitor(PhantomData))
    }
}

impl<V: JsonSchema> JsonSchema for JsMap<V> {
    fn schema_name() -> Cow<'static, str> {
        format!("JsMap_of_{}", V::schema_name()).into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "additionalProperties": generator.subschema_for::<V>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_indices_first_then_insertion_order() {
        let map: JsMap<u8> = serde_json::from_str(
            r#"{"welcome":1,"12":2,"spring-24":3,"3":4,"012":5,"-1":6,"4294967295":7,"4294967294":8}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&map).unwrap(),
            r#"{"3":4,"12":2,"4294967294":8,"welcome":1,"spring-24":3,"012":5,"-1":6,"4294967295":7}"#
        );
        let keys: Vec<&str> = map.keys().collect();
        assert_eq!(keys[..3], ["welcome", "12", "spring-24"]);
    }

    #[test]
    fn insert_replaces_in_place_and_remove_keeps_order() {
        let mut map: JsMap<i32> = serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"a":3,"b":2}"#);
        assert_eq!(map.insert("c", 4), None);
        assert_eq!(map.insert("a", 5), Some(3));
        assert_eq!(map.remove("b"), Some(2));
        assert_eq!(map.remove("zz"), None);
        assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"a":5,"c":4}"#);
        assert_eq!(map["c"], 4);
        assert!(map.contains_key("a") && !map.contains_key("b"));
        *map.get_mut("a").unwrap() += 1;
        assert_eq!(map.get("a"), Some(&6));
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn equality_ignores_order() {
        let a: JsMap<u8> = [("x", 1), ("y", 2)].into_iter().collect();
        let b: JsMap<u8> = [("y", 2), ("x", 1)].into_iter().collect();
        let c: JsMap<u8> = [("y", 2), ("x", 3)].into_iter().collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(format!("{a:?}"), r#"{"x": 1, "y": 2}"#);
    }

    #[test]
    fn schema_is_an_object_of_values() {
        let schema = schemars::schema_for!(JsMap<u32>).to_value();
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["additionalProperties"]["type"], "integer");
        assert!(serde_json::from_str::<JsMap<u32>>("[1]").is_err());
    }
}
