//! Explains why a JSON request body does not fit its protocol type, in the words
//! of tsbuffer-validator 2.1.3 (the validator TSRPC 3.4 servers use).
//!
//! Rust protocol types derive `serde::Deserialize` and `schemars::JsonSchema`.
//! [`decode`] refuses what serde's derived impls accept but the validator does
//! not (an array for a struct, an object for a unit variant: see
//! [`crate::json::from_str_strict`]). When `serde_json` rejects a body, [`decode`] walks the type's JSON Schema
//! (draft 2020-12, as schemars 1.x writes it) over the parsed value and reports
//! the first mismatch the way tsbuffer-validator would, e.g.
//! ``Property `user.id`: Expected type to be `number`, actually `string`.``.
//!
//! How schemars' JSON Schema maps onto tsbuffer's types:
//!
//! * `"string"`, `"boolean"`, `"number"` → `string`, `boolean`, `number`;
//!   `"integer"` → tsbuffer's `uint` when the schema's `format` starts with
//!   `uint` or its `minimum` is at least 0, else `int`. A non-integral number
//!   and a value outside the Rust width (`300` for `u8`) are reported as
//!   ``"`300` is not a valid `uint`."``, the number printed as JavaScript's
//!   `Number#toString` prints it. An integral float (`1.0`, `1e2`, `-0`) is
//!   that integer, as in JavaScript (serde alone refuses it).
//! * `"array"` with `items` → `T[]`; `prefixItems` → a tuple (too long:
//!   `Value has 3 elements but schema allows only 2.`, too short:
//!   ``Missing required property `1`.``). Fixed-size arrays (`minItems` /
//!   `maxItems`) use the same two messages.
//! * `"object"` with `properties` → an interface; `additionalProperties` as a
//!   schema → an index signature; `patternProperties` with a digits pattern
//!   (schemars' form for integer-keyed maps) → a `number` index signature.
//!   Unknown properties are accepted (TSRPC prunes them), except where the
//!   schema says `"additionalProperties": false` (serde's
//!   `deny_unknown_fields`): then ``Excess property `x` should not exists.``.
//! * `const`, a one-member `enum` and `"type": "null"` → a literal type;
//!   `enum`, `anyOf` and `oneOf` → a union, reported with tsbuffer's own union
//!   rules (e.g. ``"`'zzz'` is not matched to `'a' | 'b'`"`` for a unit enum,
//!   or for a tagged enum whose tag matches no member
//!   ``No union member matched, detail:\n  <0> Property `type`: Expected to
//!   equals `'A'`, actually `'Z'`\n  <1> ...``); `allOf` → an intersection.
//! * `Option<T>` (`"type": [T, "null"]` or `anyOf: [T, {"type": "null"}]`) is
//!   validated as TypeScript's optional `x?: T`: the null member is dropped, so
//!   errors name `T` alone.
//! * Like tsbuffer without `strictNullChecks`, a `null` property counts as a
//!   missing one: ``Missing required property `b`.`` when it is required.
//!
//! Property order: tsbuffer checks an interface's properties in declaration
//! order and reports the first error. Without serde_json's `preserve_order`
//! feature the schema's `properties` are sorted by name, so [`decode`] learns
//! each struct's declared field order once per type by driving `T`'s
//! `Deserialize` impl with a recording deserializer (serde hands every
//! `deserialize_struct` call the field names in declaration order), and looks
//! it up by the set of property names. Where that fails (structs reached only
//! through `#[serde(flatten)]`, internally tagged or untagged enums, custom
//! impls, and always for [`explain`], which has no type) the order is:
//! properties holding a `const` (enum tags) first, then the `required` ones in
//! the order of the `required` array (schemars keeps declaration order there),
//! then the optional ones by name. With `preserve_order` enabled the schema's
//! own order is used instead.
//!
//! Limits: the walk never nests deeper than 128 values (serde_json's own
//! recursion limit) or 384 calls, and stops after a million steps; past those
//! [`explain`] answers with a generic message and [`decode`] falls back to
//! serde's error text. A union's very long "No union member matched" text is
//! cut at 64 KiB. Keys of one object are visited in JavaScript's order for
//! index-like keys (ascending, first), but the rest follow the parsed map
//! (by name without `preserve_order`), not the sender's order, which only
//! matters when several keys of one map or excess keys are wrong.

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde_json::{Map, Number, Value};

/// Deepest value nesting [`explain`] walks into (serde_json's own limit).
const MAX_VALUE_DEPTH: usize = 128;
/// Deepest call nesting of the walk (values plus union indirections).
const MAX_CALL_DEPTH: usize = 3 * MAX_VALUE_DEPTH;
/// Work budget of one walk (guards against unions re-walking big subtrees).
const MAX_STEPS: usize = 1_000_000;
/// Most `$ref` hops followed in a row.
const MAX_REF_HOPS: usize = 32;
/// Most schemas looked at to tell whether one accepts null.
const MAX_NULL_PROBES: usize = 256;
/// Longest "No union member matched" detail text kept.
const MAX_DETAIL_LEN: usize = 64 * 1024;
/// The answer of [`explain`] when a limit above is hit.
const TOO_COMPLEX: &str = "Value is too deeply nested or too complex to validate.";

static NULL: Value = Value::Null;
static ANY: Value = Value::Bool(true);

/// Explains why `value` does not match `schema` (a schemars JSON Schema as
/// JSON), in tsbuffer-validator's words; None when it matches.
///
/// Properties are checked in the fallback order described in the module docs.
#[allow(dead_code)] // API for callers holding a schema; `decode` uses the walk directly.
pub(crate) fn explain(schema: &Value, value: &Value) -> Option<String> {
    match Checker::new(schema, None).run(value) {
        Outcome::Match => None,
        Outcome::Mismatch(msg) => Some(msg),
        Outcome::Aborted => Some(TOO_COMPLEX.to_owned()),
    }
}

/// Decodes `json` into T; on failure returns the TSRPC-style message (never
/// panics, any input).
///
/// The usual case costs one strict serde pass ([`crate::json::from_str_strict`]: no array for a
/// struct, no object for a unit variant). Only a type whose decode went through serde's
/// buffered paths (tagged or untagged enums, custom `deserialize_any`) is also checked against
/// its schema after a success, since those paths accept arrays for structs unseen.
pub(crate) fn decode<T: DeserializeOwned + schemars::JsonSchema>(json: &str) -> Result<T, String> {
    let serde_error = match crate::json::from_str_strict::<T>(json) {
        (Ok(decoded), false) => return Ok(decoded),
        (Ok(decoded), true) => return recheck::<T>(json, decoded),
        (Err(e), _) => e,
    };
    let value: Value = match serde_json::from_str(json) {
        Ok(value) => value,
        Err(e) => return Err(format!("Input is not a valid JSON string: {e}")),
    };
    let compiled = compiled::<T>();
    match Checker::new(&compiled.schema, Some(&compiled.orders)).run(&value) {
        Outcome::Mismatch(msg) => Err(msg),
        // The value fits: serde refused the text for something JSON.parse allows, such as a
        // duplicate key (the parsed value kept the last one, as JavaScript does).
        // Or an integer written as a float (`1.0`), which JavaScript does not tell apart.
        Outcome::Match => {
            let mut value = value;
            integral_floats_as_integers(&mut value);
            serde_json::from_value(value).map_err(|_| serde_error.to_string())
        }
        Outcome::Aborted => Err(serde_error.to_string()),
    }
}

/// A value serde decoded through a path that takes arrays for structs: kept only when the
/// validator accepts the text too. A walk that hits its limits keeps serde's answer.
fn recheck<T: DeserializeOwned + schemars::JsonSchema>(
    json: &str,
    decoded: T,
) -> Result<T, String> {
    // serde parsed the text already, so it is JSON.
    let Ok(value) = serde_json::from_str::<Value>(json) else {
        return Ok(decoded);
    };
    let compiled = compiled::<T>();
    match Checker::new(&compiled.schema, Some(&compiled.orders)).run(&value) {
        Outcome::Mismatch(msg) => Err(msg),
        Outcome::Match | Outcome::Aborted => Ok(decoded),
    }
}

// ---------------------------------------------------------------------------
// Per-type cache
// ---------------------------------------------------------------------------

/// Declared field order of structs, keyed by their sorted field names joined
/// with NUL.
type FieldOrders = HashMap<String, &'static [&'static str]>;

#[derive(Debug)]
struct Compiled {
    schema: Value,
    orders: FieldOrders,
}

/// The schema and field orders of `T`, built once per type. Keyed by
/// `JsonSchema::schema_id`, which schemars makes unique per type (it includes
/// the module path and generic arguments) and which, unlike `TypeId`, needs no
/// `T: 'static`.
fn compiled<T: DeserializeOwned + schemars::JsonSchema>() -> Arc<Compiled> {
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

// ---------------------------------------------------------------------------
// Errors in tsbuffer's grammar
// ---------------------------------------------------------------------------

/// One tsbuffer `ValidateResultError`: the innermost error and the property
/// path to it.
#[derive(Debug)]
struct VErr<'s, 'v> {
    kind: Kind<'s, 'v>,
    /// Property path, innermost first (tsbuffer unshifts; we push).
    path: Vec<String>,
    /// The rendered message without the path prefix.
    body: OnceCell<String>,
}

#[derive(Debug)]
enum Kind<'s, 'v> {
    /// ``Expected type to be `{expect}`, actually `{actual}`.``
    Type {
        expect: Cow<'static, str>,
        actual: &'static str,
    },
    /// ``"`{value}` is not a valid `{scalar}`."``
    Scalar {
        value: &'v Number,
        scalar: &'static str,
    },
    /// `Value has {len} elements but schema allows only {max}.`
    TupleOverLength { len: usize, max: u64 },
    /// ``Expected to equals `{expected}`, actually `{actual}` ``
    Literal {
        expected: &'s Value,
        actual: &'v Value,
    },
    /// ``Missing required property `{0}`.``
    Missing(String),
    /// ``Excess property `{0}` should not exists.``
    Excess(String),
    /// ``"`{0}` is not a valid key, the key here should be a `number`."``
    NumberKey(String),
    /// ``"`{value}` is not matched to `{types}`"``
    UnionTypes {
        value: &'v Value,
        types: Vec<String>,
    },
    /// `No union member matched, detail:\n  <0> ...`
    UnionMembers(Vec<VErr<'s, 'v>>),
}

impl<'s, 'v> VErr<'s, 'v> {
    fn new(kind: Kind<'s, 'v>) -> Self {
        VErr {
            kind,
            path: Vec::new(),
            body: OnceCell::new(),
        }
    }

    /// tsbuffer's `errMsg`.
    fn message(&self) -> String {
        let body = self.body();
        if self.path.is_empty() {
            return body.to_owned();
        }
        let mut out = String::from("Property `");
        for (i, p) in self.path.iter().rev().enumerate() {
            if i > 0 {
                out.push('.');
            }
            out.push_str(p);
        }
        out.push_str("`: ");
        out.push_str(body);
        out
    }

    fn body(&self) -> &str {
        self.body.get_or_init(|| match &self.kind {
            Kind::Type { expect, actual } => {
                format!("Expected type to be `{expect}`, actually `{actual}`.")
            }
            Kind::Scalar { value, scalar } => {
                format!("`{}` is not a valid `{scalar}`.", js_number(value))
            }
            Kind::TupleOverLength { len, max } => {
                format!("Value has {len} elements but schema allows only {max}.")
            }
            Kind::Literal { expected, actual } => format!(
                "Expected to equals `{}`, actually `{}`",
                stringify(expected),
                stringify(actual)
            ),
            Kind::Missing(name) => format!("Missing required property `{name}`."),
            Kind::Excess(name) => format!("Excess property `{name}` should not exists."),
            Kind::NumberKey(key) => {
                format!("`{key}` is not a valid key, the key here should be a `number`.")
            }
            Kind::UnionTypes { value, types } => {
                format!(
                    "`{}` is not matched to `{}`",
                    stringify(value),
                    types.join(" | ")
                )
            }
            Kind::UnionMembers(members) => {
                let mut out = String::from("No union member matched, detail:");
                for (i, m) in members.iter().enumerate() {
                    let line = format!("\n  <{i}> {}", m.message());
                    if out.len() + line.len() > MAX_DETAIL_LEN {
                        let mut cut = MAX_DETAIL_LEN.saturating_sub(out.len());
                        while !line.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        out.push_str(&line[..cut]);
                        out.push_str("...");
                        break;
                    }
                    out.push_str(&line);
                }
                out
            }
        })
    }
}

/// tsbuffer's `_getTypeof`.
fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

/// tsbuffer's `stringify`: `JSON.stringify`, with strings in single quotes.
fn stringify(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let json = serde_json::to_string(s).unwrap_or_default();
            let inner = json
                .strip_prefix('"')
                .and_then(|j| j.strip_suffix('"'))
                .unwrap_or(&json);
            format!("'{inner}'")
        }
        _ => {
            let mut out = String::new();
            json_stringify(v, &mut out, 0);
            out
        }
    }
}

/// JavaScript's `JSON.stringify` (numbers as JS prints them, keys in JS
/// property order); values nested past the walk's limit are elided.
fn json_stringify(v: &Value, out: &mut String, depth: usize) {
    if depth > MAX_VALUE_DEPTH {
        out.push_str("...");
        return;
    }
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&js_number(n)),
        Value::String(s) => out.push_str(&serde_json::to_string(s).unwrap_or_default()),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_stringify(item, out, depth + 1);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, key) in js_keys(map).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).unwrap_or_default());
                out.push(':');
                json_stringify(&map[key], out, depth + 1);
            }
            out.push('}');
        }
    }
}

/// A JSON number as JavaScript's `Number#toString` prints it. Integers that
/// serde_json holds exactly are printed exactly.
fn js_number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    js_f64(n.as_f64().unwrap_or(f64::NAN))
}

/// JavaScript's `Number.prototype.toString()` for an f64.
fn js_f64(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if x == 0.0 {
        return "0".to_owned();
    }
    // Rust prints the shortest round-tripping digits, like JS does.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exp: i64 = exp.parse().unwrap_or(0);
    let k = digits.len() as i64;
    let n = exp + 1;
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let e = n - 1;
        out.push('e');
        out.push(if e >= 0 { '+' } else { '-' });
        out.push_str(&e.abs().to_string());
    }
    out
}

/// An object's keys in JavaScript's `for...in` order: array-index keys
/// ascending first, then the rest in the map's order.
fn js_keys(map: &Map<String, Value>) -> Vec<&String> {
    let mut indices: Vec<(u32, &String)> = Vec::new();
    let mut others = Vec::new();
    for key in map.keys() {
        match array_index(key) {
            Some(i) => indices.push((i, key)),
            None => others.push(key),
        }
    }
    indices.sort_unstable_by_key(|(i, _)| *i);
    indices.into_iter().map(|(_, k)| k).chain(others).collect()
}

/// `key` as a JavaScript array index (canonical decimal below 2^32 - 1).
fn array_index(key: &str) -> Option<u32> {
    if key.is_empty() || (key.len() > 1 && key.starts_with('0')) {
        return None;
    }
    if !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse::<u32>().ok().filter(|&i| i != u32::MAX)
}

/// JavaScript `===` on JSON values (numbers compared as doubles).
fn js_equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        _ => a == b,
    }
}

// ---------------------------------------------------------------------------
// The walk
// ---------------------------------------------------------------------------

enum Outcome {
    Match,
    Mismatch(String),
    Aborted,
}

enum Fail<'s, 'v> {
    /// Boxed to keep `Res` small: it is passed up through every frame.
    Mismatch(Box<VErr<'s, 'v>>),
    Abort,
}

type Res<'s, 'v> = Result<(), Fail<'s, 'v>>;

fn fail<'s, 'v>(kind: Kind<'s, 'v>) -> Res<'s, 'v> {
    Err(Fail::Mismatch(Box::new(VErr::new(kind))))
}

/// Adds `property` to the path of a mismatch (tsbuffer's `innerError`).
fn under<'s, 'v>(res: Res<'s, 'v>, property: impl FnOnce() -> String) -> Res<'s, 'v> {
    res.map_err(|f| match f {
        Fail::Mismatch(mut e) => {
            e.path.push(property());
            Fail::Mismatch(e)
        }
        Fail::Abort => Fail::Abort,
    })
}

/// Call and value nesting of the walk.
#[derive(Clone, Copy)]
struct Depth {
    calls: usize,
    values: usize,
}

impl Depth {
    fn call(self) -> Self {
        Depth {
            calls: self.calls + 1,
            ..self
        }
    }

    fn value(self) -> Self {
        Depth {
            calls: self.calls + 1,
            values: self.values + 1,
        }
    }
}

struct Checker<'s> {
    root: &'s Value,
    orders: Option<&'s FieldOrders>,
    steps: usize,
    /// Property order per object schema (keyed by its address).
    order_cache: HashMap<usize, Rc<[&'s str]>>,
}

impl<'s> Checker<'s> {
    fn new(root: &'s Value, orders: Option<&'s FieldOrders>) -> Self {
        Checker {
            root,
            orders,
            steps: 0,
            order_cache: HashMap::new(),
        }
    }

    fn run(mut self, value: &Value) -> Outcome {
        let start = Depth {
            calls: 0,
            values: 0,
        };
        match self.check(self.root, value, start, &[]) {
            Ok(()) => Outcome::Match,
            Err(Fail::Mismatch(e)) => Outcome::Mismatch(e.message()),
            Err(Fail::Abort) => Outcome::Aborted,
        }
    }

    /// Follows `$ref`s; None for a reference that leads nowhere.
    fn resolve(&self, mut schema: &'s Value) -> Option<&'s Value> {
        for _ in 0..MAX_REF_HOPS {
            let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
                return Some(schema);
            };
            schema = self.lookup(reference)?;
        }
        None
    }

    fn lookup(&self, reference: &str) -> Option<&'s Value> {
        let pointer = reference.strip_prefix('#')?;
        let pointer = percent_decode(pointer);
        self.root.pointer(&pointer)
    }

    /// Whether null is a valid value of `schema` (tsbuffer's `_canBeNull`).
    fn accepts_null(&self, schema: &'s Value) -> bool {
        let mut budget = MAX_NULL_PROBES;
        self.accepts_null_within(schema, &mut budget)
    }

    /// [`Self::accepts_null`] that gives up (false) after `budget` schemas,
    /// so self-referencing unions end quickly.
    fn accepts_null_within(&self, schema: &'s Value, budget: &mut usize) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        let Some(schema) = self.resolve(schema) else {
            return true;
        };
        let obj = match schema {
            Value::Object(obj) => obj,
            Value::Bool(b) => return *b,
            _ => return true,
        };
        if let Some(c) = obj.get("const") {
            return c.is_null();
        }
        if let Some(Value::Array(list)) = obj.get("enum") {
            return list.iter().any(Value::is_null);
        }
        match obj.get("type") {
            Some(Value::String(t)) if t != "null" => return false,
            Some(Value::Array(ts)) if !ts.iter().any(|t| t == "null") => return false,
            Some(_) => {}
            None => {
                let shaped = ["properties", "required", "additionalProperties", "items"]
                    .iter()
                    .chain(&["prefixItems", "patternProperties"])
                    .any(|k| obj.contains_key(*k));
                if shaped {
                    return false;
                }
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(members)) = obj.get(key) {
                if !members.iter().any(|m| self.accepts_null_within(m, budget)) {
                    return false;
                }
            }
        }
        if let Some(Value::Array(members)) = obj.get("allOf") {
            if !members.iter().all(|m| self.accepts_null_within(m, budget)) {
                return false;
            }
        }
        true
    }

    /// Whether `schema` is only the `null` of an `Option` (dropped from unions
    /// when the value is not null).
    fn is_null_only(&self, schema: &'s Value) -> bool {
        let Some(Value::Object(obj)) = self.resolve(schema) else {
            return false;
        };
        match (obj.get("type"), obj.get("const"), obj.get("enum")) {
            (_, Some(c), _) => c.is_null(),
            (_, None, Some(Value::Array(list))) => list.iter().all(Value::is_null),
            (Some(Value::String(t)), None, None) => t == "null",
            _ => false,
        }
    }

    fn check<'v>(
        &mut self,
        schema: &'s Value,
        v: &'v Value,
        depth: Depth,
        union_props: &[&'s str],
    ) -> Res<'s, 'v> {
        self.steps += 1;
        if self.steps > MAX_STEPS || depth.calls > MAX_CALL_DEPTH || depth.values > MAX_VALUE_DEPTH
        {
            return Err(Fail::Abort);
        }
        // A reference that leads nowhere says nothing: accept.
        let Some(schema) = self.resolve(schema) else {
            return Ok(());
        };
        let obj = match schema {
            Value::Object(obj) => obj,
            Value::Bool(false) => return never(v),
            _ => return Ok(()),
        };
        if v.is_null() && self.accepts_null(schema) {
            return Ok(());
        }
        if let Some(expected) = obj.get("const") {
            return literal(expected, v);
        }
        if let Some(Value::Array(list)) = obj.get("enum") {
            return check_enum(list, v);
        }
        if let Some(Value::Array(members)) = obj.get("allOf") {
            for member in members {
                self.check(member, v, depth.call(), union_props)?;
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(members)) = obj.get(key) {
                // `Option<T>` is checked as `T` (TypeScript's `x?: T`).
                match self.sole_non_null(members) {
                    Some(only) => self.check(only, v, depth.call(), &[])?,
                    None => self.check_union(members, v, depth)?,
                }
            }
        }
        match obj.get("type") {
            Some(Value::String(t)) => self.check_type(t, obj, v, depth, union_props),
            Some(Value::Array(types)) => self.check_types(types, obj, v, depth, union_props),
            _ if has_any(obj, &["properties", "required", "additionalProperties"])
                || has_any(obj, &["patternProperties"]) =>
            {
                self.check_object(obj, v, depth, union_props)
            }
            _ if has_any(obj, &["items", "prefixItems"]) => self.check_array(obj, v, depth),
            _ => Ok(()),
        }
    }

    /// The one member of a union that is not just `null`, if there is one.
    fn sole_non_null(&self, members: &'s [Value]) -> Option<&'s Value> {
        let mut rest = members.iter().filter(|m| !self.is_null_only(m));
        match (rest.next(), rest.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    }

    /// `anyOf` / `oneOf`: tsbuffer's union (the first matching member wins).
    #[inline(never)]
    fn check_union<'v>(&mut self, all: &'s [Value], v: &'v Value, depth: Depth) -> Res<'s, 'v> {
        let mut members: Vec<&'s Value> = all.iter().filter(|m| !self.is_null_only(m)).collect();
        if members.is_empty() {
            members = all.iter().collect();
        }
        // Properties of any member are not excess in another (tsbuffer's
        // `unionProperties`).
        let mut union_props: Vec<&'s str> = Vec::new();
        for member in &members {
            let props = self.resolve(member).and_then(|m| m.get("properties"));
            if let Some(Value::Object(props)) = props {
                union_props.extend(props.keys().map(String::as_str));
            }
        }
        let mut errors = Vec::with_capacity(members.len());
        for member in members {
            match self.check(member, v, depth.call(), &union_props) {
                Ok(()) => return Ok(()),
                Err(Fail::Mismatch(e)) => errors.push(*e),
                Err(Fail::Abort) => return Err(Fail::Abort),
            }
        }
        Err(Fail::Mismatch(Box::new(union_error(v, errors))))
    }

    /// `"type": [...]`: a union of the types (`null` dropped, as for `Option`).
    #[inline(never)]
    fn check_types<'v>(
        &mut self,
        types: &'s [Value],
        obj: &'s Map<String, Value>,
        v: &'v Value,
        depth: Depth,
        union_props: &[&'s str],
    ) -> Res<'s, 'v> {
        let mut types: Vec<&'s str> = types.iter().filter_map(Value::as_str).collect();
        if types.len() > 1 {
            types.retain(|t| *t != "null");
        }
        if let [only] = types.as_slice() {
            return self.check_type(only, obj, v, depth, union_props);
        }
        let mut errors = Vec::with_capacity(types.len());
        for t in types {
            match self.check_type(t, obj, v, depth, union_props) {
                Ok(()) => return Ok(()),
                Err(Fail::Mismatch(e)) => errors.push(*e),
                Err(Fail::Abort) => return Err(Fail::Abort),
            }
        }
        if errors.is_empty() {
            return Ok(());
        }
        Err(Fail::Mismatch(Box::new(union_error(v, errors))))
    }

    fn check_type<'v>(
        &mut self,
        ty: &str,
        obj: &'s Map<String, Value>,
        v: &'v Value,
        depth: Depth,
        union_props: &[&'s str],
    ) -> Res<'s, 'v> {
        let (expect, ok) = match ty {
            "string" => ("string", v.is_string()),
            "boolean" => ("boolean", v.is_boolean()),
            "number" => ("number", v.is_number()),
            "integer" => return check_integer(obj, v),
            "null" => return literal(&NULL, v),
            "array" => return self.check_array(obj, v, depth),
            "object" => return self.check_object(obj, v, depth, union_props),
            _ => return Ok(()),
        };
        if ok {
            Ok(())
        } else {
            type_error(expect, v)
        }
    }

    fn check_array<'v>(
        &mut self,
        obj: &'s Map<String, Value>,
        v: &'v Value,
        depth: Depth,
    ) -> Res<'s, 'v> {
        let Value::Array(items) = v else {
            return type_error("Array", v);
        };
        let min_items = obj.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let mut max_items = obj.get("maxItems").and_then(Value::as_u64);
        let prefix: &'s [Value] = match obj.get("prefixItems") {
            Some(Value::Array(prefix)) => prefix,
            _ => &[],
        };
        let rest = obj.get("items");
        if !prefix.is_empty() && rest == Some(&Value::Bool(false)) {
            let len = prefix.len() as u64;
            max_items = Some(max_items.map_or(len, |m| m.min(len)));
        }
        if let Some(max) = max_items {
            if items.len() as u64 > max {
                return fail(Kind::TupleOverLength {
                    len: items.len(),
                    max,
                });
            }
        }
        // Tuple elements: a missing or null element is a missing property.
        for (i, element_schema) in prefix.iter().enumerate() {
            match items.get(i) {
                Some(e) if !e.is_null() => {
                    under(self.check(element_schema, e, depth.value(), &[]), || {
                        i.to_string()
                    })?
                }
                _ if self.accepts_null(element_schema) || i as u64 >= min_items => {}
                _ => return fail(Kind::Missing(i.to_string())),
            }
        }
        if let Some(rest) = rest {
            for (i, e) in items.iter().enumerate().skip(prefix.len()) {
                under(self.check(rest, e, depth.value(), &[]), || i.to_string())?;
            }
        }
        let len = items.len().max(prefix.len());
        if (len as u64) < min_items {
            return fail(Kind::Missing(len.to_string()));
        }
        Ok(())
    }

    fn check_object<'v>(
        &mut self,
        obj: &'s Map<String, Value>,
        v: &'v Value,
        depth: Depth,
        union_props: &[&'s str],
    ) -> Res<'s, 'v> {
        let Value::Object(map) = v else {
            return type_error("Object", v);
        };
        if obj.get("additionalProperties") == Some(&Value::Bool(false)) {
            check_keys(obj, map, union_props)?;
        }
        let props = obj.get("properties").and_then(Value::as_object);
        let required: &'s [Value] = match obj.get("required") {
            Some(Value::Array(r)) => r,
            _ => &[],
        };
        if props.is_some() || !required.is_empty() {
            let key = std::ptr::from_ref(obj) as usize;
            let order = match self.order_cache.get(&key) {
                Some(order) => Rc::clone(order),
                None => {
                    let order: Rc<[&'s str]> = self.property_order(props, required).into();
                    self.order_cache.insert(key, Rc::clone(&order));
                    order
                }
            };
            for &name in order.iter() {
                // A required name without a schema may hold anything.
                let prop_schema = props.and_then(|p| p.get(name)).unwrap_or(&ANY);
                let is_required = required.iter().any(|r| r == name);
                match map.get(name) {
                    None if is_required => return fail(Kind::Missing(name.to_owned())),
                    None => {}
                    Some(Value::Null) if self.accepts_null(prop_schema) => {}
                    Some(Value::Null) if is_required => {
                        return fail(Kind::Missing(name.to_owned()))
                    }
                    Some(value) => {
                        under(self.check(prop_schema, value, depth.value(), &[]), || {
                            name.to_owned()
                        })?
                    }
                }
            }
        }
        if obj.contains_key("patternProperties") || obj.contains_key("additionalProperties") {
            self.check_index_signatures(obj, map, depth)?;
        }
        Ok(())
    }

    /// Index signatures: the values of keys not among `properties`.
    #[inline(never)]
    fn check_index_signatures<'v>(
        &mut self,
        obj: &'s Map<String, Value>,
        map: &'v Map<String, Value>,
        depth: Depth,
    ) -> Res<'s, 'v> {
        let props = obj.get("properties").and_then(Value::as_object);
        let patterns = obj.get("patternProperties").and_then(Value::as_object);
        let rest = obj.get("additionalProperties").filter(|a| a.is_object());
        for key in js_keys(map) {
            if props.is_some_and(|p| p.contains_key(key)) {
                continue;
            }
            let schema = patterns
                .and_then(|p| p.iter().find(|(pat, _)| pattern_matches(pat, key)))
                .map(|(_, s)| s)
                .or(rest);
            if let Some(schema) = schema {
                under(self.check(schema, &map[key], depth.value(), &[]), || {
                    key.clone()
                })?;
            }
        }
        Ok(())
    }

    /// The order in which an object's properties (and required names
    /// without a schema) are checked; see the module docs.
    #[inline(never)]
    fn property_order(
        &self,
        props: Option<&'s Map<String, Value>>,
        required: &'s [Value],
    ) -> Vec<&'s str> {
        let names: Vec<&'s str> = props
            .into_iter()
            .flat_map(|p| p.keys().map(String::as_str))
            .collect();
        let required = required.iter().filter_map(Value::as_str);
        let mut order: Vec<&'s str> = Vec::with_capacity(names.len());
        let learned = self.orders.and_then(|orders| {
            let mut sorted = names.clone();
            sorted.sort_unstable();
            orders.get(&sorted.join("\0"))
        });
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
            let is_const = |name: &&'s str| {
                props
                    .and_then(|p| p.get(*name))
                    .and_then(|s| self.resolve(s))
                    .is_some_and(|s| s.get("const").is_some())
            };
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
}

/// tsbuffer's literal check (null and undefined are one without
/// `strictNullChecks`).
fn literal<'s, 'v>(expected: &'s Value, v: &'v Value) -> Res<'s, 'v> {
    if js_equals(expected, v) {
        Ok(())
    } else {
        fail(Kind::Literal {
            expected,
            actual: v,
        })
    }
}

fn type_error<'s, 'v>(expect: &'static str, v: &'v Value) -> Res<'s, 'v> {
    fail(Kind::Type {
        expect: Cow::Borrowed(expect),
        actual: type_of(v),
    })
}

/// The `false` schema.
fn never<'s, 'v>(v: &'v Value) -> Res<'s, 'v> {
    type_error("never", v)
}

fn has_any(obj: &Map<String, Value>, keys: &[&str]) -> bool {
    keys.iter().any(|k| obj.contains_key(*k))
}

/// `enum`: a union of literals (a single literal when it has one member).
#[inline(never)]
fn check_enum<'s, 'v>(list: &'s [Value], v: &'v Value) -> Res<'s, 'v> {
    let members: Vec<&'s Value> = list.iter().filter(|m| !m.is_null()).collect();
    match members.as_slice() {
        [] => literal(list.first().unwrap_or(&NULL), v),
        [only] => literal(only, v),
        _ => {
            let mut errors = Vec::with_capacity(members.len());
            for member in members {
                match literal(member, v) {
                    Ok(()) => return Ok(()),
                    Err(Fail::Mismatch(e)) => errors.push(*e),
                    Err(Fail::Abort) => return Err(Fail::Abort),
                }
            }
            Err(Fail::Mismatch(Box::new(union_error(v, errors))))
        }
    }
}

/// With `"additionalProperties": false`, keys no schema allows: tsbuffer's
/// number-key check for integer-keyed maps, else its excess-property check.
#[inline(never)]
fn check_keys<'s, 'v>(
    obj: &'s Map<String, Value>,
    map: &'v Map<String, Value>,
    union_props: &[&'s str],
) -> Res<'s, 'v> {
    let props = obj.get("properties").and_then(Value::as_object);
    let patterns = obj.get("patternProperties").and_then(Value::as_object);
    let numeric_only =
        patterns.is_some_and(|p| !p.is_empty() && p.keys().all(|k| numeric_pattern(k).is_some()));
    for key in js_keys(map) {
        let allowed = props.is_some_and(|p| p.contains_key(key))
            || union_props.contains(&key.as_str())
            || patterns.is_some_and(|p| p.keys().any(|pat| pattern_matches(pat, key)));
        if !allowed {
            return fail(if numeric_only {
                Kind::NumberKey(key.clone())
            } else {
                Kind::Excess(key.clone())
            });
        }
    }
    Ok(())
}

/// `"integer"`: tsbuffer's `int` / `uint` scalar types, plus the Rust width.
fn check_integer<'s, 'v>(obj: &'s Map<String, Value>, v: &'v Value) -> Res<'s, 'v> {
    let Value::Number(n) = v else {
        return fail(Kind::Type {
            expect: Cow::Borrowed("number"),
            actual: type_of(v),
        });
    };
    let format = obj.get("format").and_then(Value::as_str).unwrap_or("");
    let (mut lo, mut hi) = integer_range(format);
    if let Some(min) = obj.get("minimum").and_then(integer_bound) {
        lo = lo.max(min);
    }
    if let Some(max) = obj.get("maximum").and_then(integer_bound) {
        hi = hi.min(max);
    }
    let unsigned = format.starts_with("uint") || lo >= 0;
    let exact = n
        .as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from));
    // An integral float (`1.0`, `1e2`) is that integer for JavaScript, and for tsbuffer.
    let exact = exact.or_else(|| integral(n.as_f64()?));
    match exact {
        Some(i) if lo <= i && i <= hi => Ok(()),
        _ => fail(Kind::Scalar {
            value: n,
            scalar: if unsigned { "uint" } else { "int" },
        }),
    }
}

/// `f` as an integer when it is one that an `i64` or a `u64` holds.
fn integral(f: f64) -> Option<i128> {
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    (f.fract() == 0.0 && (-TWO_64 / 2.0..TWO_64).contains(&f)).then_some(f as i128)
}

/// `value` with every integral float that fits an `i64` or a `u64` written as an integer, as
/// JavaScript sees it: serde refuses `1.0` for an integer field.
fn integral_floats_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(i) = n.as_f64().and_then(integral) {
                if let Ok(i) = i64::try_from(i) {
                    *n = i.into();
                } else if let Ok(u) = u64::try_from(i) {
                    *n = u.into();
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(map) => map.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

/// The range of a schemars integer `format`.
fn integer_range(format: &str) -> (i128, i128) {
    match format {
        "int8" => (i8::MIN.into(), i8::MAX.into()),
        "int16" => (i16::MIN.into(), i16::MAX.into()),
        "int32" => (i32::MIN.into(), i32::MAX.into()),
        "int64" | "int" => (i64::MIN.into(), i64::MAX.into()),
        "uint8" => (0, u8::MAX.into()),
        "uint16" => (0, u16::MAX.into()),
        "uint32" => (0, u32::MAX.into()),
        "uint64" | "uint" => (0, u64::MAX.into()),
        f if f.starts_with("uint") => (0, i128::MAX),
        _ => (i128::MIN, i128::MAX),
    }
}

fn integer_bound(v: &Value) -> Option<i128> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i.into());
    }
    if let Some(u) = n.as_u64() {
        return Some(u.into());
    }
    let f = n.as_f64()?;
    // Only finite bounds within i128 are meaningful here.
    (f.is_finite() && f.abs() < 1e38).then_some(f as i128)
}

/// The patterns schemars writes for integer-keyed maps: Some(negatives
/// allowed).
fn numeric_pattern(pattern: &str) -> Option<bool> {
    match pattern {
        r"^\d+$" | "^[0-9]+$" => Some(false),
        r"^-?\d+$" | "^-?[0-9]+$" => Some(true),
        _ => None,
    }
}

/// Whether `key` matches a `patternProperties` pattern; patterns other than
/// schemars' integer-key ones are taken to match everything.
fn pattern_matches(pattern: &str, key: &str) -> bool {
    match numeric_pattern(pattern) {
        Some(signed) => {
            let digits = if signed {
                key.strip_prefix('-').unwrap_or(key)
            } else {
                key
            };
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        }
        None => true,
    }
}

/// A `$ref`'s JSON pointer with its `%XX` escapes decoded (a malformed escape is kept as it
/// is; bytes that are not UTF-8 become U+FFFD).
fn percent_decode(s: &str) -> std::borrow::Cow<'_, str> {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy()
}

/// tsbuffer's `_validateUnionType` verdict when every member failed.
#[inline(never)]
fn union_error<'s, 'v>(v: &'v Value, errors: Vec<VErr<'s, 'v>>) -> VErr<'s, 'v> {
    let messages: Vec<String> = errors.iter().map(VErr::message).collect();
    // All members fail alike: that error.
    if messages.iter().all(|m| *m == messages[0]) {
        return errors
            .into_iter()
            .next()
            .unwrap_or_else(|| VErr::new(Kind::UnionMembers(Vec::new())));
    }
    // Only one member fails for a reason other than a literal: that one.
    let non_literal: Vec<usize> = (0..errors.len())
        .filter(|&i| !matches!(errors[i].kind, Kind::Literal { .. }))
        .collect();
    if let [only] = non_literal.as_slice() {
        return errors
            .into_iter()
            .nth(*only)
            .unwrap_or_else(|| VErr::new(Kind::UnionMembers(Vec::new())));
    }
    // Simple type and literal errors: a short summary.
    let simple = errors
        .iter()
        .all(|e| e.path.is_empty() && matches!(e.kind, Kind::Type { .. } | Kind::Literal { .. }));
    if simple {
        let value_type = type_of(v);
        let mut expected_types: Vec<&str> = Vec::new();
        for e in &errors {
            let t = match &e.kind {
                Kind::Type { expect, .. } => expect.as_ref(),
                Kind::Literal { expected, .. } => type_of(expected),
                _ => continue,
            };
            if !expected_types.contains(&t) {
                expected_types.push(t);
            }
        }
        if !expected_types.contains(&value_type) {
            return VErr::new(Kind::Type {
                expect: Cow::Owned(expected_types.join(" | ")),
                actual: value_type,
            });
        }
        if value_type != "Object" && value_type != "Array" {
            let mut types: Vec<String> = Vec::new();
            for e in &errors {
                let t = match &e.kind {
                    Kind::Type { expect, .. } => expect.to_string(),
                    Kind::Literal { expected, .. } => stringify(expected),
                    _ => continue,
                };
                if !types.contains(&t) {
                    types.push(t);
                }
            }
            return VErr::new(Kind::UnionTypes { value: v, types });
        }
    }
    VErr::new(Kind::UnionMembers(errors))
}

// ---------------------------------------------------------------------------
// Field-order probe
// ---------------------------------------------------------------------------

/// Past this nesting the probe stops exploring (options become `None`,
/// sequences and maps empty).
const PROBE_EXPLORE_DEPTH: usize = 16;
/// Past this nesting the probe gives up.
const PROBE_MAX_DEPTH: usize = 48;
/// Work budget of one probe pass.
const PROBE_MAX_STEPS: usize = 50_000;
/// Most passes (one per enum variant index).
const PROBE_MAX_PASSES: usize = 16;

/// Learns the declared field order of the structs inside `T` by letting its
/// `Deserialize` impl drive a deserializer that makes up values. Pass `k`
/// picks variant `k` of every enum (clamped), so struct variants and structs
/// inside them are seen too. A pass that fails still keeps what it saw.
fn probe_field_orders<T: DeserializeOwned>() -> FieldOrders {
    let recorder = RefCell::new(Recorder::default());
    let mut pass = 0;
    loop {
        {
            let mut rec = recorder.borrow_mut();
            rec.variant = pass;
            rec.steps = 0;
            rec.stack.clear();
        }
        let probe = Probe {
            rec: &recorder,
            depth: 0,
            minimal: false,
        };
        // Derived impls never panic; a hand-written one might, and must not
        // take the server down.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| T::deserialize(probe)));
        pass += 1;
        let max_variants = recorder.borrow().max_variants;
        if pass >= max_variants.min(PROBE_MAX_PASSES) {
            break;
        }
    }
    recorder.into_inner().orders
}

#[derive(Default)]
struct Recorder {
    orders: FieldOrders,
    /// Variant index enums pick in this pass.
    variant: usize,
    /// Most variants seen in one enum.
    max_variants: usize,
    /// Names of the structs and enums being probed (to spot recursion).
    stack: Vec<&'static str>,
    steps: usize,
}

impl Recorder {
    fn record(&mut self, fields: &'static [&'static str]) {
        if fields.is_empty() {
            return;
        }
        let mut sorted = fields.to_vec();
        sorted.sort_unstable();
        self.orders.entry(sorted.join("\0")).or_insert(fields);
    }
}

#[derive(Debug)]
struct ProbeError;

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("probe")
    }
}

impl std::error::Error for ProbeError {}

impl de::Error for ProbeError {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        ProbeError
    }
}

#[derive(Clone, Copy)]
struct Probe<'r> {
    rec: &'r RefCell<Recorder>,
    depth: usize,
    /// Make the smallest values (no `Some`, empty sequences and maps).
    minimal: bool,
}

impl<'r> Probe<'r> {
    /// Counts a step; the deserializer for values nested in this one.
    fn enter(self) -> Result<Probe<'r>, ProbeError> {
        let mut rec = self.rec.borrow_mut();
        rec.steps += 1;
        if rec.steps > PROBE_MAX_STEPS || self.depth >= PROBE_MAX_DEPTH {
            return Err(ProbeError);
        }
        Ok(Probe {
            rec: self.rec,
            depth: self.depth + 1,
            minimal: self.minimal || self.depth >= PROBE_EXPLORE_DEPTH,
        })
    }

    /// Enters a named struct or enum, spotting recursion.
    fn enter_named(self, name: &'static str) -> Result<Probe<'r>, ProbeError> {
        let child = self.enter()?;
        let mut rec = self.rec.borrow_mut();
        let recursive = rec.stack.contains(&name);
        rec.stack.push(name);
        Ok(Probe {
            minimal: child.minimal || recursive,
            ..child
        })
    }

    fn leave(self) {
        self.rec.borrow_mut().stack.pop();
    }

    fn count(self, explore: usize) -> usize {
        if self.minimal {
            0
        } else {
            explore
        }
    }
}

macro_rules! probe_scalars {
    ($($method:ident => $visit:ident($value:expr);)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
                self.enter()?;
                visitor.$visit($value)
            }
        )*
    };
}

impl<'de> Deserializer<'de> for Probe<'_> {
    type Error = ProbeError;

    probe_scalars! {
        deserialize_bool => visit_bool(false);
        deserialize_i8 => visit_i8(0);
        deserialize_i16 => visit_i16(0);
        deserialize_i32 => visit_i32(0);
        deserialize_i64 => visit_i64(0);
        deserialize_i128 => visit_i128(0);
        deserialize_u8 => visit_u8(0);
        deserialize_u16 => visit_u16(0);
        deserialize_u32 => visit_u32(0);
        deserialize_u64 => visit_u64(0);
        deserialize_u128 => visit_u128(0);
        deserialize_f32 => visit_f32(0.0);
        deserialize_f64 => visit_f64(0.0);
        deserialize_char => visit_char('a');
        deserialize_str => visit_str("");
        deserialize_string => visit_str("");
        deserialize_bytes => visit_bytes(&[]);
        deserialize_byte_buf => visit_byte_buf(Vec::new());
        deserialize_identifier => visit_str("");
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.enter()?;
        visitor.visit_unit()
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.enter()?;
        visitor.visit_unit()
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.enter()?;
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        self.enter()?;
        visitor.visit_unit()
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        let child = self.enter()?;
        if self.minimal {
            visitor.visit_none()
        } else {
            visitor.visit_some(child)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        let child = self.enter()?;
        visitor.visit_newtype_struct(child)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        let child = self.enter()?;
        visitor.visit_seq(ProbeSeq {
            remaining: self.count(1),
            child,
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        let child = self.enter()?;
        visitor.visit_seq(ProbeSeq {
            remaining: len,
            child,
        })
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        let child = self.enter()?;
        visitor.visit_map(ProbeEntries {
            remaining: self.count(1),
            child,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        let child = self.enter_named(name)?;
        self.rec.borrow_mut().record(fields);
        let result = visitor.visit_map(ProbeFields {
            fields,
            next: 0,
            child,
        });
        self.leave();
        result
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        let child = self.enter_named(name)?;
        let picked = {
            let mut rec = self.rec.borrow_mut();
            rec.max_variants = rec.max_variants.max(variants.len());
            let index = if child.minimal { 0 } else { rec.variant };
            variants
                .get(index.min(variants.len().saturating_sub(1)))
                .copied()
        };
        let result = match picked {
            Some(variant) => visitor.visit_enum(ProbeEnum { variant, child }),
            None => Err(ProbeError),
        };
        self.leave();
        result
    }
}

/// A struct's fields, each given a made-up value.
struct ProbeFields<'r> {
    fields: &'static [&'static str],
    next: usize,
    child: Probe<'r>,
}

impl<'de> MapAccess<'de> for ProbeFields<'_> {
    type Error = ProbeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ProbeError> {
        match self.fields.get(self.next) {
            Some(field) => seed
                .deserialize(BorrowedStrDeserializer::<ProbeError>::new(field))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ProbeError> {
        self.next += 1;
        seed.deserialize(self.child)
    }
}

/// Map entries with made-up keys and values.
struct ProbeEntries<'r> {
    remaining: usize,
    child: Probe<'r>,
}

impl<'de> MapAccess<'de> for ProbeEntries<'_> {
    type Error = ProbeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ProbeError> {
        if self.remaining == 0 {
            return Ok(None);
        }
        seed.deserialize(self.child).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ProbeError> {
        self.remaining = self.remaining.saturating_sub(1);
        seed.deserialize(self.child)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.remaining)
    }
}

/// Sequence elements with made-up values.
struct ProbeSeq<'r> {
    remaining: usize,
    child: Probe<'r>,
}

impl<'de> SeqAccess<'de> for ProbeSeq<'_> {
    type Error = ProbeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ProbeError> {
        if self.remaining == 0 {
            return Ok(None);
        }
        self.remaining -= 1;
        seed.deserialize(self.child).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.remaining)
    }
}

/// An externally tagged enum value of the picked variant.
struct ProbeEnum<'r> {
    variant: &'static str,
    child: Probe<'r>,
}

impl<'de, 'r> EnumAccess<'de> for ProbeEnum<'r> {
    type Error = ProbeError;
    type Variant = Probe<'r>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Probe<'r>), ProbeError> {
        let tag = seed.deserialize(BorrowedStrDeserializer::<ProbeError>::new(self.variant))?;
        Ok((tag, self.child))
    }
}

impl<'de> VariantAccess<'de> for Probe<'_> {
    type Error = ProbeError;

    fn unit_variant(self) -> Result<(), ProbeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, ProbeError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        visitor.visit_seq(ProbeSeq {
            remaining: len,
            child: self,
        })
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        self.rec.borrow_mut().record(fields);
        visitor.visit_map(ProbeFields {
            fields,
            next: 0,
            child: self,
        })
    }
}

#[cfg(test)]
mod tests {
    //! Expected texts were checked against tsbuffer-validator 2.1.3 running in
    //! Node.js (`TSBufferValidator#prune` on the equivalent TypeScript types),
    //! except where a test says it shows a choice of ours.

    // The test types' fields are only read through `Debug`.
    #![allow(dead_code)]

    use std::collections::HashMap;

    use schemars::JsonSchema;
    use serde::Deserialize;
    use serde_json::json;

    use super::{decode, explain, js_f64, TOO_COMPLEX};

    fn err<T: serde::de::DeserializeOwned + JsonSchema + std::fmt::Debug>(json: &str) -> String {
        match decode::<T>(json) {
            Ok(v) => panic!("{json} decoded to {v:?}"),
            Err(e) => e,
        }
    }

    fn explain_for<T: JsonSchema>(value: serde_json::Value) -> Option<String> {
        explain(&schemars::schema_for!(T).to_value(), &value)
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct User {
        id: f64,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct HasUser {
        user: User,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Tags {
        tags: Vec<String>,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Flag {
        b: bool,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Frame {
        frame: u32,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Dx {
        dx: i32,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Widths {
        a: Option<u8>,
        b: Option<i8>,
        c: Option<u64>,
        d: Option<i64>,
        e: Option<std::num::NonZeroU16>,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        String,
        Number,
        Throw,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct HasMode {
        mode: Mode,
        opt_mode: Option<Mode>,
    }

    /// Documented variants make schemars write `oneOf` of `const`s.
    #[derive(Debug, Deserialize, JsonSchema)]
    enum Documented {
        /// First.
        A,
        /// Second.
        B,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct HasDocumented {
        d: Documented,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Opt {
        o: Option<String>,
        r: String,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct OptUser {
        user: Option<User>,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(tag = "type")]
    enum Tagged {
        A { x: f64 },
        B { y: String, z: Option<u32> },
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct HasTagged {
        p: Tagged,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(untagged)]
    enum Untagged {
        S(String),
        N(u32),
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    enum External {
        U,
        N(u8),
        S { k: String },
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct HasExternal {
        e: External,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Tup {
        t: (u32, String),
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Fixed {
        arr: [u8; 3],
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Maps {
        m: HashMap<u32, String>,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct StrMap {
        m: HashMap<String, u8>,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Unit {
        n: (),
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct Strict {
        a: u8,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Bytes {
        data: String,
        raw: Vec<u8>,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Node {
        name: String,
        children: Vec<Node>,
        next: Option<Box<Node>>,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    enum Expr {
        Add(Box<Expr>, Box<Expr>),
        Neg(Box<Expr>),
        Lit(f64),
    }

    /// Declared order differs from alphabetical order, and an optional field
    /// comes before a required one.
    #[derive(Debug, Deserialize, JsonSchema)]
    struct Ordered {
        z: Option<f64>,
        a: String,
        m: Option<bool>,
        b: u8,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct HasOrdered {
        list: Vec<Ordered>,
        inner: Option<Ordered>,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    enum VariantOrder {
        First { q: u8 },
        Second { zz: Option<u8>, aa: u8 },
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Wrapper<T> {
        value: T,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Float {
        f: f64,
        g: f32,
    }

    #[test]
    fn nested_type_error() {
        assert_eq!(
            err::<HasUser>(r#"{"user":{"id":"x"}}"#),
            "Property `user.id`: Expected type to be `number`, actually `string`."
        );
    }

    #[test]
    fn array_element_and_array_type() {
        assert_eq!(
            err::<Tags>(r#"{"tags":[3]}"#),
            "Property `tags.0`: Expected type to be `string`, actually `number`."
        );
        assert_eq!(
            err::<Tags>(r#"{"tags":["a",null]}"#),
            "Property `tags.1`: Expected type to be `string`, actually `null`."
        );
        assert_eq!(
            err::<Tags>(r#"{"tags":"no"}"#),
            "Property `tags`: Expected type to be `Array`, actually `string`."
        );
        assert_eq!(
            err::<Tags>(r#"{"tags":{}}"#),
            "Property `tags`: Expected type to be `Array`, actually `Object`."
        );
    }

    #[test]
    fn boolean() {
        assert_eq!(
            err::<Flag>(r#"{"b":1}"#),
            "Property `b`: Expected type to be `boolean`, actually `number`."
        );
        assert_eq!(
            err::<Flag>(r#"{"b":"true"}"#),
            "Property `b`: Expected type to be `boolean`, actually `string`."
        );
    }

    #[test]
    fn uint() {
        assert_eq!(
            err::<Frame>(r#"{"frame":-1}"#),
            "Property `frame`: `-1` is not a valid `uint`."
        );
        assert_eq!(
            err::<Frame>(r#"{"frame":1.5}"#),
            "Property `frame`: `1.5` is not a valid `uint`."
        );
        assert_eq!(
            err::<Frame>(r#"{"frame":-0.000001}"#),
            "Property `frame`: `-0.000001` is not a valid `uint`."
        );
        assert_eq!(
            err::<Frame>(r#"{"frame":-1e-7}"#),
            "Property `frame`: `-1e-7` is not a valid `uint`."
        );
        assert_eq!(
            err::<Frame>(r#"{"frame":"1"}"#),
            "Property `frame`: Expected type to be `number`, actually `string`."
        );
        // An integral float is that integer for JavaScript (serde alone refuses it).
        assert!(serde_json::from_str::<Frame>(r#"{"frame":1.0}"#).is_err());
        for (json, frame) in [
            (r#"{"frame":1.0}"#, 1),
            (r#"{"frame":1e2}"#, 100),
            (r#"{"frame":-0}"#, 0),
            (r#"{"frame":-0.0}"#, 0),
            (r#"{"frame":4294967295.0}"#, 4294967295),
        ] {
            assert_eq!(decode::<Frame>(json).map(|f| f.frame), Ok(frame), "{json}");
        }
        assert_eq!(
            err::<Frame>(r#"{"frame":4294967296.0}"#),
            "Property `frame`: `4294967296` is not a valid `uint`."
        );
        assert_eq!(
            err::<Frame>(r#"{"frame":-1.0}"#),
            "Property `frame`: `-1` is not a valid `uint`."
        );
        assert_eq!(decode::<Dx>(r#"{"dx":-3.0}"#).map(|d| d.dx), Ok(-3));
        assert!(decode::<Frame>(r#"{"frame":4294967295}"#).is_ok());
    }

    #[test]
    fn int() {
        assert_eq!(
            err::<Dx>(r#"{"dx":1.5}"#),
            "Property `dx`: `1.5` is not a valid `int`."
        );
        assert!(decode::<Dx>(r#"{"dx":-5}"#).is_ok());
    }

    #[test]
    fn integer_widths() {
        assert_eq!(
            err::<Widths>(r#"{"a":300}"#),
            "Property `a`: `300` is not a valid `uint`."
        );
        assert_eq!(
            err::<Widths>(r#"{"b":-129}"#),
            "Property `b`: `-129` is not a valid `int`."
        );
        assert_eq!(
            err::<Widths>(r#"{"b":128}"#),
            "Property `b`: `128` is not a valid `int`."
        );
        assert_eq!(
            err::<Widths>(r#"{"c":18446744073709551616}"#),
            "Property `c`: `18446744073709552000` is not a valid `uint`."
        );
        assert_eq!(
            err::<Widths>(r#"{"d":1e21}"#),
            "Property `d`: `1e+21` is not a valid `int`."
        );
        assert_eq!(
            err::<Widths>(r#"{"e":0}"#),
            "Property `e`: `0` is not a valid `uint`."
        );
        assert!(decode::<Widths>(r#"{"a":255,"b":-128,"c":18446744073709551615,"e":1}"#).is_ok());
    }

    #[test]
    fn unit_enum() {
        assert_eq!(
            err::<HasMode>(r#"{"mode":"zzz"}"#),
            "Property `mode`: `'zzz'` is not matched to `'string' | 'number' | 'throw'`"
        );
        assert_eq!(
            err::<HasMode>(r#"{"mode":"string","opt_mode":"zzz"}"#),
            "Property `opt_mode`: `'zzz'` is not matched to `'string' | 'number' | 'throw'`"
        );
        assert_eq!(
            err::<HasMode>(r#"{"mode":5}"#),
            "Property `mode`: Expected type to be `string`, actually `number`."
        );
        assert_eq!(
            err::<HasMode>(r#"{"mode":"it's \"q\"\n"}"#),
            r#"Property `mode`: `'it's \"q\"\n'` is not matched to `'string' | 'number' | 'throw'`"#
        );
        assert_eq!(
            err::<HasDocumented>(r#"{"d":"C"}"#),
            "Property `d`: `'C'` is not matched to `'A' | 'B'`"
        );
        assert_eq!(
            err::<HasDocumented>(r#"{"d":true}"#),
            "Property `d`: Expected type to be `string`, actually `boolean`."
        );
        assert!(decode::<HasMode>(r#"{"mode":"throw","opt_mode":null}"#).is_ok());
    }

    #[test]
    fn missing_required() {
        assert_eq!(err::<Flag>("{}"), "Missing required property `b`.");
        assert_eq!(
            err::<Flag>(r#"{"b":null}"#),
            "Missing required property `b`."
        );
        assert_eq!(
            err::<HasUser>(r#"{"user":null}"#),
            "Missing required property `user`."
        );
        assert_eq!(
            err::<HasUser>(r#"{"user":{}}"#),
            "Property `user`: Missing required property `id`."
        );
        assert_eq!(
            err::<Opt>(r#"{"o":null}"#),
            "Missing required property `r`."
        );
        assert_eq!(
            err::<Opt>(r#"{"o":null,"r":5}"#),
            "Property `r`: Expected type to be `string`, actually `number`."
        );
        assert_eq!(
            err::<OptUser>(r#"{"user":{"id":null}}"#),
            "Property `user`: Missing required property `id`."
        );
        assert!(decode::<OptUser>(r#"{"user":null}"#).is_ok());
        assert!(decode::<OptUser>("{}").is_ok());
    }

    #[test]
    fn root_not_an_object() {
        assert_eq!(
            err::<Flag>("[1]"),
            "Expected type to be `Object`, actually `Array`."
        );
        assert_eq!(
            err::<Flag>(r#""x""#),
            "Expected type to be `Object`, actually `string`."
        );
        assert_eq!(
            err::<Flag>("null"),
            "Expected type to be `Object`, actually `null`."
        );
        assert_eq!(
            err::<Flag>("true"),
            "Expected type to be `Object`, actually `boolean`."
        );
        assert_eq!(
            err::<Flag>("1"),
            "Expected type to be `Object`, actually `number`."
        );
        assert_eq!(
            err::<HasUser>(r#"{"user":[]}"#),
            "Property `user`: Expected type to be `Object`, actually `Array`."
        );
    }

    /// A struct with no fields (TypeScript `{}`).
    #[derive(Debug, Deserialize, JsonSchema)]
    struct Empty {}

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Pair {
        a: f64,
        b: f64,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(tag = "type")]
    enum TaggedUser {
        U { user: User },
        N { n: f64 },
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(tag = "t", content = "c")]
    enum Adjacent {
        U(User),
        S { k: String },
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(untagged)]
    enum UntaggedUser {
        U(User),
        S(String),
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Flat {
        #[serde(flatten)]
        user: User,
        extra: Option<String>,
    }

    /// serde's derived structs accept a sequence of their fields; TSRPC's validator refuses an
    /// array where an interface is expected, at any depth and through every kind of enum.
    #[test]
    fn arrays_are_not_structs() {
        let array_for_object = "Expected type to be `Object`, actually `Array`.";
        assert_eq!(err::<Pair>("[1,2]"), array_for_object);
        assert_eq!(err::<User>("[1]"), array_for_object);
        assert_eq!(err::<Empty>("[]"), array_for_object);
        assert_eq!(
            err::<HasUser>(r#"{"user":[7]}"#),
            format!("Property `user`: {array_for_object}")
        );
        assert_eq!(
            err::<Vec<User>>(r#"[{"id":1},[2]]"#),
            format!("Property `1`: {array_for_object}")
        );
        assert_eq!(
            err::<OptUser>(r#"{"user":[7]}"#),
            format!("Property `user`: {array_for_object}")
        );
        assert_eq!(
            err::<HashMap<String, User>>(r#"{"k":[7]}"#),
            format!("Property `k`: {array_for_object}")
        );
        assert_eq!(err::<Flat>(r#"[7,"x"]"#), array_for_object);
        // Every kind of enum: internally, adjacently, externally tagged and untagged.
        assert_eq!(err::<TaggedUser>(r#"["N",1]"#), array_for_object);
        assert_eq!(
            err::<TaggedUser>(r#"{"type":"U","user":[7]}"#),
            format!("Property `user`: {array_for_object}")
        );
        assert_eq!(
            err::<HasTagged>(r#"{"p":["A",2.5]}"#),
            format!("Property `p`: {array_for_object}")
        );
        assert!(err::<Adjacent>(r#"["U",{"id":1}]"#).contains(array_for_object));
        assert!(err::<Adjacent>(r#"{"t":"U","c":[1]}"#).contains(array_for_object));
        assert!(err::<Adjacent>(r#"{"c":[1],"t":"U"}"#).contains(array_for_object));
        assert!(err::<Adjacent>(r#"{"t":"S","c":["v"]}"#).contains(array_for_object));
        assert_eq!(
            err::<UntaggedUser>("[1]"),
            "Expected type to be `Object | string`, actually `Array`."
        );
        assert!(err::<HasExternal>(r#"{"e":{"S":["v"]}}"#).contains(array_for_object));
        // The object forms still decode.
        assert!(decode::<Pair>(r#"{"a":1,"b":2}"#).is_ok());
        assert!(decode::<Empty>("{}").is_ok());
        assert!(decode::<Flat>(r#"{"id":7,"extra":"x"}"#).is_ok());
        assert!(decode::<TaggedUser>(r#"{"type":"U","user":{"id":1}}"#).is_ok());
        assert!(decode::<Adjacent>(r#"{"c":{"id":1},"t":"U"}"#).is_ok());
        assert!(decode::<UntaggedUser>(r#"{"id":1}"#).is_ok());
        assert!(decode::<UntaggedUser>(r#""s""#).is_ok());
        assert!(decode::<HasExternal>(r#"{"e":{"S":{"k":"v"}}}"#).is_ok());
        assert!(decode::<HasExternal>(r#"{"e":"U"}"#).is_ok());
    }

    /// A unit variant is a string literal for TSRPC; serde_json also takes `{"Variant":null}`.
    #[test]
    fn unit_variants_only_as_strings() {
        for json in [
            r#"{"mode":{"string":null}}"#,
            r#"{"mode":"string","opt_mode":{"throw":null}}"#,
        ] {
            let e = err::<HasMode>(json);
            assert!(e.starts_with("Property `"), "{json}: {e}");
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            assert_eq!(Some(e), explain_for::<HasMode>(value), "{json}");
        }
        assert!(err::<HasExternal>(r#"{"e":{"U":null}}"#).starts_with("Property `e`: "));
        assert!(decode::<HasMode>(r#"{"mode":"string","opt_mode":"throw"}"#).is_ok());
    }

    #[test]
    fn unknown_properties_are_accepted() {
        let value: Flag = decode(r#"{"b":true,"extra":{"deep":[1]}}"#).unwrap();
        assert!(value.b);
        assert_eq!(explain_for::<Flag>(json!({"b": true, "x": 1})), None);
    }

    #[test]
    fn deny_unknown_fields_is_excess() {
        // Ours: tsbuffer's excess-property text where serde rejects the key.
        assert_eq!(
            err::<Strict>(r#"{"a":1,"zz":2}"#),
            "Excess property `zz` should not exists."
        );
    }

    #[test]
    fn tagged_enum() {
        assert_eq!(
            err::<HasTagged>(r#"{"p":{"type":"Z"}}"#),
            "Property `p`: No union member matched, detail:\n  \
             <0> Property `type`: Expected to equals `'A'`, actually `'Z'`\n  \
             <1> Property `type`: Expected to equals `'B'`, actually `'Z'`"
        );
        assert_eq!(
            err::<HasTagged>(r#"{"p":{"type":"A","x":"q"}}"#),
            "Property `p.x`: Expected type to be `number`, actually `string`."
        );
        assert_eq!(
            err::<HasTagged>(r#"{"p":{"type":"B"}}"#),
            "Property `p`: Missing required property `y`."
        );
        assert_eq!(
            err::<HasTagged>(r#"{"p":5}"#),
            "Property `p`: Expected type to be `Object`, actually `number`."
        );
        assert_eq!(
            err::<HasTagged>(r#"{"p":{}}"#),
            "Property `p`: Missing required property `type`."
        );
        assert_eq!(
            err::<HasTagged>(r#"{"p":{"type":"B","y":"s","z":-1}}"#),
            "Property `p.z`: `-1` is not a valid `uint`."
        );
        assert!(decode::<HasTagged>(r#"{"p":{"type":"B","y":"s","z":null}}"#).is_ok());
    }

    #[test]
    fn untagged_enum() {
        assert_eq!(
            err::<Untagged>("true"),
            "Expected type to be `string | number`, actually `boolean`."
        );
        assert_eq!(
            err::<Untagged>("-1"),
            "No union member matched, detail:\n  \
             <0> Expected type to be `string`, actually `number`.\n  \
             <1> `-1` is not a valid `uint`."
        );
        assert_eq!(
            err::<Untagged>("null"),
            "Expected type to be `string | number`, actually `null`."
        );
    }

    #[test]
    fn externally_tagged_enum() {
        // Ours: tsbuffer's union rules over schemars' externally tagged form.
        assert_eq!(
            err::<HasExternal>(r#"{"e":"Z"}"#),
            "Property `e`: `'Z'` is not matched to `'U' | Object`"
        );
        assert_eq!(
            err::<HasExternal>(r#"{"e":{"N":300}}"#),
            "Property `e`: No union member matched, detail:\n  \
             <0> Expected to equals `'U'`, actually `{\"N\":300}`\n  \
             <1> Property `N`: `300` is not a valid `uint`.\n  \
             <2> Missing required property `S`."
        );
        assert!(decode::<HasExternal>(r#"{"e":{"S":{"k":"v"}}}"#).is_ok());
    }

    #[test]
    fn tuples_and_fixed_arrays() {
        assert_eq!(
            err::<Tup>(r#"{"t":[1]}"#),
            "Property `t`: Missing required property `1`."
        );
        assert_eq!(
            err::<Tup>(r#"{"t":[1,null]}"#),
            "Property `t`: Missing required property `1`."
        );
        assert_eq!(
            err::<Tup>(r#"{"t":["x","y"]}"#),
            "Property `t.0`: Expected type to be `number`, actually `string`."
        );
        // Ours: TSRPC would prune the extra element; serde rejects it.
        assert_eq!(
            err::<Tup>(r#"{"t":[1,"a",3]}"#),
            "Property `t`: Value has 3 elements but schema allows only 2."
        );
        assert_eq!(
            err::<Fixed>(r#"{"arr":[1,2]}"#),
            "Property `arr`: Missing required property `2`."
        );
        assert_eq!(
            err::<Fixed>(r#"{"arr":[1,2,3,4]}"#),
            "Property `arr`: Value has 4 elements but schema allows only 3."
        );
    }

    #[test]
    fn maps() {
        assert_eq!(
            err::<Maps>(r#"{"m":{"1":"a","x":"b"}}"#),
            "Property `m`: `x` is not a valid key, the key here should be a `number`."
        );
        assert_eq!(
            err::<Maps>(r#"{"m":{"1":2}}"#),
            "Property `m.1`: Expected type to be `string`, actually `number`."
        );
        assert_eq!(
            err::<StrMap>(r#"{"m":{"k":-1}}"#),
            "Property `m.k`: `-1` is not a valid `uint`."
        );
        // JavaScript order: index-like keys first, ascending.
        assert_eq!(
            err::<StrMap>(r#"{"m":{"a":-1,"10":-2,"9":-3}}"#),
            "Property `m.9`: `-3` is not a valid `uint`."
        );
    }

    #[test]
    fn null_literal() {
        assert_eq!(
            err::<Unit>(r#"{"n":5}"#),
            "Property `n`: Expected to equals `null`, actually `5`"
        );
        assert!(decode::<Unit>(r#"{"n":null}"#).is_ok());
    }

    #[test]
    fn strings_and_numbers() {
        assert!(decode::<Bytes>(r#"{"data":"aGVsbG8=","raw":[1,2]}"#).is_ok());
        assert_eq!(
            err::<Bytes>(r#"{"data":"aGVsbG8=","raw":"aGVsbG8="}"#),
            "Property `raw`: Expected type to be `Array`, actually `string`."
        );
        assert!(decode::<Float>(r#"{"f":1,"g":-2.5e10}"#).is_ok());
        assert_eq!(
            err::<Float>(r#"{"f":"1","g":1}"#),
            "Property `f`: Expected type to be `number`, actually `string`."
        );
    }

    #[test]
    fn declared_order_from_probe() {
        // tsbuffer reports the first error in declaration order: `z` (optional,
        // declared first) before the missing `a`.
        assert_eq!(
            err::<Ordered>(r#"{"z":"x"}"#),
            "Property `z`: Expected type to be `number`, actually `string`."
        );
        assert_eq!(
            err::<Ordered>(r#"{"m":1}"#),
            "Missing required property `a`."
        );
        assert_eq!(
            err::<Ordered>(r#"{"a":"s","m":1}"#),
            "Property `m`: Expected type to be `boolean`, actually `number`."
        );
        assert_eq!(
            err::<HasOrdered>(r#"{"list":[{"z":"x"}]}"#),
            "Property `list.0.z`: Expected type to be `number`, actually `string`."
        );
        assert_eq!(
            err::<HasOrdered>(r#"{"list":[],"inner":{"m":0,"a":"s"}}"#),
            "Property `inner.m`: Expected type to be `boolean`, actually `number`."
        );
        // Struct variants of externally tagged enums are probed too: `zz`
        // (declared first) is reported, not the missing `aa`.
        assert_eq!(
            err::<VariantOrder>(r#"{"Second":{"zz":-1}}"#),
            "No union member matched, detail:\n  \
             <0> Missing required property `First`.\n  \
             <1> Property `Second.zz`: `-1` is not a valid `uint`."
        );
    }

    #[test]
    fn explain_without_type_uses_fallback_order() {
        // No type to probe: required properties first, in `required` order.
        assert_eq!(
            explain_for::<Ordered>(json!({"z": "x"})),
            Some("Missing required property `a`.".to_owned())
        );
        assert_eq!(
            explain_for::<Ordered>(json!({"a": "s", "z": "x"})),
            Some("Missing required property `b`.".to_owned())
        );
        assert_eq!(
            explain_for::<Ordered>(json!({"a": "s", "b": 1, "z": "x"})),
            Some("Property `z`: Expected type to be `number`, actually `string`.".to_owned())
        );
        assert_eq!(explain_for::<Ordered>(json!({"a": "s", "b": 1})), None);
    }

    #[test]
    fn recursive_types() {
        assert_eq!(
            err::<Node>(r#"{"name":"a","children":[{"name":"b","children":[{"name":1}]}]}"#),
            "Property `children.0.children.0.name`: Expected type to be `string`, actually `number`."
        );
        assert_eq!(
            err::<Node>(r#"{"name":"a","children":[],"next":{"name":"b"}}"#),
            "Property `next`: Missing required property `children`."
        );
        // Nested union details are not re-indented (as in tsbuffer).
        assert_eq!(
            err::<Expr>(r#"{"Neg":{"Lit":"x"}}"#),
            "No union member matched, detail:\n  \
             <0> Missing required property `Add`.\n  \
             <1> Property `Neg`: No union member matched, detail:\n  \
             <0> Missing required property `Add`.\n  \
             <1> Missing required property `Neg`.\n  \
             <2> Property `Lit`: Expected type to be `number`, actually `string`.\n  \
             <2> Missing required property `Lit`."
        );
        let deep = format!("{}1{}", r#"{"Neg":"#.repeat(100), "}".repeat(100));
        let e = decode::<Expr>(&deep).unwrap_err();
        assert!(e.contains("Property `Neg`: Expected type to be `Object`, actually `number`."));
    }

    #[test]
    fn generic_types_are_cached_apart() {
        assert_eq!(
            err::<Wrapper<u8>>(r#"{"value":"x"}"#),
            "Property `value`: Expected type to be `number`, actually `string`."
        );
        assert_eq!(
            err::<Wrapper<String>>(r#"{"value":1}"#),
            "Property `value`: Expected type to be `string`, actually `number`."
        );
        assert_eq!(
            err::<Wrapper<u8>>(r#"{"value":true}"#),
            "Property `value`: Expected type to be `number`, actually `boolean`."
        );
    }

    #[test]
    fn invalid_json() {
        assert_eq!(
            err::<Flag>("{"),
            "Input is not a valid JSON string: EOF while parsing an object at line 1 column 1"
        );
        let serde_says = serde_json::from_str::<serde_json::Value>(r#"{"b":1,"#).unwrap_err();
        assert_eq!(
            err::<Flag>(r#"{"b":1,"#),
            format!("Input is not a valid JSON string: {serde_says}")
        );
        assert_eq!(
            err::<Flag>(r#"{"b":true} x"#),
            "Input is not a valid JSON string: trailing characters at line 1 column 12"
        );
        assert!(err::<Flag>("").starts_with("Input is not a valid JSON string: "));
    }

    #[test]
    fn duplicate_keys_keep_the_last_like_javascript() {
        // serde refuses a duplicate field; JSON.parse keeps the last value, and so do we.
        let json = r#"{"b":true,"b":false}"#;
        assert!(serde_json::from_str::<Flag>(json).is_err());
        assert!(!decode::<Flag>(json).expect("decodes").b);
    }

    #[test]
    fn deep_nesting_is_stack_safe() {
        let opened = "[".repeat(10_000);
        let closed = format!("{opened}{}", "]".repeat(10_000));
        let objects = format!("{}{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
        // The deepest `Node` serde_json accepts (64 objects, 63 arrays), with
        // the error at the bottom.
        let mut deepest = String::from(r#"{"name":1}"#);
        for _ in 0..63 {
            deepest = format!(r#"{{"name":"n","children":[{deepest}]}}"#);
        }
        assert!(serde_json::from_str::<serde_json::Value>(&deepest).is_ok());
        // A modest stack (tokio's workers have 2 MiB) shows the walk is
        // bounded; unoptimized builds need the most.
        std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(move || {
                let started = std::time::Instant::now();
                for input in [&opened, &closed, &objects] {
                    for e in [err::<Flag>(input), err::<Node>(input)] {
                        assert!(
                            e.starts_with("Input is not a valid JSON string: recursion limit"),
                            "{e}"
                        );
                    }
                }
                let e = err::<Node>(&deepest);
                assert_eq!(
                    e,
                    format!(
                        "Property `{}name`: Expected type to be `string`, actually `number`.",
                        "children.0.".repeat(63)
                    )
                );
                assert!(started.elapsed() < std::time::Duration::from_secs(5));
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn explain_bails_out_past_depth_128() {
        let mut value = json!(1);
        for _ in 0..2_000 {
            value = serde_json::Value::Array(vec![value]);
        }
        let schema = json!({"$ref": "#/$defs/A", "$defs": {"A": {"type": "array", "items": {"$ref": "#/$defs/A"}}}});
        assert_eq!(explain(&schema, &value), Some(TOO_COMPLEX.to_owned()));
        // serde_json drops values recursively: take it apart by hand.
        while let serde_json::Value::Array(mut items) = value {
            value = items.pop().unwrap_or_default();
        }
        // Self-references that never reach a value do not loop.
        let looping = json!({"$ref": "#/$defs/A", "$defs": {"A": {"$ref": "#/$defs/A"}}});
        assert_eq!(explain(&looping, &json!(1)), None);
        let looping = json!({"$defs": {"A": {"anyOf": [{"$ref": "#/$defs/A"}, {"type": "string"}]}}, "$ref": "#/$defs/A"});
        assert_eq!(explain(&looping, &json!(1)), Some(TOO_COMPLEX.to_owned()));
        // Branching self-references stay within the work budget.
        let branching = json!({
            "$defs": {"A": {"anyOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/A"}, {"type": "string"}]}},
            "$ref": "#/$defs/A"
        });
        let started = std::time::Instant::now();
        assert_eq!(explain(&branching, &json!(1)), Some(TOO_COMPLEX.to_owned()));
        assert_eq!(
            explain(&branching, &json!(null)),
            Some(TOO_COMPLEX.to_owned())
        );
        // (The first member recurses before `string` is tried.)
        assert_eq!(
            explain(&branching, &json!("s")),
            Some(TOO_COMPLEX.to_owned())
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn explain_on_handwritten_schemas() {
        let schema = json!({"type": "object", "properties": {"a": {"type": ["string", "number"]}}});
        assert_eq!(
            explain(&schema, &json!({"a": true})),
            Some(
                "Property `a`: Expected type to be `string | number`, actually `boolean`."
                    .to_owned()
            )
        );
        let schema = json!({"enum": ["x", 1, true]});
        assert_eq!(
            explain(&schema, &json!("y")),
            Some("`'y'` is not matched to `'x' | 1 | true`".to_owned())
        );
        assert_eq!(
            explain(&schema, &json!(null)),
            Some("Expected type to be `string | number | boolean`, actually `null`.".to_owned())
        );
        let schema = json!({"const": "only"});
        assert_eq!(
            explain(&schema, &json!("other")),
            Some("Expected to equals `'only'`, actually `'other'`".to_owned())
        );
        let schema =
            json!({"definitions": {"U": {"type": "string"}}, "items": {"$ref": "#/definitions/U"}});
        assert_eq!(
            explain(&schema, &json!(["a", 2])),
            Some("Property `1`: Expected type to be `string`, actually `number`.".to_owned())
        );
        let schema = json!({"allOf": [{"required": ["a"]}, {"required": ["b"]}]});
        assert_eq!(
            explain(&schema, &json!({"a": 1})),
            Some("Missing required property `b`.".to_owned())
        );
        assert_eq!(explain(&json!(true), &json!({"any": [1]})), None);
        assert_eq!(explain(&json!({}), &json!(null)), None);
        assert_eq!(explain(&json!({"$ref": "#/nowhere"}), &json!(1)), None);
    }

    #[test]
    fn js_number_formatting() {
        let cases: &[(f64, &str)] = &[
            (1.5, "1.5"),
            (-1.0, "-1"),
            (0.0, "0"),
            (-0.0, "0"),
            (100.0, "100"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (0.1 + 0.2, "0.30000000000000004"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (-1.25e-10, "-1.25e-10"),
            (123456789.125, "123456789.125"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        ];
        for (x, want) in cases {
            assert_eq!(js_f64(*x), *want, "{x:e}");
        }
    }

    #[test]
    fn decode_success_passes_through() {
        let req: HasTagged = decode(r#"{"p":{"type":"A","x":2.5},"extra":1}"#).unwrap();
        assert!(matches!(req.p, Tagged::A { x } if x == 2.5));
    }

    #[test]
    fn ref_pointers_are_percent_decoded() {
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("/$defs/Point", "/$defs/Point"),
            ("/$defs/a%20b", "/$defs/a b"),
            ("/%24defs/Point", "/$defs/Point"),
            ("/$defs/%C3%A9t%C3%A9", "/$defs/\u{e9}t\u{e9}"),
            ("/$defs/\u{e9}", "/$defs/\u{e9}"),
            ("/a~1b%7E0", "/a~1b~0"),
            // Malformed escapes stay as they are.
            ("%", "%"),
            ("/a%", "/a%"),
            ("%4", "%4"),
            ("%zz", "%zz"),
            ("%4g", "%4g"),
            ("%%41", "%A"),
            ("%41%", "A%"),
            // Bytes that are not UTF-8 become U+FFFD.
            ("%e9", "\u{fffd}"),
            ("/x%ff%fey", "/x\u{fffd}\u{fffd}y"),
            ("%C3", "\u{fffd}"),
        ];
        for (pointer, want) in cases {
            assert_eq!(super::percent_decode(pointer), *want, "{pointer:?}");
        }
    }
}
