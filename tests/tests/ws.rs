//! End-to-end tests of the WebSocket client and server over loopback.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use regex::Regex;
use rpc_runtime::client::{WsClientOptions, WsStatus};
use rpc_runtime::server::ServerOptions;
use rpc_runtime::{
    codes, ApiCall, CallOptions, ErrorType, RpcClient, Server, TsrpcError, WsClient,
};
use rpc_tests::hand::*;
use rpc_tests::{
    any_port, both_modes, connected, connected_in, raw_connect, raw_send_until_close,
    start_hand_server, within, RawEvent,
};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[tokio::test]
async fn connect_disconnect_lifecycle() {
    let server = start_hand_server(ServerOptions::default()).await;
    let client = WsClient::new(server.url(), WsClientOptions::default());
    assert_eq!(client.status(), WsStatus::Closed);
    // Calls before connecting fail with WS_NOT_OPEN.
    let err = client
        .call_api(ReqAdd { a: 1.0, b: 2.0 })
        .await
        .unwrap_err();
    assert!(err.is_code(codes::WS_NOT_OPEN), "{err:?}");
    // Two connects at once join one attempt.
    let (a, b) = tokio::join!(client.connect(), client.connect());
    a.unwrap();
    b.unwrap();
    assert_eq!(client.status(), WsStatus::Opened);
    assert_eq!(
        server.connections().len(),
        1,
        "one socket for two joined connects"
    );
    // Connect when connected is Ok at once.
    client.connect().await.unwrap();
    assert_eq!(
        client.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap().c,
        3.0
    );
    within(3, "disconnect", client.disconnect()).await;
    assert_eq!(client.status(), WsStatus::Closed);
    // Idempotent.
    within(3, "disconnect again", client.disconnect()).await;
    // Connect again after a close; sn keeps counting.
    client.connect().await.unwrap();
    assert_eq!(
        client.call_api(ReqAdd { a: 2.0, b: 2.0 }).await.unwrap().c,
        4.0
    );
    // sn 1 went to the call made before connecting (TSRPC takes the sn before sending).
    assert_eq!(
        client.last_sn(),
        3,
        "sn counts from 1 and is not reset on reconnect"
    );
    client.disconnect().await;
    server.stop().await;
}

#[tokio::test]
async fn failed_connect_is_an_error_not_a_disconnect() {
    let listener = std::net::TcpListener::bind(any_port()).unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = WsClient::new(format!("ws://{addr}"), WsClientOptions::default());
    let fired = Arc::new(AtomicUsize::new(0));
    let f = fired.clone();
    client.flows().post_disconnect.push(move |ev| {
        f.fetch_add(1, Ordering::SeqCst);
        Some(ev)
    });
    let err = within(5, "connect", client.connect()).await.unwrap_err();
    assert_eq!(err.kind, ErrorType::NetworkError);
    assert!(err
        .message
        .starts_with("Failed to connect to WebSocket server: ws://"));
    assert_eq!(client.status(), WsStatus::Closed);
    assert_eq!(fired.load(Ordering::SeqCst), 0);
    // A bad URL is an error too, not a panic.
    let bad = WsClient::new("not a url", WsClientOptions::default());
    assert!(bad.connect().await.is_err());
}

#[tokio::test]
async fn disconnect_while_connecting_resolves_the_connect() {
    // A TCP listener that never answers the handshake.
    let listener = tokio::net::TcpListener::bind(any_port()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut socks = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            socks.push(s);
        }
    });
    let client = WsClient::new(format!("ws://{addr}"), WsClientOptions::default());
    let c2 = client.clone();
    let pending = tokio::spawn(async move { c2.connect().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(client.status(), WsStatus::Opening);
    within(3, "disconnect", client.disconnect()).await;
    let res = within(3, "connect resolves", pending).await.unwrap();
    assert!(res.is_err());
    assert_eq!(client.status(), WsStatus::Closed);
    hold.abort();
}

/// In JSON and in binary mode.
async fn sixty_four_concurrent_calls_out_of_order(json: bool) {
    let server = start_hand_server(ServerOptions::default()).await;
    let client = connected_in(&server.url(), json).await;
    let mut tasks = Vec::new();
    for i in 0..64u64 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                // Slow calls: later ones sleep less, so replies come back out of order.
                let ms = 200 - i * 3;
                let res = c.call_api(ReqSlow { ms }).await.unwrap();
                assert_eq!(res.slept_ms, ms);
                (i, ms as f64)
            } else {
                let res = c
                    .call_api(ReqAdd {
                        a: i as f64,
                        b: 1000.0,
                    })
                    .await
                    .unwrap();
                (i, res.c)
            }
        }));
    }
    let mut order = Vec::new();
    for t in tasks {
        let (i, v) = within(10, "calls", t).await.unwrap();
        if i % 2 == 1 {
            assert_eq!(v, i as f64 + 1000.0);
        }
        order.push(i);
    }
    assert_eq!(order.len(), 64);
    assert_eq!(client.last_sn(), 64);
    client.disconnect().await;
    server.stop().await;
}
both_modes!(sixty_four_concurrent_calls_out_of_order);

#[tokio::test]
async fn call_timeouts_per_client_and_per_call() {
    let server = start_hand_server(ServerOptions::default()).await;
    let client = WsClient::new(
        server.url(),
        WsClientOptions::default().timeout(Some(Duration::from_millis(150))),
    );
    client.connect().await.unwrap();
    let t0 = Instant::now();
    let err = client.call_api(ReqSlow { ms: 1000 }).await.unwrap_err();
    assert!(err.is_code(codes::TIMEOUT), "{err:?}");
    assert_eq!(err.message, "Request Timeout");
    assert!(t0.elapsed() < Duration::from_millis(900));
    // Per-call override: longer than the client's.
    let res = client
        .call_api_with(
            ReqSlow { ms: 300 },
            CallOptions::timeout(Duration::from_secs(3)),
        )
        .await
        .unwrap();
    assert_eq!(res.slept_ms, 300);
    // And zero means none.
    let res = client
        .call_api_with(ReqSlow { ms: 250 }, CallOptions::timeout(Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(res.slept_ms, 250);
    client.disconnect().await;
    server.stop().await;
}

/// Every call times out at its own deadline, whatever the others' timeouts (a shorter one
/// made after a longer one comes first; one that answers in time, or is aborted, does not).
#[tokio::test]
async fn each_call_times_out_at_its_own_deadline() {
    let server = start_hand_server(ServerOptions::default()).await;
    let client = connected(&server.url()).await;
    let t0 = Instant::now();
    let call = |ms: u64, timeout: u64| {
        let c = client.clone();
        tokio::spawn(async move {
            let options = CallOptions {
                timeout: Some(Duration::from_millis(timeout)),
                abort_key: Some(format!("{ms}/{timeout}")),
                ..CallOptions::default()
            };
            let r = c.call_api_with(ReqSlow { ms }, options).await;
            (r.map(|r| r.slept_ms), t0.elapsed())
        })
    };
    let long = call(3000, 900);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let short = call(3000, 200);
    let in_time = call(100, 400);
    let aborted = call(3000, 300);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(client.abort_by_key("3000/300"), 1);
    let (r, at) = short.await.unwrap();
    assert!(r.unwrap_err().is_code(codes::TIMEOUT));
    assert!(
        at >= Duration::from_millis(250) && at < Duration::from_millis(700),
        "{at:?}"
    );
    let (r, at) = in_time.await.unwrap();
    assert_eq!(r.unwrap(), 100);
    assert!(at < Duration::from_millis(450), "{at:?}");
    let (r, _) = aborted.await.unwrap();
    assert!(r.unwrap_err().is_code(codes::ABORTED));
    let (r, at) = long.await.unwrap();
    assert!(r.unwrap_err().is_code(codes::TIMEOUT));
    assert!(
        at >= Duration::from_millis(900) && at < Duration::from_millis(1600),
        "{at:?}"
    );
    client.disconnect().await;
    server.stop().await;
}

#[tokio::test]
async fn pending_calls_fail_with_lost_conn_when_the_server_goes() {
    let server = start_hand_server(ServerOptions::default()).await;
    let client = connected(&server.url()).await;
    let disconnects = Arc::new(Mutex::new(Vec::new()));
    let d = disconnects.clone();
    client.flows().post_disconnect.push(move |ev| {
        d.lock().unwrap().push((ev.reason.clone(), ev.is_manual));
        Some(ev)
    });
    let mut calls = Vec::new();
    for _ in 0..10 {
        let c = client.clone();
        calls.push(tokio::spawn(async move {
            c.call_api(ReqSlow { ms: 5000 }).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t0 = Instant::now();
    server.stop().await;
    for c in calls {
        let err = within(3, "pending call", c).await.unwrap().unwrap_err();
        assert!(err.is_code(codes::LOST_CONN), "{err:?}");
        assert_eq!(err.message, "Server stopped");
    }
    println!("pending calls failed {:?} after stop() began", t0.elapsed());
    assert_eq!(
        disconnects.lock().unwrap().clone(),
        vec![(Some("Server stopped".to_owned()), false)]
    );
    assert_eq!(client.status(), WsStatus::Closed);
}

#[tokio::test]
async fn lost_conn_on_abrupt_socket_loss() {
    // A raw server that accepts the handshake then drops the TCP stream.
    let listener = tokio::net::TcpListener::bind(any_port()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (drop_tx, mut drop_rx) = mpsc::channel::<()>(1);
    let srv = tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let ws = rpc_tests::raw_accept(s).await;
        drop_rx.recv().await;
        drop(ws);
    });
    let client = connected(&format!("ws://{addr}")).await;
    let c = client.clone();
    let call = tokio::spawn(async move { c.call_api(ReqAdd { a: 1.0, b: 1.0 }).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop_tx.send(()).await.unwrap();
    let err = within(3, "call", call).await.unwrap().unwrap_err();
    assert!(err.is_code(codes::LOST_CONN));
    assert_eq!(err.message, "Lost connection to server");
    srv.await.unwrap();
}

/// In JSON and in binary mode.
async fn messages_by_name_regex_and_unlisten(json: bool) {
    let server = start_hand_server(ServerOptions::default()).await;
    let client = connected_in(&server.url(), json).await;
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let t = tx.clone();
    let game = client.listen_msg_matching(Regex::new("^game/").unwrap(), move |m: Msg, name| {
        let detail = match m {
            Msg::GameFrame(f) => format!("frame {}", f.frame),
            Msg::GameOver(o) => format!("over {}", o.winner),
            other => format!("unexpected {other:?}"),
        };
        t.send(format!("regex {name} {detail}")).unwrap();
    });
    let t = tx.clone();
    let chat = client.listen_msg(move |m: MsgChat| t.send(format!("chat {}", m.content)).unwrap());
    let res = client.call_api(ReqBurst { n: 3 }).await.unwrap();
    assert_eq!(res.sent, 5);
    client
        .send_msg(&MsgChat {
            name: "alice".into(),
            content: "hi".into(),
        })
        .await
        .unwrap();
    let mut got = Vec::new();
    while got.len() < 5 {
        got.push(within(3, "messages", rx.recv()).await.unwrap());
    }
    // room/UserJoin (sent between the frames and GameOver) must not reach the ^game/ listener.
    assert_eq!(
        got,
        [
            "regex game/GameFrame frame 0",
            "regex game/GameFrame frame 1",
            "regex game/GameFrame frame 2",
            "regex game/GameOver over 1",
            "chat echo: hi",
        ]
    );
    // Unlisten stops delivery.
    assert!(client.unlisten_msg(game));
    assert!(!client.unlisten_msg(game));
    assert!(client.unlisten_msg(chat));
    client.call_api(ReqBurst { n: 2 }).await.unwrap();
    client
        .send_msg(&MsgChat {
            name: "alice".into(),
            content: "again".into(),
        })
        .await
        .unwrap();
    // A round trip after the pushes: anything they triggered has been dispatched by now.
    client.call_api(ReqAdd { a: 0.0, b: 0.0 }).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let leftover: Vec<String> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    assert!(
        leftover.is_empty(),
        "delivered after unlisten: {leftover:?}"
    );
    client.disconnect().await;
    server.stop().await;
}
both_modes!(messages_by_name_regex_and_unlisten);

/// In JSON and in binary mode.
async fn pre_flows_can_stop_a_send_and_a_call(json: bool) {
    let server = start_hand_server(ServerOptions::default()).await;
    let client = connected_in(&server.url(), json).await;
    let echoes = Arc::new(AtomicUsize::new(0));
    let e = echoes.clone();
    client.listen_msg(move |_: MsgChat| {
        e.fetch_add(1, Ordering::SeqCst);
    });
    client.flows().pre_send_msg.push(|ev| {
        if ev.msg["content"] == "blocked" {
            None
        } else {
            Some(ev)
        }
    });
    let err = client
        .send_msg(&MsgChat {
            name: "a".into(),
            content: "blocked".into(),
        })
        .await
        .unwrap_err();
    assert!(err.is_code(codes::CANCELLED), "{err:?}");
    client
        .send_msg(&MsgChat {
            name: "a".into(),
            content: "ok".into(),
        })
        .await
        .unwrap();
    // A pre_call_api node that rewrites the request, then one that cancels.
    let node = client.flows().pre_call_api.push(|mut ev| {
        ev.req["b"] = serde_json::json!(100);
        Some(ev)
    });
    assert_eq!(
        client.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap().c,
        101.0
    );
    client.flows().pre_call_api.remove(node);
    client.flows().pre_call_api.push_async(|ev| async move {
        tokio::task::yield_now().await;
        (ev.api_name != "Slow").then_some(ev)
    });
    let err = within(3, "cancelled call", client.call_api(ReqSlow { ms: 1 }))
        .await
        .unwrap_err();
    assert!(err.is_code(codes::CANCELLED));
    client.call_api(ReqAdd { a: 0.0, b: 0.0 }).await.unwrap();
    assert_eq!(
        echoes.load(Ordering::SeqCst),
        1,
        "only the unblocked chat was echoed"
    );
    client.disconnect().await;
    server.stop().await;
}
both_modes!(pre_flows_can_stop_a_send_and_a_call);

/// In JSON and in binary mode.
async fn abort_by_sn_key_all_and_drop(json: bool) {
    let server = start_hand_server(ServerOptions::default()).await;
    let client = connected_in(&server.url(), json).await;
    let c = client.clone();
    let a = tokio::spawn(async move { c.call_api(ReqSlow { ms: 3000 }).await });
    let c = client.clone();
    let b = tokio::spawn(async move {
        c.call_api_with(ReqSlow { ms: 3000 }, CallOptions::abort_key("k"))
            .await
    });
    let c = client.clone();
    let d = tokio::spawn(async move { c.call_api(ReqSlow { ms: 3000 }).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(client.abort(1));
    assert!(!client.abort(1), "an sn aborts once");
    let err = within(2, "abort by sn", a).await.unwrap().unwrap_err();
    assert!(err.is_code(codes::ABORTED));
    assert_eq!(client.abort_by_key("k"), 1);
    assert!(within(2, "abort by key", b)
        .await
        .unwrap()
        .unwrap_err()
        .is_code(codes::ABORTED));
    assert_eq!(client.abort_all(), 1);
    assert!(within(2, "abort all", d)
        .await
        .unwrap()
        .unwrap_err()
        .is_code(codes::ABORTED));
    // Dropping a call's future removes it: nothing left to abort.
    let fut = client.call_api(ReqSlow { ms: 3000 });
    let _ = tokio::time::timeout(Duration::from_millis(50), fut).await;
    assert_eq!(client.abort_all(), 0);
    // sn is never reused.
    client.call_api(ReqAdd { a: 1.0, b: 1.0 }).await.unwrap();
    assert_eq!(client.last_sn(), 5);
    client.disconnect().await;
    server.stop().await;
}
both_modes!(abort_by_sn_key_all_and_drop);

#[tokio::test]
async fn seed_reconnect_recipe() {
    let server = start_hand_server(ServerOptions::default()).await;
    let client = connected(&server.url()).await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev_log = events.clone();
    let (reconnected_tx, mut reconnected_rx) = mpsc::unbounded_channel();
    // The recipe of SEED-websocket.md, in Rust: reconnect 200 ms after a non-manual close.
    client.flows().post_disconnect.push(move |ev| {
        ev_log
            .lock()
            .unwrap()
            .push((ev.reason.clone(), ev.is_manual));
        if !ev.is_manual {
            let client = ev.client.clone();
            let done = reconnected_tx.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let res = client.connect().await;
                let _ = done.send(res.is_ok());
            });
        }
        Some(ev)
    });
    client
        .call_api(ReqKick {
            reason: "kicked-by-test".into(),
        })
        .await
        .unwrap();
    assert!(within(5, "reconnect", reconnected_rx.recv()).await.unwrap());
    assert_eq!(
        client.call_api(ReqAdd { a: 2.0, b: 3.0 }).await.unwrap().c,
        5.0
    );
    client.disconnect().await;
    assert_eq!(
        events.lock().unwrap().clone(),
        vec![(Some("kicked-by-test".to_owned()), false), (None, true)],
        "post_disconnect fires once per close, with the kick reason, then once for the manual one"
    );
    server.stop().await;
}

#[tokio::test]
async fn client_heartbeat_measures_latency_and_detects_a_dead_server() {
    let server = start_hand_server(ServerOptions::default()).await;
    let client = WsClient::new(
        server.url(),
        WsClientOptions::default().heartbeat(Duration::from_millis(50), Duration::from_millis(500)),
    );
    client.connect().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let latency = client
        .last_heartbeat_latency()
        .expect("a heartbeat came back");
    assert!(latency < Duration::from_millis(500));
    client.disconnect().await;
    server.stop().await;

    // A raw server that completes the handshake but never answers the heartbeat.
    let listener = tokio::net::TcpListener::bind(any_port()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let srv = tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let mut ws = rpc_tests::raw_accept(s).await;
        use futures_util::StreamExt;
        let mut close = None;
        while let Some(Ok(m)) = ws.next().await {
            if let WsMessage::Close(c) = m {
                close = c.map(|c| (u16::from(c.code), c.reason.to_string()));
            }
        }
        close
    });
    let client = WsClient::new(
        format!("ws://{addr}"),
        WsClientOptions::default().heartbeat(Duration::from_millis(50), Duration::from_millis(200)),
    );
    let (tx, mut rx) = mpsc::unbounded_channel();
    client.flows().post_disconnect.push(move |ev| {
        let _ = tx.send((ev.reason.clone(), ev.is_manual));
        Some(ev)
    });
    client.connect().await.unwrap();
    let c = client.clone();
    let call = tokio::spawn(async move { c.call_api(ReqAdd { a: 1.0, b: 1.0 }).await });
    let ev = within(3, "heartbeat timeout", rx.recv()).await.unwrap();
    assert_eq!(ev, (Some("Heartbeat timeout".to_owned()), false));
    let err = within(3, "call", call).await.unwrap().unwrap_err();
    assert!(err.is_code(codes::LOST_CONN));
    assert_eq!(err.message, "Heartbeat timeout");
    let close = within(5, "server sees close", srv).await.unwrap();
    assert_eq!(close, Some((3000, "Heartbeat timeout".to_owned())));
}

#[tokio::test]
async fn server_heartbeat_wait_closes_silent_clients() {
    let server = start_hand_server(
        ServerOptions::default().heartbeat_wait(Some(Duration::from_millis(150))),
    )
    .await;
    // A client without heartbeat is closed with 3001.
    let mut raw = raw_connect(&server.url()).await;
    let events =
        raw_send_until_close(&mut raw, WsMessage::text(r#"["Add",{"a":1,"b":2},1]"#), 3).await;
    assert!(
        events.contains(&RawEvent::Close(3001, "Receive heartbeat timeout".into())),
        "{events:?}"
    );
    // A client with heartbeat stays.
    let client = WsClient::new(
        server.url(),
        WsClientOptions::default().heartbeat(Duration::from_millis(40), Duration::from_millis(500)),
    );
    client.connect().await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(client.is_connected());
    assert_eq!(
        client.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap().c,
        3.0
    );
    client.disconnect().await;
    server.stop().await;
}

#[tokio::test]
async fn malformed_frames_get_tsrpc_close_reasons() {
    let server = start_hand_server(ServerOptions::default()).await;
    let good = connected(&server.url()).await;
    let long_name = "x".repeat(200);
    let cases: Vec<(WsMessage, String)> = vec![
        (
            WsMessage::text(r#"["Nope",{},12]"#),
            "Invalid api path: Nope".into(),
        ),
        (
            WsMessage::text(r#"["Add",{"a":1,"b":2}]"#),
            "Invalid msg path: Add".into(),
        ),
        (
            WsMessage::text(r#"["Add",{"a":"x","b":2},2]"#),
            "Property `a`: Expected type to be `number`, actually `string`.".into(),
        ),
        (
            WsMessage::text(r#"["Add",{"a":1},3]"#),
            "Missing required property `b`.".into(),
        ),
        (
            WsMessage::text(r#"{"a":1}"#),
            "Invalid request format: unresolved service name.".into(),
        ),
        (
            WsMessage::binary(vec![0xff, 0xff]),
            rpc_runtime::reasons::INVALID_BUFFER_REASON.into(),
        ),
        (
            WsMessage::text(format!(r#"["{long_name}",{{}},1]"#)),
            format!("Invalid api path: {long_name}")[..123].to_owned(),
        ),
    ];
    for (frame, reason) in cases {
        let mut raw = raw_connect(&server.url()).await;
        let events = raw_send_until_close(&mut raw, frame.clone(), 3).await;
        assert_eq!(
            events.first(),
            Some(&RawEvent::Close(1000, reason.clone())),
            "frame {frame:?}"
        );
        // The good client keeps working after each bad one.
        assert_eq!(
            good.call_api(ReqAdd { a: 1.0, b: 1.0 }).await.unwrap().c,
            2.0
        );
    }
    let mut raw = raw_connect(&server.url()).await;
    let events = raw_send_until_close(&mut raw, WsMessage::text("not json"), 3).await;
    match events.first() {
        Some(RawEvent::Close(1000, r)) => {
            assert!(r.starts_with("Input is not a valid JSON string: "), "{r}")
        }
        other => panic!("{other:?}"),
    }
    // The heartbeat is answered on a JSON connection.
    let mut raw = raw_connect(&server.url()).await;
    let events = raw_send_until_close(&mut raw, WsMessage::binary(vec![0]), 1).await;
    assert_eq!(events.first(), Some(&RawEvent::Binary(vec![0])));
    good.disconnect().await;
    server.stop().await;
}

/// In JSON and in binary mode.
async fn server_errors_panics_timeouts_and_unimplemented(json: bool) {
    use rpc_runtime::server::StartError;
    use rpc_runtime::HandlerResult;
    let proto = proto();
    let err = Server::ws(proto.clone(), any_port(), ServerOptions::default())
        .implement_api(|c: ApiCall<ReqAdd>| async move { Ok(ResAdd { c: c.req.a }) })
        .start()
        .await
        .unwrap_err();
    match err {
        StartError::Unimplemented(mut names) => {
            names.sort();
            assert_eq!(names, ["Burst", "Kick", "Slow"]);
        }
        other => panic!("{other:?}"),
    }
    let server = Server::ws(
        proto,
        any_port(),
        ServerOptions::default()
            .api_timeout(Some(Duration::from_millis(200)))
            .return_inner_error(true),
    )
    .implement_api(|c: ApiCall<ReqAdd>| async move {
        if c.req.a < 0.0 {
            return Err(TsrpcError::api("negative")
                .with_code(42)
                .with_extra("detail", "extra field")
                .into());
        }
        if c.req.a == 1.0 {
            let n: HandlerResult<u32> = "zz".parse::<u32>().map_err(Into::into);
            n?;
        }
        if c.req.a == 2.0 {
            panic!("boom in handler");
        }
        Ok(ResAdd {
            c: c.req.a + c.req.b,
        })
    })
    .implement_api(|c: ApiCall<ReqSlow>| async move {
        tokio::time::sleep(Duration::from_millis(c.req.ms)).await;
        Ok(ResSlow { slept_ms: c.req.ms })
    })
    .allow_unimplemented()
    .start()
    .await
    .unwrap();
    let client = connected_in(&server.url(), json).await;
    let err = client
        .call_api(ReqAdd { a: -1.0, b: 0.0 })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorType::ApiError);
    assert_eq!(err.code, Some(42.into()));
    assert_eq!(err.extra["detail"], "extra field");
    let err = client
        .call_api(ReqAdd { a: 1.0, b: 0.0 })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorType::ServerError);
    assert!(err.is_code(codes::INTERNAL_ERR));
    assert_eq!(err.message, "Internal Server Error");
    assert_eq!(err.extra["innerErr"], "invalid digit found in string");
    let err = client
        .call_api(ReqAdd { a: 2.0, b: 0.0 })
        .await
        .unwrap_err();
    assert!(err.is_code(codes::INTERNAL_ERR));
    assert_eq!(err.extra["innerErr"], "boom in handler");
    let err = client.call_api(ReqSlow { ms: 2000 }).await.unwrap_err();
    assert!(err.is_code(codes::SERVER_TIMEOUT), "{err:?}");
    assert_eq!(err.message, "Server Timeout");
    let err = client
        .call_api(ReqKick { reason: "x".into() })
        .await
        .unwrap_err();
    assert!(err.is_code(codes::UNHANDLED_API));
    assert_eq!(err.message, "Unhandled API: Kick");
    // Still serving after all that.
    assert_eq!(
        client.call_api(ReqAdd { a: 3.0, b: 4.0 }).await.unwrap().c,
        7.0
    );
    client.disconnect().await;
    server.stop().await;
}
both_modes!(server_errors_panics_timeouts_and_unimplemented);

/// In JSON and in binary mode.
async fn broadcast_to_all_and_to_a_set_and_server_flows(json: bool) {
    let server = start_hand_server(ServerOptions::default()).await;
    let connects = Arc::new(AtomicUsize::new(0));
    let c = connects.clone();
    server.flows().post_connect.push(move |conn| {
        c.fetch_add(1, Ordering::SeqCst);
        Some(conn)
    });
    let (dtx, mut drx) = mpsc::unbounded_channel();
    server.flows().post_disconnect.push(move |ev| {
        let _ = dtx.send(ev.reason.clone());
        Some(ev)
    });
    let mut clients = Vec::new();
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, String)>();
    for i in 0..3 {
        let client = connected_in(&server.url(), json).await;
        let t = tx.clone();
        client.listen_msg(move |m: MsgChat| t.send((i, m.content)).unwrap());
        clients.push(client);
    }
    assert_eq!(connects.load(Ordering::SeqCst), 3);
    let msg = MsgChat {
        name: "srv".into(),
        content: "to all".into(),
    };
    server.broadcast_msg(&msg).await.unwrap();
    let mut got: Vec<(usize, String)> = Vec::new();
    for _ in 0..3 {
        got.push(within(3, "broadcast", rx.recv()).await.unwrap());
    }
    got.sort();
    assert_eq!(
        got,
        (0..3).map(|i| (i, "to all".to_owned())).collect::<Vec<_>>()
    );
    let conns = server.connections();
    assert_eq!(conns.len(), 3);
    let msg = MsgChat {
        name: "srv".into(),
        content: "to some".into(),
    };
    server.broadcast_msg_to(&msg, &conns[1..2]).await.unwrap();
    assert_eq!(within(3, "to a set", rx.recv()).await.unwrap().1, "to some");
    // A round trip to the others: no message for them.
    clients[0]
        .call_api(ReqAdd { a: 0.0, b: 0.0 })
        .await
        .unwrap();
    clients[2]
        .call_api(ReqAdd { a: 0.0, b: 0.0 })
        .await
        .unwrap();
    assert!(rx.try_recv().is_err());
    // A kick from the server: the reason reaches the server's post_disconnect too.
    conns[0].close("bye");
    assert_eq!(
        within(3, "server post_disconnect", drx.recv())
            .await
            .unwrap(),
        Some("bye".to_owned())
    );
    for c in &clients {
        c.disconnect().await;
    }
    server.stop().await;
}
both_modes!(broadcast_to_all_and_to_a_set_and_server_flows);

#[tokio::test]
async fn graceful_stop_waits_for_pending_calls() {
    let server = start_hand_server(ServerOptions::default()).await;
    let client = connected(&server.url()).await;
    let c = client.clone();
    let call = tokio::spawn(async move { c.call_api(ReqSlow { ms: 300 }).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(server.pending_calls(), 1);
    let t0 = Instant::now();
    assert!(server.graceful_stop(Duration::from_secs(3)).await);
    assert!(t0.elapsed() >= Duration::from_millis(200));
    assert_eq!(call.await.unwrap().unwrap().slept_ms, 300);
}

#[tokio::test]
async fn oversize_frame_is_closed_with_1009() {
    let server = start_hand_server(ServerOptions::default().max_frame_size(1024)).await;
    let mut raw = raw_connect(&server.url()).await;
    let big = format!(
        r#"["Chat",{{"name":"a","content":"{}"}}]"#,
        "x".repeat(4096)
    );
    let events = raw_send_until_close(&mut raw, WsMessage::text(big), 3).await;
    assert_eq!(
        events.first(),
        Some(&RawEvent::Close(
            1009,
            rpc_runtime::reasons::FRAME_TOO_BIG_REASON.into()
        ))
    );
    let good = connected(&server.url()).await;
    assert_eq!(
        good.call_api(ReqAdd { a: 1.0, b: 1.0 }).await.unwrap().c,
        2.0
    );
    good.disconnect().await;
    server.stop().await;
}

#[tokio::test]
async fn max_connections_refuses_the_extra_ones() {
    let server = start_hand_server(ServerOptions::default().max_connections(2)).await;
    let a = connected(&server.url()).await;
    let b = connected(&server.url()).await;
    let c = WsClient::new(server.url(), WsClientOptions::default());
    // The server answers the third handshake 503 (see `limits.rs` for every server kind).
    let err = within(5, "third connect", c.connect()).await.unwrap_err();
    assert_eq!(err.extra["innerErr"], "HTTP error: 503 Service Unavailable");
    // Room again once one leaves.
    a.disconnect().await;
    within(5, "connect after a leave", async {
        while c.connect().await.is_err() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(c.call_api(ReqAdd { a: 1.0, b: 1.0 }).await.unwrap().c, 2.0);
    b.disconnect().await;
    c.disconnect().await;
    server.stop().await;
}

#[tokio::test]
async fn max_pending_calls_holds_the_rest_back_without_errors() {
    let server = start_hand_server(ServerOptions::default().max_pending_calls(2)).await;
    let client = connected(&server.url()).await;
    let t0 = Instant::now();
    let calls: Vec<_> = (0..4)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.call_api(ReqSlow { ms: 300 }).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.pending_calls(), 2, "only two run at once");
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().slept_ms, 300);
    }
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(550),
        "4 calls, 2 at a time: {took:?}"
    );
    client.disconnect().await;
    server.stop().await;
}

#[tokio::test]
async fn client_flows_connect_recv_and_data_hooks() {
    let server = start_hand_server(ServerOptions::default()).await;
    let client = WsClient::new(server.url(), WsClientOptions::default());
    let flows = client.flows();
    // pre_connect can short-circuit connect().
    let refuse = flows.pre_connect.push(|mut ev| {
        ev.ret = Some(Err(TsrpcError::client("offline mode")));
        Some(ev)
    });
    let err = client.connect().await.unwrap_err();
    assert_eq!(err.message, "offline mode");
    assert_eq!(client.status(), WsStatus::Closed);
    flows.pre_connect.remove(refuse);
    let connects = Arc::new(AtomicUsize::new(0));
    let c = connects.clone();
    flows.post_connect.push(move |client| {
        c.fetch_add(1, Ordering::SeqCst);
        Some(client)
    });
    // A data hook pair, as an encryption layer would use: here it only counts frames and
    // rewrites the request of Add on its way out.
    let sent = Arc::new(AtomicUsize::new(0));
    let s = sent.clone();
    flows.pre_send_data.push(move |mut ev| {
        s.fetch_add(1, Ordering::SeqCst);
        ev.data = ev.data.replace(r#""a":1.5"#, r#""a":100"#);
        Some(ev)
    });
    let recv = Arc::new(AtomicUsize::new(0));
    let r = recv.clone();
    flows.pre_recv_data.push(move |ev| {
        r.fetch_add(1, Ordering::SeqCst);
        Some(ev)
    });
    client.connect().await.unwrap();
    assert_eq!(connects.load(Ordering::SeqCst), 1);
    assert_eq!(
        client.call_api(ReqAdd { a: 1.5, b: 1.0 }).await.unwrap().c,
        101.0
    );
    assert_eq!(sent.load(Ordering::SeqCst), 1);
    assert_eq!(recv.load(Ordering::SeqCst), 1);
    // pre_recv_msg can drop or rewrite a message before the listeners; post_recv_msg sees it.
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let t = tx.clone();
    client.listen_msg(move |m: MsgChat| t.send(m.content).unwrap());
    flows.pre_recv_msg.push(|mut ev| {
        if ev.msg["content"] == "echo: drop" {
            return None;
        }
        ev.msg["content"] = serde_json::json!(format!(
            "{} (seen)",
            ev.msg["content"].as_str().unwrap_or("")
        ));
        Some(ev)
    });
    let t = tx.clone();
    flows.post_recv_msg.push(move |ev| {
        t.send(format!("post {}", ev.msg_name)).unwrap();
        Some(ev)
    });
    for content in ["drop", "keep"] {
        client
            .send_msg(&MsgChat {
                name: "a".into(),
                content: content.into(),
            })
            .await
            .unwrap();
    }
    assert_eq!(
        within(3, "rewritten", rx.recv()).await.unwrap(),
        "echo: keep (seen)"
    );
    assert_eq!(within(3, "post", rx.recv()).await.unwrap(), "post Chat");
    // unlisten_msg_all removes every listener of a name.
    client.listen_msg(|_: MsgChat| {});
    assert_eq!(client.unlisten_msg_all("Chat"), 2);
    client.disconnect().await;
    server.stop().await;
}

#[tokio::test]
async fn server_flows_guard_calls_messages_and_frames() {
    let server = start_hand_server(ServerOptions::default()).await;
    let flows = server.flows();
    // An auth check: Slow needs a token, answered without running the handler.
    flows.pre_api_call.push(|mut ev| {
        if ev.api_name == "Slow" {
            ev.ret = Some(Err(TsrpcError::api("Need login").with_code("NEED_LOGIN")));
        }
        if ev.api_name == "Add" {
            ev.req["b"] = serde_json::json!(1000);
        }
        Some(ev)
    });
    flows.pre_api_return.push(|mut ev| {
        if let Ok(res) = &mut ev.ret {
            if ev.api_name == "Add" {
                res["c"] = serde_json::json!(res["c"].as_f64().unwrap_or(0.0) + 0.5);
            }
        }
        Some(ev)
    });
    let returns = Arc::new(AtomicUsize::new(0));
    let r = returns.clone();
    flows.post_api_return.push(move |ev| {
        r.fetch_add(1, Ordering::SeqCst);
        Some(ev)
    });
    flows
        .pre_msg_call
        .push(|ev| (ev.msg["content"] != "blocked").then_some(ev));
    let frames_in = Arc::new(AtomicUsize::new(0));
    let f = frames_in.clone();
    flows.pre_recv_data.push(move |ev| {
        f.fetch_add(1, Ordering::SeqCst);
        Some(ev)
    });
    flows.pre_send_data.push(|mut ev| {
        ev.data = ev.data.replace("echo: ", "ECHO: ");
        Some(ev)
    });
    let client = connected(&server.url()).await;
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    client.listen_msg(move |m: MsgChat| tx.send(m.content).unwrap());
    let err = client.call_api(ReqSlow { ms: 1 }).await.unwrap_err();
    assert!(err.is_code("NEED_LOGIN"), "{err:?}");
    assert_eq!(
        client.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap().c,
        1001.5
    );
    for content in ["blocked", "hello"] {
        client
            .send_msg(&MsgChat {
                name: "a".into(),
                content: content.into(),
            })
            .await
            .unwrap();
    }
    assert_eq!(within(3, "echo", rx.recv()).await.unwrap(), "ECHO: hello");
    assert_eq!(returns.load(Ordering::SeqCst), 2);
    assert_eq!(frames_in.load(Ordering::SeqCst), 4);
    client.disconnect().await;
    server.stop().await;
}

#[tokio::test]
async fn connect_during_disconnect_waits_for_it_and_post_disconnect_fires_once() {
    let server = start_hand_server(ServerOptions::default()).await;
    let client = connected(&server.url()).await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = events.clone();
    client.flows().post_disconnect.push(move |ev| {
        e.lock().unwrap().push(ev.is_manual);
        Some(ev)
    });
    let (_, reconnect) = tokio::join!(client.disconnect(), client.connect());
    reconnect.unwrap();
    assert_eq!(events.lock().unwrap().clone(), vec![true]);
    assert_eq!(client.status(), WsStatus::Opened);
    assert_eq!(
        client.call_api(ReqAdd { a: 1.0, b: 1.0 }).await.unwrap().c,
        2.0
    );
    client.disconnect().await;
    assert_eq!(events.lock().unwrap().clone(), vec![true, true]);
    server.stop().await;
}

#[tokio::test]
async fn untyped_layer_by_service_name() {
    use rpc_runtime::proto::{ServiceDef, ServiceKind, ServiceProto};
    use rpc_runtime::MsgCall;
    use serde_json::json;
    let proto = ServiceProto::new("untyped")
        .with(ServiceDef::named("math/Mul", ServiceKind::Api))
        .with(ServiceDef::named("log/Line", ServiceKind::Msg));
    let server = Server::ws(proto, any_port(), ServerOptions::default())
        .implement_api_raw("math/Mul", |call| async move {
            let x = call.req["x"].as_f64().unwrap_or(0.0);
            let y = call.req["y"].as_f64().unwrap_or(0.0);
            Ok(json!({ "product": x * y }))
        })
        .listen_msg_raw("log/Line", |call: MsgCall<serde_json::Value>| async move {
            let _ = call
                .conn
                .server()
                .broadcast_msg_raw("log/Line", &json!({"echo": call.msg["text"]}), None)
                .await;
        })
        .start()
        .await
        .unwrap();
    let client = connected(&server.url()).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    client.listen_msg_matching_raw(Regex::new("^log/").unwrap(), move |name, body| {
        tx.send((name.to_owned(), body)).unwrap();
    });
    let res = client
        .call_raw("math/Mul", &json!({"x": 6, "y": 7}), CallOptions::default())
        .await
        .unwrap();
    assert_eq!(res, json!({"product": 42}), "42, written without .0");
    client
        .send_msg_raw("log/Line", &json!({"text": "hello"}))
        .await
        .unwrap();
    let (name, body) = within(3, "broadcast", rx.recv()).await.unwrap();
    assert_eq!(name, "log/Line");
    assert_eq!(body, json!({"echo": "hello"}));
    client.disconnect().await;
    server.stop().await;
}

/// A client whose `connect()` has returned is a connection of the server already: listed, and
/// reached by a broadcast made at once (the server registers it before its handshake answer
/// goes out). On a WebSocket server and on a WebSocket + HTTP one (the upgrade path).
async fn connected_means_registered(json: bool) {
    for both in [false, true] {
        let new = if both {
            Server::ws_and_http
        } else {
            Server::ws
        };
        let server =
            rpc_tests::start_adder(new(proto(), any_port(), ServerOptions::default())).await;
        let mut clients = Vec::new();
        for i in 0..200 {
            let client = connected_in(&server.url(), json).await;
            assert_eq!(server.connections().len(), i + 1, "listed once connected");
            let (tx, mut rx) = mpsc::unbounded_channel::<String>();
            client.listen_msg(move |m: MsgChat| drop(tx.send(m.content)));
            let content = format!("hello {i}");
            server
                .broadcast_msg(&MsgChat {
                    name: "srv".into(),
                    content: content.clone(),
                })
                .await
                .unwrap();
            let got = within(3, "the broadcast right after connect", rx.recv()).await;
            assert_eq!(got.as_deref(), Some(content.as_str()), "both: {both}");
            clients.push(client);
        }
        server.stop().await;
    }
}
// On two worker threads: the client's task runs while the server's still goes on after its
// answer (on one thread the server's task reaches the registration before the client runs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connected_means_registered_json() {
    connected_means_registered(true).await
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connected_means_registered_binary() {
    connected_means_registered(false).await
}
