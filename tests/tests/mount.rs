//! The endpoint mounted in an axum app (`Server::mount`, feature `axum`): nested at `/rpc` next
//! to an ordinary route, under a `tower_http` layer, on the app's port. Our typed clients and
//! TSRPC's own (npm, `client.js`) reach it under the prefix in JSON and binary mode, over
//! WebSocket and HTTP; the limits apply; `stop` / `graceful_stop` close what it holds while
//! the app's routes keep serving.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::HeaderValue;
use protocols::chat::{self, MsgChat, ReqAdd, ReqSlow};
use rpc_examples::chat_server;
use rpc_runtime::client::{HttpClientOptions, WsClientOptions, WsStatus};
use rpc_runtime::server::{MountedServer, ServerOptions};
use rpc_runtime::{codes, ErrorType};
use rpc_tests::node;
use rpc_tests::{any_port, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tower_http::set_header::SetResponseHeaderLayer;

/// The reference chat server mounted in an axum app on a free port: `GET /hello` answers
/// `hello`, the endpoint is at `/rpc`, and every response gets `x-app: host` from a layer.
struct App {
    addr: SocketAddr,
    rpc: std::sync::Arc<MountedServer>,
    stop_app: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl App {
    async fn start(options: ServerOptions) -> App {
        let server = chat_server::build(chat::Server::ws_and_http(any_port(), options));
        let rpc = std::sync::Arc::new(server.into_inner().mount().expect("mounts"));
        let app = axum::Router::new()
            .route("/hello", axum::routing::get(|| async { "hello" }))
            .nest_service("/rpc", rpc.service())
            .layer(SetResponseHeaderLayer::overriding(
                axum::http::header::HeaderName::from_static("x-app"),
                HeaderValue::from_static("host"),
            ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_app, stopped) = tokio::sync::oneshot::channel::<()>();
        let on_stop = rpc.clone();
        let task = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
                on_stop.graceful_stop(Duration::from_secs(2)).await;
            })
            .await
            .expect("the app serves");
        });
        App {
            addr,
            rpc,
            stop_app: Some(stop_app),
            task,
        }
    }

    fn ws(&self) -> String {
        format!("ws://{}/rpc", self.addr)
    }

    fn http(&self) -> String {
        format!("http://{}/rpc", self.addr)
    }

    /// Stops the app the way its owner would: the graceful shutdown stops the endpoint too.
    async fn shutdown(mut self) {
        if let Some(tx) = self.stop_app.take() {
            let _ = tx.send(());
        }
        within(10, "the app shuts down", &mut self.task)
            .await
            .expect("the app's task ends");
    }
}

/// A raw HTTP/1.1 exchange on a fresh socket (`Connection: close`): status, head, body.
async fn raw(addr: SocketAddr, request: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    within(5, "raw answer", s.read_to_end(&mut buf))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

async fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    raw(addr, &req).await
}

async fn post_json(addr: SocketAddr, path: &str, body: &str) -> (u16, String, String) {
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    raw(addr, &req).await
}

async fn ws_client(url: &str, json: bool) -> chat::Client {
    let client = chat::Client::ws(url, WsClientOptions::default().json(json));
    within(5, "connect", client.connect())
        .await
        .expect("connects to the mounted endpoint");
    client
}

/// Calls, a message and its echo over WebSocket, calls and a message over HTTP: in `json` or
/// binary mode.
async fn rust_clients_reach_it(json: bool) {
    let app = App::start(ServerOptions::default()).await;

    let ws = ws_client(&app.ws(), json).await;
    let sum = ws.call_add(ReqAdd { a: 1.0, b: 2.0 }).await.expect("Add");
    assert_eq!(sum.c, 3.0);
    let (tx, mut rx) = mpsc::unbounded_channel();
    ws.listen_msg_chat(move |m: MsgChat| {
        let _ = tx.send(m);
    });
    ws.send_msg_chat(&MsgChat {
        name: "alice".into(),
        content: "hi".into(),
    })
    .await
    .expect("send");
    let echo = within(5, "echo", rx.recv()).await.expect("an echo");
    assert_eq!(echo.content, "echo: hi");
    let err = ws
        .call_fail(chat::ReqFail { mode: None })
        .await
        .expect_err("Fail fails");
    assert_eq!(err.kind, ErrorType::ApiError);

    let http = chat::Client::http(app.http(), HttpClientOptions::default().json(json));
    let sum = http.call_add(ReqAdd { a: 2.0, b: 5.0 }).await.expect("Add");
    assert_eq!(sum.c, 7.0);
    http.send_msg_chat(&MsgChat {
        name: "bob".into(),
        content: "over http".into(),
    })
    .await
    .expect("send over HTTP");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let stats = loop {
        let stats = http.call_stats(chat::ReqStats {}).await.expect("Stats");
        if stats.chat_count >= 2 || tokio::time::Instant::now() > deadline {
            break stats;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(stats.chat_count, 2, "{stats:?}");
    assert_eq!(
        stats.last_chat.map(|c| c.content).as_deref(),
        Some("over http")
    );

    // The connection is the endpoint's, with the client's address from `ConnectInfo`.
    let conns = app.rpc.connections();
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0].ip(), "127.0.0.1");

    ws.disconnect().await;
    app.shutdown().await;
}

#[tokio::test]
async fn rust_clients_reach_it_json() {
    rust_clients_reach_it(true).await;
}

#[tokio::test]
async fn rust_clients_reach_it_binary() {
    rust_clients_reach_it(false).await;
}

/// The host's route and layer are untouched by the endpoint, and the layer applies to the
/// endpoint's answers too; a path beside the endpoint is the host's (404).
#[tokio::test]
async fn shares_the_port_and_the_middleware() {
    let app = App::start(ServerOptions::default()).await;
    let (status, head, body) = get(app.addr, "/hello").await;
    assert_eq!((status, body.as_str()), (200, "hello"));
    assert!(head.contains("x-app: host"), "{head}");
    assert!(!head.contains("x-powered-by"), "{head}");

    let (status, head, body) = post_json(app.addr, "/rpc/Add", r#"{"a":1,"b":2}"#).await;
    assert_eq!(status, 200, "{head}");
    assert_eq!(body, r#"{"isSucc":true,"res":{"c":3}}"#);
    assert!(head.contains("x-app: host"), "{head}");
    assert!(head.contains("x-powered-by: tsrpc 3.4.21"), "{head}");

    let (status, _, _) = post_json(app.addr, "/elsewhere/Add", r#"{"a":1,"b":2}"#).await;
    assert_eq!(status, 404);
    let (status, _, body) = post_json(app.addr, "/rpc/Nope", "{}").await;
    assert_eq!(status, 200);
    assert!(body.contains("Invalid URL path: /Nope"), "{body}");
    app.shutdown().await;
}

/// TSRPC's own clients (npm tsrpc 3.4.21) under the prefix, WebSocket and HTTP, JSON and
/// binary: the `apis` and `msgs` scenarios of `client.js`, as against a server of its own.
#[tokio::test]
async fn tsrpc_clients_reach_it() {
    for json in [true, false] {
        let app = App::start(ServerOptions::default().return_inner_error(true)).await;
        let lines = node::tsrpc_client_in(&app.ws(), "apis", json).await;
        let text = node::lines_text(&lines);
        assert!(text.contains(r#""res":{"c":3}"#), "{text}");
        assert!(text.contains("BAD_PASSWORD"), "{text}");
        let lines = node::tsrpc_client_in(&app.ws(), "msgs", json).await;
        let text = node::lines_text(&lines);
        assert!(text.contains("echo: hi"), "{text}");
        assert!(text.contains("game/GameOver"), "{text}");
        let lines = node::tsrpc_client_in(&app.http(), "apis", json).await;
        let text = node::lines_text(&lines);
        assert!(text.contains(r#""res":{"sleptMs":50}"#), "{text}");
        let lines = node::tsrpc_client_in(&app.http(), "http-msg", json).await;
        let text = node::lines_text(&lines);
        assert!(
            text.contains(r#"{"name":"Chat","ret":{"isSucc":true},"step":"sendMsg"}"#),
            "{text}"
        );
        app.shutdown().await;
    }
}

/// `max_connections` counts the endpoint's WebSocket connections and requests in flight:
/// past it, the same 503 `SERVER_FULL`; the slot comes back when the connection goes.
/// `max_body_size` and the body deadline apply.
#[tokio::test]
async fn limits_apply_mounted() {
    let options = ServerOptions::default()
        .max_connections(1)
        .max_body_size(64)
        .body_timeout(Some(Duration::from_millis(300)));
    let app = App::start(options).await;
    let first = ws_client(&app.ws(), true).await;
    let second = chat::Client::ws(app.ws(), WsClientOptions::default().json(true));
    let err = within(5, "refused connect", second.connect())
        .await
        .expect_err("past max_connections");
    assert!(format!("{err:?}").contains("503"), "{err:?}");
    let (status, head, body) = post_json(app.addr, "/rpc/Add", r#"{"a":1,"b":2}"#).await;
    assert_eq!(status, 503, "{head}");
    assert!(body.contains("SERVER_FULL"), "{body}");
    // The host's own routes are not the endpoint's to count.
    assert_eq!(get(app.addr, "/hello").await.0, 200);

    first.disconnect().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (status, _, _) = post_json(app.addr, "/rpc/Add", r#"{"a":1,"b":2}"#).await;
        if status == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot never came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let big = format!(r#"{{"a":1,"b":2,"pad":"{}"}}"#, "x".repeat(100));
    let (status, _, body) = post_json(app.addr, "/rpc/Add", &big).await;
    assert_eq!(status, 413);
    assert!(body.contains("BODY_TOO_LARGE"), "{body}");

    // A body that never comes whole: 408 by the deadline.
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    s.write_all(
        b"POST /rpc/Add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{\"a\"",
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    within(5, "408", s.read_to_end(&mut buf)).await.unwrap();
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("BODY_TIMEOUT"), "{text}");
    app.shutdown().await;
}

/// `graceful_stop` waits for a pending call, closes the endpoint's WebSocket connections and
/// answers 503 from then on, while the host's routes keep serving; the app's graceful
/// shutdown, which calls it, then ends.
#[tokio::test]
async fn stop_closes_what_the_endpoint_holds() {
    let app = App::start(ServerOptions::default()).await;
    let ws = ws_client(&app.ws(), false).await;
    let slow = {
        let ws = ws.clone();
        tokio::spawn(async move { ws.call_slow(ReqSlow { ms: 300 }).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(app.rpc.graceful_stop(Duration::from_secs(3)).await);
    let ret = slow.await.unwrap().expect("the pending call finished");
    assert_eq!(ret.slept_ms, 300);
    within(5, "the client sees the close", async {
        while ws.status() != WsStatus::Closed {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(app.rpc.connections().is_empty());

    let (status, _, _) = post_json(app.addr, "/rpc/Add", r#"{"a":1,"b":2}"#).await;
    assert_eq!(status, 503);
    let again = chat::Client::ws(app.ws(), WsClientOptions::default());
    let refused = within(5, "connect to a stopped endpoint", async {
        match again.connect().await {
            Err(e) => Some(e),
            Ok(()) => {
                // Upgraded, then closed at once (1012), as TSRPC.
                let err = again.call_add(ReqAdd { a: 1.0, b: 1.0 }).await.err();
                err
            }
        }
    })
    .await;
    let refused = refused.expect("a stopped endpoint serves nothing");
    assert!(
        refused.is_code(codes::LOST_CONN)
            || refused.is_code("WS_NOT_OPEN")
            || refused.kind == ErrorType::NetworkError,
        "{refused:?}"
    );
    assert_eq!(get(app.addr, "/hello").await.0, 200);
    app.shutdown().await;
}

/// The `chat_axum` example (`rpc_examples::chat_axum`): its own routes and the chat server at
/// `/rpc` on one port, reached by TSRPC's clients and ours; its shutdown future stops it all.
#[tokio::test]
async fn chat_axum_example() {
    use rpc_examples::chat_axum;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(chat_axum::serve(
        listener,
        ServerOptions::default().return_inner_error(true),
        async move {
            let _ = rx.await;
        },
    ));
    let (status, _, body) = get(addr, "/").await;
    assert_eq!(status, 200);
    assert!(body.contains(chat_axum::RPC_PATH), "{body}");
    assert_eq!(get(addr, "/health").await.2, "ok");

    let ws = format!("ws://{addr}{}", chat_axum::RPC_PATH);
    let http = format!("http://{addr}{}", chat_axum::RPC_PATH);
    for url in [&ws, &http] {
        let lines = node::tsrpc_client_in(url, "apis", false).await;
        let text = node::lines_text(&lines);
        assert!(text.contains(r#"{"c":3}"#), "{url}: {text}");
    }
    let client = ws_client(&ws, false).await;
    let sum = client
        .call_add(ReqAdd { a: 3.0, b: 4.0 })
        .await
        .expect("Add");
    assert_eq!(sum.c, 7.0);

    tx.send(()).unwrap();
    within(10, "the example stops", task)
        .await
        .expect("joins")
        .expect("served without error");
    within(5, "the client sees the close", async {
        while client.status() != WsStatus::Closed {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

/// A mounted server speaks its transports only: a WebSocket-only one answers a plain request
/// 426 (`Upgrade: websocket`); an HTTP-only one serves an upgrade request as HTTP (no 101),
/// so a WebSocket client cannot connect.
#[tokio::test]
async fn mounted_transports() {
    async fn app_with(server: chat::Server) -> (SocketAddr, tokio::task::JoinHandle<()>) {
        let rpc = chat_server::build(server).into_inner().mount().unwrap();
        let app = axum::Router::new().nest_service("/rpc", rpc.service());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (addr, task)
    }
    let (ws_addr, ws_task) = app_with(chat::Server::ws(any_port(), Default::default())).await;
    let (status, head, _) = post_json(ws_addr, "/rpc/Add", r#"{"a":1,"b":2}"#).await;
    assert_eq!(status, 426, "{head}");
    assert!(head.contains("upgrade: websocket"), "{head}");
    let client = ws_client(&format!("ws://{ws_addr}/rpc"), true).await;
    assert_eq!(
        client.call_add(ReqAdd { a: 1.0, b: 1.0 }).await.unwrap().c,
        2.0
    );

    let (http_addr, http_task) = app_with(chat::Server::http(any_port(), Default::default())).await;
    let (status, _, body) = post_json(http_addr, "/rpc/Add", r#"{"a":1,"b":2}"#).await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"isSucc":true,"res":{"c":3}}"#)
    );
    let ws = chat::Client::ws(format!("ws://{http_addr}/rpc"), WsClientOptions::default());
    within(5, "connect", ws.connect())
        .await
        .expect_err("an HTTP-only endpoint does not upgrade");
    ws_task.abort();
    http_task.abort();
}

/// Issue 15's connection context works mounted: the handler's connection has the HTTP request
/// as the endpoint saw it (path below the prefix, query, headers) and an `ip()` taken from
/// `X-Forwarded-For` only because the app's peer (127.0.0.1) is a trusted proxy, over WebSocket
/// and HTTP; `ws_allowed_origins` refuses an upgrade from another site with 403.
#[tokio::test]
async fn connection_context_mounted() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message as WsMessage;

    let options = ServerOptions::default()
        .trusted_proxies(["127.0.0.1".parse().unwrap()])
        .ws_allowed_origins(["https://app.example"]);
    let app = App::start(options).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    app.rpc.handle().flows().pre_api_call.push(move |ev| {
        let seen = {
            let req = ev.conn.http_request();
            (
                req.as_ref().map(|r| r.uri().path().to_owned()),
                req.as_ref()
                    .and_then(|r| r.query("room"))
                    .map(|q| q.to_string()),
                ev.conn.ip().to_string(),
            )
        };
        let _ = tx.send(seen);
        Some(ev)
    });

    let upgrade = |origin: &'static str| {
        let mut req = format!("{}?room=lobby", app.ws())
            .into_client_request()
            .unwrap();
        let h = req.headers_mut();
        h.insert("sec-websocket-protocol", "text".parse().unwrap());
        h.insert("x-forwarded-for", "203.0.113.9".parse().unwrap());
        h.insert("origin", origin.parse().unwrap());
        tokio_tungstenite::connect_async(req)
    };
    match within(5, "refused handshake", upgrade("https://evil.example")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 403)
        }
        other => panic!("expected 403, got {:?}", other.map(|(_, r)| r.status())),
    }
    let (mut ws, _) = within(5, "handshake", upgrade("https://app.example"))
        .await
        .expect("a listed origin gets in");
    ws.send(WsMessage::text(r#"["Add",{"a":1,"b":2},1]"#))
        .await
        .unwrap();
    let reply = within(5, "reply", ws.next()).await.unwrap().unwrap();
    assert!(reply.to_text().unwrap().contains(r#""c":3"#), "{reply:?}");
    let (path, room, ip) = within(5, "flow", rx.recv()).await.unwrap();
    assert_eq!(path.as_deref(), Some("/"), "the prefix is stripped by axum");
    assert_eq!(room.as_deref(), Some("lobby"));
    assert_eq!(ip, "203.0.113.9");

    let req = "POST /rpc/Add?room=hall HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nX-Forwarded-For: 198.51.100.4\r\nContent-Length: 13\r\n\r\n{\"a\":2,\"b\":2}";
    let (status, _, body) = raw(app.addr, req).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""c":4"#), "{body}");
    let (path, room, ip) = within(5, "flow", rx.recv()).await.unwrap();
    assert_eq!(path.as_deref(), Some("/Add"));
    assert_eq!(room.as_deref(), Some("hall"));
    assert_eq!(ip, "198.51.100.4");
    drop(ws);
    app.shutdown().await;
}
