//! Property tests of the whole input path: the proptest versions of the cargo-fuzz targets in
//! `fuzz/`, short enough for every CI run.
//!
//! Arbitrary bytes, frame sequences, JSON-ish envelopes (random names, bodies and sns, deep
//! nesting, random UTF-8, huge numbers) and HTTP requests go through `rpc_runtime::__fuzz`
//! into the reference chat server. Each case asserts that the server did not panic (anywhere,
//! spawned tasks included: the entry points check) nor hang, that it left no connection
//! behind, and that it still answers a good request afterwards.

use std::time::Duration;

use proptest::prelude::*;
use protocols::chat;
use rpc_runtime::__fuzz::{masked_frame, FuzzServer, OP_BINARY, OP_CLOSE, OP_TEXT};
use rpc_runtime::server::ServerOptions;

/// As `fuzz/src/lib.rs`: small limits, a short API timeout. One server per test thread, so
/// that "no connection left open" sees only this test's connections.
fn server() -> FuzzServer {
    thread_local! {
        static SERVER: FuzzServer = {
            let options = ServerOptions::default()
                .api_timeout(Some(Duration::from_millis(200)))
                .max_frame_size(64 * 1024)
                .max_body_size(64 * 1024);
            let addr = ([127, 0, 0, 1], 0).into();
            let server = rpc_examples::chat_server::build(chat::Server::ws(addr, options));
            FuzzServer::new(server.into_inner())
        };
    }
    SERVER.with(FuzzServer::clone)
}

const GOOD_WS: &str = r#"["Add",{"a":1,"b":2},1]"#;
const GOOD_WS_REPLY: &str = r#"["Add",{"isSucc":true,"res":{"c":3}},1]"#;
const GOOD_HTTP: &[u8] = b"POST /Add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
Content-Length: 13\r\n\r\n{\"a\":1,\"b\":2}";
const GOOD_HTTP_REPLY: &str = r#"{"isSucc":true,"res":{"c":3}}"#;

/// The server is still whole: no connection left open, and a good call over WebSocket and over
/// HTTP is answered.
fn assert_still_serves(s: &FuzzServer) {
    assert!(
        s.handle().connections().is_empty(),
        "a connection was left open"
    );
    let ws = s.ws_text(GOOD_WS.as_bytes());
    assert!(
        ws.texts().iter().any(|t| t == GOOD_WS_REPLY),
        "no answer over WebSocket: {ws:?}"
    );
    let http = String::from_utf8_lossy(&s.http_request(GOOD_HTTP)).into_owned();
    assert!(http.starts_with("HTTP/1.1 200 OK"), "{http}");
    assert!(
        http.contains(GOOD_HTTP_REPLY),
        "no answer over HTTP: {http}"
    );
}

// --- JSON-ish text -------------------------------------------------------------------------------

/// Any string, as JSON text (random UTF-8, escapes, lone surrogates written as escapes).
fn json_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
        "[a-zA-Z/]{0,12}".prop_map(|s| format!("\"{s}\"")),
        Just(r#""\ud800""#.to_owned()),
        Just(r#""\udc00\ud83d\ude00""#.to_owned()),
        Just("\"\\u0000\"".to_owned()),
    ]
}

/// Numbers, including the ones no f64 / u64 holds.
fn json_number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        "-?[0-9]{19,60}",
        "-?[1-9]\\.[0-9]{1,5}[eE][+-]?[0-9]{3,5}",
        Just("0.0000000000000000000000000001".to_owned()),
        Just("9007199254740993".to_owned()),
        Just("-0".to_owned()),
    ]
}

/// Property names: the chat service's own (so typed decoding gets far) and any others.
fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "a", "b", "mode", "frames", "ms", "reason", "username", "password", "name",
            "content", "roomId", "user", "tags", "id", "userId",
        ])
        .prop_map(|k| format!("\"{k}\"")),
        1 => json_string(),
    ]
}

/// A JSON value as text: objects, arrays, strings, numbers, literals; a few levels deep.
fn json_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        json_number(),
        json_string(),
        prop::sample::select(vec!["\"number\"", "\"throw\"", "\"string\"", "\"wrong\""])
            .prop_map(str::to_owned),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((json_key(), inner), 0..6).prop_map(|kv| {
                let fields: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

/// Nesting far past any sane depth (stack safety).
fn deep_value() -> impl Strategy<Value = String> {
    (1usize..20_000, any::<bool>(), any::<bool>()).prop_map(|(depth, objects, closed)| {
        let (open, close) = if objects {
            ("{\"a\":", "}")
        } else {
            ("[", "]")
        };
        let mut s = open.repeat(depth);
        s.push('1');
        if closed {
            s.push_str(&close.repeat(depth));
        }
        s
    })
}

/// Service names: the chat service's (APIs and messages), and any others.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "Add", "Fail", "GameBurst", "Kick", "Login", "Slow", "Stats", "Chat",
            "room/UserJoin", "room/UserLeave", "game/GameStart", "game/GameFrame", "game/GameOver",
        ])
        .prop_map(str::to_owned),
        1 => any::<String>(),
        1 => "[a-z/]{0,300}",
    ]
}

/// An sn: absent (a message), valid, or 0, negative, fractional, huge, not a number.
fn sn() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        2 => Just(None),
        3 => (1u64..1000).prop_map(|n| Some(n.to_string())),
        2 => json_number().prop_map(Some),
        1 => json_value().prop_map(Some),
    ]
}

/// `[name, body, sn?, extra...]`, or a broken variant of it.
fn envelope() -> impl Strategy<Value = String> {
    let body = prop_oneof![4 => json_value(), 1 => deep_value()];
    let env = (
        name(),
        body,
        sn(),
        prop::collection::vec(json_value(), 0..2),
    )
        .prop_map(|(name, body, sn, extra)| {
            let mut parts = vec![serde_json::to_string(&name).unwrap(), body];
            parts.extend(sn);
            if parts.len() == 3 {
                parts.extend(extra);
            }
            format!("[{}]", parts.join(","))
        })
        .boxed();
    prop_oneof![
        6 => env.clone(),
        // Cut short, or with a byte changed.
        1 => (env.clone(), any::<prop::sample::Index>())
            .prop_map(|(e, i)| e[..floor_boundary(&e, i.index(e.len() + 1))].to_owned()),
        1 => (env, any::<prop::sample::Index>(), any::<char>()).prop_map(|(e, i, c)| {
            let at = floor_boundary(&e, i.index(e.len() + 1));
            format!("{}{c}{}", &e[..at], &e[at..])
        }),
        1 => json_value(),
        1 => deep_value(),
    ]
}

/// The largest char boundary of `s` at or before `i`.
fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

// --- WebSocket frames ------------------------------------------------------------------------

/// One frame as a client may send it: any opcode, FIN or not, masked or not, any payload.
fn frame() -> impl Strategy<Value = Vec<u8>> {
    let payload = prop_oneof![
        3 => envelope().prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..200),
        1 => Just(vec![0u8]),
    ];
    (
        prop_oneof![4 => Just(OP_TEXT), 1 => Just(OP_BINARY), 1 => 0u8..16],
        any::<bool>(),
        0u8..4,
        payload,
    )
        .prop_map(|(op, masked, flags, payload)| {
            let mut f = masked_frame(op, &payload);
            if flags & 1 != 0 {
                f[0] &= 0x7f; // not final
            }
            if flags & 2 != 0 {
                f[0] |= 0x40; // a reserved bit
            }
            if !masked {
                f[1] &= 0x7f;
                let at = match f[1] {
                    126 => 4,
                    127 => 10,
                    _ => 2,
                };
                f.drain(at..at + 4);
                // The payload stays masked: the server reads garbage, as from a wrong client.
            }
            f
        })
}

// --- HTTP ----------------------------------------------------------------------------------------

fn http_request() -> impl Strategy<Value = Vec<u8>> {
    let method = prop_oneof![
        6 => Just("POST".to_owned()),
        1 => prop::sample::select(vec!["GET", "OPTIONS", "PUT", "HEAD", "DELETE", "PATCH"])
            .prop_map(str::to_owned),
        1 => "[A-Za-z]{1,10}",
    ];
    let path = prop_oneof![
        4 => name().prop_map(|n| format!("/{n}")),
        1 => name().prop_map(|n| format!("/{n}?type=msg")),
        1 => "/[ -~&&[^ ]]{0,40}",
        1 => name().prop_map(|n| format!("http://h/{n}?a=1&type=msg")),
    ];
    let content_type = prop_oneof![
        4 => Just(Some("application/json".to_owned())),
        1 => Just(Some("Application/JSON; charset=utf-8".to_owned())),
        1 => Just(Some("application/octet-stream".to_owned())),
        1 => Just(None),
        1 => "[ -~]{0,30}".prop_map(Some),
    ];
    let body = prop_oneof![
        4 => json_value().prop_map(String::into_bytes),
        1 => deep_value().prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..300),
    ];
    // How the body is framed: Content-Length right, wrong or huge; chunked; none.
    let framing = prop_oneof![
        4 => Just(0u8),
        1 => Just(1u8),
        1 => Just(2u8),
        1 => Just(3u8),
        1 => Just(4u8),
    ];
    let extra = prop::collection::vec(
        prop_oneof![
            Just("Connection: close".to_owned()),
            Just("Connection: Upgrade".to_owned()),
            Just("Upgrade: websocket".to_owned()),
            Just("Sec-WebSocket-Version: 13".to_owned()),
            Just("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==".to_owned()),
            Just("X-Forwarded-For: 10.1.2.3, 10.0.0.1".to_owned()),
            Just("Expect: 100-continue".to_owned()),
            "[A-Za-z-]{1,16}: [ -~]{0,40}",
        ],
        0..4,
    );
    (
        method,
        path,
        content_type,
        body,
        framing,
        extra,
        any::<u32>(),
    )
        .prop_map(|(method, path, ct, body, framing, extra, n)| {
            let mut head = format!("{method} {path} HTTP/1.1\r\nHost: x\r\n");
            if let Some(ct) = ct {
                head.push_str(&format!("Content-Type: {ct}\r\n"));
            }
            for h in extra {
                head.push_str(&h);
                head.push_str("\r\n");
            }
            let mut body_bytes = Vec::new();
            match framing {
                0 => head.push_str(&format!("Content-Length: {}\r\n", body.len())),
                1 => head.push_str(&format!("Content-Length: {}\r\n", n % 1000)),
                2 => head.push_str(&format!("Content-Length: {}\r\n", u64::from(n) << 20)),
                3 => {
                    head.push_str("Transfer-Encoding: chunked\r\n");
                    for chunk in body.chunks(1 + (n as usize % 64)) {
                        body_bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                        body_bytes.extend_from_slice(chunk);
                        body_bytes.extend_from_slice(b"\r\n");
                    }
                    body_bytes.extend_from_slice(b"0\r\n\r\n");
                }
                _ => {}
            }
            head.push_str("\r\n");
            let mut out = head.into_bytes();
            if framing == 3 {
                out.extend(body_bytes);
            } else {
                out.extend(body);
            }
            out
        })
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Shrinking re-runs whole exchanges: keep it bounded.
        max_shrink_iters: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Raw bytes after the handshake: mostly broken framing.
    #[test]
    fn ws_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        let s = server();
        s.ws_frames(&bytes);
        assert_still_serves(&s);
    }

    /// Raw bytes of an HTTP connection.
    #[test]
    fn http_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        let s = server();
        s.http_request(&bytes);
        assert_still_serves(&s);
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// One text frame holding an envelope (valid or nearly): name, body and sn at random.
    #[test]
    fn ws_envelopes(text in envelope()) {
        let s = server();
        let ex = s.ws_text(text.as_bytes());
        prop_assert!(ex.trailing.is_empty(), "a torn frame: {ex:?}");
        // Bad input closes with a reason a close frame can carry.
        if let Some((_, reason)) = ex.close() {
            prop_assert!(reason.len() <= 123, "{reason}");
        }
        assert_still_serves(&s);
    }

    /// Several frames on one connection: any opcode, fragments, unmasked frames, binary.
    #[test]
    fn ws_frame_sequences(frames in prop::collection::vec(frame(), 1..6)) {
        let s = server();
        let ex = s.ws_frames(&frames.concat());
        prop_assert!(ex.trailing.is_empty(), "a torn frame: {ex:?}");
        assert_still_serves(&s);
    }

    /// Text frames whose payload is not UTF-8, or is random text.
    #[test]
    fn ws_random_payloads(payloads in prop::collection::vec(
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..200),
            any::<String>().prop_map(String::into_bytes),
        ],
        1..4,
    )) {
        let s = server();
        s.ws_texts(&payloads);
        assert_still_serves(&s);
    }

    /// HTTP requests: methods, paths, content types, bodies, framings, upgrade headers; one or
    /// two per connection (keep-alive).
    #[test]
    fn http_requests(reqs in prop::collection::vec(http_request(), 1..3)) {
        let s = server();
        let out = s.http_request(&reqs.concat());
        if !out.is_empty() {
            prop_assert!(out.starts_with(b"HTTP/1.1 "), "{}", String::from_utf8_lossy(&out));
        }
        assert_still_serves(&s);
    }
}

/// The frame helper itself: a close frame from the client is answered with one.
#[test]
fn client_close_is_echoed() {
    let s = server();
    let ex = s.ws_frames(&masked_frame(OP_CLOSE, &[0x03, 0xe8]));
    assert_eq!(ex.close(), Some((1000, String::new())), "{ex:?}");
}
