//! Faults: a server killed or restarted, half-open connections, slow consumers.
//!
//! Bounds are generous so a noisy machine does not make them flake; each test prints what it
//! measured (the tight targets are reported by these prints, not asserted).

use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use protocols::chat::{self, MsgChat, ReqAdd, ReqSlow};
use rpc_runtime::client::WsClientOptions;
use rpc_runtime::server::ServerOptions;
use rpc_runtime::{codes, RpcClient as _};
use rpc_tests::hand;
use rpc_tests::proxy::Proxy;
use rpc_tests::raw::{Frame, RawWsClient};
use rpc_tests::{any_port, within};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};

/// Starts the chat server process on `port` (0: any); returns it and its address.
async fn spawn_server(port: u16) -> (Child, std::net::SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chat-server"))
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn chat-server");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = within(20, "READY", lines.next_line())
        .await
        .expect("read")
        .expect("a READY line");
    let url = line
        .strip_prefix("READY ws://")
        .and_then(|r| r.split(' ').next())
        .unwrap_or_else(|| panic!("unexpected line {line:?}"));
    (child, url.parse().expect("address"))
}

/// Every post_disconnect event: reason and is_manual.
type DisconnectLog = Arc<Mutex<Vec<(Option<String>, bool)>>>;

fn log_disconnects(client: &chat::Client) -> DisconnectLog {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    client.flows().post_disconnect.push(move |ev| {
        l.lock().unwrap().push((ev.reason.clone(), ev.is_manual));
        Some(ev)
    });
    log
}

#[tokio::test]
async fn server_killed_with_100_pending_calls() {
    let (mut child, addr) = spawn_server(0).await;
    let client = chat::Client::ws(format!("ws://{addr}"), WsClientOptions::default());
    client.connect().await.unwrap();
    let disconnects = log_disconnects(&client);
    let mut calls = Vec::new();
    for _ in 0..100 {
        let c = client.clone();
        calls.push(tokio::spawn(async move {
            let r = c.call_slow(ReqSlow { ms: 10_000 }).await;
            (r, Instant::now())
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let killed = Instant::now();
    child.kill().await.unwrap();
    let mut worst = Duration::ZERO;
    for c in calls {
        let (r, at) = within(5, "pending call", c).await.unwrap();
        let err = r.unwrap_err();
        assert!(err.is_code(codes::LOST_CONN), "{err:?}");
        worst = worst.max(at.saturating_duration_since(killed));
    }
    println!(
        "100 pending calls failed with LOST_CONN within {worst:?} of the kill (target 100 ms)"
    );
    assert!(worst < Duration::from_secs(3));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        disconnects.lock().unwrap().len(),
        1,
        "post_disconnect fires once"
    );
    assert!(!disconnects.lock().unwrap()[0].1, "not manual");
}

#[tokio::test]
async fn server_restarted_on_the_same_address() {
    let (mut child, addr) = spawn_server(0).await;
    let client = chat::Client::ws(format!("ws://{addr}"), WsClientOptions::default());
    client.connect().await.unwrap();
    let (echo_tx, mut echo_rx) = mpsc::unbounded_channel();
    client.listen_msg_chat(move |m: MsgChat| {
        let _ = echo_tx.send(m.content);
    });
    const DELAY: Duration = Duration::from_millis(300);
    let (back_tx, mut back_rx) = mpsc::unbounded_channel();
    // The reconnect recipe, retrying until the server is back.
    client.flows().post_disconnect.push(move |ev| {
        if !ev.is_manual {
            let client = ev.client.clone();
            let back = back_tx.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(DELAY).await;
                    if client.connect().await.is_ok() {
                        let _ = back.send(Instant::now());
                        return;
                    }
                }
            });
        }
        Some(ev)
    });
    child.kill().await.unwrap();
    let _ = child.wait().await;
    let restarted_at = Instant::now();
    let (_child2, addr2) = spawn_server(addr.port()).await;
    assert_eq!(addr2, addr);
    let up = Instant::now();
    let back = within(10, "reconnected", back_rx.recv()).await.unwrap();
    println!(
        "server restarted in {:?}; client back {:?} after the new server was up (target: within the {DELAY:?} delay plus one round trip)",
        up - restarted_at,
        back.saturating_duration_since(up)
    );
    assert_eq!(
        client.call_add(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap().c,
        3.0
    );
    client
        .send_msg_chat(&MsgChat {
            name: "a".into(),
            content: "after restart".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        within(3, "echo", echo_rx.recv()).await.unwrap(),
        "echo: after restart",
        "listeners registered before the restart still fire"
    );
    client.disconnect().await;
}

/// The built-in reconnect against a server process killed (SIGKILL) and started again on the
/// same port, in both modes: a pending call fails with LOST_CONN, a call made with
/// `resend_on_reconnect` is sent again to the new process and returns, listeners still fire.
async fn reconnect_policy_after_kill(json: bool) {
    use rpc_runtime::client::{ConnectionStatus, ReconnectPolicy};
    use rpc_runtime::CallOptions;
    let (mut child, addr) = spawn_server(0).await;
    let policy = ReconnectPolicy::default()
        .initial_delay(Duration::from_millis(100))
        .max_delay(Duration::from_millis(400));
    let client = chat::Client::ws(
        format!("ws://{addr}"),
        WsClientOptions::default().json(json).reconnect(policy),
    );
    client.connect().await.unwrap();
    assert_eq!(client.is_json(), json);
    let disconnects = log_disconnects(&client);
    let (echo_tx, mut echo_rx) = mpsc::unbounded_channel();
    client.listen_msg_chat(move |m: MsgChat| {
        let _ = echo_tx.send(m.content);
    });
    let c = client.clone();
    let plain = tokio::spawn(async move { c.call_slow(ReqSlow { ms: 3000 }).await });
    let c = client.clone();
    let resent = tokio::spawn(async move {
        c.call_api_with(ReqSlow { ms: 300 }, CallOptions::resend_on_reconnect())
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut status = client.status_changes();
    child.kill().await.unwrap();
    let _ = child.wait().await;
    let killed = Instant::now();
    let err = within(5, "plain call", plain).await.unwrap().unwrap_err();
    assert!(err.is_code(codes::LOST_CONN), "{err:?}");
    let (_child2, addr2) = spawn_server(addr.port()).await;
    assert_eq!(addr2, addr);
    let up = Instant::now();
    within(
        10,
        "back",
        status.wait_for(|s| *s == ConnectionStatus::Connected),
    )
    .await
    .unwrap();
    let back = Instant::now();
    let res = within(10, "re-sent call", resent).await.unwrap().unwrap();
    assert_eq!(res.slept_ms, 300);
    println!(
        "new server up {:?} after the kill; client back {:?} after that (delays 100..400 ms)",
        up - killed,
        back.saturating_duration_since(up)
    );
    client
        .send_msg_chat(&MsgChat {
            name: "a".into(),
            content: "after kill".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        within(3, "echo", echo_rx.recv()).await.unwrap(),
        "echo: after kill"
    );
    assert_eq!(disconnects.lock().unwrap().len(), 1, "post_disconnect once");
    client.disconnect().await;
}

#[tokio::test]
async fn reconnect_policy_after_kill_json() {
    reconnect_policy_after_kill(true).await
}

#[tokio::test]
async fn reconnect_policy_after_kill_binary() {
    reconnect_policy_after_kill(false).await
}

#[tokio::test]
async fn half_open_connection_found_by_client_heartbeat() {
    let server = rpc_examples::chat_server::start_ws(any_port(), ServerOptions::default())
        .await
        .unwrap();
    let proxy = Proxy::start(server.local_addr()).await;
    let client = chat::Client::ws(
        format!("ws://{}", proxy.addr),
        WsClientOptions::default()
            .heartbeat(Duration::from_millis(100), Duration::from_millis(400)),
    );
    client.connect().await.unwrap();
    let disconnects = log_disconnects(&client);
    assert_eq!(
        client.call_add(ReqAdd { a: 1.0, b: 1.0 }).await.unwrap().c,
        2.0
    );
    let t0 = Instant::now();
    proxy.go_silent();
    let c = client.clone();
    let call = tokio::spawn(async move { c.call_add(ReqAdd { a: 1.0, b: 1.0 }).await });
    let err = within(5, "call on a dead link", call)
        .await
        .unwrap()
        .unwrap_err();
    println!(
        "client found the half-open connection after {:?}",
        t0.elapsed()
    );
    assert!(err.is_code(codes::LOST_CONN));
    assert_eq!(err.message, "Heartbeat timeout");
    assert_eq!(
        disconnects.lock().unwrap().clone(),
        vec![(Some("Heartbeat timeout".to_owned()), false)]
    );
    server.stop().await;
}

#[tokio::test]
async fn half_open_connection_found_by_server_pings() {
    let server = rpc_examples::chat_server::start_ws(
        any_port(),
        ServerOptions::default().ping_interval(Some(Duration::from_millis(100))),
    )
    .await
    .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    server.flows().post_disconnect.push(move |ev| {
        let _ = tx.send(Instant::now());
        Some(ev)
    });
    let proxy = Proxy::start(server.local_addr()).await;
    let client = chat::Client::ws(format!("ws://{}", proxy.addr), WsClientOptions::default());
    client.connect().await.unwrap();
    // Pings are answered while the link is up: the connection stays.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.connections().len(), 1);
    let t0 = Instant::now();
    proxy.go_silent();
    let at = within(5, "server drops it", rx.recv()).await.unwrap();
    println!("server found the half-open connection after {:?}", at - t0);
    assert!(server.connections().is_empty());
    server.stop().await;
}

/// The content of each frame `burst_server` pushes: 100 KB, so the byte budget (4 MiB: 41
/// frames), not the frame window (256 frames: 25 MB), is what holds a burst back.
const BURST_CONTENT: usize = 100_000;

/// What the kernel may buffer for one loopback connection (the server's send buffer grows to
/// `tcp_wmem`'s 4 MiB, the client's receive buffer stays near its initial size while it does not
/// read): generous, so the bound below is the queue's.
const SOCKET_BUFFERS: usize = 8 << 20;

/// A server whose `Burst` handler pushes `n` frames of 100 KB to its caller: it counts the frames
/// `send_msg` accepted and keeps the first error `send_msg` gave.
async fn burst_server(
    sent: Arc<AtomicUsize>,
    error: Arc<Mutex<Option<rpc_runtime::TsrpcError>>>,
    options: ServerOptions,
) -> rpc_runtime::RunningServer {
    rpc_runtime::Server::ws(hand::proto(), any_port(), options)
        .implement_api(move |call: rpc_runtime::ApiCall<hand::ReqBurst>| {
            let (sent, error) = (sent.clone(), error.clone());
            async move {
                let content = "x".repeat(BURST_CONTENT);
                for i in 0..call.req.n {
                    let msg = hand::MsgChat {
                        name: i.to_string(),
                        content: content.clone(),
                    };
                    if let Err(e) = call.conn.send_msg(&msg).await {
                        *error.lock().unwrap() = Some(e.clone());
                        return Err(e.into());
                    }
                    sent.fetch_add(1, Ordering::SeqCst);
                }
                Ok(hand::ResBurst { sent: call.req.n })
            }
        })
        .allow_unimplemented()
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn slow_consumer_cannot_grow_the_server_queue() {
    const N: u32 = 600;
    let sent = Arc::new(AtomicUsize::new(0));
    let options = ServerOptions::default();
    let budget = options.max_queued_bytes;
    let server = burst_server(sent.clone(), Default::default(), options).await;
    // A client that sends one call and then does not read.
    let mut raw = RawWsClient::connect(server.local_addr()).await.unwrap();
    raw.send_text(format!(r#"["Burst",{{"n":{N}}},1]"#).as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let before_reading = sent.load(Ordering::SeqCst);
    println!(
        "a non-reading client let the server accept {before_reading} of {N} frames of 100 KB \
         ({:.1} MiB: byte budget {} MiB + socket buffers)",
        (before_reading * BURST_CONTENT) as f64 / (1 << 20) as f64,
        budget >> 20
    );
    // send_msg waits for space: the handler is held, the queue does not grow past its byte
    // budget (the frame window alone would let 256 frames, 25 MB, wait).
    assert_eq!(server.pending_calls(), 1, "the burst must be waiting");
    assert!(
        before_reading * BURST_CONTENT <= budget + SOCKET_BUFFERS,
        "{before_reading} frames of {BURST_CONTENT} B accepted: more than the byte budget"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        sent.load(Ordering::SeqCst),
        before_reading,
        "no progress without reading"
    );
    // Reading again lets it finish, in order, nothing dropped.
    let mut next = 0u32;
    loop {
        match raw.next(Duration::from_secs(5)).await {
            Some(Frame::Text(t)) if t.starts_with(r#"["Chat""#) => {
                assert!(
                    t.starts_with(&format!(r#"["Chat",{{"name":"{next}","#)),
                    "frame {next}"
                );
                next += 1;
            }
            Some(Frame::Text(t)) => {
                assert_eq!(
                    t,
                    format!(r#"["Burst",{{"isSucc":true,"res":{{"sent":{N}}}}},1]"#)
                );
                break;
            }
            other => panic!("unexpected {other:?} after {next} frames"),
        }
    }
    assert_eq!(next, N);
    server.stop().await;
}

#[tokio::test]
async fn a_sender_waiting_for_queue_space_fails_when_the_client_goes() {
    let sent = Arc::new(AtomicUsize::new(0));
    let error = Arc::new(Mutex::new(None));
    let server = burst_server(sent.clone(), error.clone(), ServerOptions::default()).await;
    let raw = stall_burst(&server, &sent).await;
    assert!(sent.load(Ordering::SeqCst) < BURST as usize);
    // The client goes away without reading: the waiting send_msg resolves with LOST_CONN, and
    // the call ends.
    let gone = Instant::now();
    drop(raw);
    within(10, "the held call ends", async {
        while server.pending_calls() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let err = error.lock().unwrap().clone().expect("send_msg must fail");
    assert!(err.is_code(codes::LOST_CONN), "{err:?}");
    println!(
        "a send_msg held by a full queue failed with LOST_CONN {:?} after the client went",
        gone.elapsed()
    );
    server.stop().await;
}

/// Waits until `count` stops growing (no progress for 300 ms): a sender is held by a full queue.
async fn until_stalled(what: &str, count: &AtomicUsize) {
    within(10, &format!("{what} stalls"), async {
        loop {
            let before = count.load(Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(300)).await;
            if before > 0 && count.load(Ordering::SeqCst) == before {
                break;
            }
        }
    })
    .await;
}

/// The frames `stall_burst` asks for: far more than the queue and the socket buffers hold.
const BURST: u32 = 100_000;

/// Sends `Burst` from a raw client that then stops reading, and waits until the server's
/// handler is held by the full queue.
async fn stall_burst(server: &rpc_runtime::RunningServer, sent: &AtomicUsize) -> RawWsClient {
    let mut raw = RawWsClient::connect(server.local_addr()).await.unwrap();
    raw.send_text(format!(r#"["Burst",{{"n":{BURST}}},1]"#).as_bytes())
        .await
        .unwrap();
    until_stalled("the burst", sent).await;
    raw
}

#[tokio::test]
async fn close_drops_the_socket_of_a_client_that_does_not_read() {
    let sent = Arc::new(AtomicUsize::new(0));
    let error = Arc::new(Mutex::new(None));
    let options = ServerOptions::default().close_timeout(Duration::from_millis(300));
    let server = burst_server(sent.clone(), error.clone(), options).await;
    let raw = stall_burst(&server, &sent).await;
    let (client_end, server_end) = (raw.local_addr(), server.local_addr());
    assert!(rpc_tests::socket_held(server_end, client_end));
    // The server closes it; the client neither reads nor answers.
    let closed = Instant::now();
    server.connections()[0].close("bye");
    within(10, "the server drops the socket", async {
        while rpc_tests::socket_held(server_end, client_end) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    println!(
        "close() on a client that does not read: socket dropped after {:?} (close timeout 300 ms)",
        closed.elapsed()
    );
    within(10, "the held call ends", async {
        while server.pending_calls() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let err = error.lock().unwrap().clone().expect("send_msg must fail");
    assert!(err.is_code(codes::LOST_CONN), "{err:?}");
    drop(raw);
    server.stop().await;
}

#[tokio::test]
async fn messages_sent_before_close_arrive_before_the_close_frame() {
    const N: u32 = 50;
    let server = rpc_runtime::Server::ws(hand::proto(), any_port(), ServerOptions::default())
        .implement_api(|call: rpc_runtime::ApiCall<hand::ReqKick>| async move {
            for i in 0..N {
                let msg = hand::MsgChat {
                    name: i.to_string(),
                    content: "before close".into(),
                };
                call.conn.send_msg(&msg).await?;
            }
            call.conn.close(call.req.reason.clone());
            Ok(hand::ResKick {})
        })
        .allow_unimplemented()
        .start()
        .await
        .unwrap();
    let mut raw = RawWsClient::connect(server.local_addr()).await.unwrap();
    raw.send_text(br#"["Kick",{"reason":"bye"},1]"#)
        .await
        .unwrap();
    let frames = raw.until_close(Duration::from_secs(10)).await;
    let expected: Vec<Frame> = (0..N)
        .map(|i| {
            Frame::Text(format!(
                r#"["Chat",{{"name":"{i}","content":"before close"}}]"#
            ))
        })
        // The handler closed before returning: its reply still goes, before the close.
        .chain([
            Frame::Text(r#"["Kick",{"isSucc":true,"res":{}},1]"#.into()),
            Frame::Close(1000, "bye".into()),
        ])
        .collect();
    assert_eq!(frames, expected);
    server.stop().await;
}

#[tokio::test]
async fn disconnect_drops_the_socket_of_a_server_that_does_not_read() {
    // A WebSocket server that completes the handshake, then never reads.
    let listener = tokio::net::TcpListener::bind(any_port()).await.unwrap();
    let server_end = listener.local_addr().unwrap();
    let (peer_tx, mut peer_rx) = mpsc::channel(1);
    let accept = tokio::spawn(async move {
        let (stream, client_end) = listener.accept().await.unwrap();
        #[allow(clippy::result_large_err)] // tungstenite's callback type
        let echo_text = |_: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
            resp.headers_mut()
                .insert("sec-websocket-protocol", "text".parse().unwrap());
            Ok(resp)
        };
        let ws = tokio_tungstenite::accept_hdr_async(stream, echo_text)
            .await
            .unwrap();
        peer_tx.send(client_end).await.unwrap();
        // Held, unread, until the test ends.
        std::future::pending::<()>().await;
        drop(ws);
    });
    let options = WsClientOptions::default().send_queue(16);
    let client = rpc_runtime::WsClient::new(format!("ws://{server_end}"), options);
    client.connect().await.unwrap();
    let client_end = peer_rx.recv().await.unwrap();
    // Send until the queue is full and a send_msg waits.
    let accepted = Arc::new(AtomicUsize::new(0));
    let (c, a) = (client.clone(), accepted.clone());
    let sender = tokio::spawn(async move {
        let msg = hand::MsgChat {
            name: "c".into(),
            content: "x".repeat(64 * 1024),
        };
        loop {
            if let Err(e) = c.send_msg(&msg).await {
                return e;
            }
            a.fetch_add(1, Ordering::SeqCst);
        }
    });
    until_stalled("the sender", &accepted).await;
    assert!(rpc_tests::socket_held(client_end, server_end));
    // disconnect resolves (it stops waiting for the close handshake after 1 s), the waiting
    // send_msg fails, and the socket is dropped, though the server never read.
    let t = Instant::now();
    within(5, "disconnect", client.disconnect()).await;
    let err = within(5, "the waiting send_msg", sender).await.unwrap();
    println!("a send_msg held by a full queue failed with {err:?} after disconnect");
    within(5, "the client drops the socket", async {
        while rpc_tests::socket_held(client_end, server_end) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    println!(
        "disconnect from a server that does not read: socket dropped after {:?}",
        t.elapsed()
    );
    accept.abort();
}

#[tokio::test]
async fn broadcast_closes_a_full_queue_and_delivers_to_the_others() {
    let server =
        rpc_tests::start_hand_server(ServerOptions::default().send_queue(16).broadcast_slack(16))
            .await;
    let reader = rpc_runtime::WsClient::new(server.url(), WsClientOptions::default());
    reader.connect().await.unwrap();
    let got = Arc::new(AtomicUsize::new(0));
    let g = got.clone();
    reader.listen_msg(move |_: hand::MsgChat| {
        g.fetch_add(1, Ordering::SeqCst);
    });
    let mut slow = RawWsClient::connect(server.local_addr()).await.unwrap();
    // Wait for the server to register both.
    for _ in 0..100 {
        if server.connections().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let content = "x".repeat(64 * 1024);
    let msg = hand::MsgChat {
        name: "srv".into(),
        content,
    };
    const N: usize = 400;
    for _ in 0..N {
        server.broadcast_msg(&msg).await.unwrap();
        tokio::task::yield_now().await;
    }
    // The reading client gets every message.
    within(10, "all delivered", async {
        while got.load(Ordering::SeqCst) < N {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    // The slow one was closed with the documented reason, after the frames queued before.
    // 30 s: the frames before the close are read in a debug build, slowly on a loaded machine.
    let frames = slow.until_close(Duration::from_secs(30)).await;
    let delivered = frames
        .iter()
        .filter(|f| matches!(f, Frame::Text(_)))
        .count();
    println!(
        "slow consumer: {delivered} frames delivered, then {:?}",
        frames.last()
    );
    assert_eq!(
        frames.last(),
        Some(&Frame::Close(
            1000,
            rpc_runtime::reasons::SEND_QUEUE_FULL_REASON.into()
        ))
    );
    assert!(delivered < N);
    reader.disconnect().await;
    server.stop().await;
}

#[tokio::test]
async fn a_sender_held_past_queue_full_timeout_closes_the_connection() {
    let sent = Arc::new(AtomicUsize::new(0));
    let error = Arc::new(Mutex::new(None));
    let options = ServerOptions::default()
        .queue_full_timeout(Duration::from_millis(300))
        .close_timeout(Duration::from_millis(300))
        .ping_interval(None);
    let server = burst_server(sent.clone(), error.clone(), options).await;
    let raw = stall_burst(&server, &sent).await;
    let (client_end, server_end) = (raw.local_addr(), server.local_addr());
    // The queue stays full: the held send_msg fails, the connection is closed and, since the
    // client reads nothing (not even the close frame), its socket is dropped.
    let stalled = Instant::now();
    within(10, "the held send_msg fails", async {
        while error.lock().unwrap().is_none() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let err = error.lock().unwrap().clone().unwrap();
    assert!(err.is_code(codes::LOST_CONN), "{err:?}");
    assert_eq!(err.message, rpc_runtime::reasons::SEND_QUEUE_FULL_REASON);
    within(10, "the socket is dropped", async {
        while rpc_tests::socket_held(server_end, client_end) || !server.connections().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    println!(
        "a sender held by a full queue closed the connection, socket dropped {:?} after the stall \
         was seen (queue_full_timeout 300 ms, close_timeout 300 ms)",
        stalled.elapsed()
    );
    drop(raw);
    server.stop().await;
}

#[tokio::test]
async fn a_peer_that_takes_nothing_is_dropped_by_pings_while_its_reads_are_paused() {
    // The chat service echoes every Chat; this peer sends Chats and reads nothing, so the
    // server's reader is held in the echo's send_msg and the socket is not read. The queue's
    // own timeout is far away: the ping timer must find it.
    let options = ServerOptions::default()
        .ping_interval(Some(Duration::from_millis(200)))
        .queue_full_timeout(Duration::from_secs(600));
    let server = rpc_examples::chat_server::start_ws(any_port(), options)
        .await
        .unwrap();
    let mut hog = RawWsClient::connect(server.local_addr()).await.unwrap();
    let (hog_end, server_end) = (hog.local_addr(), server.local_addr());
    let started = Instant::now();
    let frame = format!(
        r#"["Chat",{{"name":"hog","content":"{}"}}]"#,
        "x".repeat(100_000)
    );
    let writer = tokio::spawn(async move {
        for _ in 0..1_000 {
            if hog.send_text(frame.as_bytes()).await.is_err() {
                break;
            }
        }
        hog
    });
    within(15, "the peer is dropped", async {
        while rpc_tests::socket_held(server_end, hog_end) || !server.connections().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    println!(
        "a peer that reads nothing was dropped {:?} after it started (ping interval 200 ms)",
        started.elapsed()
    );
    // A well-behaved client is still served.
    let client = chat::Client::ws(server.url(), WsClientOptions::default());
    client.connect().await.unwrap();
    let res = client.call_add(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap();
    assert_eq!(res.c, 3.0);
    client.disconnect().await;
    writer.abort();
    server.stop().await;
}

#[tokio::test]
async fn the_server_wide_call_limit_holds_calls_back_without_errors() {
    // Two connections, six slow calls each, a server-wide limit of 3: the limit holds (at most
    // one call per connection may start beyond it, see `max_pending_calls_total`), nothing fails.
    const LIMIT: usize = 3;
    const CONNS: usize = 2;
    const CALLS: usize = 6;
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (r, p) = (running.clone(), peak.clone());
    let server = rpc_runtime::Server::ws(
        hand::proto(),
        any_port(),
        ServerOptions::default().max_pending_calls_total(LIMIT),
    )
    .implement_api(move |call: rpc_runtime::ApiCall<hand::ReqSlow>| {
        let (running, peak) = (r.clone(), p.clone());
        async move {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(call.req.ms)).await;
            running.fetch_sub(1, Ordering::SeqCst);
            Ok(hand::ResSlow {
                slept_ms: call.req.ms,
            })
        }
    })
    .allow_unimplemented()
    .start()
    .await
    .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..CONNS {
        let client = rpc_runtime::WsClient::new(server.url(), WsClientOptions::default());
        client.connect().await.unwrap();
        for _ in 0..CALLS {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                client.call_api(hand::ReqSlow { ms: 150 }).await
            }));
        }
    }
    for t in tasks {
        let ret = within(20, "a held call", t).await.unwrap();
        assert_eq!(ret.unwrap().slept_ms, 150);
    }
    let peak = peak.load(Ordering::SeqCst);
    println!(
        "{} slow calls on {CONNS} connections with a server-wide limit of {LIMIT}: at most {peak} ran at once",
        CONNS * CALLS
    );
    assert!(
        peak < LIMIT + CONNS,
        "{peak} calls ran at once with a server-wide limit of {LIMIT}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_chat_service_caps_what_one_request_can_make_it_do() {
    use chat::ReqGameBurst;
    use rpc_examples::chat_server::{MAX_GAME_BURST_FRAMES, MAX_SLOW_MS};
    let server = rpc_examples::chat_server::start_ws(any_port(), ServerOptions::default())
        .await
        .unwrap();
    let client = chat::Client::ws(server.url(), WsClientOptions::default());
    client.connect().await.unwrap();
    let err = client
        .call_game_burst(ReqGameBurst {
            frames: MAX_GAME_BURST_FRAMES + 1,
        })
        .await
        .unwrap_err();
    assert!(err.is_code("OVER_LIMIT"), "{err:?}");
    let err = client
        .call_slow(ReqSlow {
            ms: MAX_SLOW_MS + 1,
        })
        .await
        .unwrap_err();
    assert!(err.is_code("OVER_LIMIT"), "{err:?}");
    // Under the caps it is served.
    let res = client.call_game_burst(ReqGameBurst { frames: 3 }).await;
    assert_eq!(res.unwrap().sent, 5);
    client.disconnect().await;
    server.stop().await;
}
