//! The client's TSRPC parity leftovers: `unlisten_msg_all_matching` (TSRPC's
//! `unlistenMsgAll(RegExp)`), `last_sn` / `next_sn`, `disconnect_with(code, reason)`, the
//! `pre_api_return` / `post_api_return` / `post_send_msg` flows, and the call and message log
//! (TSRPC's `logApi` / `logMsg`) through `tracing`.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use regex::Regex;
use rpc_runtime::client::{HttpClientOptions, WsStatus};
use rpc_runtime::server::ServerOptions;
use rpc_runtime::{codes, CallOptions, HttpClient, RpcClient, WsClient};
use rpc_tests::hand::*;
use rpc_tests::{
    any_port, both_modes, connected_in, hand_options, raw_accept, start_hand_server, within,
};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Listeners by name and by pattern; `unlisten_msg_all_matching(^game/)` stops every listener
/// of a `game/...` name and the `^game/` pattern listener, not the others.
async fn unlisten_msg_all_matching(json: bool) {
    let server = start_hand_server(ServerOptions::default()).await;
    let client = connected_in(&server.url(), json).await;
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let t = tx.clone();
    client.listen_msg(move |m: MsgGameFrame| t.send(format!("frame {}", m.frame)).unwrap());
    let t = tx.clone();
    client.listen_msg(move |m: MsgGameOver| t.send(format!("over {}", m.winner)).unwrap());
    let t = tx.clone();
    client.listen_msg_matching_raw(Regex::new("^game/").unwrap(), move |name, _| {
        t.send(format!("pattern {name}")).unwrap()
    });
    let t = tx.clone();
    client.listen_msg(move |m: MsgUserJoin| t.send(format!("join {}", m.room_id)).unwrap());
    let t = tx;
    client.listen_msg_matching_raw(Regex::new("^room/").unwrap(), move |name, _| {
        t.send(format!("pattern {name}")).unwrap()
    });

    let burst = |client: WsClient| async move {
        client.call_api(ReqBurst { n: 1 }).await.unwrap();
    };
    let drain = |rx: &mut mpsc::UnboundedReceiver<String>, n: usize| {
        let mut got = Vec::new();
        for _ in 0..n {
            got.push(rx.try_recv().expect("a listener's event"));
        }
        assert!(rx.try_recv().is_err(), "no more events: {got:?}");
        got.sort();
        got
    };
    burst(client.clone()).await;
    // Messages come before the call's return.
    let before = drain(&mut rx, 6);
    assert_eq!(
        before,
        vec![
            "frame 0",
            "join r1",
            "over 1",
            "pattern game/GameFrame",
            "pattern game/GameOver",
            "pattern room/UserJoin"
        ]
    );
    assert_eq!(
        client.unlisten_msg_all_matching(&Regex::new("^game/").unwrap()),
        3
    );
    burst(client.clone()).await;
    assert_eq!(drain(&mut rx, 2), vec!["join r1", "pattern room/UserJoin"]);
    // Nothing left to match.
    assert_eq!(
        client.unlisten_msg_all_matching(&Regex::new("^game/").unwrap()),
        0
    );
    client.disconnect().await;
    server.stop().await;
}
both_modes!(unlisten_msg_all_matching);

/// `next_sn` is the sn the next call takes, `last_sn` the one the last call took.
async fn last_sn_and_next_sn(json: bool) {
    let server = start_hand_server(ServerOptions::default()).await;
    let client = connected_in(&server.url(), json).await;
    assert_eq!((client.last_sn(), client.next_sn()), (0, 1));
    client.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap();
    assert_eq!((client.last_sn(), client.next_sn()), (1, 2));
    let sn = client.next_sn();
    let c = client.clone();
    let slow = tokio::spawn(async move { c.call_api(ReqSlow { ms: 5000 }).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(client.last_sn(), sn, "the call took the sn next_sn gave");
    assert!(client.abort(sn), "the pending call has that sn");
    let err = within(3, "aborted", slow).await.unwrap().unwrap_err();
    assert!(err.is_code(codes::ABORTED), "{err:?}");
    assert_eq!(client.next_sn(), sn + 1);
    client.disconnect().await;
    server.stop().await;
}
both_modes!(last_sn_and_next_sn);

/// `disconnect_with` sends its code and reason in the close frame; the client is closed, its
/// post_disconnect manual.
#[tokio::test]
async fn disconnect_with_a_code_and_reason() {
    let listener = tokio::net::TcpListener::bind(any_port()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client = WsClient::new(format!("ws://{addr}"), Default::default());
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = events.clone();
    client.flows().post_disconnect.push(move |ev| {
        e.lock().unwrap().push((ev.reason.clone(), ev.is_manual));
        Some(ev)
    });
    let peer = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = raw_accept(stream).await;
        loop {
            match ws.next().await {
                Some(Ok(WsMessage::Close(frame))) => {
                    let frame = frame.expect("a close frame with a code");
                    let _ = ws.send(WsMessage::Close(Some(frame.clone()))).await;
                    return (u16::from(frame.code), frame.reason.to_string());
                }
                Some(Ok(_)) => {}
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    });
    within(5, "connect", client.connect()).await.unwrap();
    within(5, "disconnect", client.disconnect_with(4321, "going away")).await;
    let (code, reason) = within(5, "the peer reads the close", peer).await.unwrap();
    assert_eq!((code, reason.as_str()), (4321, "going away"));
    assert_ne!(CloseCode::from(code), CloseCode::Normal);
    assert_eq!(client.status(), WsStatus::Closed);
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].1, "manual");
}

/// `pre_api_return` sees the request and may replace the return (or cancel the call);
/// `post_api_return` sees what the call returns; `post_send_msg` sees each message sent, and
/// not one a `pre_send_msg` node stopped or that could not be sent.
async fn return_and_send_flows(json: bool) {
    let server = start_hand_server(ServerOptions::default()).await;
    let client = connected_in(&server.url(), json).await;
    let flows = client.flows();
    flows.pre_api_return.push(|mut ev| {
        if ev.api_name == "Slow" {
            return None;
        }
        assert_eq!(ev.req["a"], 1.0);
        if let Ok(res) = &mut ev.ret {
            res["c"] = serde_json::json!(res["c"].as_f64().unwrap() + 0.5);
        }
        Some(ev)
    });
    let returns = Arc::new(Mutex::new(Vec::new()));
    let r = returns.clone();
    flows.post_api_return.push(move |ev| {
        r.lock()
            .unwrap()
            .push((ev.api_name.clone(), ev.ret.clone().map(|v| v["c"].clone())));
        Some(ev)
    });
    let sent = Arc::new(Mutex::new(Vec::new()));
    let s = sent.clone();
    flows.post_send_msg.push(move |ev| {
        s.lock()
            .unwrap()
            .push((ev.msg_name.clone(), ev.msg["content"].clone()));
        Some(ev)
    });
    flows
        .pre_send_msg
        .push(|ev| (ev.msg["content"] != "blocked").then_some(ev));

    let res = client.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap();
    assert_eq!(res.c, 3.5, "pre_api_return replaced the return");
    let err = client.call_api(ReqSlow { ms: 1 }).await.unwrap_err();
    assert!(err.is_code(codes::CANCELLED), "{err:?}");
    assert_eq!(
        *returns.lock().unwrap(),
        vec![("Add".to_owned(), Ok(serde_json::json!(3.5)))],
        "post_api_return sees the replaced return; not a cancelled one"
    );
    for content in ["hello", "blocked"] {
        let _ = client
            .send_msg(&MsgChat {
                name: "a".into(),
                content: content.into(),
            })
            .await;
    }
    client.disconnect().await;
    let err = client
        .send_msg(&MsgChat {
            name: "a".into(),
            content: "closed".into(),
        })
        .await
        .unwrap_err();
    assert!(err.is_code(codes::WS_NOT_OPEN), "{err:?}");
    assert_eq!(
        *sent.lock().unwrap(),
        vec![("Chat".to_owned(), serde_json::json!("hello"))]
    );
    server.stop().await;
}
both_modes!(return_and_send_flows);

/// A tracing subscriber keeping the client log's lines (target `rpc_runtime::client`).
struct Capture(Arc<Mutex<Vec<String>>>);

struct Message<'a>(&'a mut String);

impl tracing::field::Visit for Message<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        }
    }
}

impl tracing::Subscriber for Capture {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.target() == "rpc_runtime::client"
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut line = String::new();
        event.record(&mut Message(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Calls, returns, errors and messages both ways are logged as TSRPC's client logs them;
/// `log(false, false)` turns it off. The runtime is this thread's (the test's current-thread
/// runtime), so the read loop's lines are captured too.
async fn calls_and_messages_are_logged(json: bool) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let _guard = tracing::subscriber::set_default(Capture(lines.clone()));
    let server = start_hand_server(ServerOptions::default()).await;
    let client = connected_in(&server.url(), json).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    client.listen_msg(move |m: MsgChat| tx.send(m.content).unwrap());
    client.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap();
    let err = client
        .call_api_with(
            ReqSlow { ms: 2000 },
            CallOptions::timeout(Duration::from_millis(20)),
        )
        .await
        .unwrap_err();
    assert!(err.is_code(codes::TIMEOUT));
    client
        .send_msg(&MsgChat {
            name: "a".into(),
            content: "hello".into(),
        })
        .await
        .unwrap();
    assert_eq!(within(3, "echo", rx.recv()).await.unwrap(), "echo: hello");
    let got = lines.lock().unwrap().clone();
    let find = |prefix: &str, has: &str| {
        assert!(
            got.iter().any(|l| l.starts_with(prefix) && l.contains(has)),
            "no line `{prefix}..{has}..` in {got:#?}"
        )
    };
    find("[ApiReq] #1 Add {", "\"a\"");
    find("[ApiRes] #1 Add {", "\"c\":3");
    find("[ApiReq] #2 Slow {", "2000");
    find("[ApiErr] #2 Slow ", "Request Timeout");
    find("[SendMsg] Chat {", "\"hello\"");
    find("[RecvMsg] Chat {", "\"echo: hello\"");
    client.disconnect().await;

    // Turned off: nothing more.
    let n = lines.lock().unwrap().len();
    let quiet = WsClient::new(server.url(), hand_options(json).log(false, false));
    quiet.connect().await.unwrap();
    quiet.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap();
    quiet
        .send_msg(&MsgChat {
            name: "a".into(),
            content: "quiet".into(),
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let after = lines.lock().unwrap()[n..].to_vec();
    assert!(after.is_empty(), "{after:?}");
    quiet.disconnect().await;
    server.stop().await;

    // The HTTP client logs its calls the same way.
    let http_server = rpc_tests::start_adder(rpc_runtime::Server::http(
        proto(),
        any_port(),
        ServerOptions::default(),
    ))
    .await;
    let http = HttpClient::new(
        format!("http://{}", http_server.local_addr()),
        HttpClientOptions::default().proto(&proto()).json(json),
    );
    http.call_api(ReqAdd { a: 2.0, b: 2.0 }).await.unwrap();
    let got = lines.lock().unwrap().clone();
    assert!(
        got.iter()
            .any(|l| l.starts_with("[ApiRes] #1 Add {") && l.contains("\"c\":4")),
        "{got:#?}"
    );
    http_server.stop().await;
}
both_modes!(calls_and_messages_are_logged);
