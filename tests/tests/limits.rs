//! Server limits, on every server kind (WebSocket, HTTP, both on one port; plain and TLS):
//!
//! * `max_connections`: N clients are served; the N+1th, whether an HTTP request or a
//!   WebSocket upgrade, gets `503 Service Unavailable` (ServerError `SERVER_FULL`) and a closed
//!   socket; a slot frees when a client leaves. A WebSocket upgraded from HTTP holds its slot
//!   until its socket closes.
//! * `body_timeout`: an HTTP body that trickles in, or a chunked body that never ends, gets 408
//!   (ServerError `BODY_TIMEOUT`) when the deadline passes, and the server keeps serving.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rpc_runtime::client::{HttpClientOptions, WsClientOptions};
use rpc_runtime::server::ServerOptions;
use rpc_runtime::{ApiCall, HttpClient, RpcClient, RunningServer, Server, TsrpcError, WsClient};
use rpc_tests::hand::*;
use rpc_tests::{any_port, within};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "support/pki.rs"]
mod pki;
use pki::{pki, Pki};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ws,
    Http,
    Both,
}

/// A server of `kind` serving `Add`, over TLS with `pki`.
async fn start(kind: Kind, pki: Option<&Pki>, options: ServerOptions) -> RunningServer {
    let options = match pki {
        Some(p) => options.tls(p.server.clone()),
        None => options,
    };
    let new = match kind {
        Kind::Ws => Server::ws,
        Kind::Http => Server::http,
        Kind::Both => Server::ws_and_http,
    };
    new(proto(), any_port(), options)
        .implement_api(|c: ApiCall<ReqAdd>| async move {
            Ok(ResAdd {
                c: c.req.a + c.req.b,
            })
        })
        .allow_unimplemented()
        .start()
        .await
        .expect("server starts")
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Where the clients go: the server's address, and the TLS config when it speaks TLS.
struct Target {
    addr: SocketAddr,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl Target {
    fn new(server: &RunningServer, pki: Option<&Pki>) -> Self {
        Target {
            addr: server.local_addr(),
            tls: pki.map(|p| p.client.clone()),
        }
    }

    fn ws_client(&self) -> WsClient {
        let (scheme, mut opts) = ("ws", WsClientOptions::default());
        let scheme = match &self.tls {
            Some(c) => {
                opts = opts.tls(c.clone());
                "wss"
            }
            None => scheme,
        };
        WsClient::new(format!("{scheme}://{}", self.addr), opts)
    }

    fn http_client(&self) -> HttpClient {
        let (scheme, mut opts) = ("http", HttpClientOptions::default());
        let scheme = match &self.tls {
            Some(c) => {
                opts = opts.tls(c.clone());
                "https"
            }
            None => scheme,
        };
        HttpClient::new(format!("{scheme}://{}", self.addr), opts)
    }

    /// A raw socket to the server (TLS handshake done when the server speaks TLS).
    async fn dial(&self) -> std::io::Result<Box<dyn Io>> {
        let tcp = TcpStream::connect(self.addr).await?;
        match &self.tls {
            None => Ok(Box::new(tcp)),
            Some(config) => {
                let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
                let tls = tokio_rustls::TlsConnector::from(config.clone())
                    .connect(name, tcp)
                    .await?;
                Ok(Box::new(tls))
            }
        }
    }
}

fn add_request() -> Vec<u8> {
    let body = r#"{"a":1,"b":2}"#;
    format!(
        "POST /Add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn upgrade_request() -> Vec<u8> {
    b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
      Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
      Sec-WebSocket-Protocol: text\r\n\r\n"
        .to_vec()
}

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `err` of a TSRPC error body.
    fn error(&self) -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not a JSON body ({e}): {self:?}"));
        assert_eq!(v["isSucc"], false, "{self:?}");
        v["err"].clone()
    }
}

/// Reads one response (a `Content-Length` body, or up to the end of the stream).
async fn read_response(io: &mut (impl AsyncRead + Unpin + ?Sized)) -> std::io::Result<Resp> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = io.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line: {head}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = buf[head_end + 4..].to_vec();
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    match length {
        Some(len) => {
            while body.len() < len {
                let n = io.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                body.extend_from_slice(&chunk[..n]);
            }
        }
        None if status != 101 => {
            io.read_to_end(&mut body).await?;
        }
        None => {}
    }
    Ok(Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    })
}

/// True when the server closes the socket (end of stream, or a reset) within `secs`.
async fn closed_within(io: &mut (impl AsyncRead + Unpin + ?Sized), secs: u64) -> bool {
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(Duration::from_secs(secs), io.read(&mut byte)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

/// A connection that holds one of the server's slots.
enum Held {
    Ws(WsClient),
    Http(Box<dyn Io>),
}

impl Held {
    /// Asserts the connection is still served.
    async fn check_served(&mut self) {
        match self {
            Held::Ws(c) => {
                let res = within(10, "ws call", c.call_api(ReqAdd { a: 1.0, b: 2.0 })).await;
                assert_eq!(res.expect("a held client is served").c, 3.0);
            }
            Held::Http(io) => {
                io.write_all(&add_request()).await.expect("write");
                let resp = within(10, "http call", read_response(io.as_mut()))
                    .await
                    .expect("a held keep-alive connection is served");
                assert_eq!(resp.status, 200, "{resp:?}");
                assert_eq!(resp.body, r#"{"isSucc":true,"res":{"c":3}}"#);
            }
        }
    }

    async fn leave(self) {
        match self {
            Held::Ws(c) => c.disconnect().await,
            Held::Http(io) => drop(io),
        }
    }
}

/// True when a WebSocket connect failed because the server answered 503.
fn is_ws_refusal(e: &TsrpcError) -> bool {
    e.extra
        .get("innerErr")
        .and_then(|v| v.as_str())
        .is_some_and(|t| t.contains("503"))
}

/// Opens a client (WebSocket, or a raw HTTP keep-alive connection that made one call) and
/// checks it is served. `Err` when the server refused it with 503; anything else fails the test.
async fn open(target: &Target, ws: bool) -> Result<Held, String> {
    if ws {
        let client = target.ws_client();
        match client.connect().await {
            Ok(()) => {
                let mut held = Held::Ws(client);
                held.check_served().await;
                Ok(held)
            }
            Err(e) if is_ws_refusal(&e) => Err(format!("{e:?}")),
            Err(e) => panic!("a WebSocket connect failed, but not with 503: {e:?}"),
        }
    } else {
        let mut io = target.dial().await.expect("dial");
        io.write_all(&add_request()).await.expect("write");
        let resp = read_response(io.as_mut())
            .await
            .expect("an HTTP request gets an answer");
        match resp.status {
            200 => {
                assert_eq!(resp.body, r#"{"isSucc":true,"res":{"c":3}}"#);
                Ok(Held::Http(io))
            }
            503 => Err(format!("{resp:?}")),
            _ => panic!("unexpected answer: {resp:?}"),
        }
    }
}

/// Sends `request` on a new socket past the limit: asserts the server answers 503 with
/// `Connection: close` and then closes the socket; returns the answer.
async fn refused(target: &Target, what: &str, request: &[u8]) -> Resp {
    let mut io = target
        .dial()
        .await
        .unwrap_or_else(|e| panic!("{what} past the limit: no TLS/TCP session ({e})"));
    io.write_all(request).await.expect("write");
    let resp = read_response(io.as_mut())
        .await
        .unwrap_or_else(|e| panic!("{what} past the limit got no answer: {e}"));
    assert_eq!(resp.status, 503, "{what} past the limit: {resp:?}");
    assert_eq!(resp.header("connection"), Some("close"), "{resp:?}");
    assert!(
        closed_within(io.as_mut(), 5).await,
        "{what} past the limit: the socket stays open after the 503"
    );
    resp
}

/// The N+1th connection is refused with 503, whatever it asks for.
async fn assert_full(target: &Target, kind: Kind, n: usize) {
    for (what, request) in [
        ("an HTTP request", add_request()),
        ("a WebSocket upgrade", upgrade_request()),
    ] {
        let what = format!("{what} on {kind:?} (max_connections {n})");
        let resp = within(10, &what, refused(target, &what, &request)).await;
        let err = resp.error();
        assert_eq!(err["code"], "SERVER_FULL", "{resp:?}");
        assert_eq!(err["type"], "ServerError", "{resp:?}");
    }
    // What the typed clients make of it.
    if kind != Kind::Http {
        let client = target.ws_client();
        let err = within(10, "ws connect when full", client.connect())
            .await
            .expect_err("a WebSocket client past the limit is refused");
        println!("{kind:?}: WsClient past the limit: {err:?}");
        assert!(is_ws_refusal(&err), "{err:?}");
        assert_eq!(err.extra["httpCode"], 503, "{err:?}");
        assert!(
            err.message
                .ends_with("(HTTP 503 Service Unavailable: Server full: too many connections)"),
            "the message says why: {err:?}"
        );
    }
    if kind != Kind::Ws {
        let client = target.http_client();
        let err = within(
            10,
            "http call when full",
            client.call_api(ReqAdd { a: 1.0, b: 1.0 }),
        )
        .await
        .expect_err("an HTTP call past the limit is refused");
        println!("{kind:?}: HttpClient past the limit: {err:?}");
        assert!(err.is_code("SERVER_FULL"), "{err:?}");
        assert_eq!(err.extra["httpCode"], 503, "{err:?}");
    }
}

async fn limit_holds(kind: Kind, tls: bool) {
    const N: usize = 3;
    let pki = tls.then(pki);
    let options = ServerOptions::default().max_connections(N);
    let server = start(kind, pki.as_ref(), options).await;
    let target = Target::new(&server, pki.as_ref());
    // The transport of the i-th client: the server's; both in turn on a WebSocket + HTTP server.
    let ws_at = |i: usize| match kind {
        Kind::Ws => true,
        Kind::Http => false,
        Kind::Both => i.is_multiple_of(2),
    };

    let mut held = Vec::new();
    for i in 0..N {
        let h = within(10, "a client under the limit", open(&target, ws_at(i)))
            .await
            .unwrap_or_else(|e| panic!("client {} of {N} refused: {e}", i + 1));
        held.push(h);
    }
    assert_full(&target, kind, N).await;
    // The refusals took no slot from those held.
    for h in &mut held {
        h.check_served().await;
    }

    // One leaves (a WebSocket one on a WebSocket + HTTP server): a newcomer is served.
    let left = Instant::now();
    held.remove(0).leave().await;
    let newcomer = within(10, "a client after one left", async {
        let mut refusals = 0;
        loop {
            match open(&target, ws_at(0)).await {
                Ok(h) => break h,
                Err(_) => refusals += 1,
            }
            assert!(refusals < 400, "no slot freed after a client left");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    println!(
        "{kind:?} tls={tls}: a slot was free {:?} after a client left",
        left.elapsed()
    );
    held.push(newcomer);
    // Full again.
    within(
        10,
        "full again",
        refused(&target, "a request", &add_request()),
    )
    .await;

    for h in held {
        h.leave().await;
    }
    server.stop().await;
}

#[tokio::test]
async fn max_connections_on_a_ws_server() {
    limit_holds(Kind::Ws, false).await;
}

#[tokio::test]
async fn max_connections_on_a_wss_server() {
    limit_holds(Kind::Ws, true).await;
}

#[tokio::test]
async fn max_connections_on_an_http_server() {
    limit_holds(Kind::Http, false).await;
}

#[tokio::test]
async fn max_connections_on_an_https_server() {
    limit_holds(Kind::Http, true).await;
}

#[tokio::test]
async fn max_connections_on_a_ws_and_http_server() {
    limit_holds(Kind::Both, false).await;
}

#[tokio::test]
async fn max_connections_on_a_wss_and_https_server() {
    limit_holds(Kind::Both, true).await;
}

/// Refusing is cheap: sockets past the limit that never send a request are closed within the
/// refusal deadline, many refusals at once are all answered, and none of them takes a slot.
#[tokio::test]
async fn refusals_are_bounded_and_take_no_slot() {
    const N: usize = 2;
    let options = ServerOptions::default()
        .max_connections(N)
        .handshake_timeout(Duration::from_millis(500));
    let server = start(Kind::Both, None, options).await;
    let target = Target::new(&server, None);
    let mut held = Vec::new();
    for _ in 0..N {
        held.push(open(&target, true).await.expect("under the limit"));
    }

    // 50 silent sockets: each is closed without an answer.
    let t0 = Instant::now();
    let mut silent = Vec::new();
    for _ in 0..50 {
        silent.push(TcpStream::connect(target.addr).await.unwrap());
    }
    for s in &mut silent {
        assert!(
            closed_within(s, 10).await,
            "a silent socket past the limit is never closed"
        );
    }
    println!(
        "50 silent sockets past the limit closed {:?} after they connected",
        t0.elapsed()
    );
    drop(silent);

    // 100 requests at once past the limit: all get 503.
    let t0 = Instant::now();
    let target = Arc::new(target);
    let tasks: Vec<_> = (0..100)
        .map(|i: usize| {
            let target = target.clone();
            tokio::spawn(async move {
                let request = if i.is_multiple_of(2) {
                    add_request()
                } else {
                    upgrade_request()
                };
                refused(&target, "a request", &request).await;
            })
        })
        .collect();
    for t in tasks {
        within(20, "a refusal", t).await.unwrap();
    }
    println!("100 concurrent refusals answered in {:?}", t0.elapsed());

    // Still exactly N slots: the held clients are served, one leaving lets one in.
    for h in &mut held {
        h.check_served().await;
    }
    held.remove(0).leave().await;
    let newcomer = within(10, "a client after one left", async {
        loop {
            if let Ok(h) = open(&target, true).await {
                break h;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    held.push(newcomer);
    refused(&target, "a request", &add_request()).await;
    for h in held {
        h.leave().await;
    }
    server.stop().await;
}

/// How a body is sent slowly.
#[derive(Debug, Clone, Copy)]
enum Trickle {
    /// `Content-Length` far larger than what is sent, one byte at a time.
    Sized,
    /// A chunked body whose chunks never stop.
    Chunked,
}

/// Sends a request whose body comes slowly (one piece every 50 ms, so never idle for long):
/// the server answers 408 `BODY_TIMEOUT` at its body deadline and closes the connection, and
/// serves another client meanwhile.
async fn slow_body_gets_408(kind: Kind, trickle: Trickle) {
    let deadline = Duration::from_millis(300);
    let options = ServerOptions::default()
        .body_timeout(Some(deadline))
        .handshake_timeout(Duration::from_secs(10));
    let server = start(kind, None, options).await;
    let target = Target::new(&server, None);

    let stream = TcpStream::connect(target.addr).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let head = match trickle {
        Trickle::Sized => {
            "POST /Add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                           Content-Length: 16777216\r\n\r\n"
        }
        Trickle::Chunked => {
            "POST /Add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                             Transfer-Encoding: chunked\r\n\r\n"
        }
    };
    wr.write_all(head.as_bytes()).await.unwrap();
    let t0 = Instant::now();
    let writer = tokio::spawn(async move {
        let piece: &[u8] = match trickle {
            Trickle::Sized => b" ",
            Trickle::Chunked => b"1\r\n \r\n",
        };
        let mut sent = 0usize;
        while wr.write_all(piece).await.is_ok() {
            sent += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        sent
    });

    // Another client is served while the slow body comes in.
    let other = target.http_client();
    let res = within(
        10,
        "another call",
        other.call_api(ReqAdd { a: 2.0, b: 2.0 }),
    )
    .await;
    assert_eq!(res.unwrap().c, 4.0);

    let resp = within(10, "the answer to a slow body", read_response(&mut rd))
        .await
        .expect("the slow body gets an answer");
    let took = t0.elapsed();
    println!("{kind:?} {trickle:?}: {} after {took:?}", resp.status);
    assert_eq!(resp.status, 408, "{resp:?}");
    assert_eq!(resp.header("connection"), Some("close"), "{resp:?}");
    let err = resp.error();
    assert_eq!(err["code"], "BODY_TIMEOUT", "{resp:?}");
    assert_eq!(err["type"], "ServerError", "{resp:?}");
    assert!(
        closed_within(&mut rd, 5).await,
        "the connection stays open after the 408"
    );
    let sent = within(10, "the writer stops", writer).await.unwrap();
    println!("{kind:?} {trickle:?}: {sent} pieces sent before the server closed");
    // The 408 came from the deadline, not from the body ending.
    assert!(sent > 1, "the body was still coming in");

    let res = within(
        10,
        "a call after",
        other.call_api(ReqAdd { a: 3.0, b: 3.0 }),
    )
    .await;
    assert_eq!(res.unwrap().c, 6.0);
    server.stop().await;
}

#[tokio::test]
async fn a_trickling_body_gets_408_at_the_body_deadline() {
    slow_body_gets_408(Kind::Http, Trickle::Sized).await;
}

#[tokio::test]
async fn a_chunked_body_that_never_ends_gets_408_at_the_body_deadline() {
    slow_body_gets_408(Kind::Http, Trickle::Chunked).await;
}

#[tokio::test]
async fn the_body_deadline_holds_on_a_ws_and_http_server() {
    slow_body_gets_408(Kind::Both, Trickle::Chunked).await;
}

/// How many of `n` connects to a server whose accept loop is not running complete within
/// 500 ms: the kernel completes at most the listen backlog (plus one) without an accept.
fn connects_without_accept(options: ServerOptions, n: usize) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // The server's accept loop runs on `rt`, which nothing drives between the two block_ons.
    let server = rt.block_on(start(Kind::Ws, None, options));
    let addr = server.local_addr();
    let done = std::thread::spawn(move || {
        let connects: Vec<_> = (0..n)
            .map(|_| {
                std::thread::spawn(move || {
                    std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500))
                })
            })
            .collect();
        connects
            .into_iter()
            .map(|c| c.join().expect("connect thread"))
            .filter_map(Result::ok)
            .collect::<Vec<_>>()
    })
    .join()
    .expect("connects");
    rt.block_on(server.stop());
    done.len()
}

#[test]
fn the_listen_backlog_is_the_option() {
    let small = connects_without_accept(ServerOptions::default().listen_backlog(4), 40);
    assert!(
        (4..=6).contains(&small),
        "backlog 4: {small} of 40 connects completed without an accept"
    );
    // More than `TcpListener::bind`'s 128.
    let default = connects_without_accept(ServerOptions::default(), 300);
    assert_eq!(
        default, 300,
        "the default backlog (1,024) holds a burst of 300 connects"
    );
}
