//! TSRPC's server features: message listeners added and removed after `start()`, a
//! connection's own listeners, the flows `post_api_call`, `post_msg_call`, `pre_send_msg`,
//! `post_send_msg`, message ordering beside concurrent calls, and `call_api` in process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rpc_runtime::server::ServerOptions;
use rpc_runtime::{codes, ApiCall, ErrorType, MsgCall, RpcClient, Server, TsrpcError};
use rpc_tests::hand::*;
use rpc_tests::{any_port, both_modes, connected_in, within};

type Log = Arc<Mutex<Vec<String>>>;

fn log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

fn push(log: &Log, s: impl Into<String>) {
    log.lock().unwrap().push(s.into());
}

fn taken(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

async fn wait_len(log: &Log, n: usize) {
    within(5, "log entries", async {
        while log.lock().unwrap().len() < n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
}

fn chat(content: &str) -> MsgChat {
    MsgChat {
        name: "ann".into(),
        content: content.into(),
    }
}

async fn add_server(options: ServerOptions) -> Server {
    Server::ws(rpc_tests::hand::proto(), any_port(), options)
        .implement_api(|call: ApiCall<ReqAdd>| async move {
            Ok(ResAdd {
                c: call.req.a + call.req.b,
            })
        })
        .allow_unimplemented()
}

/// A slow message listener does not hold up the connection's API calls; messages are still
/// handled one after the other, in the order they came.
async fn slow_listener_does_not_stall_calls(json: bool) {
    let handled = log();
    let slow_done = Arc::new(AtomicBool::new(false));
    let (h, done) = (handled.clone(), slow_done.clone());
    let server = add_server(ServerOptions::default())
        .await
        .listen_msg(move |call: MsgCall<MsgChat>| {
            let (h, done) = (h.clone(), done.clone());
            async move {
                push(&h, format!("start {}", call.msg.content));
                if call.msg.content == "slow" {
                    tokio::time::sleep(Duration::from_millis(600)).await;
                    done.store(true, Ordering::SeqCst);
                }
                push(&h, format!("end {}", call.msg.content));
            }
        })
        .start()
        .await
        .unwrap();
    let client = connected_in(&server.url(), json).await;
    for m in ["slow", "a", "b"] {
        client.send_msg(&chat(m)).await.unwrap();
    }
    let t = Instant::now();
    let res = client.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap();
    assert_eq!(res.c, 3.0);
    assert!(
        !slow_done.load(Ordering::SeqCst),
        "the call was answered only after the slow listener ({:?})",
        t.elapsed()
    );
    wait_len(&handled, 6).await;
    assert_eq!(
        taken(&handled),
        [
            "start slow",
            "end slow",
            "start a",
            "end a",
            "start b",
            "end b"
        ],
        "messages in order, one at a time"
    );
    // The lane empties: a fast message afterwards is handled at once again.
    client.send_msg(&chat("c")).await.unwrap();
    wait_len(&handled, 2).await;
    assert_eq!(taken(&handled), ["start c", "end c"]);
    client.disconnect().await;
    server.stop().await;
}
both_modes!(slow_listener_does_not_stall_calls);

/// Listeners added and removed on the running server and on one connection: the
/// connection's run first (TSRPC's order), and only for it.
async fn listeners_after_start(json: bool) {
    let heard = log();
    let server = add_server(ServerOptions::default())
        .await
        .start()
        .await
        .unwrap();
    let a = connected_in(&server.url(), json).await;
    let b = connected_in(&server.url(), json).await;
    let h = heard.clone();
    let on_server = server.listen_msg(move |call: MsgCall<MsgChat>| {
        let h = h.clone();
        async move {
            push(
                &h,
                format!("server {} from {}", call.msg.content, call.conn.id()),
            )
        }
    });
    let conns = server.connections();
    let (conn_a, conn_b) = (conns[0].clone(), conns[1].clone());
    let h = heard.clone();
    let on_a = conn_a.listen_msg(move |call: MsgCall<MsgChat>| {
        let h = h.clone();
        async move {
            push(
                &h,
                format!("conn {} from {}", call.msg.content, call.conn.id()),
            )
        }
    });
    let (ida, idb) = (conn_a.id(), conn_b.id());

    a.send_msg(&chat("1")).await.unwrap();
    wait_len(&heard, 2).await;
    assert_eq!(
        taken(&heard),
        [format!("conn 1 from {ida}"), format!("server 1 from {ida}")]
    );
    b.send_msg(&chat("2")).await.unwrap();
    wait_len(&heard, 1).await;
    assert_eq!(taken(&heard), [format!("server 2 from {idb}")]);

    assert!(server.unlisten_msg(on_server));
    assert!(!server.unlisten_msg(on_server));
    a.send_msg(&chat("3")).await.unwrap();
    wait_len(&heard, 1).await;
    assert_eq!(taken(&heard), [format!("conn 3 from {ida}")]);
    assert!(!conn_b.unlisten_msg(on_a), "not b's listener");
    assert!(conn_a.unlisten_msg(on_a));
    a.send_msg(&chat("4")).await.unwrap();
    // Nothing hears it now: a call after it proves it was read.
    a.call_api(ReqAdd { a: 0.0, b: 0.0 }).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(taken(&heard).is_empty());
    a.disconnect().await;
    b.disconnect().await;
    server.stop().await;
}
both_modes!(listeners_after_start);

/// `post_api_call`, `post_msg_call` (after the listeners), `pre_send_msg` (rewrites, or
/// stops a send: `CANCELLED`), `post_send_msg`.
async fn post_and_send_flows(json: bool) {
    let seen = log();
    let s = seen.clone();
    let server = add_server(ServerOptions::default())
        .await
        .listen_msg(move |call: MsgCall<MsgChat>| {
            let s = s.clone();
            async move {
                push(&s, format!("listener {}", call.msg.content));
                let r = call
                    .conn
                    .send_msg(&chat(&format!("echo {}", call.msg.content)))
                    .await;
                push(
                    &s,
                    format!("sent {}", r.map_or_else(|e| e.message, |_| "ok".into())),
                );
            }
        })
        .start()
        .await
        .unwrap();
    let flows = server.flows();
    let s = seen.clone();
    flows.post_api_call.push(move |ev| {
        let c = ev.ret.as_ref().map(|v| v["c"].clone()).unwrap_or_default();
        push(&s, format!("post_api_call {} {c}", ev.api_name));
        Some(ev)
    });
    let s = seen.clone();
    flows.post_msg_call.push(move |ev| {
        push(&s, format!("post_msg_call {}", ev.msg["content"]));
        Some(ev)
    });
    flows.pre_send_msg.push(|mut ev| {
        if ev.msg["content"] == "echo stop" {
            return None;
        }
        ev.msg["content"] = format!("{}!", ev.msg["content"].as_str().unwrap_or("")).into();
        Some(ev)
    });
    let s = seen.clone();
    flows.post_send_msg.push(move |ev| {
        push(&s, format!("post_send_msg {}", ev.msg["content"]));
        Some(ev)
    });

    let client = connected_in(&server.url(), json).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    client.listen_msg(move |m: MsgChat| {
        let _ = tx.send(m.content);
    });
    assert_eq!(
        client.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap().c,
        3.0
    );
    wait_len(&seen, 1).await;
    assert_eq!(taken(&seen), ["post_api_call Add 3"]);

    client.send_msg(&chat("hi")).await.unwrap();
    assert_eq!(within(5, "echo", rx.recv()).await.unwrap(), "echo hi!");
    wait_len(&seen, 4).await;
    assert_eq!(
        taken(&seen),
        [
            "listener hi",
            "post_send_msg \"echo hi!\"",
            "sent ok",
            "post_msg_call \"hi\""
        ]
    );
    client.send_msg(&chat("stop")).await.unwrap();
    wait_len(&seen, 3).await;
    let got = taken(&seen);
    assert_eq!(got[0], "listener stop");
    assert!(
        got[1].starts_with("sent ") && got[1].contains("pre_send_msg"),
        "{got:?}"
    );
    assert_eq!(got[2], "post_msg_call \"stop\"");
    client.disconnect().await;
    server.stop().await;
}
both_modes!(post_and_send_flows);

#[derive(Clone)]
struct Caller(&'static str);

/// `call_api` in process: typed, through `pre_api_call` (which may attach values or refuse)
/// and `post_api_call`; bad requests and unknown APIs fail as a remote call would.
#[tokio::test]
async fn call_api_in_process_runs_the_flows() {
    let server = Server::ws(
        rpc_tests::hand::proto(),
        any_port(),
        ServerOptions::default(),
    )
    .implement_api(|call: ApiCall<ReqAdd>| async move {
        assert_eq!(call.conn.conn_type(), rpc_runtime::server::ConnType::Http);
        assert!(call.conn.http_request().is_none());
        let bonus = call.ext::<Caller>().map_or(0.0, |c| c.0.len() as f64);
        Ok(ResAdd {
            c: call.req.a + call.req.b + bonus,
        })
    })
    .implement_api(|call: ApiCall<ReqSlow>| async move {
        tokio::time::sleep(Duration::from_millis(call.req.ms)).await;
        Ok(ResSlow {
            slept_ms: call.req.ms,
        })
    })
    .allow_unimplemented()
    .start()
    .await
    .unwrap();
    let posts = log();
    let p = posts.clone();
    server.flows().post_api_call.push(move |ev| {
        push(&p, ev.api_name.clone());
        Some(ev)
    });
    server.flows().pre_api_call.push(|mut ev| {
        if ev.req["a"] == -1 {
            ev.refuse(TsrpcError::api("no negatives").with_code("NEG"));
        } else {
            ev.ext.insert(Caller("local"));
        }
        Some(ev)
    });
    let res = server.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap();
    assert_eq!(res.c, 8.0, "the flow's value reached the handler");
    let err = server
        .call_api(ReqAdd { a: -1.0, b: 2.0 })
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.is_code("NEG")),
        (ErrorType::ApiError, true),
        "{err:?}"
    );
    let raw = server
        .call_api_raw("Add", &serde_json::json!({"a": 2, "b": 2}))
        .await
        .unwrap();
    assert_eq!(raw["c"], 9);
    let err = server
        .call_api_raw("Add", &serde_json::json!({"a": "x"}))
        .await
        .unwrap_err();
    assert!(err.is_code(codes::INPUT_DATA_ERR), "{err:?}");
    let err = server
        .call_api_raw("Nope", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert!(err.is_code(codes::INPUT_DATA_ERR), "{err:?}");
    // Unimplemented: UNHANDLED_API, as remotely.
    let err = server
        .call_api(ReqKick { reason: "x".into() })
        .await
        .unwrap_err();
    assert!(err.is_code(codes::UNHANDLED_API), "{err:?}");
    // A pending in-process call counts for graceful_stop.
    let h = server.handle();
    let slow = tokio::spawn(async move { h.call_api(ReqSlow { ms: 200 }).await });
    within(5, "the call pending", async {
        while server.pending_calls() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(server.graceful_stop(Duration::from_secs(5)).await);
    assert_eq!(slow.await.unwrap().unwrap().slept_ms, 200);
    assert_eq!(
        taken(&posts),
        ["Add", "Add", "Add", "Kick", "Slow"],
        "post_api_call after every call that reached the flows"
    );
}
