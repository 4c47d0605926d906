//! The per-type compiled cache: each protocol type's JSON Schema and field orders, built once.
//!
//! Generating a schema and probing field orders take a while, and a server decodes the same
//! few types over and over, so [`compiled`] keeps them per type for the life of the process.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::order::FieldOrders;
use super::probe::probe_field_orders;

/// What the walk needs to check values of one type.
#[derive(Debug)]
pub(super) struct Compiled {
    /// The type's JSON Schema, as schemars writes it.
    pub(super) schema: Value,
    /// The declared field order of the structs inside the type.
    pub(super) orders: FieldOrders,
}

/// The schema and field orders of `T`, built once per type. Keyed by
/// `JsonSchema::schema_id`, which schemars makes unique per type (it includes
/// the module path and generic arguments) and which, unlike `TypeId`, needs no
/// `T: 'static`.
pub(super) fn compiled<T: DeserializeOwned + schemars::JsonSchema>() -> Arc<Compiled> {
    static CACHE: OnceLock<Mutex<HashMap<Cow<'static, str>, Arc<Compiled>>>> = OnceLock::new();
    fn lock<K, V>(m: &Mutex<HashMap<K, V>>) -> MutexGuard<'_, HashMap<K, V>> {
        m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
    let cache = CACHE.get_or_init(Default::default);
    let id = T::schema_id();
    if let Some(found) = lock(cache).get(&id) {
        return Arc::clone(found);
    }
    // Built outside the lock: generation may take a while, and two threads
    // racing here build equal values.
    let built = Arc::new(Compiled {
        schema: schemars::schema_for!(T).to_value(),
        orders: probe_field_orders::<T>(),
    });
    Arc::clone(lock(cache).entry(id).or_insert(built))
}
