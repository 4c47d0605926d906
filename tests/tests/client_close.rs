//! The clients at the end of a connection and with replies they cannot read (issue 10).
//!
//! * A server's close frame ends the `WsClient`'s connection at once, even when the server keeps
//!   the TCP connection open: the client answers the frame, fails every pending call with
//!   NetworkError `LOST_CONN` (the frame's reason), goes `Closed`, fires `post_disconnect` once and
//!   drops the socket after at most `close_linger`. Also with close codes a server may not send
//!   (5000, 1005 on the wire) and close frames tungstenite refuses (1-byte payload, reason not
//!   UTF-8).
//! * A reply whose return object cannot be read (`{"isSucc":false,"err":5}`, `{}`, `null`) fails
//!   that call at once with ServerError `Parse server output error`, over WebSocket and HTTP.
//!
//! The servers are written by hand on raw TCP sockets (127.0.0.1:0), so each can do what no
//! well-behaved server does. Bounds are generous; the times measured are printed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rpc_runtime::client::{HttpClientOptions, WsClientOptions, WsStatus};
use rpc_runtime::{
    codes, CallOptions, ErrorType, HttpClient, RpcClient as _, TsrpcError, WsClient,
};
use rpc_tests::{any_port, socket_held, within};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// The linger the tests give the client: short, so a test sees the socket dropped soon.
const LINGER: Duration = Duration::from_millis(300);

/// Client options: no default call timeout, a short close linger.
fn options() -> WsClientOptions {
    WsClientOptions::default()
        .timeout(None)
        .close_linger(LINGER)
}

/// A hand-written WebSocket server: a listener on 127.0.0.1:0.
struct RawServer {
    listener: TcpListener,
}

impl RawServer {
    async fn start() -> RawServer {
        RawServer {
            listener: TcpListener::bind(any_port()).await.expect("bind"),
        }
    }

    fn addr(&self) -> std::net::SocketAddr {
        self.listener.local_addr().expect("local addr")
    }

    fn url(&self) -> String {
        format!("ws://{}", self.addr())
    }

    /// Accepts one connection and answers its handshake (echoing the sub-protocol).
    async fn accept(&self) -> Peer {
        let (mut stream, _) = within(10, "accept", self.listener.accept())
            .await
            .expect("accept");
        let mut buf = Vec::new();
        let mut chunk = [0u8; 2048];
        let end = loop {
            let n = stream.read(&mut chunk).await.expect("read handshake");
            assert!(n > 0, "the client went away during the handshake");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        let header = |name: &str| {
            head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_owned())
            })
        };
        let key = header("sec-websocket-key").expect("a WebSocket key");
        let mut resp = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n",
            derive_accept_key(key.as_bytes())
        );
        if let Some(p) = header("sec-websocket-protocol") {
            resp.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
        }
        resp.push_str("\r\n");
        stream.write_all(resp.as_bytes()).await.expect("write 101");
        buf.drain(..end + 4);
        Peer { stream, buf }
    }
}

/// What the server read from a client.
#[derive(Debug, PartialEq)]
enum Got {
    /// A frame: opcode and (unmasked) payload.
    Frame(u8, Vec<u8>),
    /// The client closed the TCP connection (or reset it).
    Eof,
    /// Nothing within the wait.
    Quiet,
}

/// One connection to the hand-written server.
struct Peer {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Peer {
    /// The client's end of the connection.
    fn client_addr(&self) -> std::net::SocketAddr {
        self.stream.peer_addr().expect("peer addr")
    }

    fn server_addr(&self) -> std::net::SocketAddr {
        self.stream.local_addr().expect("local addr")
    }

    /// Reads the next client frame.
    async fn read(&mut self, wait: Duration) -> Got {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some((opcode, payload, used)) = rpc_tests::raw::split_frame(&self.buf) {
                self.buf.drain(..used);
                return Got::Frame(opcode, payload);
            }
            let mut chunk = [0u8; 16 * 1024];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Err(_) => return Got::Quiet,
                Ok(Ok(0)) | Ok(Err(_)) => return Got::Eof,
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Reads the next API call `[name, body, sn]`, skipping other frames: its name and sn.
    async fn next_call(&mut self) -> (String, u64) {
        loop {
            match self.read(Duration::from_secs(10)).await {
                Got::Frame(0x1, payload) => {
                    let v: Value = serde_json::from_slice(&payload).expect("a JSON frame");
                    let name = v[0].as_str().expect("a name").to_owned();
                    let sn = v[2].as_u64().expect("an sn");
                    return (name, sn);
                }
                Got::Frame(..) => continue,
                other => panic!("expected a call, got {other:?}"),
            }
        }
    }

    /// Sends one unmasked frame.
    async fn send(&mut self, opcode: u8, payload: &[u8]) {
        assert!(payload.len() < 126, "short frames only");
        let mut frame = vec![0x80 | opcode, payload.len() as u8];
        frame.extend_from_slice(payload);
        self.stream.write_all(&frame).await.expect("write frame");
    }

    async fn send_text(&mut self, text: &str) {
        self.send(0x1, text.as_bytes()).await;
    }

    /// Reads until the client closes the TCP connection: the frames read and when the end
    /// came, or `None` as the frames when it did not come within `wait`.
    async fn until_eof(&mut self, wait: Duration) -> (Option<Vec<(u8, Vec<u8>)>>, Instant) {
        let deadline = tokio::time::Instant::now() + wait;
        let mut frames = Vec::new();
        loop {
            match self.read(deadline - tokio::time::Instant::now()).await {
                Got::Frame(op, payload) => frames.push((op, payload)),
                Got::Eof => return (Some(frames), Instant::now()),
                Got::Quiet => return (None, Instant::now()),
            }
        }
    }
}

/// A close frame's payload: the code, then the reason.
fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    p
}

/// Every post_disconnect: reason and is_manual.
type DisconnectLog = Arc<Mutex<Vec<(Option<String>, bool)>>>;

fn log_disconnects(client: &WsClient) -> DisconnectLog {
    let log = DisconnectLog::default();
    let l = log.clone();
    client.flows().post_disconnect.push(move |ev| {
        l.lock().unwrap().push((ev.reason.clone(), ev.is_manual));
        Some(ev)
    });
    log
}

/// Calls `Add` on a task: the return and when it came.
fn spawn_add(
    client: &WsClient,
    options: CallOptions,
) -> JoinHandle<(Result<Value, TsrpcError>, Instant)> {
    let client = client.clone();
    tokio::spawn(async move {
        let r = client
            .call_raw("Add", &json!({"a": 1, "b": 2}), options)
            .await;
        (r, Instant::now())
    })
}

/// Waits (at most 10 s) until `f` holds.
async fn until(what: &str, mut f: impl FnMut() -> bool) {
    within(10, what, async {
        while !f() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
}

/// The server sends a close frame with `payload` and keeps the TCP connection open. Two calls
/// are pending, one without a timeout and one with; both must fail with `LOST_CONN` and
/// `message`; the client must be `Closed`, fire post_disconnect once with `reason`, answer with
/// a close frame (code `answer`, `None`: no code) and drop the socket within its linger; then
/// connect again to a good server.
async fn server_closes_and_keeps_tcp_open(
    what: &str,
    payload: &[u8],
    message: &str,
    reason: Option<&str>,
    answer: Option<u16>,
) {
    let server = RawServer::start().await;
    let client = WsClient::new(server.url(), options());
    let disconnects = log_disconnects(&client);
    let connect = tokio::spawn({
        let c = client.clone();
        async move { c.connect().await }
    });
    let mut peer = server.accept().await;
    within(10, "connect", connect).await.unwrap().unwrap();

    let no_timeout = spawn_add(&client, CallOptions::timeout(Duration::ZERO));
    let with_timeout = spawn_add(&client, CallOptions::timeout(Duration::from_secs(3)));
    peer.next_call().await;
    peer.next_call().await;

    let sent = Instant::now();
    peer.send(0x8, payload).await;
    // The TCP connection stays open: `peer` is held and only read from.

    let (r, at) = within(10, "the call with a timeout", with_timeout)
        .await
        .unwrap();
    let err = r.expect_err("the call must fail");
    assert!(
        err.is_code(codes::LOST_CONN),
        "{what}: a call with a timeout fails with LOST_CONN, not {err:?}"
    );
    assert_eq!(err.kind, ErrorType::NetworkError);
    assert_eq!(err.message, message, "{what}");
    println!(
        "{what}: call with a timeout failed {:?} after the close frame",
        at - sent
    );
    let (r, at) = within(10, "the call without a timeout", no_timeout)
        .await
        .unwrap();
    let err = r.expect_err("the call must fail");
    assert!(err.is_code(codes::LOST_CONN), "{what}: {err:?}");
    assert_eq!(err.message, message, "{what}");
    println!(
        "{what}: call without a timeout failed {:?} after the close frame",
        at - sent
    );
    assert_eq!(client.status(), WsStatus::Closed, "{what}");
    until("post_disconnect", || {
        !disconnects.lock().unwrap().is_empty()
    })
    .await;

    // The client answers the close frame, then drops the socket within its linger.
    let (client_addr, server_addr) = (peer.client_addr(), peer.server_addr());
    let (frames, eof_at) = peer.until_eof(Duration::from_secs(10)).await;
    let frames = frames.unwrap_or_else(|| {
        panic!("{what}: the client still holds the socket 10 s after the close frame")
    });
    let answers: Vec<Option<u16>> = frames
        .iter()
        .filter(|(op, _)| *op == 0x8)
        .map(|(_, p)| (p.len() >= 2).then(|| u16::from_be_bytes([p[0], p[1]])))
        .collect();
    assert_eq!(
        answers,
        vec![answer],
        "{what}: the client answers the close frame once (read {frames:?})"
    );
    println!(
        "{what}: socket dropped {:?} after the close frame (linger {LINGER:?})",
        eof_at - sent
    );
    until("socket released", || !socket_held(client_addr, server_addr)).await;
    assert_eq!(
        *disconnects.lock().unwrap(),
        vec![(reason.map(str::to_owned), false)],
        "{what}: post_disconnect fires once, with the reason, not manual"
    );
    assert!(client
        .call_raw("Add", &json!({"a": 1, "b": 2}), CallOptions::default())
        .await
        .unwrap_err()
        .is_code(codes::WS_NOT_OPEN));

    // The same client connects again, to a server that behaves.
    let connect = tokio::spawn({
        let c = client.clone();
        async move { c.connect().await }
    });
    let mut peer = server.accept().await;
    within(10, "connect again", connect).await.unwrap().unwrap();
    assert_eq!(client.status(), WsStatus::Opened);
    let call = spawn_add(&client, CallOptions::default());
    let (name, sn) = peer.next_call().await;
    peer.send_text(&format!(
        r#"["{name}",{{"isSucc":true,"res":{{"c":3}}}},{sn}]"#
    ))
    .await;
    let (r, _) = within(10, "call after reconnecting", call).await.unwrap();
    assert_eq!(r.unwrap(), json!({"c": 3}));
    drop(peer);
    until("closed after the second server went", || {
        client.status() == WsStatus::Closed
    })
    .await;
    assert_eq!(disconnects.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn close_frame_with_tcp_left_open_ends_the_connection() {
    server_closes_and_keeps_tcp_open(
        "code 1000",
        &close_payload(1000, b"server going away"),
        "server going away",
        Some("server going away"),
        Some(1000),
    )
    .await;
}

#[tokio::test]
async fn close_frame_with_an_application_code() {
    server_closes_and_keeps_tcp_open(
        "code 4001",
        &close_payload(4001, b"kicked"),
        "kicked",
        Some("kicked"),
        Some(4001),
    )
    .await;
}

#[tokio::test]
async fn close_frame_without_a_code() {
    // An empty close frame: code 1005 (no status) for the receiver.
    server_closes_and_keeps_tcp_open("no code", &[], "Lost connection to server", None, None).await;
}

#[tokio::test]
async fn close_frame_with_code_5000() {
    // Not a code a peer may send: tungstenite reads it as a protocol violation.
    server_closes_and_keeps_tcp_open(
        "code 5000",
        &close_payload(5000, b"bye"),
        "Protocol violation",
        Some("Protocol violation"),
        Some(1002),
    )
    .await;
}

#[tokio::test]
async fn close_frame_with_code_1005_on_the_wire() {
    // 1005 means "no code"; a peer may not send it.
    server_closes_and_keeps_tcp_open(
        "code 1005 on the wire",
        &close_payload(1005, b"bye"),
        "Protocol violation",
        Some("Protocol violation"),
        Some(1002),
    )
    .await;
}

#[tokio::test]
async fn close_frame_with_a_one_byte_payload() {
    // tungstenite refuses it (a read error): the client closes as on any protocol error.
    server_closes_and_keeps_tcp_open(
        "1-byte payload",
        &[0x03],
        "Lost connection to server",
        None,
        Some(1000),
    )
    .await;
}

#[tokio::test]
async fn close_frame_whose_reason_is_not_utf8() {
    server_closes_and_keeps_tcp_open(
        "reason not UTF-8",
        &close_payload(1000, &[0xff, 0xfe]),
        "Lost connection to server",
        None,
        Some(1000),
    )
    .await;
}

/// `disconnect()` against a server that answers the close frame but keeps the TCP connection:
/// resolves, the client is `Closed`, and the socket is dropped within the linger.
#[tokio::test]
async fn disconnect_from_a_server_that_keeps_tcp_open() {
    let server = RawServer::start().await;
    let client = WsClient::new(server.url(), options());
    let disconnects = log_disconnects(&client);
    let connect = tokio::spawn({
        let c = client.clone();
        async move { c.connect().await }
    });
    let mut peer = server.accept().await;
    within(10, "connect", connect).await.unwrap().unwrap();
    let pending = spawn_add(&client, CallOptions::timeout(Duration::ZERO));
    peer.next_call().await;
    let started = Instant::now();
    let disconnect = tokio::spawn({
        let c = client.clone();
        async move { c.disconnect_with(1000, "bye").await }
    });
    match peer.read(Duration::from_secs(10)).await {
        Got::Frame(0x8, payload) => assert_eq!(payload, close_payload(1000, b"bye")),
        other => panic!("expected the client's close frame, got {other:?}"),
    }
    peer.send(0x8, &close_payload(1000, b"bye")).await;
    within(10, "disconnect", disconnect).await.unwrap();
    println!(
        "disconnect() resolved {:?} after it began",
        started.elapsed()
    );
    assert_eq!(client.status(), WsStatus::Closed);
    let (r, _) = within(10, "pending call", pending).await.unwrap();
    let err = r.unwrap_err();
    assert!(err.is_code(codes::LOST_CONN), "{err:?}");
    assert_eq!(err.message, "bye");
    let (frames, eof_at) = peer.until_eof(Duration::from_secs(10)).await;
    assert!(frames.is_some(), "the client drops the socket");
    println!(
        "socket dropped {:?} after disconnect() began (linger {LINGER:?})",
        eof_at - started
    );
    assert_eq!(
        *disconnects.lock().unwrap(),
        vec![(Some("bye".to_owned()), true)]
    );
}

/// The return objects a client cannot read.
const BAD_RETURNS: [&str; 5] = [
    r#"{"isSucc":false,"err":5}"#,
    "{}",
    "null",
    r#"{"isSucc":"yes","res":{}}"#,
    "[1,2]",
];

fn assert_parse_error(err: &TsrpcError, what: &str) {
    assert_eq!(err.kind, ErrorType::ServerError, "{what}: {err:?}");
    assert_eq!(err.message, "Parse server output error", "{what}: {err:?}");
}

/// `["Add", <bad>, sn]` fails that call at once (the client has no timeout), the other pending
/// call stays pending and the connection stays open.
#[tokio::test]
async fn unparseable_ws_reply_fails_that_call_at_once() {
    let server = RawServer::start().await;
    let client = WsClient::new(server.url(), options());
    let connect = tokio::spawn({
        let c = client.clone();
        async move { c.connect().await }
    });
    let mut peer = server.accept().await;
    within(10, "connect", connect).await.unwrap().unwrap();
    let first = spawn_add(&client, CallOptions::default());
    let (_, first_sn) = peer.next_call().await;
    for bad in BAD_RETURNS {
        let call = spawn_add(&client, CallOptions::default());
        let (name, sn) = peer.next_call().await;
        let sent = Instant::now();
        peer.send_text(&format!(r#"["{name}",{bad},{sn}]"#)).await;
        let (r, at) = within(10, bad, call).await.unwrap();
        assert_parse_error(&r.expect_err(bad), bad);
        println!(
            "reply {bad}: the call failed {:?} after it was sent",
            at - sent
        );
    }
    // Frames whose sn cannot be read fail no call and do not end the connection.
    for junk in ["not json", r#"["Add",{},"1"]"#, r#"["Add",null]"#, "[]"] {
        peer.send_text(junk).await;
    }
    peer.send_text(&format!(
        r#"["Add",{{"isSucc":true,"res":{{"c":3}}}},{first_sn}]"#
    ))
    .await;
    let (r, _) = within(10, "the first call", first).await.unwrap();
    assert_eq!(
        r.unwrap(),
        json!({"c": 3}),
        "the other call got its own reply"
    );
    assert_eq!(client.status(), WsStatus::Opened);
    client.disconnect().await;
}

/// A hand-written HTTP server answering every request with status 200 and the next body.
async fn http_server(bodies: Vec<&'static str>) -> (std::net::SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind(any_port()).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        for body in bodies {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            // Read the head and the body (Content-Length) before answering.
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = s.read(&mut chunk).await {
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes()).await;
        }
    });
    (addr, task)
}

/// The same bodies over HTTP fail the call with the same error (and `httpCode`).
#[tokio::test]
async fn unparseable_http_reply_fails_the_call() {
    let (addr, server) = http_server(BAD_RETURNS.to_vec()).await;
    let client = HttpClient::new(
        format!("http://{addr}"),
        HttpClientOptions::default().timeout(None),
    );
    for bad in BAD_RETURNS {
        let r = within(
            10,
            bad,
            client.call_raw("Add", &json!({"a": 1}), CallOptions::default()),
        )
        .await;
        let err = r.expect_err(bad);
        assert_parse_error(&err, bad);
        assert_eq!(err.extra["httpCode"], 200, "{bad}");
    }
    within(10, "the server task", server).await.unwrap();
}
