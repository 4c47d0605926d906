//! Logs and metrics: TSRPC-style log lines as `tracing` events, inside the connection's and the
//! call's spans, switched by the options; the counters of `ServerHandle::metrics`.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use protocols::chat;
use rpc_runtime::client::WsClientOptions;
use rpc_runtime::server::ServerOptions;
use rpc_tests::{any_port, within};

/// Everything a `tracing-subscriber` fmt layer writes, for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Runs the chat scenario (connect, Add, Fail, a Chat message, disconnect) on a server with
/// `options`, under a subscriber that captures every INFO line; returns them.
async fn scenario_lines(options: ServerOptions, json: bool) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The test's runtime is single-threaded: every task of the server runs on this thread.
    let _default = tracing::subscriber::set_default(subscriber);
    let server = rpc_examples::chat_server::start_ws(any_port(), options)
        .await
        .unwrap();
    let client = chat::Client::ws(server.url(), WsClientOptions::default().json(json));
    client.connect().await.unwrap();
    assert_eq!(
        client
            .call_add(chat::ReqAdd { a: 1.0, b: 2.0 })
            .await
            .unwrap()
            .c,
        3.0
    );
    client
        .call_fail(chat::ReqFail { mode: None })
        .await
        .unwrap_err();
    client
        .send_msg_chat(&chat::MsgChat {
            name: "ann".into(),
            content: "hello".into(),
        })
        .await
        .unwrap();
    // The echo proves the message was handled.
    client.call_stats(chat::ReqStats {}).await.unwrap();
    client.disconnect().await;
    within(5, "the disconnect", async {
        while !server.connections().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    server.stop().await;
    captured.text()
}

fn line<'a>(lines: &'a str, what: &str) -> &'a str {
    lines
        .lines()
        .find(|l| l.contains(what))
        .unwrap_or_else(|| panic!("no line with {what}:\n{lines}"))
}

async fn log_lines_and_spans(json: bool) {
    let lines = scenario_lines(ServerOptions::default(), json).await;
    let connected = line(&lines, "[Connected]");
    assert!(connected.contains(r#"ip="127.0.0.1""#), "{connected}");
    let req = line(&lines, "[ApiReq] Add");
    assert!(req.contains(r#"req="{\"a\":1,\"b\":2}""#), "{req}");
    assert!(
        req.contains(r#"call{service="Add" sn=1"#),
        "the call's span: {req}"
    );
    let res = line(&lines, "[ApiRes] Add");
    assert!(res.contains(r#"res="{\"c\":3}""#), "{res}");
    assert!(
        res.contains(r#"outcome="succ""#) && res.contains("duration_ms="),
        "{res}"
    );
    let err = line(&lines, "[ApiErr] Fail");
    assert!(
        err.contains("WARN") && err.contains(r#"code="E_FAIL""#),
        "{err}"
    );
    assert!(err.contains(r#"outcome="error""#), "{err}");
    let msg = line(&lines, "[RecvMsg] Chat");
    assert!(msg.contains("hello"), "{msg}");
    assert!(msg.contains("conn{conn="), "the connection's span: {msg}");
    line(&lines, "[Disconnected]");
}
rpc_tests::both_modes!(log_lines_and_spans);

#[tokio::test]
async fn log_options_switch_lines_and_bodies_off() {
    let lines = scenario_lines(ServerOptions::default().log_bodies(false), true).await;
    let req = line(&lines, "[ApiReq] Add");
    assert!(!req.contains("req="), "{req}");
    assert!(!line(&lines, "[ApiRes] Add").contains("res="));
    assert!(!line(&lines, "[RecvMsg] Chat").contains("hello"));

    let lines = scenario_lines(ServerOptions::default().logs(false), true).await;
    for tag in [
        "[Connected]",
        "[ApiReq]",
        "[ApiRes]",
        "[ApiErr]",
        "[RecvMsg]",
        "[Disconnected]",
    ] {
        assert!(!lines.contains(tag), "{tag} with logs off:\n{lines}");
    }
}

#[tokio::test]
async fn metrics_count_calls_messages_errors_and_connections() {
    let server = rpc_examples::chat_server::start_ws(any_port(), ServerOptions::default())
        .await
        .unwrap();
    assert_eq!(server.metrics(), Default::default());
    let a = chat::Client::ws(server.url(), WsClientOptions::default());
    let b = chat::Client::ws(server.url(), WsClientOptions::default().json(true));
    a.connect().await.unwrap();
    b.connect().await.unwrap();
    for _ in 0..3 {
        a.call_add(chat::ReqAdd { a: 1.0, b: 1.0 }).await.unwrap();
    }
    b.call_who_am_i(chat::ReqWhoAmI {}).await.unwrap_err();
    b.call_fail(chat::ReqFail { mode: None }).await.unwrap_err();
    b.call_fail(chat::ReqFail {
        mode: Some(chat::FailMode::Number),
    })
    .await
    .unwrap_err();
    for _ in 0..2 {
        a.send_msg_chat(&chat::MsgChat {
            name: "a".into(),
            content: "x".into(),
        })
        .await
        .unwrap();
    }
    a.call_stats(chat::ReqStats {}).await.unwrap();
    let m = server.metrics();
    assert_eq!(m.open_connections, 2);
    assert_eq!(m.pending_calls, 0);
    assert_eq!(m.queued_bytes, 0, "nothing waits to be written at rest");
    let count = |map: &std::collections::BTreeMap<String, u64>, k: &str| map.get(k).copied();
    assert_eq!(count(&m.calls, "Add"), Some(3));
    assert_eq!(count(&m.calls, "WhoAmI"), Some(1));
    assert_eq!(count(&m.calls, "Fail"), Some(2));
    assert_eq!(count(&m.calls, "Stats"), Some(1));
    assert_eq!(count(&m.calls, "Slow"), None, "never called");
    assert_eq!(count(&m.msgs, "Chat"), Some(2));
    assert_eq!(count(&m.errors, "NEED_LOGIN"), Some(1));
    assert_eq!(count(&m.errors, "E_FAIL"), Some(1));
    assert_eq!(count(&m.errors, "42"), Some(1));
    a.disconnect().await;
    b.disconnect().await;
    within(5, "both gone", async {
        while server.metrics().open_connections > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    server.stop().await;
}
