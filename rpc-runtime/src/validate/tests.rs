//! Tests of `validate`: typed decodes and their error texts, `explain` on hand-written
//! schemas, the walk's limits, the field-order probe, and the strict deserializer.
//!
//! Expected texts were checked against tsbuffer-validator 2.1.3 running in
//! Node.js (`TSBufferValidator#prune` on the equivalent TypeScript types),
//! except where a test says it shows a choice of ours.
//!
//! Over 600 lines because it is one concept: each case is one TSRPC-checked text, with the
//! protocol types it needs declared above them.

// The test types' fields are only read through `Debug`.
#![allow(dead_code)]

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::{decode, explain, TOO_COMPLEX};
use crate::json::js_f64;

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
        Some("Property `a`: Expected type to be `string | number`, actually `boolean`.".to_owned())
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

/// The strict deserializer on its own.
mod strict_reading {
    use super::super::strict::from_str_strict;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Pair {
        a: f64,
        b: Option<Vec<u32>>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Loose {
        any: serde_json::Value,
        map: std::collections::HashMap<String, Pair>,
        raw: Box<serde_json::value::RawValue>,
        unit: Mode,
    }

    #[derive(Debug, serde::Deserialize)]
    enum Mode {
        On,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(tag = "type")]
    #[allow(dead_code)]
    enum Tagged {
        P { p: f64 },
    }

    #[test]
    fn strict_refuses_arrays_for_structs_and_maps_for_unit_variants() {
        let strict = |t: &str| from_str_strict::<Pair>(t).0.map(|_| ());
        assert!(strict(r#"{"a":1,"b":[2]}"#).is_ok());
        assert!(strict(r#"{"a":1,"b":null} "#).is_ok());
        assert!(serde_json::from_str::<Pair>("[1,[2]]").is_ok());
        let e = strict("[1,[2]]").unwrap_err();
        assert!(e.to_string().starts_with("invalid type: sequence"), "{e}");
        assert!(strict(r#"{"a":1} x"#).is_err());
        let (mode, _) = from_str_strict::<Mode>(r#""On""#);
        assert!(matches!(mode, Ok(Mode::On)));
        assert!(serde_json::from_str::<Mode>(r#"{"On":null}"#).is_ok());
        assert!(from_str_strict::<Mode>(r#"{"On":null}"#).0.is_err());
        assert!(from_str_strict::<Mode>(r#""Off""#).0.is_err());
        assert!(from_str_strict::<Mode>("1").0.is_err());
    }

    /// Only decodes through serde's buffered `Content` are reported as unwatched: the usual
    /// types (structs, options, maps, `Value`, `RawValue`, unit enums) are not.
    #[test]
    fn strict_reports_unwatched_paths() {
        let text = r#"{"any":[1,{"x":[]}],"map":{"k":{"a":1}},"raw":[1, 2],"unit":"On"}"#;
        let (loose, unwatched) = from_str_strict::<Loose>(text);
        let loose = loose.unwrap();
        assert_eq!(loose.raw.get(), "[1, 2]");
        assert_eq!(loose.any, serde_json::json!([1, {"x": []}]));
        assert!(!unwatched);
        let (tagged, unwatched) = from_str_strict::<Tagged>(r#"{"type":"P","p":1}"#);
        assert!(tagged.is_ok());
        assert!(unwatched);
    }
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
        assert_eq!(super::walk::percent_decode(pointer), *want, "{pointer:?}");
    }
}
