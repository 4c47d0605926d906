//! The order in which an object's properties are checked, so that the first failing property
//! is the one TSRPC would name.
//!
//! tsbuffer checks an interface's properties in declaration order and reports the first error.
//! Without serde_json's `preserve_order` feature a schema's `properties` are sorted by name, so
//! the order comes from, best first: the declared order learned by [`super::probe`] for a struct
//! with this set of property names ([`FieldOrders`]); the schema's own order when serde_json
//! preserves it; else a fallback (always for [`super::explain`], which has no type to probe):
//! properties holding a `const` (enum tags) first, then the `required` ones in the order of the
//! `required` array (schemars keeps declaration order there), then the optional ones by name.
//! Required names the schema gives no property for come last.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// Declared field order of structs, keyed by their sorted field names (so that a schema's
/// `properties`, sorted by name, find their struct).
#[derive(Debug, Default)]
pub(super) struct FieldOrders(HashMap<String, &'static [&'static str]>);

impl FieldOrders {
    /// Records the fields of one struct, in declaration order. The first struct seen with a
    /// given set of names wins.
    pub(super) fn record(&mut self, fields: &'static [&'static str]) {
        if fields.is_empty() {
            return;
        }
        self.0.entry(key(fields.to_vec())).or_insert(fields);
    }

    /// The declared order of the struct whose field names are `names` (in any order).
    fn declared(&self, names: &[&str]) -> Option<&'static [&'static str]> {
        self.0.get(&key(names.to_vec())).copied()
    }
}

/// The key of a set of field names: sorted, joined with NUL.
fn key(mut names: Vec<&str>) -> String {
    names.sort_unstable();
    names.join("\0")
}

/// The order in which the properties of an object schema (`props`, plus `required` names
/// without a schema) are checked; see the module docs. `holds_const` tells whether a property's
/// schema is a `const` (asked only in the fallback).
pub(super) fn property_order<'s>(
    orders: Option<&FieldOrders>,
    props: Option<&'s Map<String, Value>>,
    required: &'s [Value],
    holds_const: impl Fn(&'s Value) -> bool,
) -> Vec<&'s str> {
    let names: Vec<&'s str> = props
        .into_iter()
        .flat_map(|p| p.keys().map(String::as_str))
        .collect();
    let required = required.iter().filter_map(Value::as_str);
    let mut order: Vec<&'s str> = Vec::with_capacity(names.len());
    let learned = orders.and_then(|orders| orders.declared(&names));
    if let Some(learned) = learned {
        // The same set of names as `props` has, in declaration order.
        order.extend(learned.iter().filter_map(|l| {
            props
                .and_then(|p| p.get_key_value(*l))
                .map(|(k, _)| k.as_str())
        }));
    } else if map_preserves_order() {
        order.extend(&names);
    } else {
        let is_const = |name: &&'s str| props.and_then(|p| p.get(*name)).is_some_and(&holds_const);
        order.extend(names.iter().copied().filter(is_const));
        for name in required.clone().chain(names.iter().copied()) {
            if !order.contains(&name) {
                order.push(name);
            }
        }
    }
    // Required names the schema gives no property for.
    for name in required {
        if !order.contains(&name) {
            order.push(name);
        }
    }
    order
}

/// Whether serde_json's `Map` keeps insertion order (feature `preserve_order`).
fn map_preserves_order() -> bool {
    static PRESERVES: OnceLock<bool> = OnceLock::new();
    *PRESERVES.get_or_init(|| {
        let mut m = Map::new();
        m.insert("b".to_owned(), Value::Null);
        m.insert("a".to_owned(), Value::Null);
        m.keys().next().is_some_and(|k| k == "b")
    })
}
