//! The catalogue of bad input (issue: reliability): every malformed input of TSRPC-WIRE.md a.7 and
//! b.2 and more, each with its defined outcome. Used by the catalogue test (each case once, then
//! a good call) and by the heap test (each case repeated, live heap measured).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::raw::{client_frame, http_request, Frame, RawWsClient};

/// What a case checks; `Err` says what differed.
pub type CaseResult = Result<(), String>;

/// One row of the catalogue.
pub struct Case {
    /// What is sent.
    pub name: &'static str,
    /// Sends it to the server at the address and checks the outcome.
    pub run: fn(SocketAddr) -> Pin<Box<dyn Future<Output = CaseResult> + Send>>,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// The server options the catalogue expects (the chat server over WebSocket and HTTP on one
/// port): default limits (16 MiB frames and bodies), a short handshake timeout.
pub fn server_options() -> rpc_runtime::server::ServerOptions {
    rpc_runtime::server::ServerOptions::default()
        .handshake_timeout(Duration::from_millis(300))
        .return_inner_error(true)
}

const WAIT: Duration = Duration::from_secs(3);

fn check(what: &str, got: impl std::fmt::Debug, ok: bool) -> CaseResult {
    if ok {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}"))
    }
}

async fn ws(addr: SocketAddr) -> Result<RawWsClient, String> {
    RawWsClient::connect(addr).await.map_err(|e| e.to_string())
}

/// Sends one text frame and expects close 1000 with exactly `reason`.
async fn text_closes(addr: SocketAddr, text: &[u8], reason: &str) -> CaseResult {
    let mut c = ws(addr).await?;
    c.send_text(text).await.map_err(|e| e.to_string())?;
    let frames = c.until_close(WAIT).await;
    check(
        &format!("close 1000 {reason:?}"),
        &frames,
        frames.last() == Some(&Frame::Close(1000, reason.to_owned())),
    )
}

/// Sends one text frame and expects a close whose reason starts with `prefix`.
async fn text_closes_prefix(addr: SocketAddr, text: &[u8], code: u16, prefix: &str) -> CaseResult {
    let mut c = ws(addr).await?;
    c.send_text(text).await.map_err(|e| e.to_string())?;
    let frames = c.until_close(WAIT).await;
    let ok =
        matches!(frames.last(), Some(Frame::Close(c, r)) if *c == code && r.starts_with(prefix));
    check(&format!("close {code} {prefix:?}..."), &frames, ok)
}

/// Sends one text frame and expects exactly this text back.
async fn text_replies(addr: SocketAddr, text: &[u8], reply: &str) -> CaseResult {
    let mut c = ws(addr).await?;
    c.send_text(text).await.map_err(|e| e.to_string())?;
    let got = c.next(WAIT).await;
    check(
        &format!("reply {reply}"),
        &got,
        got == Some(Frame::Text(reply.to_owned())),
    )
}

async fn http_input_error(addr: SocketAddr, path: &str, body: &[u8], message: &str) -> CaseResult {
    let resp = http_request(
        addr,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body,
    )
    .await
    .map_err(|e| e.to_string())?;
    let want = format!(
        r#"{{"isSucc":false,"err":{{"message":{},"type":"ServerError","code":"INPUT_DATA_ERR"}}}}"#,
        serde_json::to_string(message).unwrap_or_default()
    );
    check(
        &format!("200 {want}"),
        &resp,
        resp.status == 200 && resp.body == want,
    )
}

/// How deep the balanced documents are.
const DEEP: usize = 100_000;

/// The start of the reason for a document nested past serde_json's depth limit.
const DEPTH_REFUSED: &str = "Input is not a valid JSON string: recursion limit exceeded";

/// TSRPC's reason for a frame that is not `[name, ...]`.
const UNRESOLVED: &str = "Invalid request format: unresolved service name.";

/// `[[[...1...]]]`, `depth` arrays.
fn deep_arrays(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

/// `{"a":{"a":...1...}}`, `depth` objects.
fn deep_objects(depth: usize) -> String {
    format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth))
}

/// Posts `body` and expects TSRPC's `INPUT_DATA_ERR` whose message starts with `prefix`.
async fn http_input_error_prefix(
    addr: SocketAddr,
    path: &str,
    body: &[u8],
    prefix: &str,
) -> CaseResult {
    let resp = http_request(
        addr,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body,
    )
    .await
    .map_err(|e| e.to_string())?;
    let message = serde_json::from_str::<serde_json::Value>(&resp.body)
        .ok()
        .and_then(|v| {
            (v["err"]["code"] == "INPUT_DATA_ERR" && v["err"]["type"] == "ServerError")
                .then(|| v["err"]["message"].as_str().map(str::to_owned))
                .flatten()
        });
    check(
        &format!("200 INPUT_DATA_ERR {prefix:?}..."),
        &resp,
        resp.status == 200 && message.is_some_and(|m| m.starts_with(prefix)),
    )
}

macro_rules! case {
    ($name:expr, |$addr:ident| $body:expr) => {
        Case {
            name: $name,
            run: |$addr| Box::pin(async move { $body }),
        }
    };
}

/// Every case.
pub fn cases() -> Vec<Case> {
    vec![
        // --- WebSocket, TSRPC-WIRE.md a.7
        case!("ws unknown api", |a| text_closes(
            a,
            br#"["Nope",{},12]"#,
            "Invalid api path: Nope"
        )
        .await),
        case!("ws api without sn", |a| text_closes(
            a,
            br#"["Add",{"a":1,"b":2}]"#,
            "Invalid msg path: Add"
        )
        .await),
        case!("ws wrong type", |a| text_closes(
            a,
            br#"["Add",{"a":"x","b":2},2]"#,
            "Property `a`: Expected type to be `number`, actually `string`."
        )
        .await),
        case!("ws missing property", |a| text_closes(
            a,
            br#"["Add",{"a":1},3]"#,
            "Missing required property `b`."
        )
        .await),
        case!("ws nested wrong type", |a| text_closes(
            a,
            br#"["room/UserJoin",{"roomId":"r","user":{"id":"x","name":"n"},"tags":[]}]"#,
            "Property `user.id`: Expected type to be `number`, actually `string`."
        )
        .await),
        case!("ws array element", |a| text_closes(
            a,
            br#"["room/UserJoin",{"roomId":"r","user":{"id":1,"name":"n"},"tags":[3]}]"#,
            "Property `tags.0`: Expected type to be `string`, actually `number`."
        )
        .await),
        case!("ws literal union", |a| text_closes(
            a,
            br#"["Fail",{"mode":"zzz"},4]"#,
            "Property `mode`: `'zzz'` is not matched to `'string' | 'number' | 'throw'`"
        )
        .await),
        case!("ws not an array", |a| text_closes(
            a,
            br#"{"a":1}"#,
            "Invalid request format: unresolved service name."
        )
        .await),
        case!("ws empty array", |a| text_closes(
            a,
            b"[]",
            "Invalid request format: unresolved service name."
        )
        .await),
        case!("ws not json", |a| text_closes_prefix(
            a,
            b"not json",
            1000,
            "Input is not a valid JSON string: "
        )
        .await),
        case!("ws garbage binary", |a| {
            let mut c = ws(a).await?;
            c.send_binary(&[0xff, 0xff])
                .await
                .map_err(|e| e.to_string())?;
            let frames = c.until_close(WAIT).await;
            check(
                "binary data frame closed",
                &frames,
                frames.last()
                    == Some(&Frame::Close(
                        1000,
                        rpc_runtime::reasons::INVALID_BUFFER_REASON.into(),
                    )),
            )
        }),
        case!("ws 200-byte name: reason truncated to 123 bytes", |a| {
            let name = "é".repeat(100);
            let frame = format!(r#"["{name}",{{}},1]"#);
            let reason = format!("Invalid api path: {name}");
            let mut cut = 123;
            while !reason.is_char_boundary(cut) {
                cut -= 1;
            }
            text_closes(a, frame.as_bytes(), &reason[..cut]).await
        }),
        // --- sn edge cases
        case!("ws sn 0 is echoed", |a| text_replies(
            a,
            br#"["Add",{"a":1,"b":2},0]"#,
            r#"["Add",{"isSucc":true,"res":{"c":3}},0]"#
        )
        .await),
        case!("ws negative sn", |a| text_closes(
            a,
            br#"["Add",{"a":1,"b":2},-1]"#,
            "Invalid request format: invalid sn -1."
        )
        .await),
        case!("ws fractional sn", |a| text_closes(
            a,
            br#"["Add",{"a":1,"b":2},1.5]"#,
            "Invalid request format: invalid sn 1.5."
        )
        .await),
        case!("ws huge sn", |a| text_closes(
            a,
            br#"["Add",{"a":1,"b":2},18446744073709551616]"#,
            "Invalid request format: invalid sn 18446744073709551616."
        )
        .await),
        case!("ws string sn", |a| text_closes(
            a,
            br#"["Add",{"a":1,"b":2},"7"]"#,
            "Invalid request format: invalid sn \"7\"."
        )
        .await),
        // --- fields
        case!("ws unknown fields are pruned", |a| text_replies(
            a,
            br#"["Add",{"a":1,"b":2,"zzz":true},5]"#,
            r#"["Add",{"isSucc":true,"res":{"c":3}},5]"#
        )
        .await),
        case!("ws duplicate fields: the last wins", |a| text_replies(
            a,
            br#"["Add",{"a":1,"b":2,"a":10},6]"#,
            r#"["Add",{"isSucc":true,"res":{"c":12}},6]"#
        )
        .await),
        case!("ws deeply nested json", |a| {
            let mut frame = br#"["Add","#.to_vec();
            frame.extend(std::iter::repeat_n(b'[', 100_000));
            text_closes_prefix(a, &frame, 1000, "Input is not a valid JSON string: ").await
        }),
        // Balanced documents 100k deep (issue 10): refused at serde_json's depth limit (128)
        // with a clear reason, no stack overflow (the catalogue's server runs on the test's
        // own thread stack), and the connection's peers keep being served.
        case!("ws balanced 100k-deep arrays as the body", |a| {
            let frame = format!(r#"["Add",{},1]"#, deep_arrays(DEEP));
            text_closes_prefix(a, frame.as_bytes(), 1000, DEPTH_REFUSED).await
        }),
        case!("ws balanced 100k-deep objects as the body", |a| {
            let frame = format!(r#"["Add",{},1]"#, deep_objects(DEEP));
            text_closes_prefix(a, frame.as_bytes(), 1000, DEPTH_REFUSED).await
        }),
        case!("ws balanced 100k-deep objects as a message", |a| {
            let frame = format!(r#"["Chat",{}]"#, deep_objects(DEEP));
            text_closes_prefix(a, frame.as_bytes(), 1000, DEPTH_REFUSED).await
        }),
        case!("ws balanced 100k-deep arrays as the frame", |a| {
            let frame = deep_arrays(DEEP);
            text_closes(a, frame.as_bytes(), UNRESOLVED).await
        }),
        case!("ws balanced 100k-deep objects as the frame", |a| {
            let frame = deep_objects(DEEP);
            text_closes(a, frame.as_bytes(), UNRESOLVED).await
        }),
        case!(
            "ws balanced 100k-deep arrays in an unknown field are pruned",
            |a| {
                let frame = format!(r#"["Add",{{"a":1,"b":2,"x":{}}},9]"#, deep_arrays(DEEP));
                text_replies(
                    a,
                    frame.as_bytes(),
                    r#"["Add",{"isSucc":true,"res":{"c":3}},9]"#,
                )
                .await
            }
        ),
        case!("ws 10 MB string field under the limit", |a| {
            let content = "x".repeat(10_000_000);
            let frame = format!(r#"["Chat",{{"name":"big","content":"{content}"}}]"#);
            let mut c = ws(a).await?;
            c.send_text(frame.as_bytes())
                .await
                .map_err(|e| e.to_string())?;
            let got = c.next(Duration::from_secs(10)).await;
            let want = format!(r#"["Chat",{{"name":"server","content":"echo: {content}"}}]"#);
            check(
                "10 MB echo",
                got.as_ref().map(|_| "a frame"),
                got == Some(Frame::Text(want)),
            )
        }),
        // --- frames
        case!("ws oversize frame", |a| {
            let mut c = ws(a).await?;
            // Only the header of a 17 MiB frame: the server must refuse it without reading it.
            let mut head = client_frame(0x1, b"");
            head[1] = 0x80 | 127;
            head.splice(2..2, (17u64 << 20).to_be_bytes());
            c.write_raw(&head).await.map_err(|e| e.to_string())?;
            let frames = c.until_close(WAIT).await;
            check(
                "close 1009",
                &frames,
                frames.last()
                    == Some(&Frame::Close(
                        1009,
                        rpc_runtime::reasons::FRAME_TOO_BIG_REASON.into(),
                    )),
            )
        }),
        case!("ws invalid utf-8 in a text frame", |a| {
            let mut c = ws(a).await?;
            c.send_text(b"[\"Chat\",{\"name\":\"\xff\xfe\"}]")
                .await
                .map_err(|e| e.to_string())?;
            let frames = c.until_close(WAIT).await;
            check(
                "close 1007",
                &frames,
                frames.last()
                    == Some(&Frame::Close(
                        1007,
                        rpc_runtime::reasons::INVALID_UTF8_REASON.into(),
                    )),
            )
        }),
        case!("ws unmasked client frame", |a| {
            let mut c = ws(a).await?;
            c.write_raw(&[0x81, 0x02, b'[', b']'])
                .await
                .map_err(|e| e.to_string())?;
            let frames = c.until_close(WAIT).await;
            let ok = matches!(frames.last(), Some(Frame::Close(1002, _)));
            check("close 1002", &frames, ok)
        }),
        case!("ws heartbeat is answered", |a| {
            let mut c = ws(a).await?;
            c.send_binary(&[0]).await.map_err(|e| e.to_string())?;
            let got = c.next(WAIT).await;
            check("heartbeat 00", &got, got == Some(Frame::Binary(vec![0])))
        }),
        case!("ws silent after the handshake stays open", |a| {
            let mut c = ws(a).await?;
            let closed = c.is_eof_within(Duration::from_millis(500)).await;
            check("still open", closed, !closed)
        }),
        case!("handshake that never finishes is dropped", |a| {
            let mut s = tokio::net::TcpStream::connect(a)
                .await
                .map_err(|e| e.to_string())?;
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
                .await
                .map_err(|e| e.to_string())?;
            let mut buf = Vec::new();
            let read =
                tokio::time::timeout(WAIT, tokio::io::AsyncReadExt::read_to_end(&mut s, &mut buf))
                    .await;
            check("dropped", &read, read.is_ok())
        }),
        case!("garbage instead of a handshake", |a| {
            let mut s = tokio::net::TcpStream::connect(a)
                .await
                .map_err(|e| e.to_string())?;
            s.write_all(&[
                0x16, 0x03, 0x01, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'\r', b'\n', b'\r',
                b'\n',
            ])
            .await
            .map_err(|e| e.to_string())?;
            let mut buf = Vec::new();
            let read =
                tokio::time::timeout(WAIT, tokio::io::AsyncReadExt::read_to_end(&mut s, &mut buf))
                    .await;
            check("dropped", &read, read.is_ok())
        }),
        // --- HTTP, TSRPC-WIRE.md b.2
        case!("http unknown api", |a| http_input_error(
            a,
            "/Nope",
            b"{}",
            "Invalid URL path: /Nope"
        )
        .await),
        case!("http unknown msg", |a| http_input_error(
            a,
            "/Nope?type=msg",
            b"{}",
            "Invalid URL path: /Nope?type=msg"
        )
        .await),
        case!("http msg posted as an api", |a| http_input_error(
            a,
            "/Chat",
            b"{}",
            "Invalid URL path: /Chat"
        )
        .await),
        case!("http wrong type", |a| http_input_error(
            a,
            "/Add",
            br#"{"a":"x","b":2}"#,
            "Property `a`: Expected type to be `number`, actually `string`."
        )
        .await),
        case!("http missing property", |a| http_input_error(
            a,
            "/Add",
            br#"{"a":1}"#,
            "Missing required property `b`."
        )
        .await),
        case!("http empty body", |a| {
            let resp = http_request(
                a,
                "POST",
                "/Add",
                &[("Content-Type", "application/json")],
                b"",
            )
            .await
            .map_err(|e| e.to_string())?;
            let ok = resp.status == 200
                && resp.body.starts_with(
                    r#"{"isSucc":false,"err":{"message":"Input is not a valid JSON string: "#,
                )
                && resp
                    .body
                    .ends_with(r#"","type":"ServerError","code":"INPUT_DATA_ERR"}}"#);
            check("INPUT_DATA_ERR for an empty body", &resp, ok)
        }),
        case!("http oversize body refused unread", |a| {
            let resp = http_request(
                a,
                "POST",
                "/Add",
                &[
                    ("Content-Type", "application/json"),
                    ("Content-Length", "104857600"),
                ],
                b"{",
            )
            .await
            .map_err(|e| e.to_string())?;
            check("413", &resp, resp.status == 413)
        }),
        case!("http deeply nested json", |a| {
            let body = vec![b'['; 100_000];
            let resp = http_request(
                a,
                "POST",
                "/Add",
                &[("Content-Type", "application/json")],
                &body,
            )
            .await
            .map_err(|e| e.to_string())?;
            let ok = resp.status == 200 && resp.body.contains("INPUT_DATA_ERR");
            check("INPUT_DATA_ERR", &resp, ok)
        }),
        case!("http balanced 100k-deep arrays as the body", |a| {
            let body = deep_arrays(DEEP);
            http_input_error_prefix(a, "/Add", body.as_bytes(), DEPTH_REFUSED).await
        }),
        case!("http balanced 100k-deep objects as the body", |a| {
            let body = deep_objects(DEEP);
            http_input_error_prefix(a, "/Add", body.as_bytes(), DEPTH_REFUSED).await
        }),
        case!("http balanced 100k-deep arrays as a message", |a| {
            let body = deep_arrays(DEEP);
            http_input_error_prefix(a, "/Chat?type=msg", body.as_bytes(), DEPTH_REFUSED).await
        }),
        case!(
            "http balanced 100k-deep objects in an unknown field are pruned",
            |a| {
                let body = format!(r#"{{"a":1,"b":2,"x":{}}}"#, deep_objects(DEEP));
                let resp = http_request(
                    a,
                    "POST",
                    "/Add",
                    &[("Content-Type", "application/json")],
                    body.as_bytes(),
                )
                .await
                .map_err(|e| e.to_string())?;
                let want = r#"{"isSucc":true,"res":{"c":3}}"#;
                check(want, &resp, resp.status == 200 && resp.body == want)
            }
        ),
        case!("http garbage request line", |a| {
            let mut s = tokio::net::TcpStream::connect(a)
                .await
                .map_err(|e| e.to_string())?;
            s.write_all(b"\x00\x01\x02 NOT HTTP\r\n\r\n")
                .await
                .map_err(|e| e.to_string())?;
            let mut buf = Vec::new();
            let read =
                tokio::time::timeout(WAIT, tokio::io::AsyncReadExt::read_to_end(&mut s, &mut buf))
                    .await;
            check("answered or dropped", &read, read.is_ok())
        }),
    ]
}
