//! Typed decodes: what each refuses, with TSRPC's text.

use super::*;

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
fn decode_success_passes_through() {
    let req: HasTagged = decode(r#"{"p":{"type":"A","x":2.5},"extra":1}"#).unwrap();
    assert!(matches!(req.p, Tagged::A { x } if x == 2.5));
}
