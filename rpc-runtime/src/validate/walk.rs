//! The schema walk: checks a parsed JSON value against a schemars JSON Schema (draft 2020-12)
//! the way tsbuffer-validator checks a value against a TypeScript type, and stops at the first
//! mismatch.
//!
//! [`Checker`] follows `$ref`s, treats `null` as a missing value where tsbuffer does (no
//! `strictNullChecks`), checks `Option<T>` as `T`, unions by tsbuffer's rules, objects in the
//! order of [`super::order`], and reports in [`super::grammar`]'s words. Limits: the walk never
//! nests deeper than 128 values (serde_json's own recursion limit) or 384 calls, and stops after
//! a million steps; past those it answers [`Outcome::Aborted`]. Keys of one object are visited
//! in JavaScript's order for index-like keys (ascending, first), but the rest follow the parsed
//! map (by name without serde_json's `preserve_order`), not the sender's order, which only
//! matters when several keys of one map or excess keys are wrong.

use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{Map, Value};

use super::grammar::{js_equals, js_keys, type_of, union_error, Kind, VErr};
use super::integers::{check_integer, numeric_pattern, pattern_matches};
use super::order::{property_order, FieldOrders};

/// Deepest value nesting the walk goes into (serde_json's own limit).
const MAX_VALUE_DEPTH: usize = 128;
/// Deepest call nesting of the walk (values plus union indirections).
const MAX_CALL_DEPTH: usize = 3 * MAX_VALUE_DEPTH;
/// Work budget of one walk (guards against unions re-walking big subtrees).
const MAX_STEPS: usize = 1_000_000;
/// Most `$ref` hops followed in a row.
const MAX_REF_HOPS: usize = 32;
/// Most schemas looked at to tell whether one accepts null.
const MAX_NULL_PROBES: usize = 256;

static NULL: Value = Value::Null;
static ANY: Value = Value::Bool(true);

/// The verdict of one walk.
pub(super) enum Outcome {
    /// The value fits the schema.
    Match,
    /// The first mismatch, in tsbuffer's words.
    Mismatch(String),
    /// A limit was hit before a verdict.
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

/// One walk of a value over a schema.
pub(super) struct Checker<'s> {
    root: &'s Value,
    orders: Option<&'s FieldOrders>,
    steps: usize,
    /// Property order per object schema (keyed by its address).
    order_cache: HashMap<usize, Rc<[&'s str]>>,
}

impl<'s> Checker<'s> {
    /// A walk over `root`, with the declared field orders of its type when known.
    pub(super) fn new(root: &'s Value, orders: Option<&'s FieldOrders>) -> Self {
        Checker {
            root,
            orders,
            steps: 0,
            order_cache: HashMap::new(),
        }
    }

    /// Checks `value` against the root schema.
    pub(super) fn run(mut self, value: &Value) -> Outcome {
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
            "integer" => return check_integer(obj, v).or_else(fail),
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
                    let holds_const = |s| self.resolve(s).is_some_and(|s| s.get("const").is_some());
                    let order: Rc<[&'s str]> =
                        property_order(self.orders, props, required, holds_const).into();
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

/// A `$ref`'s JSON pointer with its `%XX` escapes decoded (a malformed escape is kept as it
/// is; bytes that are not UTF-8 become U+FFFD).
pub(super) fn percent_decode(s: &str) -> std::borrow::Cow<'_, str> {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy()
}
