//! The WebSocket client's built-in reconnect (`WsClientOptions::reconnect`): a real server
//! stopped and started again on the same address, a server refusing for a while, kicks; the
//! backoff, jitter and caps read from the delays the client planned (its `pre_reconnect` flow),
//! never from the wall clock; pending calls, re-sent calls, calls waiting for the connection;
//! the status stream.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rpc_runtime::client::{ConnectionStatus, ReconnectPolicy, WsStatus};
use rpc_runtime::server::ServerOptions;
use rpc_runtime::{codes, CallOptions, RpcClient, RunningServer, WsClient};
use rpc_tests::hand::*;
use rpc_tests::{any_port, both_modes, hand_options, start_hand_server_on, within};
use tokio::sync::{mpsc, watch};

/// Starts the hand-written server on `addr`, retrying while the port is still held.
async fn start_on(addr: SocketAddr) -> RunningServer {
    for _ in 0..100 {
        if let Ok(server) = start_hand_server_on(addr, ServerOptions::default()).await {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("could not start a server on {addr} again");
}

/// What a client did: the attempts it planned (every one, from `pre_reconnect`), its
/// `post_disconnect` events (reason, is_manual).
#[derive(Clone, Default)]
struct Log {
    attempts: Arc<Mutex<Vec<(u32, Duration)>>>,
    disconnects: Arc<Mutex<Vec<Disconnect>>>,
}

/// A post_disconnect event: reason, is_manual.
type Disconnect = (Option<String>, bool);

impl Log {
    fn attempts(&self) -> Vec<(u32, Duration)> {
        self.attempts.lock().unwrap().clone()
    }
    fn disconnects(&self) -> Vec<Disconnect> {
        self.disconnects.lock().unwrap().clone()
    }
}

/// A client of the hand-written service at `addr` with this policy, logged, not connected.
fn client_with(addr: SocketAddr, json: bool, policy: ReconnectPolicy) -> (WsClient, Log) {
    let client = WsClient::new(format!("ws://{addr}"), hand_options(json).reconnect(policy));
    let log = Log::default();
    let attempts = log.attempts.clone();
    client.flows().pre_reconnect.push(move |ev| {
        attempts.lock().unwrap().push((ev.attempt, ev.delay));
        Some(ev)
    });
    let disconnects = log.disconnects.clone();
    client.flows().post_disconnect.push(move |ev| {
        disconnects
            .lock()
            .unwrap()
            .push((ev.reason.clone(), ev.is_manual));
        Some(ev)
    });
    (client, log)
}

/// A policy with no jitter and short delays: `initial`, doubling.
fn quick(initial_ms: u64) -> ReconnectPolicy {
    ReconnectPolicy::default()
        .initial_delay(Duration::from_millis(initial_ms))
        .jitter(0.0)
}

/// Waits until the status is one `pred` accepts.
async fn wait_status(
    rx: &mut watch::Receiver<ConnectionStatus>,
    what: &str,
    pred: impl Fn(&ConnectionStatus) -> bool,
) -> ConnectionStatus {
    *within(10, what, rx.wait_for(|s| pred(s)))
        .await
        .expect("the client lives")
}

/// Waits until the client planned `n` attempts.
async fn wait_attempts(log: &Log, n: usize) {
    within(10, &format!("{n} attempts"), async {
        while log.attempts().len() < n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

/// Every status the stream showed a reader that keeps up (it may skip some under load).
fn record_statuses(client: &WsClient) -> Arc<Mutex<Vec<ConnectionStatus>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut rx = client.status_changes();
    let s = seen.clone();
    tokio::spawn(async move {
        s.lock().unwrap().push(*rx.borrow_and_update());
        while rx.changed().await.is_ok() {
            s.lock().unwrap().push(*rx.borrow_and_update());
        }
    });
    seen
}

fn is_connected(s: &ConnectionStatus) -> bool {
    *s == ConnectionStatus::Connected
}

fn is_reconnecting(s: &ConnectionStatus) -> bool {
    matches!(s, ConnectionStatus::Reconnecting { .. })
}

/// A server stopped and started again on its address: the client comes back by itself, its
/// listeners still fire, post_disconnect fired once, and the status stream told the story.
async fn server_restarted_on_the_same_address(json: bool) {
    let server = start_on(any_port()).await;
    let addr = server.local_addr();
    let (client, log) = client_with(addr, json, quick(50));
    let statuses = record_statuses(&client);
    let mut status = client.status_changes();
    assert_eq!(*status.borrow(), ConnectionStatus::Closed);
    client.connect().await.unwrap();
    assert_eq!(*status.borrow(), ConnectionStatus::Connected);
    let (echo_tx, mut echo_rx) = mpsc::unbounded_channel();
    client.listen_msg(move |m: MsgChat| {
        let _ = echo_tx.send(m.content);
    });

    server.stop().await;
    wait_status(&mut status, "reconnecting", is_reconnecting).await;
    // Down long enough for a few attempts to fail.
    wait_attempts(&log, 3).await;
    let server = start_on(addr).await;
    wait_status(&mut status, "connected again", is_connected).await;
    assert!(client.is_connected());
    assert_eq!(
        client.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap().c,
        3.0
    );
    client
        .send_msg(&MsgChat {
            name: "a".into(),
            content: "after restart".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        within(5, "echo", echo_rx.recv()).await.unwrap(),
        "echo: after restart",
        "a listener registered before the restart still fires"
    );
    let disconnects = log.disconnects();
    assert_eq!(
        disconnects.len(),
        1,
        "post_disconnect once per loss: {disconnects:?}"
    );
    assert!(!disconnects[0].1, "not manual");
    let attempts = log.attempts();
    let numbers: Vec<u32> = attempts.iter().map(|a| a.0).collect();
    let expected: Vec<u32> = (1..=numbers.len() as u32).collect();
    assert_eq!(numbers, expected, "attempts numbered from 1: {attempts:?}");

    client.disconnect().await;
    assert_eq!(*status.borrow(), ConnectionStatus::Closed);
    let seen = statuses.lock().unwrap().clone();
    assert!(seen.contains(&ConnectionStatus::Connecting), "{seen:?}");
    // (A watch may skip a status its reader was too slow for: the exact attempts are in the
    // log above; here, the story's shape.)
    assert!(seen.iter().any(is_reconnecting), "{seen:?}");
    assert_eq!(attempts[0], (1, Duration::from_millis(50)));
    let first_reconnecting = seen.iter().position(is_reconnecting).unwrap();
    assert!(
        seen[first_reconnecting..].contains(&ConnectionStatus::Connected),
        "{seen:?}"
    );
    assert_eq!(seen.last(), Some(&ConnectionStatus::Closed), "{seen:?}");
    // A manual disconnect never reconnects.
    let before = log.attempts().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(log.attempts().len(), before);
    assert_eq!(client.status(), WsStatus::Closed);
    server.stop().await;
}
both_modes!(server_restarted_on_the_same_address);

/// A server that refuses for a while (nothing listens on its port): delays double from the
/// initial one up to the cap; with jitter each lies in `[base * (1 - jitter), base]`.
#[tokio::test]
async fn refusing_server_backoff_and_cap() {
    let server = start_on(any_port()).await;
    let addr = server.local_addr();
    let policy = quick(10).max_delay(Duration::from_millis(80));
    let (client, log) = client_with(addr, false, policy.clone());
    client.connect().await.unwrap();
    server.stop().await;
    wait_attempts(&log, 6).await;
    let server = start_on(addr).await;
    let mut status = client.status_changes();
    wait_status(&mut status, "connected again", is_connected).await;
    let attempts = log.attempts();
    for (i, (attempt, delay)) in attempts.iter().enumerate() {
        assert_eq!(*attempt, i as u32 + 1);
        let base = Duration::from_millis((10u64 << i).min(80));
        assert_eq!(*delay, base, "no jitter: attempt {attempt}: {attempts:?}");
        assert_eq!(*delay, policy.delay(*attempt, 0.0));
    }
    client.disconnect().await;

    // The same with jitter 0.5: every delay within [base / 2, base], and not all at the top.
    let jittery = policy.jitter(0.5);
    let (client, log) = client_with(addr, true, jittery);
    client.connect().await.unwrap();
    server.stop().await;
    wait_attempts(&log, 8).await;
    client.disconnect().await;
    let attempts = log.attempts();
    for (i, (attempt, delay)) in attempts.iter().enumerate() {
        assert_eq!(*attempt, i as u32 + 1);
        let base = Duration::from_millis((10u64 << i).min(80));
        assert!(
            *delay <= base && *delay >= base / 2,
            "attempt {attempt}: {delay:?} not in [{:?}, {base:?}]",
            base / 2
        );
    }
    assert!(
        attempts
            .iter()
            .enumerate()
            .any(|(i, (_, d))| *d != Duration::from_millis((10u64 << i).min(80))),
        "jitter moved no delay: {attempts:?}"
    );
    assert_eq!(*client.status_changes().borrow(), ConnectionStatus::Closed);
}

/// `max_attempts`: the client gives up (status `Closed`); a pending call failed with
/// LOST_CONN at the loss, a call made while reconnecting failed at once with WS_NOT_OPEN, and
/// a call waiting to be re-sent fails with LOST_CONN when the policy gives up.
#[tokio::test]
async fn gives_up_after_max_attempts() {
    let server = start_on(any_port()).await;
    let addr = server.local_addr();
    let (client, log) = client_with(addr, false, quick(30).max_attempts(Some(3)));
    client.connect().await.unwrap();
    let c = client.clone();
    let pending = tokio::spawn(async move { c.call_api(ReqSlow { ms: 5000 }).await });
    let c = client.clone();
    let resent = tokio::spawn(async move {
        c.call_api_with(ReqSlow { ms: 5000 }, CallOptions::resend_on_reconnect())
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut status = client.status_changes();
    server.stop().await;
    let err = within(5, "pending call", pending)
        .await
        .unwrap()
        .unwrap_err();
    assert!(err.is_code(codes::LOST_CONN), "{err:?}");
    wait_status(&mut status, "reconnecting", is_reconnecting).await;
    let err = client
        .call_api(ReqAdd { a: 1.0, b: 1.0 })
        .await
        .unwrap_err();
    assert!(err.is_code(codes::WS_NOT_OPEN), "{err:?}");
    wait_status(&mut status, "closed", |s| *s == ConnectionStatus::Closed).await;
    let err = within(5, "re-sent call", resent)
        .await
        .unwrap()
        .unwrap_err();
    assert!(err.is_code(codes::LOST_CONN), "{err:?}");
    let attempts: Vec<u32> = log.attempts().iter().map(|a| a.0).collect();
    assert_eq!(attempts, vec![1, 2, 3]);
    // Nothing more is tried.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(log.attempts().len(), 3);
    assert_eq!(log.disconnects().len(), 1);
    assert_eq!(client.status(), WsStatus::Closed);
}

/// A loss with calls pending: by default they fail with LOST_CONN; a call made with
/// `resend_on_reconnect` is sent again on the next connection and returns.
async fn pending_calls_fail_or_are_resent(json: bool) {
    let server = start_on(any_port()).await;
    let addr = server.local_addr();
    let (client, log) = client_with(addr, json, quick(50));
    client.connect().await.unwrap();
    let c = client.clone();
    let plain = tokio::spawn(async move { c.call_api(ReqSlow { ms: 400 }).await });
    let c = client.clone();
    let resent = tokio::spawn(async move {
        c.call_api_with(ReqSlow { ms: 400 }, CallOptions::resend_on_reconnect())
            .await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The server closes this connection 20 ms after answering.
    client
        .call_api(ReqKick {
            reason: "kicked".into(),
        })
        .await
        .unwrap();
    let err = within(5, "plain call", plain).await.unwrap().unwrap_err();
    assert!(err.is_code(codes::LOST_CONN), "{err:?}");
    assert_eq!(err.message, "kicked");
    let r = within(10, "re-sent call", resent).await.unwrap();
    assert_eq!(
        r.unwrap().slept_ms,
        400,
        "the call was re-sent and returned"
    );
    assert!(client.is_connected());
    assert_eq!(log.disconnects(), vec![(Some("kicked".to_owned()), false)]);
    assert_eq!(log.attempts(), vec![(1, Duration::from_millis(50))]);
    client.disconnect().await;
    server.stop().await;
}
both_modes!(pending_calls_fail_or_are_resent);

/// While reconnecting, a call fails at once with WS_NOT_OPEN (as TSRPC's); with
/// `wait_for_connection` it waits for the connection and returns, or ends at its timeout.
async fn calls_while_reconnecting(json: bool) {
    let server = start_on(any_port()).await;
    let addr = server.local_addr();
    // Attempt 1 waits 1 s: calls are made in that window.
    let (waiting, _) = client_with(addr, json, quick(1000).wait_for_connection(true));
    let (failing, _) = client_with(addr, json, quick(1000));
    waiting.connect().await.unwrap();
    failing.connect().await.unwrap();
    let mut waiting_status = waiting.status_changes();
    let mut failing_status = failing.status_changes();
    for c in [&waiting, &failing] {
        c.call_api(ReqKick {
            reason: "bye".into(),
        })
        .await
        .unwrap();
    }
    wait_status(&mut waiting_status, "reconnecting", is_reconnecting).await;
    wait_status(&mut failing_status, "reconnecting", is_reconnecting).await;
    let err = failing
        .call_api(ReqAdd { a: 1.0, b: 2.0 })
        .await
        .unwrap_err();
    assert!(err.is_code(codes::WS_NOT_OPEN), "{err:?}");
    let c = waiting.clone();
    let short = tokio::spawn(async move {
        c.call_api_with(
            ReqAdd { a: 1.0, b: 2.0 },
            CallOptions::timeout(Duration::from_millis(50)),
        )
        .await
    });
    let res = within(
        5,
        "waiting call",
        waiting.call_api(ReqAdd { a: 1.0, b: 2.0 }),
    )
    .await
    .unwrap();
    assert_eq!(res.c, 3.0, "the call waited for the connection");
    let err = within(5, "short call", short).await.unwrap().unwrap_err();
    assert!(err.is_code(codes::TIMEOUT), "{err:?}");
    wait_status(&mut failing_status, "failing client back", is_connected).await;
    waiting.disconnect().await;
    failing.disconnect().await;
    server.stop().await;
}
both_modes!(calls_while_reconnecting);

/// A call waiting to be re-sent can be aborted, and ends at its timeout.
#[tokio::test]
async fn waiting_calls_abort_and_time_out() {
    let server = start_on(any_port()).await;
    let addr = server.local_addr();
    let (client, _) = client_with(addr, false, quick(50));
    client.connect().await.unwrap();
    let mut status = client.status_changes();
    let c = client.clone();
    let aborted = tokio::spawn(async move {
        let options = CallOptions {
            abort_key: Some("k".into()),
            ..CallOptions::resend_on_reconnect()
        };
        c.call_api_with(ReqSlow { ms: 5000 }, options).await
    });
    let c = client.clone();
    let timed_out = tokio::spawn(async move {
        let options = CallOptions {
            timeout: Some(Duration::from_millis(400)),
            ..CallOptions::resend_on_reconnect()
        };
        c.call_api_with(ReqSlow { ms: 5000 }, options).await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.stop().await;
    wait_status(&mut status, "reconnecting", is_reconnecting).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(client.abort_by_key("k"), 1, "the waiting call is abortable");
    let err = within(5, "aborted", aborted).await.unwrap().unwrap_err();
    assert!(err.is_code(codes::ABORTED), "{err:?}");
    let err = within(5, "timed out", timed_out)
        .await
        .unwrap()
        .unwrap_err();
    assert!(err.is_code(codes::TIMEOUT), "{err:?}");
    client.disconnect().await;
}

/// A manual disconnect while reconnecting stops it for good; a manual disconnect while
/// connected never starts one.
#[tokio::test]
async fn manual_disconnect_never_reconnects() {
    let server = start_on(any_port()).await;
    let addr = server.local_addr();
    let (client, log) = client_with(addr, false, quick(100));
    client.connect().await.unwrap();
    client.disconnect().await;
    assert_eq!(log.disconnects(), vec![(None, true)]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(log.attempts().is_empty());
    assert_eq!(*client.status_changes().borrow(), ConnectionStatus::Closed);

    client.connect().await.unwrap();
    let mut status = client.status_changes();
    let c = client.clone();
    let resent = tokio::spawn(async move {
        c.call_api_with(ReqSlow { ms: 5000 }, CallOptions::resend_on_reconnect())
            .await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.stop().await;
    wait_status(&mut status, "reconnecting", is_reconnecting).await;
    client.disconnect().await;
    assert_eq!(*status.borrow(), ConnectionStatus::Closed);
    // The call waiting to be re-sent ends with the disconnect, not at its timeout.
    let err = within(2, "re-sent call", resent)
        .await
        .unwrap()
        .unwrap_err();
    assert!(err.is_code(codes::LOST_CONN), "{err:?}");
    let tried = log.attempts().len();
    let server = start_on(addr).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(log.attempts().len(), tried, "no attempt after disconnect()");
    assert_eq!(client.status(), WsStatus::Closed);
    assert_eq!(log.disconnects().len(), 2);
    server.stop().await;
}

/// The backoff goes on across losses until a connection stays up `stable_after`.
#[tokio::test]
async fn backoff_resets_after_a_stable_connection() {
    let server = start_on(any_port()).await;
    let addr = server.local_addr();
    let policy = quick(20).stable_after(Duration::from_millis(1500));
    let (client, log) = client_with(addr, false, policy);
    client.connect().await.unwrap();
    let mut status = client.status_changes();
    let kick = |client: WsClient| async move {
        client
            .call_api(ReqKick {
                reason: "again".into(),
            })
            .await
            .unwrap();
    };
    // Two losses in a row, each soon after connecting: attempts 1 then 2.
    for n in 1..=2 {
        kick(client.clone()).await;
        wait_attempts(&log, n).await;
        wait_status(&mut status, "back", is_connected).await;
    }
    // Up longer than stable_after: attempt 1 again.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    kick(client.clone()).await;
    wait_attempts(&log, 3).await;
    wait_status(&mut status, "back", is_connected).await;
    assert_eq!(
        log.attempts(),
        vec![
            (1, Duration::from_millis(20)),
            (2, Duration::from_millis(40)),
            (1, Duration::from_millis(20)),
        ]
    );
    let disconnects = log.disconnects();
    assert_eq!(
        disconnects,
        vec![(Some("again".to_owned()), false); 3],
        "post_disconnect once per loss, none for the attempts"
    );
    client.disconnect().await;
    server.stop().await;
}

/// A `pre_reconnect` node returning `None` stops reconnecting.
#[tokio::test]
async fn pre_reconnect_can_stop_it() {
    let server = start_on(any_port()).await;
    let addr = server.local_addr();
    let (client, log) = client_with(addr, false, quick(20));
    client
        .flows()
        .pre_reconnect
        .push(|ev| (ev.attempt < 2).then_some(ev));
    client.connect().await.unwrap();
    let mut status = client.status_changes();
    server.stop().await;
    wait_status(&mut status, "closed", |s| *s == ConnectionStatus::Closed).await;
    let attempts: Vec<u32> = log.attempts().iter().map(|a| a.0).collect();
    assert_eq!(attempts, vec![1, 2], "attempt 1 ran, attempt 2 was stopped");
    assert_eq!(client.status(), WsStatus::Closed);
}
