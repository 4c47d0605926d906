//! Decodes JSON request bodies the way TSRPC validates them, and explains why a body does not
//! fit its protocol type in the words of tsbuffer-validator 2.1.3 (the validator TSRPC 3.4
//! servers use).
//!
//! Rust protocol types derive `serde::Deserialize` and `schemars::JsonSchema`. [`decode`]
//! decodes through [`strict`], which refuses what serde's derived impls accept but the
//! validator does not (an array for a struct, an object for a unit variant). When serde refuses
//! a body, [`decode`] walks the type's JSON Schema ([`walk`], over the [`cache`]d schema) over
//! the parsed value and reports the first mismatch the way tsbuffer-validator would
//! ([`grammar`]), e.g. ``Property `user.id`: Expected type to be `number`, actually `string`.``,
//! naming properties in declaration order ([`order`], learned by the [`probe`]).
//!
//! How schemars' JSON Schema maps onto tsbuffer's types:
//!
//! * `"string"`, `"boolean"`, `"number"` → `string`, `boolean`, `number`;
//!   `"integer"` → tsbuffer's `uint` when the schema's `format` starts with
//!   `uint` or its `minimum` is at least 0, else `int`. A non-integral number
//!   and a value outside the Rust width (`300` for `u8`) are reported as
//!   ``"`300` is not a valid `uint`."``, the number printed as JavaScript's
//!   `Number#toString` prints it. An integral float (`1.0`, `1e2`, `-0`) is
//!   that integer, as in JavaScript (serde alone refuses it: see [`integers`]).
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
//! Past the walk's limits (see [`walk`]) [`explain`] answers with a generic message and
//! [`decode`] falls back to serde's error text. A union's very long "No union member matched"
//! text is cut at 64 KiB.

mod cache;
mod grammar;
mod integers;
mod order;
mod probe;
mod strict;
mod walk;

#[cfg(test)]
mod tests;

use serde::de::DeserializeOwned;
use serde_json::Value;

use self::cache::compiled;
pub(crate) use self::integers::integral_floats_as_integers;
use self::strict::from_str_strict;
use self::walk::{Checker, Outcome};

/// The answer of [`explain`] when the walk hits one of its limits.
const TOO_COMPLEX: &str = "Value is too deeply nested or too complex to validate.";

/// Explains why `value` does not match `schema` (a schemars JSON Schema as
/// JSON), in tsbuffer-validator's words; None when it matches.
///
/// Properties are checked in the fallback order described in [`order`].
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
/// The usual case costs one strict serde pass ([`strict`]: no array for a
/// struct, no object for a unit variant). Only a type whose decode went through serde's
/// buffered paths (tagged or untagged enums, custom `deserialize_any`) is also checked against
/// its schema after a success, since those paths accept arrays for structs unseen.
pub(crate) fn decode<T: DeserializeOwned + schemars::JsonSchema>(json: &str) -> Result<T, String> {
    let serde_error = match from_str_strict::<T>(json) {
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
