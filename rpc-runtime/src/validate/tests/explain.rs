//! `explain` on schemas, the order properties are checked in, the walk's limits, JS numbers
//! and `$ref` pointers.

use super::*;

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
        assert_eq!(
            crate::validate::walk::percent_decode(pointer),
            *want,
            "{pointer:?}"
        );
    }
}
