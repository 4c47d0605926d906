//! Unit tests on small hand-written protos, against the byte strings of TSRPC-WIRE.md
//! section c (produced by tsbuffer 2.2.23). The kitchen-sink corpus is tested in
//! `tests/tests/tsbuffer.rs`.

use serde::{Deserialize, Serialize};

use super::{ErrorKind, Proto};
use crate::types::JsMap;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn proto(types: &str) -> Proto {
    Proto::parse(&format!(r#"{{"types": {{{types}}}}}"#)).unwrap()
}

/// Encodes `value` as `id`, checks the bytes, decodes them back and checks the value.
fn both_ways<T>(p: &Proto, id: &str, value: &T, want: &str)
where
    T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
{
    let schema = p.schema(id).unwrap();
    let bytes = p.encode(schema, value).unwrap();
    assert_eq!(hex(&bytes), want.replace(' ', ""), "{value:?}");
    let back: T = p.decode(schema, &bytes).unwrap();
    assert_eq!(&back, value);
}

const UINT: &str = r#"{"type": "Number", "scalarType": "uint"}"#;

#[test]
fn extends_block_then_own_properties_then_index_entries() {
    let p = proto(&format!(
        r#""a/Base": {{"type": "Interface", "properties": [{{"id": 0, "name": "base", "type": {UINT}}}]}},
           "a/Child": {{"type": "Interface",
             "extends": [{{"id": 0, "type": {{"type": "Reference", "target": "a/Base"}}}}],
             "properties": [{{"id": 0, "name": "own", "type": {UINT}}}],
             "indexSignature": {{"keyType": "String", "type": {UINT}}}}}"#
    ));
    // The Rust fields come own first, then inherited, then the index signature.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Child {
        own: u64,
        base: u64,
        #[serde(flatten)]
        extra: JsMap<u64>,
    }
    let value = Child {
        own: 3,
        base: 1,
        extra: [("extra", 7)].into_iter().collect(),
    };
    both_ways(&p, "a/Child", &value, "03 07012901 2903 0105657874726107");
}

#[test]
fn unions_of_primitives_write_the_first_member_that_fits() {
    let p = proto(
        r#""a/U": {"type": "Union", "members": [
            {"id": 0, "type": {"type": "String"}},
            {"id": 1, "type": {"type": "Number"}},
            {"id": 2, "type": {"type": "Literal", "literal": null}}]}"#,
    );
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(untagged)]
    enum U {
        S(String),
        N(f64),
    }
    both_ways(&p, "a/U", &Some(U::S("hi".into())), "01 00 02 6869");
    both_ways(&p, "a/U", &Some(U::N(1.5)), "01 06 3ff8000000000000");
    both_ways(&p, "a/U", &None::<U>, "01 08");
}

#[test]
fn a_tagged_union_writes_the_member_whose_literal_matches() {
    let p = proto(&format!(
        r#""a/U": {{"type": "Union", "members": [
            {{"id": 0, "type": {{"type": "Interface", "properties": [
                {{"id": 0, "name": "kind", "type": {{"type": "Literal", "literal": "a"}}}},
                {{"id": 1, "name": "x", "type": {{"type": "String"}}}}]}}}},
            {{"id": 1, "type": {{"type": "Interface", "properties": [
                {{"id": 0, "name": "kind", "type": {{"type": "Literal", "literal": "b"}}}},
                {{"id": 1, "name": "y", "type": {UINT}}}]}}}}]}}"#
    ));
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "kind")]
    enum U {
        #[serde(rename = "a")]
        A { x: String },
        #[serde(rename = "b")]
        B { y: u64 },
    }
    both_ways(&p, "a/U", &U::B { y: 2 }, "01 07 01 2d 02");
    both_ways(&p, "a/U", &U::A { x: "q".into() }, "01 03 01 2c 01 71");
}

#[test]
fn an_intersection_writes_every_member() {
    let p = proto(&format!(
        r#""a/I": {{"type": "Intersection", "members": [
            {{"id": 0, "type": {{"type": "Interface", "properties": [{{"id": 0, "name": "p", "type": {{"type": "String"}}}}]}}}},
            {{"id": 1, "type": {{"type": "Interface", "properties": [{{"id": 0, "name": "q", "type": {UINT}}}]}}}}]}}"#
    ));
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct I {
        p: String,
        q: u64,
    }
    both_ways(
        &p,
        "a/I",
        &I {
            p: "pp".into(),
            q: 4,
        },
        "02 03 01 28 02 7070 07 01 29 04",
    );
}

#[test]
fn a_tuple_field_has_a_mask_and_a_length_prefix() {
    let p = proto(&format!(
        r#""a/T": {{"type": "Interface", "properties": [
            {{"id": 4, "name": "t", "type": {{"type": "Tuple", "elementTypes": [
                {{"type": "String"}}, {UINT}, {{"type": "Boolean"}}], "optionalStartIndex": 2}}}}]}}"#
    ));
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct T {
        t: (String, u64, Option<bool>),
    }
    both_ways(
        &p,
        "a/T",
        &T {
            t: ("s".into(), 300, None),
        },
        "01 38 05 03 01 73 ac02",
    );
    both_ways(
        &p,
        "a/T",
        &T {
            t: ("s".into(), 300, Some(true)),
        },
        "01 38 06 07 01 73 ac02 ff",
    );
    // A required element missing is refused.
    #[derive(Serialize)]
    struct Short {
        t: (String,),
    }
    let err = p
        .encode(p.schema("a/T").unwrap(), &Short { t: ("s".into(),) })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode);
    assert_eq!(err.path(), "t");
}

#[test]
fn required_properties_and_wrong_types_are_refused_with_their_path() {
    let p = proto(&format!(
        r#""a/In": {{"type": "Interface", "properties": [{{"id": 0, "name": "n", "type": {UINT}}}]}},
           "a/Out": {{"type": "Interface", "properties": [
             {{"id": 0, "name": "inner", "type": {{"type": "Reference", "target": "a/In"}}}}]}}"#
    ));
    #[derive(Serialize)]
    struct In {
        n: i64,
    }
    #[derive(Serialize)]
    struct Out {
        inner: In,
    }
    #[derive(Serialize)]
    struct Empty {}
    let out = p.schema("a/Out").unwrap();
    let err = p
        .encode(
            out,
            &Out {
                inner: In { n: -1 },
            },
        )
        .unwrap_err();
    assert_eq!(err.detail(), "`inner.n`: `-1` is not a valid `uint`.");
    let err = p.encode(out, &Empty {}).unwrap_err();
    assert_eq!(err.detail(), "Missing required property `inner`.");
}

#[test]
fn bad_input_is_refused_without_panicking() {
    let p = proto(&format!(
        r#""a/P": {{"type": "Interface", "properties": [
            {{"id": 0, "name": "s", "type": {{"type": "String"}}}},
            {{"id": 1, "name": "v", "type": {{"type": "Array", "elementType": {UINT}}}}}]}}"#
    ));
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct P {
        s: String,
        v: Vec<u64>,
    }
    let schema = p.schema("a/P").unwrap();
    for bad in [
        "",
        "01",
        "0128ffffffff0f", // a string length far past the end
        "012c05",         // array length prefix past the end
        "012c0205ff",     // array count 5, one byte left
        "ffffffffffffffffffffff01",
        "80808080102d01", // block count 2^32
    ] {
        let err = p.decode::<P>(schema, &unhex(bad)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{bad}");
    }
}

#[test]
fn deep_nesting_is_refused() {
    let p = proto(
        r#""a/N": {"type": "Interface", "properties": [
            {"id": 0, "name": "n", "type": {"type": "Reference", "target": "a/N"}, "optional": true}]}"#,
    );
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct N {
        n: Option<Box<N>>,
    }
    // 1000 levels of `{n: {n: ...}}`: "01 2b" repeated, then "00".
    let mut bytes = Vec::new();
    for _ in 0..1000 {
        bytes.extend_from_slice(&[0x01, 0x2b]);
    }
    bytes.push(0);
    let err = p.decode::<N>(p.schema("a/N").unwrap(), &bytes).unwrap_err();
    assert!(err.reason().contains("nested more than"), "{err}");
}

#[test]
fn unknown_references_fail_when_the_proto_is_read() {
    let err = Proto::parse(r#"{"types": {"a/P": {"type": "Reference", "target": "a/Nowhere"}}}"#)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Proto);
    assert!(err.detail().contains("a/Nowhere"), "{err}");
}

#[test]
fn bigint_has_no_binary_encoding() {
    let p = proto(r#""a/B": {"type": "Number", "scalarType": "bigint"}"#);
    let err = p.encode(p.schema("a/B").unwrap(), &5u64).unwrap_err();
    assert_eq!(err.detail(), "Scalar type not support : bigint");
}

#[test]
fn nested_unions_cannot_make_decoding_exponential() {
    // A union of two objects, each holding the union again: a union block with both members
    // is scanned, then read again; nested 60 deep that would be 2^60 reads.
    let p = proto(
        r#""a/N": {"type": "Union", "members": [
            {"id": 0, "type": {"type": "Interface", "properties": [
                {"id": 0, "name": "x", "type": {"type": "Reference", "target": "a/N"}, "optional": true}]}},
            {"id": 1, "type": {"type": "Interface", "properties": [
                {"id": 0, "name": "y", "type": {"type": "Reference", "target": "a/N"}, "optional": true}]}}]}"#,
    );
    let schema = p.schema("a/N").unwrap();
    // One level: 2 members; member 0 = {x: <inner>}, member 1 = {}.
    let mut bytes = vec![0x01, 0x07, 0x00]; // innermost: member 1 only, empty
    for _ in 0..60 {
        let mut level = vec![0x02, 0x03, 0x01, 0x2b];
        level.extend_from_slice(&bytes);
        level.extend_from_slice(&[0x07, 0x00]);
        bytes = level;
    }
    let started = std::time::Instant::now();
    let err = p
        .decode::<serde::de::IgnoredAny>(schema, &bytes)
        .unwrap_err();
    assert!(err.reason().contains("more than 16 times"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    // A few levels are fine.
    let mut small = vec![0x01, 0x07, 0x00];
    for _ in 0..3 {
        let mut level = vec![0x02, 0x03, 0x01, 0x2b];
        level.extend_from_slice(&small);
        level.extend_from_slice(&[0x07, 0x00]);
        small = level;
    }
    p.decode::<serde::de::IgnoredAny>(schema, &small).unwrap();
}

/// Integers beyond JavaScript's safe range are refused in binary as in JSON: a varint would
/// carry them, but tsbuffer reads every number into a double. The edge itself travels.
#[test]
fn integers_beyond_the_safe_range_are_refused_naming_the_field() {
    let p = proto(&format!(
        r#""a/P": {{"type": "Interface", "properties": [
             {{"id": 0, "name": "u", "type": {UINT}}},
             {{"id": 1, "name": "i", "type": {{"type": "Number", "scalarType": "int"}}}},
             {{"id": 2, "name": "d", "type": {{"type": "Number"}}}}]}}"#
    ));
    #[derive(Debug, Clone, Copy, Serialize)]
    struct P {
        u: u64,
        i: i64,
        d: i128,
    }
    let schema = p.schema("a/P").unwrap();
    let max = crate::json::MAX_SAFE_INTEGER;
    let edge = P {
        u: max,
        i: -(max as i64),
        d: max as i128,
    };
    let bytes = p.encode(schema, &edge).unwrap();
    #[derive(Debug, PartialEq, Deserialize)]
    struct Read {
        u: u64,
        i: i64,
        d: f64,
    }
    let read = Read {
        u: max,
        i: -(max as i64),
        d: max as f64,
    };
    assert_eq!(p.decode::<Read>(schema, &bytes).unwrap(), read);
    for (value, field, shown) in [
        (P { u: max + 1, ..edge }, "u", (max + 1).to_string()),
        (
            P {
                i: -(max as i64) - 1,
                ..edge
            },
            "i",
            format!("-{}", max + 1),
        ),
        (
            P {
                d: 1 << 100,
                ..edge
            },
            "d",
            (1u128 << 100).to_string(),
        ),
    ] {
        let err = p.encode(schema, &value).unwrap_err().to_string();
        assert!(err.contains(&format!("`{field}`")), "{err}");
        assert!(
            err.contains(&format!("the integer {shown} is beyond")),
            "{err}"
        );
    }
}

/// `{ [key: number]: uint }`: the decoder refuses a key that is not an integer as JavaScript
/// writes it, as tsbuffer's validation after decoding does (found by the `tsbuffer_decode`
/// fuzz target: the key `""` decoded, and the value then failed to encode).
#[test]
fn number_keys_are_checked_when_decoding() {
    let p = proto(&format!(
        r#""a/M": {{"type": "Interface", "indexSignature": {{"keyType": "Number", "type": {UINT}}}}}"#
    ));
    let schema = p.schema("a/M").unwrap();
    let entry = |key: &str| {
        let mut b = vec![0x01, 0x01, key.len() as u8];
        b.extend_from_slice(key.as_bytes());
        b.push(0x05);
        b
    };
    let map: JsMap<u64> = p.decode(schema, &entry("12")).unwrap();
    assert_eq!(map.get("12"), Some(&5));
    assert_eq!(p.encode(schema, &map).unwrap(), entry("12"));
    for bad in ["", "01", "1.5", "x", "-0", "+1"] {
        let err = p.decode::<JsMap<u64>>(schema, &entry(bad)).unwrap_err();
        assert!(
            err.to_string().contains("not a valid key"),
            "{bad:?}: {err}"
        );
    }
}

/// `object` holds an object or an array: other JSON is refused when decoding, as tsbuffer's
/// validation after decoding refuses it (found by the `tsbuffer_decode` fuzz target: a number
/// decoded, and the value then failed to encode).
#[test]
fn object_values_are_objects_or_arrays_when_decoding() {
    let p = proto(r#""a/O": {"type": "Object"}"#);
    let schema = p.schema("a/O").unwrap();
    let text = |json: &str| {
        let mut b = vec![json.len() as u8];
        b.extend_from_slice(json.as_bytes());
        b
    };
    for good in [r#"{"a":1}"#, "[1,2]", r#" {"a":[]}"#] {
        let v: serde_json::Value = p.decode(schema, &text(good)).unwrap();
        assert_eq!(v, serde_json::from_str::<serde_json::Value>(good).unwrap());
        assert!(p.encode(schema, &v).is_ok(), "{good}");
    }
    for bad in ["8.8e55", "\"s\"", "true", "null"] {
        let err = p
            .decode::<serde_json::Value>(schema, &text(bad))
            .unwrap_err();
        assert!(
            err.to_string().contains("an object or an array"),
            "{bad}: {err}"
        );
    }
}

/// A double inside JSON text (`any`) reads back as the same double, long mantissas included
/// (serde_json's `float_roundtrip`; found by the `tsbuffer_decode` fuzz target: without it
/// `5.555555555555555e+51` read back one unit in the last place off).
#[test]
fn doubles_inside_any_values_read_back_exactly() {
    let p = proto(r#""a/A": {"type": "Any"}"#);
    let schema = p.schema("a/A").unwrap();
    for x in [
        5.555555555555555e51,
        0.1 + 0.2,
        1.7976931348623157e308,
        5e-324,
        -0.5,
    ] {
        let v = serde_json::json!({ "x": x });
        let bytes = p.encode(schema, &v).unwrap();
        let back: serde_json::Value = p.decode(schema, &bytes).unwrap();
        assert_eq!(back["x"].as_f64(), Some(x), "{x:e}");
    }
}
