//! TSRPC's error grammar: the message texts of tsbuffer-validator 2.1.3.
//!
//! A mismatch found by the walk ([`super::walk`]) is a [`VErr`]: the innermost [`Kind`] of
//! error and the property path to it, rendered as tsbuffer's `errMsg` does (``Property
//! `user.id`: Expected type to be `number`, actually `string`.``). Values inside messages are
//! printed as tsbuffer prints them: `JSON.stringify` with strings in single quotes, numbers as
//! JavaScript's `Number#toString` writes them ([`crate::json::js_f64`]), object keys in
//! JavaScript's property order. [`union_error`] is tsbuffer's verdict when no member of a union
//! matched, which picks between a short summary and the full "No union member matched" list.

use std::borrow::Cow;
use std::cell::OnceCell;

use serde_json::{Map, Number, Value};

/// Longest "No union member matched" detail text kept.
const MAX_DETAIL_LEN: usize = 64 * 1024;
/// Deepest nesting printed by [`stringify()`]; deeper values are elided as `...`. The walk never
/// goes deeper either (serde_json's own recursion limit).
const MAX_STRINGIFY_DEPTH: usize = 128;

/// One tsbuffer `ValidateResultError`: the innermost error and the property
/// path to it.
#[derive(Debug)]
pub(super) struct VErr<'s, 'v> {
    pub(super) kind: Kind<'s, 'v>,
    /// Property path, innermost first (tsbuffer unshifts; we push).
    pub(super) path: Vec<String>,
    /// The rendered message without the path prefix.
    body: OnceCell<String>,
}

/// What went wrong, one variant per message text of tsbuffer-validator.
#[derive(Debug)]
pub(super) enum Kind<'s, 'v> {
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
    pub(super) fn new(kind: Kind<'s, 'v>) -> Self {
        VErr {
            kind,
            path: Vec::new(),
            body: OnceCell::new(),
        }
    }

    /// tsbuffer's `errMsg`.
    pub(super) fn message(&self) -> String {
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
pub(super) fn type_of(v: &Value) -> &'static str {
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
    if depth > MAX_STRINGIFY_DEPTH {
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
    crate::json::js_f64(n.as_f64().unwrap_or(f64::NAN))
}

/// An object's keys in JavaScript's `for...in` order: array-index keys
/// ascending first, then the rest in the map's order.
pub(super) fn js_keys(map: &Map<String, Value>) -> Vec<&String> {
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
pub(super) fn js_equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        _ => a == b,
    }
}

/// tsbuffer's `_validateUnionType` verdict when every member failed.
#[inline(never)]
pub(super) fn union_error<'s, 'v>(v: &'v Value, errors: Vec<VErr<'s, 'v>>) -> VErr<'s, 'v> {
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
