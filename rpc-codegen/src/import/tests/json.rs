//! The ordered JSON reader and writer: JavaScript's number and string formatting, positions.

use crate::import::json::*;

fn num(x: f64) -> String {
    let mut s = String::new();
    write_number(&mut s, x);
    s
}

#[test]
fn numbers_as_javascript_writes_them() {
    for (x, js) in [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.0, "-1"),
        (10.0, "10"),
        (0.5, "0.5"),
        (0.8, "0.8"),
        (1.25, "1.25"),
        (123456789.0, "123456789"),
        (9007199254740991.0, "9007199254740991"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e21, "1.5e+21"),
        (1e-6, "0.000001"),
        (1.5e-6, "0.0000015"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (0.1 + 0.2, "0.30000000000000004"),
        (f64::MAX, "1.7976931348623157e+308"),
        (5e-324, "5e-324"),
        (f64::NAN, "null"),
        (f64::INFINITY, "null"),
    ] {
        assert_eq!(num(x), js, "{x:e}");
    }
}

#[test]
fn keys_keep_their_order_and_positions() {
    let node =
        parse("{\n  \"b\": 1,\n  \"a\": [true, null, \"x\\u00e9\\ud83d\\ude00\"]\n}").unwrap();
    let NodeKind::Object(entries) = &node.kind else {
        panic!("{node:?}")
    };
    assert_eq!(entries[0].0, "b");
    assert_eq!(entries[1].0, "a");
    assert_eq!(entries[1].1, Pos { line: 3, column: 3 });
    assert_eq!(entries[1].2.pos, Pos { line: 3, column: 8 });
    let json = node.to_json();
    assert_eq!(
        json.to_text(Layout::Compact),
        "{\"b\":1,\"a\":[true,null,\"xé😀\"]}"
    );
}

#[test]
fn layouts_match_json_stringify() {
    let json = parse(r#"{"a":[],"b":{},"c":[1,{"d":"\n\u0001"}]}"#)
        .unwrap()
        .to_json();
    assert_eq!(
        json.to_text(Layout::Indent(2)),
        "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1,\n    {\n      \"d\": \"\\n\\u0001\"\n    }\n  ]\n}"
    );
}

#[test]
fn repeated_key_keeps_the_last_value_at_the_first_place() {
    let json = parse(r#"{"a":1,"b":2,"a":3}"#).unwrap().to_json();
    assert_eq!(json.to_text(Layout::Compact), r#"{"a":3,"b":2}"#);
}

#[test]
fn syntax_errors_are_located() {
    for (text, at, what) in [
        ("{\n  \"a\": 1,\n  \"b\" 2\n}", "3:7", "expected `:`"),
        ("[1, 2", "1:6", "expected `,` or `]`"),
        ("{\"a\": tru}", "1:7", "expected `true`"),
        ("\"\\ud800\"", "1:8", "lone surrogate"),
        ("01", "1:3", "may not start with `0`"),
        ("[1] x", "1:5", "unexpected text"),
        ("", "1:1", "unexpected end"),
        ("\"abc", "1:5", "unterminated"),
    ] {
        let err = parse(text).unwrap_err();
        assert_eq!(err.pos.to_string(), at, "{text:?}: {err}");
        assert!(err.message.contains(what), "{text:?}: {err}");
    }
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let text = "[".repeat(100_000);
    let err = parse(&text).unwrap_err();
    assert!(err.message.contains("nested more than"), "{err}");
}

#[test]
fn value_inside_a_larger_text() {
    let text = "const x = {\"a\": 1};\nrest";
    let start = text.find('=').unwrap() + 1;
    let (node, end) = parse_value_at(text, start).unwrap();
    assert_eq!(
        node.pos,
        Pos {
            line: 1,
            column: 11
        }
    );
    assert_eq!(&text[end..end + 1], ";");
    assert_eq!(pos_of(text, text.len()), Pos { line: 2, column: 5 });
}
