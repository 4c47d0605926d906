//! Every scan of the codec proven against the full parse, and the encodings against the
//! captures.

use super::*;

#[test]
fn split_api_success_agrees_with_the_full_parse() {
    let names = ["Add", "room/Join", "a,b", "x]", ""];
    let objects = [
        r#"{"isSucc":true,"res":{"c":3}}"#,
        r#"{"isSucc":true,"res":{}}"#,
        r#"{"isSucc":true,"res":[1,{"a":"},1]"}]}"#,
        r#"{"isSucc":true,"res":5}"#,
        r#"{"isSucc":true,"res":null}"#,
        r#"{"isSucc":true,"res":{"c":3},"err":null}"#,
        r#"{"isSucc":true,"res":{"c":3}},{"x":1}"#,
        r#"{"isSucc":true,"res":{"c":3}}}"#,
        r#"{"isSucc":true,"res":}"#,
        r#"{"isSucc":false,"err":{"message":"m","type":"ApiError"}}"#,
        r#"{"res":{"c":3},"isSucc":true}"#,
    ];
    let sns = [
        "1",
        "0",
        " 7 ",
        "9007199254740992",
        "9007199254740993",
        "01",
        "-1",
    ];
    let mut split = 0;
    for name in names {
        for object in objects {
            for sn in sns {
                let text = format!("[\"{name}\",{object},{sn}]");
                let Some((number, res)) = split_api_success(&text) else {
                    continue;
                };
                split += 1;
                match Codec::Json.decode_server_output(&text, Parse::Full) {
                    Ok(ServerOutput::ApiReturn { sn, ret: Ok(full) }) => {
                        assert_eq!(sn, number, "{text}");
                        let a: serde_json::Value = serde_json::from_str(res).unwrap();
                        let b: serde_json::Value = serde_json::from_str(full.text()).unwrap();
                        assert_eq!(a, b, "{text}");
                    }
                    _ => panic!("the scan split {text:?}, the full parse did not"),
                }
            }
        }
    }
    assert!(split >= 40, "only {split} frames split");
    // The usual frame is split.
    assert_eq!(
        split_api_success(r#"["Add",{"isSucc":true,"res":{"c":3}},7]"#),
        Some((7, r#"{"c":3}"#))
    );
}

#[test]
fn split_api_frame_agrees_with_the_full_parse() {
    // Whenever the scan splits a frame and its body is one JSON value (what a handler's
    // decode shows), the full parse reads the same call.
    let names = ["Add", "room/Join", "a,b", "é", "x]", "", " "];
    let bodies = [
        "{}",
        " {} ",
        r#"{"a":1}"#,
        "[1,2]",
        "5",
        "null",
        r#""s""#,
        r#"{"a":"],1"}"#,
        r#"{},"x""#,
        "{",
        "}",
        r#"{"a":1}}"#,
        "1 2",
        "",
    ];
    let sns = [
        "1",
        "0",
        " 7 ",
        "9007199254740992",
        "9007199254740993",
        "01",
        "1e3",
    ];
    let mut split = 0;
    for name in names {
        for body in bodies {
            for sn in sns {
                for end in ["]", " ]\n"] {
                    let text = format!("[\"{name}\",{body},{sn}{end}");
                    let Some((n, b, number)) = split_api_frame(&text) else {
                        continue;
                    };
                    let Ok(value) = serde_json::from_str::<serde_json::Value>(b) else {
                        continue;
                    };
                    split += 1;
                    match Codec::Json.decode_server_input(&text, Parse::Full) {
                        Ok(ServerInput::Api { name, body, sn }) => {
                            assert_eq!((&*name, sn), (n, number), "{text}");
                            let full: serde_json::Value =
                                serde_json::from_str(body.text()).unwrap();
                            assert_eq!(full, value, "{text}");
                        }
                        _ => panic!("the scan split {text:?}, the full parse did not"),
                    }
                }
            }
        }
    }
    assert!(split > 100, "only {split} frames split");
}

#[test]
fn split_api_frame_only_plain_calls() {
    assert_eq!(
        split_api_frame(r#"["Add",{"a":1,"b":2},7]"#),
        Some(("Add", r#"{"a":1,"b":2}"#, 7))
    );
    assert_eq!(
        split_api_frame("[\"room/Join\", [1,2] , 12 ]\n"),
        Some(("room/Join", " [1,2] ", 12))
    );
    assert_eq!(split_api_frame(r#"["a",{},0]"#), Some(("a", "{}", 0)));
    // The body may hold anything; only its decode tells whether it is one value.
    assert_eq!(
        split_api_frame(r#"["a",{},"x",3]"#),
        Some(("a", r#"{},"x""#, 3))
    );
    for text in [
        r#"["a",{}]"#,
        r#"["a",5]"#,
        r#"["a",{},01]"#,
        r#"["a",{},-1]"#,
        r#"["a",{},1.5]"#,
        r#"["a",{},9007199254740993]"#,
        r#"["a\"b",{},1]"#,
        r#"["a\u0062",{},1]"#,
        r#"[ "a",{},1]"#,
        r#"["a" ,{},1]"#,
        r#"["a", ,1]"#,
        r#"["a",1]"#,
        r#"{"a":1}"#,
        "",
    ] {
        assert_eq!(split_api_frame(text), None, "{text}");
    }
}

#[test]
fn split_msg_frame_only_plain_messages() {
    assert_eq!(
        split_msg_frame(r#"["game/Frame",{"frame":1}]"#),
        Some(("game/Frame", r#"{"frame":1}"#))
    );
    assert_eq!(split_msg_frame("[\"a\", [1,2] ]\n"), Some(("a", " [1,2] ")));
    assert_eq!(split_msg_frame(r#"["a",{},0]"#), None);
    assert_eq!(split_msg_frame(r#"["a",{},12]"#), None);
    assert_eq!(split_msg_frame(r#"["a\"b",{}]"#), None);
    assert_eq!(split_msg_frame(r#"["a\u0062",{}]"#), None);
    assert_eq!(split_msg_frame(r#"[ "a",{}]"#), None);
    assert_eq!(split_msg_frame(r#"["a"]"#), None);
    assert_eq!(split_msg_frame(r#"["a", ]"#), None);
    assert_eq!(split_msg_frame(r#"["a",{}] x"#), None);
    assert_eq!(split_msg_frame(r#"{"a":1}"#), None);
}

#[test]
fn decodes_api_and_msg() {
    let c = Codec::Json;
    match c
        .decode_server_input(r#"["Add",{"a":1,"b":2},2]"#, Parse::Full)
        .unwrap()
    {
        ServerInput::Api { name, body, sn } => {
            assert_eq!(name, "Add");
            assert_eq!(body.text(), r#"{"a":1,"b":2}"#);
            assert_eq!(sn, 2);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c.decode_server_input(r#"["room/UserLeave",{"roomId":"r1"}]"#, Parse::Full)
            .unwrap(),
        ServerInput::Msg { .. }
    ));
}

#[test]
fn bad_input_reasons() {
    let c = Codec::Json;
    assert_eq!(
        c.decode_server_input(r#"{"a":1}"#, Parse::Full)
            .unwrap_err(),
        UNRESOLVED_NAME
    );
    assert_eq!(
        c.decode_server_input(r#"[1,2]"#, Parse::Full).unwrap_err(),
        UNRESOLVED_NAME
    );
    assert_eq!(
        c.decode_server_input(r#"[]"#, Parse::Full).unwrap_err(),
        UNRESOLVED_NAME
    );
    assert!(c
        .decode_server_input("not json", Parse::Full)
        .unwrap_err()
        .starts_with("Input is not a valid JSON string: "));
    for sn in [
        "-1",
        "1.5",
        "-0.5",
        r#""7""#,
        "null",
        "{}",
        "1e16",
        "9007199254740994",
    ] {
        let frame = format!(r#"["Add",{{}},{sn}]"#);
        assert_eq!(
            c.decode_server_input(&frame, Parse::Full).unwrap_err(),
            format!("Invalid request format: invalid sn {sn}."),
        );
    }
}

/// An sn JavaScript reads as an integer is that integer (TSRPC echoes it so).
#[test]
fn sn_as_javascript_reads_it() {
    for (text, want) in [
        ("7", 7),
        ("7.0", 7),
        ("7e0", 7),
        ("0.7e1", 7),
        ("-0", 0),
        ("9007199254740992", 1 << 53),
        ("9007199254740993", 1 << 53),
        ("9007199254740992.0", 1 << 53),
    ] {
        let frame = format!(r#"["Add",{{}},{text}]"#);
        match Codec::Json.decode_server_input(&frame, Parse::Full) {
            Ok(ServerInput::Api { sn, .. }) => assert_eq!(sn, want, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn encodes_like_the_captures() {
    let c = Codec::Json;
    for (name, sn) in [
        ("Add", 2),
        ("a/b", 0),
        ("q\"uote", 9007199254740992),
        ("", u64::MAX),
    ] {
        let body = r#"{"a":1}"#;
        let want = format!("[{},{body},{sn}]", serde_json::to_string(name).unwrap());
        assert_eq!(c.encode_api_req(name, body, sn), want);
        assert_eq!(c.wrap_api_req(name, body.to_owned(), sn), want);
    }
    assert_eq!(
        c.encode_api_req("Add", r#"{"a":1,"b":2}"#, 2),
        r#"["Add",{"a":1,"b":2},2]"#
    );
    assert_eq!(
        c.encode_api_return("Add", 2, &Ok(r#"{"c":3}"#.into())),
        r#"["Add",{"isSucc":true,"res":{"c":3}},2]"#
    );
    for (name, sn) in [("Add", 2), ("q\"uote", 1)] {
        let ok = Ok(r#"{"c":3}"#.to_owned());
        assert_eq!(
            c.wrap_api_return(name, sn, ok.clone()),
            c.encode_api_return(name, sn, &ok)
        );
    }
    let err = TsrpcError::api("Failed with a numeric code").with_code(42);
    assert_eq!(
        c.wrap_api_return("Fail", 4, Err(err.clone())),
        c.encode_api_return("Fail", 4, &Err(err.clone()))
    );
    assert_eq!(
        c.encode_api_return("Fail", 4, &Err(err)),
        r#"["Fail",{"isSucc":false,"err":{"message":"Failed with a numeric code","type":"ApiError","code":42}},4]"#
    );
    match c
        .decode_server_output(r#"["Add",{"isSucc":true,"res":{"c":3}},2]"#, Parse::Scan)
        .unwrap()
    {
        ServerOutput::ApiReturn { sn, ret } => {
            assert_eq!(sn, 2);
            assert_eq!(ret.unwrap().text(), r#"{"c":3}"#);
        }
        other => panic!("{other:?}"),
    }
}

/// API returns read the same scanned and parsed in full.
#[test]
fn api_returns_read_the_same_both_ways() {
    let c = Codec::Json;
    let read = |t: &str, parse: Parse| match c.decode_server_output(t, parse) {
        Ok(ServerOutput::ApiReturn { sn, ret }) => {
            Some((sn, ret.map(|r| r.text().to_owned()).map_err(|e| e.message)))
        }
        Ok(ServerOutput::Msg { .. }) => None,
        Err(e) => Some((u64::MAX, Err(e))),
    };
    let sn_ret = |t: &str| {
        let full = read(t, Parse::Full);
        let scanned = read(t, Parse::Scan);
        // A message split by scanning comes unchecked: its listener's decode decides.
        if scanned.is_some() {
            assert_eq!(scanned, full, "{t}");
        }
        full
    };
    assert_eq!(
        sn_ret(r#"["Add",{"isSucc":true,"res":{"c":3}},2]"#),
        Some((2, Ok(r#"{"c":3}"#.to_owned())))
    );
    assert_eq!(
        sn_ret(" [\"Add\" , {\"res\":[1], \"isSucc\":true} , 9007199254740992 ] \n"),
        Some((1 << 53, Ok("[1]".to_owned())))
    );
    assert_eq!(
        sn_ret(r#"["A",{"isSucc":false,"err":{"message":"m","type":"ApiError"}},3]"#),
        Some((3, Err("m".to_owned())))
    );
    assert_eq!(
        sn_ret(r#"["A",{"isSucc":true},3]"#),
        Some((3, Ok("null".to_owned())))
    );
    // An sn JavaScript reads as an integer is one (TSRPC's client takes it so).
    assert_eq!(
        sn_ret(r#"["A",{"isSucc":true},1.0]"#),
        Some((1, Ok("null".to_owned())))
    );
    // Not API returns: sn 0, too large, not an integer, a message.
    for t in [
        r#"["A",{"isSucc":true},0]"#,
        r#"["A",{"isSucc":true},9007199254740994]"#,
        r#"["A",{"isSucc":true},1.5]"#,
        r#"["A",{"isSucc":true},-1]"#,
        r#"["A",{"x":1}]"#,
        r#"["A",[1,2]]"#,
    ] {
        assert_eq!(sn_ret(t), None, "{t}");
    }
    // The sn is the third element, not the last.
    assert_eq!(
        sn_ret(r#"["A",{"isSucc":true,"res":1},4,5]"#),
        Some((4, Ok("1".to_owned())))
    );
    // Bad bodies: the general path's error.
    assert!(sn_ret(r#"["A",{"res":1},4]"#).unwrap().1.is_err());
    assert!(sn_ret(r#"["A",7,4]"#).unwrap().1.is_err());
}
