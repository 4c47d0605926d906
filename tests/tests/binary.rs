//! TSRPC's binary mode (TSBuffer) end to end, Rust on both sides: our server answers the
//! frames of TSRPC's own binary sessions (`captures/ws-binary.txt`, `captures/http-binary.txt`,
//! recorded against TSRPC's reference server) with the same bytes; our client sends the same
//! bytes as TSRPC's client and reads TSRPC's answers; binary and JSON clients share one server
//! (a broadcast reaches each in its own data type); calls, messages and errors work the same in
//! both modes; bad binary input gets TSRPC's answers, never a panic or a hang.
//!
//! Interop with the real npm TSRPC in binary mode is in `interop.rs`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use protocols::chat;
use rpc_examples::chat_server;
use rpc_runtime::client::{HttpClientOptions, WsClientOptions};
use rpc_runtime::reasons::{INVALID_BUFFER_REASON, JSON_DISABLED_REASON};
use rpc_runtime::server::ServerOptions;
use rpc_runtime::{codes, ErrorCode, ErrorType, RpcClient};
use rpc_tests::{any_port, raw_accept, within, RawEvent, RawWs};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message as WsMessage;

const WS_CAPTURE: &str = include_str!("../captures/ws-binary.txt");
const HTTP_CAPTURE: &str = include_str!("../captures/http-binary.txt");

// ---- the captures

/// One `## ` section of a capture: the client's frames (or bodies) and the server's, in order.
#[derive(Debug, Default, Clone)]
struct Section {
    title: String,
    client: Vec<Vec<u8>>,
    server: Vec<Vec<u8>>,
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads a capture: `C->S BIN .. hex=..` / `S->C BIN .. hex=..` lines (WebSocket), or a
/// `C->S POST` / `S->C 200` line followed by `body hex: ..` or `(empty body)` (HTTP).
fn sections(capture: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    let mut pending: Option<bool> = None; // an HTTP head seen: true for the client's
    for line in capture.lines().map(str::trim) {
        if let Some(title) = line.strip_prefix("## ") {
            out.push(Section {
                title: title.to_owned(),
                ..Section::default()
            });
            continue;
        }
        let Some(section) = out.last_mut() else {
            continue;
        };
        let push = |section: &mut Section, client: bool, bytes: Vec<u8>| {
            if client {
                section.client.push(bytes)
            } else {
                section.server.push(bytes)
            }
        };
        if let Some((_, h)) = line.split_once(" hex=") {
            push(section, line.starts_with("C->S"), hex(h));
        } else if line.starts_with("C->S POST") {
            pending = Some(true);
        } else if line.starts_with("S->C ") {
            pending = Some(false);
        } else if let (Some(client), Some(h)) = (pending, line.strip_prefix("body hex: ")) {
            push(section, client, hex(h));
            pending = None;
        } else if let (Some(client), "(empty body)") = (pending, line) {
            push(section, client, Vec::new());
            pending = None;
        }
    }
    out
}

/// The repository's copies of the binary captures are TSRPC's (`../shared`), byte for byte.
/// Skipped where `../shared` is not there.
#[test]
fn the_capture_copies_match_the_shared_ones() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tsrpc-captures");
    if !shared.is_dir() {
        eprintln!("skipped: {} is not there", shared.display());
        return;
    }
    for (name, ours) in [
        ("ws-binary.txt", WS_CAPTURE),
        ("http-binary.txt", HTTP_CAPTURE),
    ] {
        let theirs = std::fs::read_to_string(shared.join(name)).expect("readable");
        assert_eq!(ours, theirs, "captures/{name} differs from the shared copy");
    }
    // And the parser reads them whole.
    let ws = sections(WS_CAPTURE);
    assert_eq!(ws.len(), 12, "{ws:#?}");
    assert_eq!(
        ws[9].server.len(),
        5,
        "GameBurst: 4 messages and the return"
    );
    assert_eq!(sections(HTTP_CAPTURE).len(), 7);
}

/// A game id (`g-` and 13 digits) in a frame replaced by the one in `like` (they differ by
/// the time the game started), so frames compare byte for byte.
fn with_game_id_of(frame: &[u8], like: &[u8]) -> Vec<u8> {
    let find = |b: &[u8]| {
        b.windows(15)
            .position(|w| w.starts_with(b"g-") && w[2..].iter().all(u8::is_ascii_digit))
    };
    let mut out = frame.to_vec();
    if let (Some(i), Some(j)) = (find(frame), find(like)) {
        out[i..i + 15].copy_from_slice(&like[j..j + 15]);
    }
    out
}

// ---- raw peers

/// A raw WebSocket client offering `protocol`.
async fn raw_connect_with(url: &str, protocol: &'static str) -> RawWs {
    let mut req = url.into_client_request().expect("url");
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(protocol));
    let (ws, resp) = tokio_tungstenite::connect_async(req)
        .await
        .expect("connect");
    assert_eq!(
        resp.headers()
            .get("sec-websocket-protocol")
            .map(|v| v.to_str().unwrap()),
        Some(protocol),
        "the server echoes the sub-protocol"
    );
    ws
}

/// The next data frame or close (pings skipped), within 5 s.
async fn next_event(ws: &mut RawWs) -> RawEvent {
    loop {
        let next = within(5, "a frame", ws.next()).await;
        return match next {
            None | Some(Err(_)) => RawEvent::End,
            Some(Ok(WsMessage::Text(t))) => RawEvent::Text(t.to_string()),
            Some(Ok(WsMessage::Binary(b))) => RawEvent::Binary(b.to_vec()),
            Some(Ok(WsMessage::Close(c))) => {
                let (code, reason) = c
                    .map(|c| (u16::from(c.code), c.reason.to_string()))
                    .unwrap_or((1005, String::new()));
                RawEvent::Close(code, reason)
            }
            Some(Ok(_)) => continue,
        };
    }
}

/// One HTTP/1.1 request on a fresh connection: status, Content-Type, body.
async fn http_post(addr: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> HttpAnswer {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write");
    let mut raw = Vec::new();
    within(5, "the answer", stream.read_to_end(&mut raw))
        .await
        .expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let content_type = head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("content-type: ")
            .map(str::to_owned)
    });
    HttpAnswer {
        status,
        content_type,
        body: raw[split + 4..].to_vec(),
    }
}

#[derive(Debug)]
struct HttpAnswer {
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
}

async fn our_ws(options: ServerOptions) -> chat::RunningServer {
    chat_server::start_ws(any_port(), options.return_inner_error(true))
        .await
        .expect("server starts")
}

async fn our_http(options: ServerOptions) -> chat::RunningServer {
    chat_server::start_http(any_port(), options.return_inner_error(true))
        .await
        .expect("server starts")
}

// ---- our server against TSRPC's client frames

/// Our server answers every frame of TSRPC's binary WebSocket session (a.10) with the bytes
/// TSRPC's server answered, in order (game ids aside), and closes after Kick as it did.
#[tokio::test]
async fn our_server_answers_the_ws_capture_byte_for_byte() {
    let server = our_ws(ServerOptions::default()).await;
    let url = server.url();
    // The capture's server had one login before (its ids start at 1000): so does ours.
    let mut first = raw_connect_with(&url, "buffer").await;
    let login = &sections(WS_CAPTURE)[1].client[0];
    first.send(WsMessage::binary(login.clone())).await.unwrap();
    assert!(matches!(next_event(&mut first).await, RawEvent::Binary(_)));
    drop(first);

    let mut ws = raw_connect_with(&url, "buffer").await;
    let mut checked = 0;
    for section in sections(WS_CAPTURE).iter().take(10) {
        for frame in &section.client {
            ws.send(WsMessage::binary(frame.clone())).await.unwrap();
        }
        for expected in &section.server {
            match next_event(&mut ws).await {
                RawEvent::Binary(got) => {
                    assert_eq!(
                        to_hex(&with_game_id_of(&got, expected)),
                        to_hex(expected),
                        "{}",
                        section.title
                    );
                    checked += 1;
                }
                other => panic!("{}: {other:?}", section.title),
            }
        }
    }
    assert_eq!(checked, 14);
    // Kick: the return, then the close with the reason.
    let kick = &sections(WS_CAPTURE)[10];
    assert_eq!(kick.title, "callApi Kick (server closes after returning)");
    ws.send(WsMessage::binary(kick.client[0].clone()))
        .await
        .unwrap();
    assert_eq!(
        next_event(&mut ws).await,
        RawEvent::Binary(kick.server[0].clone())
    );
    assert_eq!(
        next_event(&mut ws).await,
        RawEvent::Close(1000, "kicked-by-test".into())
    );
    server.stop().await;
}

/// Our HTTP server answers every body of TSRPC's binary HTTP session with TSRPC's bytes:
/// status 200 whatever the error type, no Content-Type, an empty body for a message.
#[tokio::test]
async fn our_server_answers_the_http_capture_byte_for_byte() {
    let server = our_http(ServerOptions::default()).await;
    let addr = server.local_addr();
    let octet = "application/octet-stream";
    let session = sections(HTTP_CAPTURE);
    // TSRPC's server had served the WebSocket session before (a login and a chat): so has
    // ours.
    for before in [&session[0], &session[5]] {
        assert_eq!(
            http_post(addr, "/", octet, &before.client[0]).await.status,
            200
        );
    }
    for section in session {
        assert_eq!(section.client.len(), 1, "{}", section.title);
        let answer = http_post(addr, "/", octet, &section.client[0]).await;
        assert_eq!(answer.status, 200, "{}", section.title);
        assert_eq!(answer.content_type, None, "{}", section.title);
        let expected = &section.server[0];
        assert_eq!(to_hex(&answer.body), to_hex(expected), "{}", section.title);
    }
    server.stop().await;
}

// ---- our client against TSRPC's server frames

/// A raw WebSocket server that plays TSRPC's side of the capture: for each data frame it
/// gets, it records it and sends the next section's server frames. Returns its URL and the
/// frames it got.
async fn capture_server(sections: Vec<Section>) -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind(any_port()).await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let log = got.clone();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = raw_accept(stream).await;
        let mut queue: VecDeque<Section> = sections.into();
        while let Some(Ok(frame)) = ws.next().await {
            let WsMessage::Binary(bytes) = frame else {
                continue;
            };
            log.lock().unwrap().push(bytes.to_vec());
            let Some(mut section) = queue.pop_front() else {
                break;
            };
            section.client.remove(0);
            if section.client.is_empty() {
                for f in section.server {
                    ws.send(WsMessage::binary(f)).await.unwrap();
                }
            } else {
                queue.push_front(section);
            }
        }
    });
    (url, got)
}

/// Our typed client in binary mode (the default) sends the bytes TSRPC's client sent, and
/// reads TSRPC's server's answers: returns, errors with string and numeric codes and extra
/// fields, and messages.
#[tokio::test]
async fn our_client_sends_the_ws_capture_byte_for_byte() {
    // The capture's first session, without the heartbeat (our client beats only when asked).
    let session: Vec<Section> = sections(WS_CAPTURE)[1..11].to_vec();
    let expected: Vec<Vec<u8>> = session.iter().flat_map(|s| s.client.clone()).collect();
    let (url, got) = capture_server(session).await;
    let client = chat::Client::ws(&url, WsClientOptions::default());
    assert!(!client.is_json());
    within(5, "connect", client.connect()).await.unwrap();
    let chats = Arc::new(Mutex::new(Vec::new()));
    let sink = chats.clone();
    client.listen_msg_chat(move |m| sink.lock().unwrap().push(m));
    let games = Arc::new(Mutex::new(Vec::new()));
    let sink = games.clone();
    client.listen_msg_matching(regex::Regex::new("^game/").unwrap(), move |m, _| {
        sink.lock().unwrap().push(m)
    });

    let login = client
        .call_login(chat::ReqLogin {
            username: "alice".into(),
            password: "secret".into(),
        })
        .await
        .unwrap();
    assert_eq!(login.token, "token-alice-1001");
    assert_eq!(login.user.id, 1001.0);
    let add = client.call_add(chat::ReqAdd { a: 1.0, b: 2.0 }).await;
    assert_eq!(add.unwrap().c, 3.0);
    let err = client
        .call_fail(chat::ReqFail { mode: None })
        .await
        .unwrap_err();
    assert_eq!(
        serde_json::to_value(&err).unwrap(),
        json!({"message": "Failed on purpose", "type": "ApiError", "code": "E_FAIL",
               "detail": "extra field"})
    );
    let number = Some(chat::FailMode::Number);
    let err = client
        .call_fail(chat::ReqFail { mode: number })
        .await
        .unwrap_err();
    assert_eq!(err.code, Some(ErrorCode::Int(42)));
    let throw = Some(chat::FailMode::Throw);
    let err = client
        .call_fail(chat::ReqFail { mode: throw })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorType::ServerError);
    assert_eq!(
        err.extra.get("innerErr"),
        Some(&json!("Intentional exception from PtlFail"))
    );
    let chat_msg = chat::MsgChat {
        name: "alice".into(),
        content: "hi".into(),
    };
    client.send_msg_chat(&chat_msg).await.unwrap();
    client
        .send_msg_room_user_join(&chat::room::MsgUserJoin {
            room_id: "r1".into(),
            user: chat::room::RoomUser {
                id: 7.0,
                name: "bob".into(),
            },
            tags: vec!["x".into()],
        })
        .await
        .unwrap();
    client
        .send_msg_room_user_leave(&chat::room::MsgUserLeave {
            room_id: "r1".into(),
            user_id: 7.0,
            reason: None,
        })
        .await
        .unwrap();
    let burst = client
        .call_game_burst(chat::ReqGameBurst { frames: 2 })
        .await;
    assert_eq!(burst.unwrap().sent, 4);
    let kick = client.call_kick(chat::ReqKick {
        reason: "kicked-by-test".into(),
    });
    kick.await.unwrap();

    assert_eq!(
        got.lock()
            .unwrap()
            .iter()
            .map(|f| to_hex(f))
            .collect::<Vec<_>>(),
        expected.iter().map(|f| to_hex(f)).collect::<Vec<_>>()
    );
    assert_eq!(
        chats.lock().unwrap()[..],
        [chat::MsgChat {
            name: "server".into(),
            content: "echo: hi".into()
        }]
    );
    let games = games.lock().unwrap();
    assert_eq!(games.len(), 4, "{games:?}");
    match &games[3] {
        chat::Msg::GameGameOver(over) => {
            assert_eq!(over.scores, [10.5, -3.0]);
            assert_eq!(over.result, chat::game::GameResult::Win);
        }
        other => panic!("{other:?}"),
    }
}

/// A raw HTTP/1.1 server (keep-alive) answering each request with the next captured body;
/// records each request's target, Content-Type and body.
async fn capture_http_server(
    answers: Vec<Vec<u8>>,
) -> (String, Arc<Mutex<Vec<(String, String, Vec<u8>)>>>) {
    let listener = TcpListener::bind(any_port()).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let log = got.clone();
    let answers = Arc::new(Mutex::new(VecDeque::from(answers)));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (log, answers) = (log.clone(), answers.clone());
            tokio::spawn(async move {
                let mut r = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let target = line.split(' ').nth(1).unwrap_or_default().to_owned();
                    let (mut len, mut ctype) = (0, String::new());
                    loop {
                        let mut h = String::new();
                        r.read_line(&mut h).await.unwrap();
                        let h = h.trim_end().to_ascii_lowercase();
                        if h.is_empty() {
                            break;
                        }
                        if let Some(v) = h.strip_prefix("content-length: ") {
                            len = v.parse().unwrap();
                        }
                        if let Some(v) = h.strip_prefix("content-type: ") {
                            ctype = v.to_owned();
                        }
                    }
                    let mut body = vec![0; len];
                    r.read_exact(&mut body).await.unwrap();
                    log.lock().unwrap().push((target, ctype, body));
                    let answer = answers.lock().unwrap().pop_front().unwrap_or_default();
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nX-Powered-By: TSRPC 3.4.21\r\nContent-Length: {}\r\n\r\n",
                        answer.len()
                    );
                    let w = r.get_mut();
                    w.write_all(head.as_bytes()).await.unwrap();
                    w.write_all(&answer).await.unwrap();
                }
            });
        }
    });
    (url, got)
}

/// Our HTTP client in binary mode (the default): `POST <url>` with TSRPC's bodies, and
/// TSRPC's answers read back.
#[tokio::test]
async fn our_client_sends_the_http_capture_byte_for_byte() {
    let session = sections(HTTP_CAPTURE);
    let answers = session.iter().map(|s| s.server[0].clone()).collect();
    let (url, got) = capture_http_server(answers).await;
    let client = chat::Client::http(&url, HttpClientOptions::default());
    assert!(!client.is_json());
    let login = client.call_login(chat::ReqLogin {
        username: "alice".into(),
        password: "secret".into(),
    });
    assert_eq!(login.await.unwrap().token, "token-alice-1001");
    let add = client.call_add(chat::ReqAdd { a: 1.0, b: 2.0 }).await;
    assert_eq!(add.unwrap().c, 3.0);
    let err = client
        .call_fail(chat::ReqFail { mode: None })
        .await
        .unwrap_err();
    assert_eq!(err.extra.get("detail"), Some(&json!("extra field")));
    let number = Some(chat::FailMode::Number);
    let err = client.call_fail(chat::ReqFail { mode: number }).await;
    assert_eq!(err.unwrap_err().code, Some(ErrorCode::Int(42)));
    let throw = Some(chat::FailMode::Throw);
    let err = client.call_fail(chat::ReqFail { mode: throw }).await;
    assert!(err.unwrap_err().is_code(codes::INTERNAL_ERR));
    let chat_msg = chat::MsgChat {
        name: "alice".into(),
        content: "hi".into(),
    };
    client.send_msg_chat(&chat_msg).await.unwrap();
    let stats = client.call_stats(chat::ReqStats {}).await.unwrap();
    assert_eq!(stats.chat_count, 2);
    let got = got.lock().unwrap();
    for ((target, ctype, body), section) in got.iter().zip(&session) {
        assert_eq!(target, "/", "{}", section.title);
        assert_eq!(ctype, "application/octet-stream", "{}", section.title);
        assert_eq!(
            to_hex(body),
            to_hex(&section.client[0]),
            "{}",
            section.title
        );
    }
    assert_eq!(got.len(), session.len());
}

// ---- both modes, Rust on both sides

/// Every API of the reference service, its errors and messages: the same answers over
/// WebSocket and HTTP, in JSON and in binary mode.
#[tokio::test]
async fn calls_errors_and_messages_in_both_modes() {
    let ws_server = our_ws(ServerOptions::default()).await;
    let http_server = our_http(ServerOptions::default()).await;
    let http_url = format!("http://{}", http_server.local_addr());
    let mut seen = Vec::new();
    for json in [true, false] {
        let ws = chat::Client::ws(ws_server.url(), WsClientOptions::default().json(json));
        within(5, "connect", ws.connect()).await.unwrap();
        assert_eq!(ws.is_json(), json);
        let http = chat::Client::http(&http_url, HttpClientOptions::default().json(json));
        assert_eq!(http.is_json(), json);
        seen.push(every_api(&ws).await);
        seen.push(every_api(&http).await);

        let echoes = Arc::new(Mutex::new(Vec::new()));
        let sink = echoes.clone();
        ws.listen_msg_chat(move |m| sink.lock().unwrap().push(m.content));
        let chat_msg = chat::MsgChat {
            name: "a".into(),
            content: format!("json {json}"),
        };
        ws.send_msg_chat(&chat_msg).await.unwrap();
        http.send_msg_chat(&chat_msg).await.unwrap();
        within(5, "the echo", async {
            while echoes.lock().unwrap().is_empty() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert_eq!(echoes.lock().unwrap()[..], [format!("echo: json {json}")]);
        // The untyped layer, by name.
        let sum = ws
            .call_raw("Add", &json!({"a": 2, "b": 5}), Default::default())
            .await;
        assert_eq!(sum.unwrap(), json!({"c": 7}));
        ws.disconnect().await;
    }
    // JSON and binary gave the same answers.
    assert_eq!(seen[0], seen[2]);
    assert_eq!(seen[1], seen[3]);
    ws_server.stop().await;
    http_server.stop().await;
}

fn to_json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("serialisable")
}

/// Calls every API once: the returns and errors as JSON values.
async fn every_api<T: RpcClient>(client: &chat::Client<T>) -> Vec<serde_json::Value> {
    let v = |r: Result<serde_json::Value, rpc_runtime::TsrpcError>| match r {
        Ok(v) => json!({"ok": v}),
        Err(e) => json!({"err": e}),
    };
    let login = client
        .call_login(chat::ReqLogin {
            username: "alice".into(),
            password: "wrong".into(),
        })
        .await;
    vec![
        v(login.map(|r| to_json(&r))),
        v(client
            .call_add(chat::ReqAdd { a: 1.5, b: 2.0 })
            .await
            .map(|r| to_json(&r))),
        v(client
            .call_fail(chat::ReqFail { mode: None })
            .await
            .map(|r| to_json(&r))),
        v(client
            .call_fail(chat::ReqFail {
                mode: Some(chat::FailMode::Number),
            })
            .await
            .map(|r| to_json(&r))),
        v(client
            .call_fail(chat::ReqFail {
                mode: Some(chat::FailMode::Throw),
            })
            .await
            .map(|r| to_json(&r))),
        v(client
            .call_slow(chat::ReqSlow { ms: 1 })
            .await
            .map(|r| to_json(&r))),
    ]
}

/// A binary client, a JSON client and raw `buffer` and `text` sockets on one server: a
/// broadcast reaches each in its own data type (the binary frame is TSRPC's, byte for byte).
#[tokio::test]
async fn mixed_clients_share_a_server_and_its_broadcasts() {
    let server = our_ws(ServerOptions::default()).await;
    let binary = chat::Client::ws(server.url(), WsClientOptions::default());
    let json = chat::Client::ws(server.url(), WsClientOptions::default().json(true));
    within(5, "connect", binary.connect()).await.unwrap();
    within(5, "connect", json.connect()).await.unwrap();
    let mut raw_bin = raw_connect_with(&server.url(), "buffer").await;
    let mut raw_text = raw_connect_with(&server.url(), "text").await;
    let joins = Arc::new(Mutex::new(Vec::new()));
    for (client, tag) in [(&binary, "binary"), (&json, "json")] {
        let sink = joins.clone();
        client.listen_msg_room_user_join(move |m| sink.lock().unwrap().push((tag, m)));
    }
    // The capture's UserJoin, sent by the raw binary socket.
    let section = &sections(WS_CAPTURE)[7];
    assert_eq!(section.title, "sendMsg room/UserJoin (server broadcasts)");
    raw_bin
        .send(WsMessage::binary(section.client[0].clone()))
        .await
        .unwrap();
    assert_eq!(
        next_event(&mut raw_bin).await,
        RawEvent::Binary(section.server[0].clone())
    );
    assert_eq!(
        next_event(&mut raw_text).await,
        RawEvent::Text(
            r#"["room/UserJoin",{"roomId":"r1","user":{"id":7,"name":"bob"},"tags":["x"]}]"#.into()
        )
    );
    within(5, "both clients hear it", async {
        while joins.lock().unwrap().len() < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let joins = joins.lock().unwrap().clone();
    let mut tags: Vec<&str> = joins.iter().map(|(t, _)| *t).collect();
    tags.sort();
    assert_eq!(tags, ["binary", "json"]);
    assert_eq!(joins[0].1, joins[1].1);
    assert_eq!(joins[0].1.user.name, "bob");
    // Each client still calls in its own mode.
    let (a, b) = tokio::join!(
        binary.call_add(chat::ReqAdd { a: 1.0, b: 1.0 }),
        json.call_add(chat::ReqAdd { a: 2.0, b: 2.0 })
    );
    assert_eq!((a.unwrap().c, b.unwrap().c), (2.0, 4.0));
    server.stop().await;
}

/// With no sub-protocol the first data frame decides the connection's data type (a.1).
#[tokio::test]
async fn without_a_sub_protocol_the_first_frame_decides() {
    let server = our_ws(ServerOptions::default()).await;
    let add = sections(WS_CAPTURE)[2].clone();
    for (first, expect_binary) in [
        (WsMessage::binary(add.client[0].clone()), true),
        (WsMessage::text(r#"["Add",{"a":1,"b":2},2]"#), false),
    ] {
        let (mut ws, _) = tokio_tungstenite::connect_async(server.url())
            .await
            .unwrap();
        ws.send(first).await.unwrap();
        match next_event(&mut ws).await {
            RawEvent::Binary(b) if expect_binary => assert_eq!(b, add.server[0]),
            RawEvent::Text(t) if !expect_binary => {
                assert_eq!(t, r#"["Add",{"isSucc":true,"res":{"c":3}},2]"#)
            }
            other => panic!("{other:?}"),
        }
        // Later frames of the other kind are answered in the connection's type.
        ws.send(WsMessage::text(r#"["Add",{"a":1,"b":2},2]"#))
            .await
            .unwrap();
        let second = next_event(&mut ws).await;
        assert_eq!(
            matches!(second, RawEvent::Binary(_)),
            expect_binary,
            "{second:?}"
        );
    }
    server.stop().await;
}

// ---- bad input

/// Every kind of undecodable binary frame closes the connection with TSRPC's generic reason;
/// a text frame on a binary-only server with TSRPC's JSON refusal; an API call without sn is
/// answered as TSRPC answers it. Never a panic: the server
/// keeps serving.
#[tokio::test]
async fn bad_binary_frames_close_with_tsrpcs_reason() {
    let server = our_ws(ServerOptions::default()).await;
    let binary_only = our_ws(ServerOptions::default().json(false)).await;
    let cases: [(&str, Vec<u8>); 7] = [
        ("garbage", hex("ffff")),
        ("unknown service id 99", hex("0329632c01003101")),
        ("truncated buffer", hex("0329042c13022a3ff0")),
        ("truncated wrapper", hex("0329")),
        // A buffer whose length prefix claims 2^50 bytes: refused before anything is allocated.
        (
            "length prefix past the end",
            hex("0329042c8080808080808001022a"),
        ),
        (
            "ReqAdd without b (type check)",
            hex("0329042c0a012a3ff00000000000003101"),
        ),
        (
            "an unknown property id in place of a",
            hex("0329042c0a01463ff00000000000003101"),
        ),
    ];
    for (what, frame) in cases {
        let mut ws = raw_connect_with(&server.url(), "buffer").await;
        ws.send(WsMessage::binary(frame)).await.unwrap();
        assert_eq!(
            next_event(&mut ws).await,
            RawEvent::Close(1000, INVALID_BUFFER_REASON.into()),
            "{what}"
        );
    }
    // An API call without sn is answered, without serviceId and sn (as TSRPC answers it).
    let mut ws = raw_connect_with(&server.url(), "buffer").await;
    let no_sn = hex("0229042c13022a3ff00000000000002e4000000000000000");
    ws.send(WsMessage::binary(no_sn)).await.unwrap();
    assert_eq!(
        next_event(&mut ws).await,
        RawEvent::Binary(hex("01280a012a4008000000000000"))
    );
    let mut ws = raw_connect_with(&binary_only.url(), "text").await;
    ws.send(WsMessage::text(r#"["Add",{"a":1,"b":2},1]"#))
        .await
        .unwrap();
    assert_eq!(
        next_event(&mut ws).await,
        RawEvent::Close(1000, JSON_DISABLED_REASON.into())
    );
    // Both still serve, in binary.
    for s in [&server, &binary_only] {
        let client = chat::Client::ws(s.url(), WsClientOptions::default());
        within(5, "connect", client.connect()).await.unwrap();
        let sum = client.call_add(chat::ReqAdd { a: 1.0, b: 2.0 }).await;
        assert_eq!(sum.unwrap().c, 3.0);
    }
    // A JSON client to the binary-only server sees TSRPC's reason.
    let client = chat::Client::ws(binary_only.url(), WsClientOptions::default().json(true));
    within(5, "connect", client.connect()).await.unwrap();
    let err = client
        .call_add(chat::ReqAdd { a: 1.0, b: 2.0 })
        .await
        .unwrap_err();
    assert!(err.is_code(codes::LOST_CONN), "{err:?}");
    assert_eq!(err.message, JSON_DISABLED_REASON);
    server.stop().await;
    binary_only.stop().await;
}

/// Undecodable binary HTTP bodies get TSRPC's binary `INPUT_DATA_ERR` (b.5, byte for byte),
/// 200 and no Content-Type; a JSON request to a binary-only server is read as binary.
#[tokio::test]
async fn bad_binary_http_bodies_get_input_data_err() {
    let server = our_http(ServerOptions::default()).await;
    let binary_only = our_http(ServerOptions::default().json(false)).await;
    // TSRPC-WIRE b.5: the answer to `ff ff`.
    let mut expected = hex("012f032842");
    expected.extend_from_slice(INVALID_BUFFER_REASON.as_bytes());
    expected.extend_from_slice(&hex("2d013301000e"));
    expected.extend_from_slice(b"INPUT_DATA_ERR");
    let octet = "application/octet-stream";
    for body in [
        hex("ffff"),
        hex("0229632c0100"),
        hex("0229042c13022a3ff0"),
        hex("0229042c8080808080808001022a"),
        Vec::new(),
    ] {
        let answer = http_post(server.local_addr(), "/", octet, &body).await;
        assert_eq!(answer.status, 200, "{body:02x?}");
        assert_eq!(answer.content_type, None);
        assert_eq!(to_hex(&answer.body), to_hex(&expected), "{body:02x?}");
    }
    let json_add = br#"{"a":1,"b":2}"#;
    let answer = http_post(
        binary_only.local_addr(),
        "/Add",
        "application/json",
        json_add,
    )
    .await;
    assert_eq!(to_hex(&answer.body), to_hex(&expected));
    // A JSON client to it: TSRPC's `Parse server output error`.
    let url = format!("http://{}", binary_only.local_addr());
    let client = chat::Client::http(&url, HttpClientOptions::default().json(true));
    let err = client
        .call_add(chat::ReqAdd { a: 1.0, b: 2.0 })
        .await
        .unwrap_err();
    assert_eq!(err.message, "Parse server output error");
    server.stop().await;
    binary_only.stop().await;
}

/// A reply our binary client cannot decode fails that call with `Parse server output
/// error` (a body that is not its type, or a damaged frame whose sn can be read); a frame
/// with no sn to read leaves the call to its timeout. Never a hang.
#[tokio::test]
async fn undecodable_replies_fail_their_calls() {
    let add_sn = |sn: u8| {
        // ServerOutputData{buffer: <3 bytes that are not a ResAdd>, serviceId: 4, sn}.
        let mut f = hex("03280302ffff3104");
        f.extend([0x35, sn]);
        f
    };
    let replies: Vec<Vec<u8>> = vec![
        add_sn(1),
        // A damaged error block, then `sn 2` last.
        hex("022f05ffffffffff3502"),
        // Nothing readable.
        hex("ffffffff"),
    ];
    let listener = TcpListener::bind(any_port()).await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = raw_accept(stream).await;
        let mut replies = replies.into_iter();
        while let Some(Ok(frame)) = ws.next().await {
            if let (WsMessage::Binary(_), Some(r)) = (frame, replies.next()) {
                ws.send(WsMessage::binary(r)).await.unwrap();
            }
        }
    });
    let options = WsClientOptions::default().timeout(Some(Duration::from_millis(300)));
    let client = chat::Client::ws(&url, options);
    within(5, "connect", client.connect()).await.unwrap();
    for (i, expected) in [
        "Parse server output error: ",
        "Parse server output error",
        "Request Timeout",
    ]
    .iter()
    .enumerate()
    {
        let add = client.call_add(chat::ReqAdd { a: 1.0, b: 2.0 });
        let err = within(5, "the call resolves", add).await.unwrap_err();
        assert!(err.message.starts_with(expected), "call {i}: {err:?}");
    }
}
