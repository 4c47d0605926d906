//! End-to-end tests of the HTTP transport (TSRPC JSON mode) over loopback: our server checked
//! byte for byte with a raw HTTP/1.1 client, our `HttpClient` against our server and against
//! raw TCP servers that misbehave, and WebSocket + HTTP on one port.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rpc_runtime::client::{HttpClientOptions, WsClientOptions};
use rpc_runtime::proto::ServiceProto;
use rpc_runtime::reasons::INVALID_BUFFER_REASON;
use rpc_runtime::server::ServerOptions;
use rpc_runtime::{
    codes, ApiCall, CallOptions, ErrorCode, ErrorType, HandlerResult, HttpClient, Message, MsgCall,
    RpcClient, RunningServer, Server, TsrpcError, WsClient,
};
use rpc_tests::{any_port, raw_connect, within};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::Message as WsMessage;

// ---------------------------------------------------------------------------------------------
// A service defined by hand
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct ReqAdd {
    a: f64,
    b: f64,
}
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct ResAdd {
    c: f64,
}
impl rpc_runtime::Api for ReqAdd {
    const NAME: &'static str = "Add";
    type Res = ResAdd;
}

/// `Fail`: no mode: ApiError with a string code and an extra field; `number`: a numeric code;
/// `throw`: a non-TSRPC error; `panic`: a panic.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
struct ReqFail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mode: Option<String>,
}
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct ResFail {}
impl rpc_runtime::Api for ReqFail {
    const NAME: &'static str = "Fail";
    type Res = ResFail;
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct ReqSlow {
    ms: u64,
}
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct ResSlow {}
impl rpc_runtime::Api for ReqSlow {
    const NAME: &'static str = "Slow";
    type Res = ResSlow;
}

/// `Kick`: `conn.close(reason)`, then returns.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct ReqKick {
    reason: String,
}
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct ResKick {}
impl rpc_runtime::Api for ReqKick {
    const NAME: &'static str = "Kick";
    type Res = ResKick;
}

/// `Peer`: the client's port as the server sees it (tells TCP connections apart).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct ReqPeer {}
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct ResPeer {
    port: u16,
    http: bool,
}
impl rpc_runtime::Api for ReqPeer {
    const NAME: &'static str = "Peer";
    type Res = ResPeer;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
struct MsgChat {
    name: String,
    content: String,
}
impl Message for MsgChat {
    const NAME: &'static str = "Chat";
}

/// TSRPC's proto of the service above, for binary mode.
const TSRPC_PROTO: &str = r#"{"services": [
    {"id": 0, "name": "Add", "type": "api"}, {"id": 1, "name": "Fail", "type": "api"},
    {"id": 2, "name": "Slow", "type": "api"}, {"id": 3, "name": "Kick", "type": "api"},
    {"id": 4, "name": "Peer", "type": "api"}, {"id": 5, "name": "Chat", "type": "msg"}],
  "types": {
    "PtlAdd/ReqAdd": {"type": "Interface", "properties": [
      {"id": 0, "name": "a", "type": {"type": "Number"}},
      {"id": 1, "name": "b", "type": {"type": "Number"}}]},
    "PtlAdd/ResAdd": {"type": "Interface", "properties": [
      {"id": 0, "name": "c", "type": {"type": "Number"}}]},
    "PtlFail/ReqFail": {"type": "Interface", "properties": [
      {"id": 0, "name": "mode", "type": {"type": "String"}, "optional": true}]},
    "PtlFail/ResFail": {"type": "Interface"},
    "PtlSlow/ReqSlow": {"type": "Interface", "properties": [
      {"id": 0, "name": "ms", "type": {"type": "Number", "scalarType": "uint"}}]},
    "PtlSlow/ResSlow": {"type": "Interface"},
    "PtlKick/ReqKick": {"type": "Interface", "properties": [
      {"id": 0, "name": "reason", "type": {"type": "String"}}]},
    "PtlKick/ResKick": {"type": "Interface"},
    "PtlPeer/ReqPeer": {"type": "Interface"},
    "PtlPeer/ResPeer": {"type": "Interface", "properties": [
      {"id": 0, "name": "port", "type": {"type": "Number", "scalarType": "uint"}},
      {"id": 1, "name": "http", "type": {"type": "Boolean"}}]},
    "MsgChat/MsgChat": {"type": "Interface", "properties": [
      {"id": 0, "name": "name", "type": {"type": "String"}},
      {"id": 1, "name": "content", "type": {"type": "String"}}]}}}"#;

fn proto() -> ServiceProto {
    ServiceProto::new("t")
        .with_tsrpc_proto(TSRPC_PROTO)
        .with_api::<ReqAdd>()
        .with_api::<ReqFail>()
        .with_api::<ReqSlow>()
        .with_api::<ReqKick>()
        .with_api::<ReqPeer>()
        .with_msg::<MsgChat>()
}

#[derive(Debug)]
struct Failure(&'static str);
impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}
impl std::error::Error for Failure {}

/// What the server saw; a Chat whose content is `block` waits for `release` before finishing.
struct Seen {
    chats: mpsc::UnboundedReceiver<MsgChat>,
    release: Arc<Notify>,
}

fn build_server(options: ServerOptions) -> (Server, Seen) {
    let (tx, rx) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    let rel = release.clone();
    let server = Server::http(proto(), any_port(), options)
        .implement_api(|call: ApiCall<ReqAdd>| async move {
            Ok(ResAdd {
                c: call.req.a + call.req.b,
            })
        })
        .implement_api(|call: ApiCall<ReqFail>| async move {
            let res: HandlerResult<ResFail> = match call.req.mode.as_deref() {
                Some("number") => Err(TsrpcError::api("Failed with a numeric code")
                    .with_code(42)
                    .into()),
                Some("throw") => Err(Failure("Intentional exception from PtlFail").into()),
                Some("panic") => panic!("handler panicked on purpose"),
                _ => Err(TsrpcError::api("Failed on purpose")
                    .with_code("E_FAIL")
                    .with_extra("detail", "extra field")
                    .into()),
            };
            res
        })
        .implement_api(|call: ApiCall<ReqSlow>| async move {
            tokio::time::sleep(Duration::from_millis(call.req.ms)).await;
            Ok(ResSlow {})
        })
        .implement_api(|call: ApiCall<ReqKick>| async move {
            call.conn.close(call.req.reason.clone());
            Ok(ResKick {})
        })
        .implement_api(|call: ApiCall<ReqPeer>| async move {
            Ok(ResPeer {
                port: call.conn.remote_addr().port(),
                http: call.conn.conn_type() == rpc_runtime::server::ConnType::Http,
            })
        })
        .listen_msg(move |call: MsgCall<MsgChat>| {
            let tx = tx.clone();
            let release = rel.clone();
            async move {
                if call.msg.content == "block" {
                    release.notified().await;
                }
                let _ = tx.send(call.msg);
            }
        });
    (server, Seen { chats: rx, release })
}

fn options() -> ServerOptions {
    ServerOptions::default().return_inner_error(true)
}

async fn start(options: ServerOptions) -> (RunningServer, Seen) {
    let (server, seen) = build_server(options);
    (server.start().await.expect("server starts"), seen)
}

fn http_client(server: &RunningServer) -> HttpClient {
    HttpClient::new(
        format!("http://{}", server.local_addr()),
        HttpClientOptions::default(),
    )
}

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct RawResp {
    status: u16,
    /// Names lowercased, in order.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("utf-8 body")
    }
    /// TSRPC's headers, on every response.
    fn assert_common_headers(&self) {
        assert_eq!(
            self.header("x-powered-by"),
            Some("TSRPC 3.4.21"),
            "{self:?}"
        );
        assert_eq!(
            self.header("access-control-allow-origin"),
            Some("*"),
            "{self:?}"
        );
        assert_eq!(
            self.header("access-control-allow-headers"),
            Some("Content-Type,*"),
            "{self:?}"
        );
        assert_eq!(
            self.header("access-control-max-age"),
            Some("3600"),
            "{self:?}"
        );
    }
    fn assert_json(&self, status: u16, body: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(
            self.header("content-type"),
            Some("application/json; charset=utf-8"),
            "{self:?}"
        );
        assert_eq!(self.text(), body);
        self.assert_common_headers();
    }
    /// The INPUT_DATA_ERR message of a 200 answer.
    fn input_error(&self) -> String {
        assert_eq!(self.status, 200, "{self:?}");
        self.assert_common_headers();
        let v: serde_json::Value = serde_json::from_slice(&self.body).expect("json body");
        assert_eq!(v["isSucc"], false, "{v}");
        assert_eq!(v["err"]["type"], "ServerError", "{v}");
        assert_eq!(v["err"]["code"], "INPUT_DATA_ERR", "{v}");
        assert_eq!(v["err"].as_object().unwrap().len(), 3, "{v}");
        v["err"]["message"].as_str().unwrap().to_owned()
    }
    /// The INPUT_DATA_ERR message of a 200 binary answer (`ServerOutputData {error}`, no
    /// Content-Type), as TSRPC answers a request it reads as binary.
    fn binary_input_error(&self) -> String {
        assert_eq!(self.status, 200, "{self:?}");
        assert_eq!(self.header("content-type"), None, "{self:?}");
        self.assert_common_headers();
        let frame = rpc_runtime::__tsbuffer::transport::decode_output(&self.body)
            .expect("a ServerOutputData body");
        let err = frame.error.expect("an error");
        assert_eq!(err.kind, ErrorType::ServerError);
        assert!(err.is_code("INPUT_DATA_ERR"), "{err:?}");
        assert!(frame.buffer.is_none() && frame.sn.is_none() && frame.service_id.is_none());
        err.message
    }
}

/// Reads one response (Content-Length, chunked, or up to EOF).
async fn read_response<R: AsyncBufRead + Unpin>(r: &mut R) -> std::io::Result<RawResp> {
    let mut line = String::new();
    if r.read_line(&mut line).await? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line).await?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (n, v) = l.split_once(':').expect("header line");
        headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if let Some(len) = get("content-length") {
        body.resize(len.parse().expect("content-length"), 0);
        r.read_exact(&mut body).await?;
    } else if get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            line.clear();
            r.read_line(&mut line).await?;
            let n = usize::from_str_radix(line.trim(), 16).expect("chunk size");
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).await?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if status != 101 && status != 204 && status != 304 {
        r.read_to_end(&mut body).await?;
    }
    Ok(RawResp {
        status,
        headers,
        body,
    })
}

/// A request with a body.
fn request(method: &str, target: &str, content_type: Option<&str>, body: &str) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if let Some(ct) = content_type {
        out.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    out.into_bytes()
}

/// `POST target` with `Content-Type: application/json`, as TSRPC's client sends it.
fn post(target: &str, body: &str) -> Vec<u8> {
    request("POST", target, Some("application/json"), body)
}

/// One request on a new connection; the response.
async fn exchange(addr: SocketAddr, raw: &[u8]) -> RawResp {
    within(10, "raw exchange", async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.write_all(raw).await.expect("write");
        let mut r = BufReader::new(stream);
        read_response(&mut r).await.expect("response")
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Server behaviour, byte for byte
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn api_success() {
    let (server, _seen) = start(options()).await;
    let addr = server.local_addr();
    let resp = exchange(addr, &post("/Add", r#"{"a":1,"b":2}"#)).await;
    resp.assert_json(200, r#"{"isSucc":true,"res":{"c":3}}"#);
    // Unknown fields are ignored; Content-Type is matched case-insensitively and may have
    // parameters.
    let resp = exchange(
        addr,
        &request(
            "POST",
            "/Add",
            Some("Application/JSON; charset=UTF-8"),
            r#"{"a":0.5,"b":2,"zzz":[1]}"#,
        ),
    )
    .await;
    resp.assert_json(200, r#"{"isSucc":true,"res":{"c":2.5}}"#);

    let client = http_client(&server);
    let res = client
        .call_api(ReqAdd { a: 1.0, b: 2.0 })
        .await
        .expect("call");
    assert_eq!(res.c, 3.0);
    let raw = client
        .call_raw(
            "Add",
            &serde_json::json!({"a": 40, "b": 2}),
            CallOptions::default(),
        )
        .await
        .expect("raw call");
    assert_eq!(raw, serde_json::json!({"c": 42}));
    server.stop().await;
}

/// Our `HttpClient` against our server, in JSON and in binary mode: returns, the untyped
/// layer, errors with string and numeric codes and extra fields, messages, a close reason.
async fn client_calls_errors_and_messages(json: bool) {
    let (server, mut seen) = start(options()).await;
    let client = HttpClient::new(
        format!("http://{}", server.local_addr()),
        HttpClientOptions::default().proto(&proto()).json(json),
    );
    assert_eq!(client.is_json(), json);
    let res = client.call_api(ReqAdd { a: 1.5, b: 2.0 }).await.unwrap();
    assert_eq!(res.c, 3.5);
    let raw = client
        .call_raw(
            "Add",
            &serde_json::json!({"a": 40, "b": 2}),
            CallOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(raw, serde_json::json!({"c": 42}));
    let err = client.call_api(ReqFail::default()).await.unwrap_err();
    assert_eq!(
        serde_json::to_value(&err).unwrap(),
        serde_json::json!({"message": "Failed on purpose", "type": "ApiError", "code": "E_FAIL",
                           "detail": "extra field"})
    );
    let number = Some("number".into());
    let err = client.call_api(ReqFail { mode: number }).await.unwrap_err();
    assert_eq!(err.code, Some(ErrorCode::Int(42)));
    let throw = Some("throw".into());
    let err = client.call_api(ReqFail { mode: throw }).await.unwrap_err();
    assert_eq!(err.kind, ErrorType::ServerError);
    assert!(err.is_code(codes::INTERNAL_ERR), "{err:?}");
    assert_eq!(err.extra["innerErr"], "Intentional exception from PtlFail");
    let peer = client.call_api(ReqPeer {}).await.unwrap();
    assert!(peer.http);
    let chat = MsgChat {
        name: "a".into(),
        content: format!("json {json}"),
    };
    client.send_msg(&chat).await.unwrap();
    assert_eq!(
        within(3, "the message", seen.chats.recv()).await,
        Some(chat)
    );
    let kick = ReqKick {
        reason: "bye".into(),
    };
    client.call_api(kick).await.unwrap();
    server.stop().await;
}
rpc_tests::both_modes!(client_calls_errors_and_messages);

#[tokio::test]
async fn api_errors_have_tsrpc_status_and_body() {
    let (server, _seen) = start(options()).await;
    let addr = server.local_addr();
    // ApiError: 200, string code and extra field kept in order.
    exchange(addr, &post("/Fail", "{}")).await.assert_json(
        200,
        r#"{"isSucc":false,"err":{"message":"Failed on purpose","type":"ApiError","code":"E_FAIL","detail":"extra field"}}"#,
    );
    exchange(addr, &post("/Fail", r#"{"mode":"number"}"#))
        .await
        .assert_json(
            200,
            r#"{"isSucc":false,"err":{"message":"Failed with a numeric code","type":"ApiError","code":42}}"#,
        );
    // Any other error: 500 INTERNAL_ERR with innerErr.
    exchange(addr, &post("/Fail", r#"{"mode":"throw"}"#))
        .await
        .assert_json(
            500,
            r#"{"isSucc":false,"err":{"message":"Internal Server Error","type":"ServerError","code":"INTERNAL_ERR","innerErr":"Intentional exception from PtlFail"}}"#,
        );

    let client = http_client(&server);
    let err = client.call_api(ReqFail::default()).await.unwrap_err();
    assert_eq!(err.kind, ErrorType::ApiError);
    assert_eq!(err.message, "Failed on purpose");
    assert!(err.is_code("E_FAIL"));
    assert_eq!(err.extra["detail"], "extra field");
    let err = client
        .call_api(ReqFail {
            mode: Some("number".into()),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, Some(ErrorCode::Int(42)));
    let err = client
        .call_api(ReqFail {
            mode: Some("throw".into()),
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorType::ServerError);
    assert!(err.is_code(codes::INTERNAL_ERR), "{err:?}");
    assert_eq!(err.extra["innerErr"], "Intentional exception from PtlFail");
    server.stop().await;
}

#[tokio::test]
async fn panic_in_handler_is_500_and_server_keeps_serving() {
    let (server, _seen) = start(options()).await;
    let addr = server.local_addr();
    exchange(addr, &post("/Fail", r#"{"mode":"panic"}"#))
        .await
        .assert_json(
            500,
            r#"{"isSucc":false,"err":{"message":"Internal Server Error","type":"ServerError","code":"INTERNAL_ERR","innerErr":"handler panicked on purpose"}}"#,
        );
    // Without return_inner_error: no innerErr.
    let (quiet, _s) = start(ServerOptions::default().return_inner_error(false)).await;
    exchange(quiet.local_addr(), &post("/Fail", r#"{"mode":"panic"}"#))
        .await
        .assert_json(
            500,
            r#"{"isSucc":false,"err":{"message":"Internal Server Error","type":"ServerError","code":"INTERNAL_ERR"}}"#,
        );
    quiet.stop().await;

    let client = http_client(&server);
    let err = client
        .call_api(ReqFail {
            mode: Some("panic".into()),
        })
        .await
        .unwrap_err();
    assert!(err.is_code(codes::INTERNAL_ERR), "{err:?}");
    for i in 0..3 {
        let res = client
            .call_api(ReqAdd {
                a: i as f64,
                b: 1.0,
            })
            .await;
        assert_eq!(res.expect("still serving").c, i as f64 + 1.0);
    }
    server.stop().await;
}

#[tokio::test]
async fn msg_is_answered_before_its_listener_runs() {
    let (server, mut seen) = start(options()).await;
    let addr = server.local_addr();
    // The listener of this one blocks until released: the answer must not wait for it.
    let resp = exchange(
        addr,
        &post("/Chat?type=msg", r#"{"name":"alice","content":"block"}"#),
    )
    .await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert!(resp.body.is_empty(), "{resp:?}");
    assert_eq!(
        resp.header("content-type"),
        None,
        "an empty msg answer has no Content-Type"
    );
    resp.assert_common_headers();
    assert!(
        seen.chats.try_recv().is_err(),
        "the listener is still blocked"
    );
    seen.release.notify_one();
    let got = within(5, "listener", seen.chats.recv()).await.unwrap();
    assert_eq!(got.content, "block");

    // `type=msg` may be any of the `&`-separated query parts.
    let resp = exchange(
        addr,
        &post("/Chat?x=1&type=msg", r#"{"name":"bob","content":"hi"}"#),
    )
    .await;
    assert_eq!((resp.status, resp.body.len()), (200, 0), "{resp:?}");
    let got = within(5, "listener", seen.chats.recv()).await.unwrap();
    assert_eq!(got.name, "bob");

    let client = http_client(&server);
    let msg = MsgChat {
        name: "carol".into(),
        content: "typed".into(),
    };
    client.send_msg(&msg).await.expect("send_msg");
    assert_eq!(within(5, "listener", seen.chats.recv()).await.unwrap(), msg);
    server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_input_data_err_with_tsrpc_texts() {
    let (server, mut seen) = start(options()).await;
    let addr = server.local_addr();
    let msg = |raw: Vec<u8>| async move { exchange(addr, &raw).await.input_error() };

    // The exact bodies of the two path errors.
    exchange(addr, &post("/Nope", "{}")).await.assert_json(
        200,
        r#"{"isSucc":false,"err":{"message":"Invalid URL path: /Nope","type":"ServerError","code":"INPUT_DATA_ERR"}}"#,
    );
    exchange(addr, &post("/Nope?type=msg", "{}")).await.assert_json(
        200,
        r#"{"isSucc":false,"err":{"message":"Invalid URL path: /Nope?type=msg","type":"ServerError","code":"INPUT_DATA_ERR"}}"#,
    );
    // A msg posted as an API, an API posted as a msg (the whole URL is quoted).
    assert_eq!(msg(post("/Chat", "{}")).await, "Invalid URL path: /Chat");
    assert_eq!(
        msg(post("/Add?a=1&type=msg", "{}")).await,
        "Invalid URL path: /Add?a=1&type=msg"
    );
    // The path is checked before the body.
    assert_eq!(
        msg(post("/Nope", "not json")).await,
        "Invalid URL path: /Nope"
    );
    // Invalid JSON (only the prefix is TSRPC's: the rest is the parser's text).
    for body in ["not json", "", "{\"a\":1,", "\u{0}"] {
        let m = msg(post("/Add", body)).await;
        assert!(
            m.starts_with("Input is not a valid JSON string: "),
            "{body:?}: {m}"
        );
        let m = msg(post("/Chat?type=msg", body)).await;
        assert!(
            m.starts_with("Input is not a valid JSON string: "),
            "msg {body:?}: {m}"
        );
    }
    // Type errors: the validator's text.
    assert_eq!(
        msg(post("/Add", r#"{"a":"x","b":2}"#)).await,
        "Property `a`: Expected type to be `number`, actually `string`."
    );
    assert_eq!(
        msg(post("/Add", r#"{"a":1}"#)).await,
        "Missing required property `b`."
    );
    assert_eq!(
        msg(post("/Chat?type=msg", r#"{"name":"a","content":5}"#)).await,
        "Property `content`: Expected type to be `string`, actually `number`."
    );
    // Not JSON mode (GET, another Content-Type, none): read as binary, so TSRPC's binary
    // answer to an undecodable buffer.
    let bin_msg = |raw: Vec<u8>| async move { exchange(addr, &raw).await.binary_input_error() };
    assert_eq!(
        bin_msg(request("GET", "/Add", None, "")).await,
        INVALID_BUFFER_REASON
    );
    assert_eq!(
        bin_msg(request(
            "POST",
            "/Add",
            Some("text/plain"),
            r#"{"a":1,"b":2}"#
        ))
        .await,
        INVALID_BUFFER_REASON
    );
    assert_eq!(
        bin_msg(request("POST", "/Add", None, r#"{"a":1,"b":2}"#)).await,
        INVALID_BUFFER_REASON
    );
    // Not UTF-8: decoded lossily, then refused as JSON.
    let mut raw = b"POST /Add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n".to_vec();
    raw.extend_from_slice(&[0xff, 0xfe, 0x7b]);
    assert!(msg(raw)
        .await
        .starts_with("Input is not a valid JSON string: "));
    // No listener ran for any of the bad messages.
    assert!(seen.chats.try_recv().is_err());

    // The HTTP client sees them as ServerError INPUT_DATA_ERR.
    let client = http_client(&server);
    let err = client
        .call_raw("Nope", &serde_json::json!({}), CallOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorType::ServerError);
    assert!(err.is_code(codes::INPUT_DATA_ERR), "{err:?}");
    assert_eq!(err.message, "Invalid URL path: /Nope");
    let err = client
        .send_msg_raw("Chat", &serde_json::json!({"name": 1}))
        .await
        .unwrap_err();
    assert!(err.is_code(codes::INPUT_DATA_ERR), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn options_preflight_and_cors_headers() {
    let (server, _seen) = start(options()).await;
    let addr = server.local_addr();
    let raw = b"OPTIONS /Add HTTP/1.1\r\nHost: x\r\nOrigin: http://example.com\r\nAccess-Control-Request-Method: POST\r\nContent-Length: 0\r\n\r\n";
    let resp = exchange(addr, raw).await;
    assert_eq!(resp.status, 200, "{resp:?}");
    assert!(resp.body.is_empty());
    resp.assert_common_headers();
    // Also on errors and on non-JSON requests.
    exchange(addr, &post("/Fail", r#"{"mode":"throw"}"#))
        .await
        .assert_common_headers();
    exchange(addr, &request("GET", "/", None, ""))
        .await
        .assert_common_headers();
    server.stop().await;
}

#[tokio::test]
async fn keep_alive_serves_many_requests_on_one_connection() {
    let (server, _seen) = start(options()).await;
    let stream = within(5, "connect", TcpStream::connect(server.local_addr()))
        .await
        .unwrap();
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    for i in 0..3 {
        wr.write_all(&post("/Add", &format!(r#"{{"a":{i},"b":1}}"#)))
            .await
            .unwrap();
        let resp = within(5, "response", read_response(&mut rd)).await.unwrap();
        resp.assert_json(
            200,
            &format!(r#"{{"isSucc":true,"res":{{"c":{}}}}}"#, i + 1),
        );
        assert_ne!(resp.header("connection"), Some("close"));
    }
    // Two requests written at once (pipelined) are answered in order.
    let mut two = post("/Add", r#"{"a":1,"b":1}"#);
    two.extend(post("/Peer", "{}"));
    wr.write_all(&two).await.unwrap();
    let first = within(5, "first", read_response(&mut rd)).await.unwrap();
    first.assert_json(200, r#"{"isSucc":true,"res":{"c":2}}"#);
    let second = within(5, "second", read_response(&mut rd)).await.unwrap();
    let local_port = wr.local_addr().unwrap().port();
    second.assert_json(
        200,
        &format!(r#"{{"isSucc":true,"res":{{"port":{local_port},"http":true}}}}"#),
    );

    // The client pools its connection: two calls in a row come from the same port.
    let client = http_client(&server);
    let a = client.call_api(ReqPeer {}).await.unwrap();
    let b = client.call_api(ReqPeer {}).await.unwrap();
    assert!(a.http);
    assert_eq!(
        a.port, b.port,
        "the second call reused the first connection"
    );
    server.stop().await;
}

#[tokio::test]
async fn oversize_body_is_refused_without_reading_it() {
    let (server, _seen) = start(options().max_body_size(1024)).await;
    let addr = server.local_addr();
    let expected = r#"{"isSucc":false,"err":{"message":"Request body too large (max 1024 bytes)","type":"ServerError","code":"BODY_TOO_LARGE"}}"#;

    // Announced by Content-Length: only the head and a few bytes are sent; the answer comes
    // at once (the server does not wait for the other 100 MB).
    let started = Instant::now();
    let resp = within(3, "413", async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST /Add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{\"a\":")
            .await
            .unwrap();
        read_response(&mut BufReader::new(stream)).await.unwrap()
    })
    .await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(resp.status, 413);
    assert_eq!(resp.header("connection"), Some("close"));
    resp.assert_common_headers();
    assert_eq!(resp.text(), expected);

    // Chunked: refused as soon as it goes over, the rest never sent.
    let resp = within(3, "chunked 413", async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST /Add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            .await
            .unwrap();
        let chunk = format!("{:x}\r\n{}\r\n", 700, " ".repeat(700));
        stream.write_all(chunk.as_bytes()).await.unwrap();
        stream.write_all(chunk.as_bytes()).await.unwrap();
        read_response(&mut BufReader::new(stream)).await.unwrap()
    })
    .await;
    assert_eq!(resp.status, 413, "{resp:?}");
    assert_eq!(resp.text(), expected);

    // A chunked body under the limit, in several chunks, is put together.
    let resp = within(3, "chunked", async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut raw = b"POST /Add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for part in [r#"{"a":"#, "20", r#","b":22}"#] {
            raw.extend(format!("{:x}\r\n{part}\r\n", part.len()).bytes());
        }
        raw.extend(b"0\r\n\r\n");
        stream.write_all(&raw).await.unwrap();
        read_response(&mut BufReader::new(stream)).await.unwrap()
    })
    .await;
    resp.assert_json(200, r#"{"isSucc":true,"res":{"c":42}}"#);

    // A body of exactly the limit is fine.
    let body = format!("{:<1024}", r#"{"a":1,"b":2}"#);
    assert_eq!(body.len(), 1024);
    exchange(addr, &post("/Add", &body))
        .await
        .assert_json(200, r#"{"isSucc":true,"res":{"c":3}}"#);

    // The client reports the server's error, with the status.
    let client = http_client(&server);
    let err = client
        .call_raw(
            "Add",
            &serde_json::json!({"a": 1, "b": 2, "pad": "x".repeat(2000)}),
            CallOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorType::ServerError);
    assert!(err.is_code("BODY_TOO_LARGE"), "{err:?}");
    assert_eq!(err.extra["httpCode"], 413);
    server.stop().await;
}

#[tokio::test]
async fn slow_peers_are_timed_out() {
    let mut opts = options();
    opts.handshake_timeout = Duration::from_millis(300);
    let (server, _seen) = start(opts).await;
    let addr = server.local_addr();
    // A head that never ends: the connection is closed.
    let closed = within(3, "head timeout", async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST /Add HTTP/1.1\r\nHost:")
            .await
            .unwrap();
        let mut buf = Vec::new();
        stream.read_to_end(&mut buf).await.map(|_| buf)
    })
    .await;
    // hyper may answer 408 before closing; either way nothing else comes and it ends.
    if let Ok(buf) = closed {
        assert!(
            buf.is_empty() || buf.starts_with(b"HTTP/1.1 408"),
            "{buf:?}"
        );
    }
    // A body that stalls: 408.
    let resp = within(3, "body timeout", async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST /Add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{\"a\":")
            .await
            .unwrap();
        read_response(&mut BufReader::new(stream)).await.unwrap()
    })
    .await;
    assert_eq!(resp.status, 408, "{resp:?}");
    assert_eq!(resp.header("connection"), Some("close"));
    // Garbage instead of HTTP does not hurt the server.
    let garbage = within(3, "garbage", async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"\x00\x01GARBAGE\r\n\r\n").await.unwrap();
        let mut buf = Vec::new();
        let _ = stream.read_to_end(&mut buf).await;
        buf
    })
    .await;
    assert!(
        garbage.is_empty() || garbage.starts_with(b"HTTP/1.1 400"),
        "{garbage:?}"
    );
    exchange(addr, &post("/Add", r#"{"a":1,"b":2}"#))
        .await
        .assert_json(200, r#"{"isSucc":true,"res":{"c":3}}"#);
    server.stop().await;
}

#[tokio::test]
async fn close_reason_goes_in_a_header() {
    let (server, _seen) = build_server(options());
    // Each request is a short connection: post_connect, then post_disconnect with the reason.
    let (tx, mut events) = mpsc::unbounded_channel();
    let t = tx.clone();
    server.flows().post_connect.push(move |conn| {
        let _ = t.send(format!("connect {:?}", conn.conn_type()));
        Some(conn)
    });
    server.flows().post_disconnect.push(move |ev| {
        let _ = tx.send(format!("disconnect {:?}", ev.reason));
        Some(ev)
    });
    let server = server.start().await.unwrap();
    let resp = exchange(server.local_addr(), &post("/Kick", r#"{"reason":"x"}"#)).await;
    resp.assert_json(200, r#"{"isSucc":true,"res":{}}"#);
    assert_eq!(resp.header("x-tsrpc-close-reason"), Some("x"));
    assert_eq!(
        within(5, "connect", events.recv()).await.unwrap(),
        "connect Http"
    );
    assert_eq!(
        within(5, "disconnect", events.recv()).await.unwrap(),
        r#"disconnect Some("x")"#
    );
    // Not there when nobody closed.
    let resp = exchange(server.local_addr(), &post("/Add", r#"{"a":1,"b":2}"#)).await;
    assert_eq!(resp.header("x-tsrpc-close-reason"), None);
    assert_eq!(
        within(5, "connect", events.recv()).await.unwrap(),
        "connect Http"
    );
    assert_eq!(
        within(5, "disconnect", events.recv()).await.unwrap(),
        "disconnect None"
    );
    // A reason no header can hold is cleaned, not a failure.
    let resp = exchange(server.local_addr(), &post("/Kick", r#"{"reason":"a\nb"}"#)).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("x-tsrpc-close-reason"), Some("a b"));
    server.stop().await;
}

#[tokio::test]
async fn data_flows_see_bodies_on_both_sides() {
    let (server, _seen) = build_server(options());
    // Server: requests arrive "encrypted" (reversed), responses leave reversed.
    server.flows().pre_recv_data.push(|mut ev| {
        ev.data = ev.data.chars().rev().collect();
        Some(ev)
    });
    server.flows().pre_send_data.push(|mut ev| {
        ev.data = ev.data.chars().rev().collect();
        Some(ev)
    });
    let server = server.start().await.unwrap();
    let resp = exchange(server.local_addr(), &post("/Add", r#"}2:"b",1:"a"{"#)).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.text(), r#"}}3:"c"{:"ser",eurt:"ccuSsi"{"#);

    // Client: the same transform undone on its side.
    let client = http_client(&server);
    let sent = Arc::new(Mutex::new(Vec::new()));
    let s = sent.clone();
    client.flows().pre_send_data.push(move |mut ev| {
        s.lock().unwrap().push((ev.data.clone(), ev.sn));
        ev.data = ev.data.chars().rev().collect();
        Some(ev)
    });
    client.flows().pre_recv_data.push(|mut ev| {
        ev.data = ev.data.chars().rev().collect();
        Some(ev)
    });
    let res = client
        .call_api(ReqAdd { a: 2.0, b: 3.0 })
        .await
        .expect("call");
    assert_eq!(res.c, 5.0);
    assert_eq!(
        sent.lock().unwrap().as_slice(),
        &[(r#"{"a":2,"b":3}"#.to_owned(), Some(client.last_sn()))]
    );
    // A pre_send_data node that stops the request: CANCELLED, nothing sent.
    client.flows().pre_send_data.push(|_| None);
    let err = client
        .call_api(ReqAdd { a: 2.0, b: 3.0 })
        .await
        .unwrap_err();
    assert!(err.is_code(codes::CANCELLED), "{err:?}");
    server.stop().await;

    // A server pre_recv_data node that stops an API: 500 CANCELLED (never left unanswered).
    let (server, _seen) = build_server(options());
    server.flows().pre_recv_data.push(|_| None);
    let server = server.start().await.unwrap();
    exchange(server.local_addr(), &post("/Add", r#"{"a":1,"b":2}"#))
        .await
        .assert_json(
            500,
            r#"{"isSucc":false,"err":{"message":"Cancelled by pre_recv_data flow","type":"ServerError","code":"CANCELLED"}}"#,
        );
    server.stop().await;
}

#[tokio::test]
async fn stopping_server_answers_503_and_closes_keep_alive_connections() {
    let (server, _seen) = start(options()).await;
    let addr = server.local_addr();
    let stream = TcpStream::connect(addr).await.unwrap();
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    wr.write_all(&post("/Add", r#"{"a":1,"b":2}"#))
        .await
        .unwrap();
    within(5, "first", read_response(&mut rd))
        .await
        .unwrap()
        .assert_json(200, r#"{"isSucc":true,"res":{"c":3}}"#);
    // A second keep-alive connection, idle after its request, is closed by the stop itself.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(&post("/Add", r#"{"a":2,"b":2}"#))
        .await
        .unwrap();
    let mut idle = BufReader::new(idle);
    within(5, "idle's request", read_response(&mut idle))
        .await
        .unwrap()
        .assert_json(200, r#"{"isSucc":true,"res":{"c":4}}"#);
    let stopping = std::time::Instant::now();
    server.stop().await;
    let mut buf = Vec::new();
    within(2, "the idle connection closed", idle.read_to_end(&mut buf))
        .await
        .unwrap();
    assert!(buf.is_empty(), "{:?}", String::from_utf8_lossy(&buf));
    println!(
        "an idle keep-alive connection was closed {:?} after stop() began",
        stopping.elapsed()
    );
    // New connections are refused.
    assert!(TcpStream::connect(addr).await.is_err(), "listener closed");
    // The open keep-alive connection gets 503 (if still open) and is closed within a second.
    let _ = wr.write_all(&post("/Add", r#"{"a":1,"b":2}"#)).await;
    let rest = within(2, "closed after stop", async {
        let mut buf = Vec::new();
        let _ = rd.read_to_end(&mut buf).await;
        buf
    })
    .await;
    assert!(
        rest.is_empty() || rest.starts_with(b"HTTP/1.1 503"),
        "{:?}",
        String::from_utf8_lossy(&rest)
    );
}

// ---------------------------------------------------------------------------------------------
// Client errors
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn client_connection_refused() {
    let listener = std::net::TcpListener::bind(any_port()).unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = HttpClient::new(format!("http://{addr}"), HttpClientOptions::default());
    let err = within(5, "call", client.call_api(ReqAdd { a: 1.0, b: 2.0 }))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorType::NetworkError);
    assert!(err.is_code("ECONNREFUSED"), "{err:?}");
    assert_eq!(err.message, format!("connect ECONNREFUSED {addr}"));
    let err = within(
        5,
        "send",
        client.send_msg(&MsgChat {
            name: "a".into(),
            content: "b".into(),
        }),
    )
    .await
    .unwrap_err();
    assert!(err.is_code("ECONNREFUSED"), "{err:?}");
}

#[tokio::test]
async fn client_timeout() {
    let (server, _seen) = start(options()).await;
    let client = http_client(&server);
    let started = Instant::now();
    let err = within(
        5,
        "call",
        client.call_api_with(
            ReqSlow { ms: 3000 },
            CallOptions::timeout(Duration::from_millis(150)),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorType::NetworkError);
    assert!(err.is_code(codes::TIMEOUT), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    // The client's default timeout applies too, and the client still works afterwards.
    let short = HttpClient::new(
        format!("http://{}", server.local_addr()),
        HttpClientOptions::default().timeout(Some(Duration::from_millis(150))),
    );
    let err = short.call_api(ReqSlow { ms: 3000 }).await.unwrap_err();
    assert!(err.is_code(codes::TIMEOUT), "{err:?}");
    assert_eq!(
        short.call_api(ReqAdd { a: 1.0, b: 1.0 }).await.unwrap().c,
        2.0
    );
    server.stop().await;
}

/// A raw server that accepts and reads a little, then closes without answering.
async fn hang_up_server(read_first: bool) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind(any_port()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            if read_first {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
            }
            drop(s);
        }
    });
    (addr, task)
}

#[tokio::test]
async fn client_connection_reset() {
    for read_first in [true, false] {
        let (addr, task) = hang_up_server(read_first).await;
        let client = HttpClient::new(format!("http://{addr}"), HttpClientOptions::default());
        let err = within(5, "call", client.call_api(ReqAdd { a: 1.0, b: 2.0 }))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorType::NetworkError, "{err:?}");
        assert!(
            err.is_code("ECONNRESET"),
            "read_first={read_first}: {err:?}"
        );
        task.abort();
    }
}

/// A raw server answering every request with this status line and body.
async fn canned_server(status: &str, body: &str) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let response: &'static str = Box::leak(
        format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_boxed_str(),
    );
    let listener = TcpListener::bind(any_port()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(response.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (addr, task)
}

#[tokio::test]
async fn client_status_handling() {
    // A status other than 200/500: HTTP Error with httpCode.
    let (addr, task) = canned_server("404 Not Found", "not found").await;
    let client = HttpClient::new(format!("http://{addr}"), HttpClientOptions::default());
    let err = client
        .call_api(ReqAdd { a: 1.0, b: 2.0 })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorType::ServerError);
    assert_eq!(err.message, "HTTP Error 404");
    assert_eq!(err.extra["httpCode"], 404);
    let err = client
        .send_msg(&MsgChat {
            name: "a".into(),
            content: "b".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.message, "HTTP Error 404");
    task.abort();

    // A 500 body is parsed like a 200 one.
    let (addr, task) = canned_server(
        "500 Internal Server Error",
        r#"{"isSucc":false,"err":{"message":"Server Timeout","type":"ServerError","code":"SERVER_TIMEOUT"}}"#,
    )
    .await;
    let client = HttpClient::new(format!("http://{addr}/"), HttpClientOptions::default());
    let err = client
        .call_api(ReqAdd { a: 1.0, b: 2.0 })
        .await
        .unwrap_err();
    assert_eq!(err.message, "Server Timeout");
    assert!(err.is_code(codes::SERVER_TIMEOUT), "{err:?}");
    assert!(err.extra.is_empty(), "{err:?}");
    task.abort();

    // A 200 that is not an ApiReturn.
    let (addr, task) = canned_server("200 OK", "hello").await;
    let client = HttpClient::new(format!("http://{addr}"), HttpClientOptions::default());
    let err = client
        .call_api(ReqAdd { a: 1.0, b: 2.0 })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorType::ServerError);
    assert_eq!(err.message, "Parse server output error");
    task.abort();

    // A URL the client cannot use.
    let client = HttpClient::new("ws://127.0.0.1:1", HttpClientOptions::default());
    let err = client
        .call_api(ReqAdd { a: 1.0, b: 2.0 })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorType::ClientError, "{err:?}");
}

#[tokio::test]
async fn client_url_with_path_prefix() {
    // A server behind a prefix: the client posts to `<prefix>/<name>`.
    let listener = TcpListener::bind(any_port()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line).await.unwrap();
        let mut s = r.into_inner();
        let body = r#"{"isSucc":true,"res":{"c":7}}"#;
        let resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(resp.as_bytes()).await.unwrap();
        line
    });
    let client = HttpClient::new(
        format!("http://{addr}/api/v1/"),
        HttpClientOptions::default(),
    );
    assert_eq!(
        client.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap().c,
        7.0
    );
    let line = task.await.unwrap();
    assert_eq!(line, "POST /api/v1/Add HTTP/1.1\r\n");
}

// ---------------------------------------------------------------------------------------------
// WebSocket and HTTP on one port
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn websocket_and_http_on_one_port() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = Server::ws_and_http(proto(), any_port(), options())
        .implement_api(|call: ApiCall<ReqAdd>| async move {
            Ok(ResAdd {
                c: call.req.a + call.req.b,
            })
        })
        .implement_api(|call: ApiCall<ReqPeer>| async move {
            Ok(ResPeer {
                port: call.conn.remote_addr().port(),
                http: call.conn.conn_type() == rpc_runtime::server::ConnType::Http,
            })
        })
        .listen_msg(move |call: MsgCall<MsgChat>| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((call.msg, call.conn.conn_type()));
            }
        })
        .allow_unimplemented()
        .start()
        .await
        .unwrap();
    let addr = server.local_addr();

    let ws = WsClient::new(format!("ws://{addr}"), WsClientOptions::default());
    within(5, "ws connect", ws.connect())
        .await
        .expect("ws connects");
    let http = HttpClient::new(format!("http://{addr}"), HttpClientOptions::default());

    assert_eq!(ws.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap().c, 3.0);
    assert_eq!(
        http.call_api(ReqAdd { a: 2.0, b: 2.0 }).await.unwrap().c,
        4.0
    );
    assert!(!ws.call_api(ReqPeer {}).await.unwrap().http);
    assert!(http.call_api(ReqPeer {}).await.unwrap().http);
    assert_eq!(
        server.connections().len(),
        1,
        "only the WebSocket is registered"
    );

    let m = MsgChat {
        name: "w".into(),
        content: "over ws".into(),
    };
    ws.send_msg(&m).await.unwrap();
    assert_eq!(
        within(5, "ws msg", rx.recv()).await.unwrap(),
        (m, rpc_runtime::server::ConnType::WebSocket)
    );
    let m = MsgChat {
        name: "h".into(),
        content: "over http".into(),
    };
    http.send_msg(&m).await.unwrap();
    assert_eq!(
        within(5, "http msg", rx.recv()).await.unwrap(),
        (m, rpc_runtime::server::ConnType::Http)
    );

    // The sub-protocol is echoed (raw_connect asserts it) and a raw frame works.
    let mut raw = raw_connect(&format!("ws://{addr}")).await;
    raw.send(WsMessage::text(r#"["Add",{"a":5,"b":5},1]"#))
        .await
        .unwrap();
    let reply = within(5, "raw reply", raw.next()).await.unwrap().unwrap();
    assert_eq!(
        reply,
        WsMessage::text(r#"["Add",{"isSucc":true,"res":{"c":10}},1]"#)
    );
    drop(raw);
    // An unimplemented API over HTTP: 500 UNHANDLED_API.
    exchange(addr, &post("/Kick", r#"{"reason":"x"}"#)).await.assert_json(
        500,
        r#"{"isSucc":false,"err":{"message":"Unhandled API: Kick","type":"ServerError","code":"UNHANDLED_API"}}"#,
    );
    // A bad upgrade request (no key) is refused, and the port keeps serving.
    let resp = exchange(
        addr,
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await;
    assert_eq!(resp.status, 400, "{resp:?}");
    assert_eq!(
        http.call_api(ReqAdd { a: 0.0, b: 1.0 }).await.unwrap().c,
        1.0
    );

    ws.disconnect().await;
    server.stop().await;
}
