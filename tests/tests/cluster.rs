//! Scale-out through Redis: server instances with their own `RedisCluster` adapters on a real
//! redis-server each test starts for itself (no persistence, killed at the end), clients of
//! the hand-written service spread over them, JSON and binary.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rpc_runtime::cluster::{ClusterStats, RedisCluster, RedisClusterOptions};
use rpc_runtime::server::{instance_of, ClusterError, ServerOptions};
use rpc_runtime::{RpcClient, RunningServer, Server, WsClient};
use rpc_tests::hand::*;
use rpc_tests::redis::RedisServer;
use rpc_tests::{any_port, connected_in, start_adder, within};
use tokio::sync::mpsc;

const HEARTBEAT: Duration = Duration::from_millis(100);
const HEARTBEAT_TIMEOUT: Duration = Duration::from_millis(1000);

/// A server instance and its adapter.
struct Instance {
    server: RunningServer,
    cluster: Arc<RedisCluster>,
}

fn options(redis: &RedisServer, id: u16) -> RedisClusterOptions {
    let mut o = RedisClusterOptions::new(redis.url())
        .instance_id(id)
        .heartbeat(HEARTBEAT, HEARTBEAT_TIMEOUT)
        .reconnect(Duration::from_millis(50), Duration::from_millis(400));
    // Generous: a loaded machine can hold a reply up for a while, and a timed-out write
    // counts as lost (at most once).
    o.command_timeout = Duration::from_secs(3);
    o
}

async fn instance_with(opts: RedisClusterOptions) -> Instance {
    let cluster = RedisCluster::new(opts).expect("adapter");
    let server = Server::ws(proto(), any_port(), ServerOptions::default()).cluster(cluster.clone());
    Instance {
        server: start_adder(server).await,
        cluster,
    }
}

async fn instance(redis: &RedisServer, id: u16) -> Instance {
    instance_with(options(redis, id)).await
}

/// Waits until every instance hears the `n - 1` others.
async fn meet(instances: &[&Instance]) {
    for i in instances {
        assert!(
            i.cluster
                .wait_for_instances(instances.len() - 1, Duration::from_secs(5))
                .await,
            "instance {} did not hear the others: {:?}",
            i.server.instance_id(),
            i.cluster.instances()
        );
    }
}

/// A client of `server` in JSON or binary mode, and what `Chat` messages it gets
/// (`name`, `content`).
async fn client(
    server: &RunningServer,
    json: bool,
) -> (WsClient, mpsc::UnboundedReceiver<(String, String)>) {
    let before = server.connections().len();
    let c = connected_in(&server.url(), json).await;
    let (tx, rx) = mpsc::unbounded_channel();
    c.listen_msg(move |m: MsgChat| {
        let _ = tx.send((m.name, m.content));
    });
    // The client's connect returns with the handshake; the server registers the connection
    // just after: a broadcast before that would miss it.
    conns_of(server, before + 1).await;
    (c, rx)
}

/// The server's connections once there are `n` (a client's connect returns with the
/// handshake; the server registers the connection just after).
async fn conns_of(server: &RunningServer, n: usize) -> Vec<rpc_runtime::Connection> {
    assert!(
        eventually(5.0, || server.connections().len() == n).await,
        "{} connections, not {n}",
        server.connections().len()
    );
    server.connections()
}

fn chat(name: &str, content: impl ToString) -> MsgChat {
    MsgChat {
        name: name.into(),
        content: content.to_string(),
    }
}

/// Receives until a `Chat` named `end` arrives (within 5 s); what came before it.
async fn until_end(rx: &mut mpsc::UnboundedReceiver<(String, String)>) -> Vec<(String, String)> {
    let mut got = Vec::new();
    loop {
        let m = within(5, "a message", rx.recv())
            .await
            .expect("client open");
        if m.0 == "end" {
            return got;
        }
        got.push(m);
    }
}

/// Polls `f` every 10 ms until it is true; false after `secs` seconds.
async fn eventually(secs: f64, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    f()
}

fn lost(s: &ClusterStats) -> u64 {
    s.dropped_unavailable + s.dropped_queue_full + s.failed_writes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_room_and_send_across_three_instances() {
    let redis = RedisServer::start();
    let insts = [
        instance(&redis, 1).await,
        instance(&redis, 2).await,
        instance(&redis, 3).await,
    ];
    meet(&insts.iter().collect::<Vec<_>>()).await;
    // Two clients on each instance: one JSON, one binary.
    let mut clients = Vec::new();
    for inst in &insts {
        for json in [true, false] {
            clients.push(client(&inst.server, json).await);
        }
    }
    // Connection ids carry their instance's id in the high bits.
    let mut ids = Vec::new();
    for (k, inst) in insts.iter().enumerate() {
        let conns = conns_of(&inst.server, 2).await;
        for c in &conns {
            assert_eq!(instance_of(c.id()), k as u16 + 1, "id {:#x}", c.id());
        }
        ids.extend(conns.iter().map(|c| c.id()));
    }

    // 20 broadcasts from each instance, interleaved: every client gets each exactly once, in
    // the order of its publisher.
    for n in 0..20 {
        for (k, inst) in insts.iter().enumerate() {
            inst.server
                .broadcast_msg(&chat(&format!("s{k}"), n))
                .await
                .unwrap();
        }
    }
    for inst in &insts {
        inst.server.broadcast_msg(&chat("end", "")).await.unwrap();
    }
    for (i, (_, rx)) in clients.iter_mut().enumerate() {
        let mut got = Vec::new();
        for _ in 0..3 {
            got.extend(until_end(rx).await);
        }
        assert_eq!(got.len(), 60, "client {i}: {got:?}");
        for k in 0..3 {
            let from_k: Vec<String> = got
                .iter()
                .filter(|m| m.0 == format!("s{k}"))
                .map(|m| m.1.clone())
                .collect();
            let want: Vec<String> = (0..20).map(|n| n.to_string()).collect();
            assert_eq!(from_k, want, "client {i}, publisher {k}");
        }
    }

    // A room: the JSON client of each instance joins it; a room broadcast from instance 2
    // reaches those three and nobody else.
    for inst in &insts {
        let first = &inst.server.connections()[0];
        assert!(first.join_room("lobby"));
        assert!(!first.join_room("lobby"), "a member already");
        assert_eq!(first.rooms(), vec!["lobby".to_owned()]);
    }
    insts[1]
        .server
        .broadcast_msg_to_room("lobby", &chat("room", "hi lobby"))
        .await
        .unwrap();
    insts[1]
        .server
        .broadcast_msg(&chat("end", ""))
        .await
        .unwrap();
    for (i, (_, rx)) in clients.iter_mut().enumerate() {
        let got = until_end(rx).await;
        let member = i % 2 == 0;
        let want = if member {
            vec![("room".to_owned(), "hi lobby".to_owned())]
        } else {
            vec![]
        };
        let stats: Vec<ClusterStats> = insts.iter().map(|i| i.cluster.stats()).collect();
        assert_eq!(got, want, "client {i} (member: {member}): {stats:?}");
    }
    // Leaving: the next room broadcast misses it.
    assert!(insts[2].server.connections()[0].leave_room("lobby"));
    insts[0]
        .server
        .broadcast_msg_to_room_raw(
            "lobby",
            "Chat",
            &serde_json::json!({"name": "room", "content": "again"}),
        )
        .await
        .unwrap();
    insts[0]
        .server
        .broadcast_msg(&chat("end", ""))
        .await
        .unwrap();
    for (i, (_, rx)) in clients.iter_mut().enumerate() {
        let got = until_end(rx).await;
        assert_eq!(
            got.len(),
            usize::from(i == 0 || i == 2),
            "client {i}: {got:?}"
        );
    }

    // Sends by connection id: to a binary client of instance 3 from instance 1, then to a
    // set over all three instances (a local one among them).
    let (id3b, id2a, id1a) = (ids[5], ids[2], ids[0]);
    insts[0]
        .server
        .send_msg_to_conns(&[id3b], &chat("direct", "to 3b"))
        .await
        .unwrap();
    insts[0]
        .server
        .send_msg_to_conns(&[id2a, id1a, id3b], &chat("direct", "to three"))
        .await
        .unwrap();
    insts[0]
        .server
        .broadcast_msg(&chat("end", ""))
        .await
        .unwrap();
    for (i, (_, rx)) in clients.iter_mut().enumerate() {
        let got: Vec<String> = until_end(rx).await.into_iter().map(|m| m.1).collect();
        let want: Vec<&str> = match i {
            5 => vec!["to 3b", "to three"],
            0 | 2 => vec!["to three"],
            _ => vec![],
        };
        assert_eq!(got, want, "client {i}");
    }
    // The untyped layer: a broadcast by name and a send by id, across instances.
    insts[2]
        .server
        .broadcast_msg_raw(
            "Chat",
            &serde_json::json!({"name": "raw", "content": "to all"}),
            None,
        )
        .await
        .unwrap();
    insts[2]
        .server
        .send_msg_to_conns_raw(
            &[id1a],
            "Chat",
            &serde_json::json!({"name": "raw", "content": "to 1a"}),
        )
        .await
        .unwrap();
    insts[2]
        .server
        .broadcast_msg(&chat("end", ""))
        .await
        .unwrap();
    for (i, (_, rx)) in clients.iter_mut().enumerate() {
        let got: Vec<String> = until_end(rx).await.into_iter().map(|m| m.1).collect();
        let mut want = vec!["to all"];
        if i == 0 {
            want.push("to 1a");
        }
        assert_eq!(got, want, "client {i}");
    }
    // A connection of this instance that is not open: a clear error.
    let closed = ids[1] + 100;
    match insts[0]
        .server
        .send_msg_to_conns(&[closed], &chat("direct", "x"))
        .await
    {
        Err(ClusterError::NotConnected(id)) => assert_eq!(id, closed),
        other => panic!("{other:?}"),
    }

    // The cluster view: every connection of the three instances.
    let mut all = ids.clone();
    all.sort_unstable();
    let mut view = Vec::new();
    for _ in 0..100 {
        view = insts[0].cluster.cluster_connections().await.unwrap();
        if view == all {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(view, all);
    for inst in &insts {
        let s = inst.cluster.stats();
        assert_eq!(lost(&s), 0, "{s:?}");
        assert_eq!(
            (s.missed, s.undeliverable, s.id_conflicts),
            (0, 0, 0),
            "{s:?}"
        );
        assert!(s.published >= 20 && s.delivered >= 40, "{s:?}");
    }
    for (c, _) in &clients {
        c.disconnect().await;
    }
    // A stopped instance says so: the others drop it at once, well before its heartbeat
    // timeout.
    insts[2].server.stop().await;
    let stopped = Instant::now();
    assert!(
        eventually(HEARTBEAT_TIMEOUT.as_secs_f64() / 2.0, || insts[0]
            .cluster
            .instances()
            .iter()
            .all(|i| i.id != 3))
        .await,
        "instance 3 still in the view: {:?}",
        insts[0].cluster.instances()
    );
    eprintln!(
        "a stopped instance left the view after {:?}",
        stopped.elapsed()
    );
    insts[0].server.stop().await;
    insts[1].server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted() {
    let mut redis = RedisServer::start();
    let a = instance(&redis, 11).await;
    let b = instance(&redis, 12).await;
    meet(&[&a, &b]).await;
    let (ca, mut ra) = client(&a.server, true).await;
    let (cb, mut rb) = client(&b.server, false).await;
    a.server.broadcast_msg(&chat("a", "before")).await.unwrap();
    a.server.broadcast_msg(&chat("end", "")).await.unwrap();
    assert_eq!(
        until_end(&mut rb).await,
        vec![("a".into(), "before".into())]
    );
    assert_eq!(
        until_end(&mut ra).await,
        vec![("a".into(), "before".into())]
    );

    redis.kill();
    assert!(
        eventually(5.0, || !a.cluster.stats().publisher_up
            && !b.cluster.stats().publisher_up)
        .await,
        "the adapters see Redis gone: {:?}",
        a.cluster.stats()
    );
    // Local traffic goes on: calls, and broadcasts to the instance's own clients; what was
    // for the other instance is dropped and counted.
    let before = a.cluster.stats();
    assert_eq!(ca.call_api(ReqAdd { a: 1.0, b: 2.0 }).await.unwrap().c, 3.0);
    for n in 0..10 {
        a.server.broadcast_msg(&chat("a", n)).await.unwrap();
    }
    a.server.broadcast_msg(&chat("end", "")).await.unwrap();
    let got = until_end(&mut ra).await;
    assert_eq!(got.len(), 10, "{got:?}");
    let during = a.cluster.stats();
    assert_eq!(
        during.dropped_unavailable - before.dropped_unavailable,
        11,
        "{during:?}"
    );
    match b
        .server
        .send_msg_to_conns(&[a.server.connections()[0].id()], &chat("x", "y"))
        .await
    {
        // While Redis is gone the instances do not hear each other either.
        Err(ClusterError::Unavailable(_) | ClusterError::InstanceGone { .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(cb.call_api(ReqAdd { a: 2.0, b: 2.0 }).await.unwrap().c, 4.0);

    redis.restart();
    let up = |s: ClusterStats| s.publisher_up && s.subscriber_up;
    assert!(
        eventually(10.0, || up(a.cluster.stats())
            && up(b.cluster.stats())
            && a.cluster.instances().len() == 1
            && b.cluster.instances().len() == 1)
        .await,
        "the adapters reconnect: {:?} {:?}",
        a.cluster.stats(),
        b.cluster.stats()
    );
    a.server.broadcast_msg(&chat("a", "after")).await.unwrap();
    a.server.broadcast_msg(&chat("end", "")).await.unwrap();
    // B's client: nothing of the outage, then the first message after it.
    assert_eq!(until_end(&mut rb).await, vec![("a".into(), "after".into())]);
    assert_eq!(until_end(&mut ra).await, vec![("a".into(), "after".into())]);
    let (sa, sb) = (a.cluster.stats(), b.cluster.stats());
    assert!(sa.reconnects >= 2 && sb.reconnects >= 2, "{sa:?} {sb:?}");
    // B counts what it missed of A: the 11 broadcasts A published during the outage.
    assert_eq!(sb.missed, 11, "{sb:?}");
    ca.disconnect().await;
    cb.disconnect().await;
    a.server.stop().await;
    b.server.stop().await;
}

/// An instance on a runtime of its own, to kill it (drop every task and socket at once, no
/// goodbye to the cluster) as a crash would.
fn instance_on_own_runtime(opts: RedisClusterOptions) -> (tokio::runtime::Runtime, Instance) {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let inst = rt.block_on(instance_with(opts));
        (rt, inst)
    })
    .join()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_killed() {
    let redis = RedisServer::start();
    let a = instance(&redis, 21).await;
    let b = instance(&redis, 22).await;
    let (rt, c) = instance_on_own_runtime(options(&redis, 23));
    meet(&[&a, &b, &c]).await;
    let (ca, mut ra) = client(&a.server, true).await;
    let (_cb, mut rb) = client(&b.server, false).await;
    let (cc, _rc) = client(&c.server, true).await;
    let c_id = conns_of(&c.server, 1).await[0].id();
    assert_eq!(instance_of(c_id), 23);
    let mut view = Vec::new();
    for _ in 0..100 {
        view = a.cluster.cluster_connections().await.unwrap();
        if view.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(view.contains(&c_id), "{view:?}");

    rt.shutdown_background();
    let killed = Instant::now();
    // The others keep serving.
    assert_eq!(ca.call_api(ReqAdd { a: 1.0, b: 1.0 }).await.unwrap().c, 2.0);
    b.server
        .broadcast_msg(&chat("b", "still here"))
        .await
        .unwrap();
    b.server.broadcast_msg(&chat("end", "")).await.unwrap();
    assert_eq!(
        until_end(&mut ra).await,
        vec![("b".into(), "still here".into())]
    );
    assert_eq!(
        until_end(&mut rb).await,
        vec![("b".into(), "still here".into())]
    );
    // C leaves the view within the heartbeat timeout (plus a heartbeat and the polling).
    assert!(
        eventually(3.0, || a.cluster.instances().iter().all(|i| i.id != 23)
            && b.cluster.instances().iter().all(|i| i.id != 23))
        .await
    );
    let gone_after = killed.elapsed();
    assert!(
        gone_after <= HEARTBEAT_TIMEOUT + 3 * HEARTBEAT,
        "gone after {gone_after:?}"
    );
    assert_eq!(
        a.cluster
            .instances()
            .iter()
            .map(|i| i.id)
            .collect::<Vec<_>>(),
        vec![22]
    );
    let view = a.cluster.cluster_connections().await.unwrap();
    assert_eq!(view.len(), 2, "{view:?}");
    assert!(!view.contains(&c_id));
    // Sends to its connections fail clearly.
    match a.server.send_msg_to_conns(&[c_id], &chat("x", "y")).await {
        Err(ClusterError::InstanceGone { conn, instance }) => {
            assert_eq!((conn, instance), (c_id, 23));
            let text = ClusterError::InstanceGone { conn, instance }.to_string();
            assert!(text.contains("not in the cluster"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    // Its client lost its connection.
    assert!(
        eventually(5.0, || cc.status() != rpc_runtime::client::WsStatus::Opened).await,
        "the killed instance's client is disconnected"
    );
    drop(c);
    ca.disconnect().await;
    a.server.stop().await;
    b.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_bounded_while_redis_stopped() {
    const QUEUE: usize = 32;
    const QUEUE_BYTES: usize = 8 << 10;
    let redis = RedisServer::start();
    let mut opts = options(&redis, 31).queue(QUEUE, QUEUE_BYTES);
    // A frozen Redis is noticed at the first write that times out.
    opts.command_timeout = Duration::from_millis(500);
    let a = instance_with(opts).await;
    let b = instance(&redis, 32).await;
    meet(&[&a, &b]).await;
    let (ca, mut ra) = client(&a.server, false).await;
    let (cb, mut rb) = client(&b.server, true).await;

    // Redis frozen (SIGSTOP: its sockets stay open, nothing answers) for 10 s under a steady
    // broadcast from A: 400 a second.
    redis.signal("STOP");
    let start = Instant::now();
    let mut sent = 0u64;
    let mut peak = (0, 0);
    let mut tick = tokio::time::interval(Duration::from_micros(2500));
    while start.elapsed() < Duration::from_secs(10) {
        tick.tick().await;
        a.server.broadcast_msg(&chat("a", sent)).await.unwrap();
        sent += 1;
        let s = a.cluster.stats();
        peak = (peak.0.max(s.queued), peak.1.max(s.queued_bytes));
        assert!(s.queued as usize <= QUEUE, "{s:?}");
        assert!(s.queued_bytes as usize <= QUEUE_BYTES, "{s:?}");
    }
    // A's own client got every one of them meanwhile.
    a.server.broadcast_msg(&chat("end", "")).await.unwrap();
    let got = until_end(&mut ra).await;
    assert_eq!(got.len() as u64, sent);
    assert!(got.iter().enumerate().all(|(i, m)| m.1 == i.to_string()));
    let stalled = a.cluster.stats();
    // Nearly everything was dropped and counted rather than held: the queue never grew past
    // its bound.
    assert!(lost(&stalled) >= sent * 8 / 10, "sent {sent}: {stalled:?}");
    redis.signal("CONT");

    let up = |s: ClusterStats| s.publisher_up && s.subscriber_up;
    assert!(
        eventually(10.0, || up(a.cluster.stats())
            && up(b.cluster.stats())
            && a.cluster.instances().len() == 1
            && b.cluster.instances().len() == 1)
        .await,
        "the adapters recover: {:?} {:?}",
        a.cluster.stats(),
        b.cluster.stats()
    );
    // Every publish is accounted for: written, dropped, or still queued.
    let s = a.cluster.stats();
    assert_eq!(s.published + lost(&s) + s.queued, sent + 1, "{s:?}");
    a.server.broadcast_msg(&chat("a", "after")).await.unwrap();
    // B gets the message after the outage (after, perhaps, some written just before the
    // freeze that Redis forwarded when it resumed: at most once, not exactly once).
    let mut late = 0;
    loop {
        let m = within(5, "the message after the outage", rb.recv())
            .await
            .unwrap();
        if m == ("a".into(), "after".into()) {
            break;
        }
        late += 1;
    }
    eprintln!("sent {sent}, peak queue {peak:?}, {late} late; after: {s:?}");
    ca.disconnect().await;
    cb.disconnect().await;
    a.server.stop().await;
    b.server.stop().await;
}

#[tokio::test]
async fn rooms_and_sends_on_one_server_without_a_cluster() {
    let server = start_adder(Server::ws(proto(), any_port(), ServerOptions::default())).await;
    assert_eq!(server.instance_id(), 0);
    let (c1, mut r1) = client(&server, true).await;
    let (c2, mut r2) = client(&server, false).await;
    let conns = conns_of(&server, 2).await;
    let (id1, id2) = (conns[0].id(), conns[1].id());
    assert_eq!((instance_of(id1), instance_of(id2)), (0, 0));
    assert!(conns[0].join_room("r"));
    assert!(conns[1].join_room("r"));
    assert!(conns[1].join_room("s"));
    assert_eq!(server.room_connections("r"), conns);
    server
        .broadcast_msg_to_room("s", &chat("room", "s only"))
        .await
        .unwrap();
    server
        .send_msg_to_conns(&[id1], &chat("direct", "1"))
        .await
        .unwrap();
    server.broadcast_msg(&chat("end", "")).await.unwrap();
    assert_eq!(
        until_end(&mut r1).await,
        vec![("direct".into(), "1".into())]
    );
    assert_eq!(
        until_end(&mut r2).await,
        vec![("room".into(), "s only".into())]
    );
    // An id of another instance, on a server without a cluster: a clear error.
    let foreign = (7u64 << rpc_runtime::server::CONN_COUNTER_BITS) | 1;
    match server.send_msg_to_conns(&[foreign], &chat("x", "y")).await {
        Err(e @ ClusterError::NoCluster(_)) => {
            assert!(e.to_string().contains("no cluster adapter"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    // A closed connection leaves its rooms; one that closed cannot join.
    let second = conns[1].clone();
    c2.disconnect().await;
    assert!(eventually(3.0, || server.room_connections("r").len() == 1).await);
    assert!(server.room_connections("s").is_empty());
    assert!(!second.join_room("r"));
    assert!(second.rooms().is_empty());
    assert!(conns[0].leave_room("r"));
    assert!(!conns[0].leave_room("r"));
    assert!(server.room_connections("r").is_empty());
    match server.send_msg_to_conns(&[id2], &chat("x", "y")).await {
        Err(ClusterError::NotConnected(id)) => assert_eq!(id, id2),
        other => panic!("{other:?}"),
    }
    c1.disconnect().await;
    server.stop().await;
}

/// The kitchen sink (every TSBuffer type), imported as in `tsbuffer.rs`.
#[rpc_runtime::service(
    tsrpc_proto = "kitchen-sink/protocols/serviceProto.ts",
    skip_unsupported_optional_fields = true
)]
pub mod kitchen {}

/// Messages of every kind of field (bytes, dates, `Any`, 2^53 - 1, unicode) cross instances
/// intact to binary and JSON clients: the binary frame is the publisher's, encoded once from
/// the typed value (a receiver re-encoding the JSON text could not write bytes fields, which
/// JSON carries as strings).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_kind_crosses_instances_in_both_modes() {
    let vectors: serde_json::Value =
        serde_json::from_str(include_str!("../kitchen-sink/vectors.json")).unwrap();
    let msgs: Vec<kitchen::MsgChat> = vectors["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["type"] == "MsgChat/MsgChat")
        .map(|v| serde_json::from_value(v["json"].clone()).unwrap())
        .collect();
    assert_eq!(msgs.len(), 3);
    let redis = RedisServer::start();
    let mut servers = Vec::new();
    let mut clusters = Vec::new();
    for id in [41, 42] {
        let cluster = RedisCluster::new(options(&redis, id)).unwrap();
        let server = kitchen::Server::ws(any_port(), ServerOptions::default())
            .map(|s| s.cluster(cluster.clone()))
            .allow_unimplemented()
            .start()
            .await
            .unwrap();
        servers.push(server);
        clusters.push(cluster);
    }
    for c in &clusters {
        assert!(c.wait_for_instances(1, Duration::from_secs(5)).await);
    }
    let mut clients = Vec::new();
    for server in &servers {
        for json in [true, false] {
            let options = rpc_runtime::client::WsClientOptions::default().json(json);
            let client = kitchen::Client::ws(server.url(), options);
            within(5, "connect", client.connect()).await.unwrap();
            let (tx, rx) = mpsc::unbounded_channel();
            client.listen_msg_chat(move |m| drop(tx.send(m)));
            clients.push((client, rx, json));
        }
        conns_of(server, 2).await;
    }
    for m in &msgs {
        servers[0].broadcast_msg_chat(m).await.unwrap();
    }
    let text = |m: &kitchen::MsgChat| rpc_runtime::json::to_string(m).unwrap();
    for (k, (_, rx, json)) in clients.iter_mut().enumerate() {
        for (n, want) in msgs.iter().enumerate() {
            let got = within(5, "a kitchen-sink message", rx.recv())
                .await
                .unwrap();
            assert_eq!(
                text(&got),
                text(want),
                "client {k} (instance {}, json: {json}), message {n}",
                41 + k / 2
            );
        }
    }
    let s = clusters[1].stats();
    assert_eq!((s.received, s.undeliverable), (3, 0), "{s:?}");
    for (c, _, _) in &clients {
        c.disconnect().await;
    }
    for s in &servers {
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_at_start() {
    let mut redis = RedisServer::start();
    redis.kill();
    // An instance starts without Redis: it serves its own clients, and joins when Redis comes.
    let a = instance(&redis, 51).await;
    let (ca, mut ra) = client(&a.server, true).await;
    assert_eq!(ca.call_api(ReqAdd { a: 2.0, b: 3.0 }).await.unwrap().c, 5.0);
    a.server.broadcast_msg(&chat("a", "alone")).await.unwrap();
    a.server.broadcast_msg(&chat("end", "")).await.unwrap();
    assert_eq!(until_end(&mut ra).await, vec![("a".into(), "alone".into())]);
    let s = a.cluster.stats();
    assert!(!s.publisher_up && !s.subscriber_up, "{s:?}");
    assert_eq!(s.dropped_unavailable, 2, "{s:?}");
    redis.restart();
    let b = instance(&redis, 52).await;
    meet(&[&a, &b]).await;
    let (cb, mut rb) = client(&b.server, false).await;
    a.server.broadcast_msg(&chat("a", "joined")).await.unwrap();
    a.server.broadcast_msg(&chat("end", "")).await.unwrap();
    assert_eq!(
        until_end(&mut rb).await,
        vec![("a".into(), "joined".into())]
    );
    ca.disconnect().await;
    cb.disconnect().await;
    a.server.stop().await;
    b.server.stop().await;
}
