//! The strict deserializer on its own.

use crate::validate::strict::from_str_strict;

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
