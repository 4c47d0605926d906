//! The adapter's two tasks: the publisher (one connection to Redis: queued publishes in
//! pipelines, heartbeats, this instance's connection set) and the subscriber (a pub/sub
//! connection: what other instances publish, delivered to this server in arrival order).
//! Each reconnects with backoff on its own.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use tokio::sync::{mpsc, watch};
use tokio::time::MissedTickBehavior;

use super::envelope::{self, Envelope, Target};
use super::{Outgoing, Peer, Shared};
use crate::server::{ClusterError, ClusterTarget};

/// Publishes handed to Redis in one pipeline, at most.
const BATCH: usize = 256;

async fn connect(s: &Shared) -> Result<MultiplexedConnection, String> {
    let t = s.opts.command_timeout;
    let cfg = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(t))
        .set_response_timeout(Some(t));
    match tokio::time::timeout(
        t,
        s.client.get_multiplexed_async_connection_with_config(&cfg),
    )
    .await
    {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("connect timed out".into()),
    }
}

/// Runs `pipe` on the publisher's connection (for reads such as the cluster view).
pub(super) async fn query<T: redis::FromRedisValue>(
    s: &Shared,
    pipe: &redis::Pipeline,
) -> Result<T, ClusterError> {
    let conn = s.conn.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let Some(mut conn) = conn else {
        return Err(ClusterError::Unavailable("no connection to Redis".into()));
    };
    match tokio::time::timeout(s.opts.command_timeout, pipe.query_async(&mut conn)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(ClusterError::Unavailable(e.to_string())),
        Err(_) => Err(ClusterError::Unavailable(
            "Redis did not answer in time".into(),
        )),
    }
}

/// Waits `wait` (or until the server stops), dropping and counting what is queued meanwhile:
/// nothing waits for Redis while it is down.
async fn drain_for(
    s: &Shared,
    rx: &mut mpsc::Receiver<Outgoing>,
    wait: Duration,
    stop: &mut watch::Receiver<bool>,
) {
    let sleep = tokio::time::sleep(wait);
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            _ = &mut sleep => return,
            _ = stop.changed() => return,
            o = rx.recv() => match o {
                Some(o) => drop_queued(s, &o),
                None => return,
            },
        }
    }
}

fn drop_queued(s: &Shared, o: &Outgoing) {
    s.queued_bytes.fetch_sub(o.data.len(), Ordering::AcqRel);
    s.counters
        .dropped_unavailable
        .fetch_add(1, Ordering::Relaxed);
}

fn backoff_next(s: &Shared, b: Duration) -> Duration {
    (b * 2).min(s.opts.reconnect_max.max(s.opts.reconnect_min))
}

/// The publisher task: until the server stops.
pub(super) async fn publisher(s: Arc<Shared>, mut rx: mpsc::Receiver<Outgoing>) {
    let mut stop = s.stop.subscribe();
    let mut backoff = s.opts.reconnect_min;
    let mut first = true;
    let mut failing = false;
    let all = s.channel_all();
    while !s.stopped() {
        let conn = tokio::select! {
            c = connect(&s) => c,
            _ = stop.changed() => break,
        };
        let mut conn = match conn {
            Ok(c) => c,
            Err(e) => {
                if !failing {
                    tracing::warn!(
                        "cluster: cannot reach Redis at {} ({e}): retrying, publishes dropped",
                        s.opts.url
                    );
                    failing = true;
                }
                drain_for(&s, &mut rx, backoff, &mut stop).await;
                backoff = backoff_next(&s, backoff);
                continue;
            }
        };
        if !first {
            s.counters.reconnects.fetch_add(1, Ordering::Relaxed);
            tracing::info!("cluster: publishing to Redis again");
        }
        first = false;
        backoff = s.opts.reconnect_min;
        *s.conn.lock().unwrap_or_else(|e| e.into_inner()) = Some(conn.clone());
        // Redis may have restarted empty: write the connection set again.
        s.conns_dirty.store(true, Ordering::Release);
        s.publisher_up.store(true, Ordering::Release);
        let mut tick = tokio::time::interval(s.opts.heartbeat);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut batch = Vec::with_capacity(BATCH);
        let err = loop {
            tokio::select! {
                biased;
                _ = stop.changed() => {
                    s.publisher_up.store(false, Ordering::Release);
                    leave(&s, &mut conn).await;
                    return;
                }
                _ = tick.tick() => {
                    if let Err(e) = heartbeat(&s, &mut conn).await {
                        break e;
                    }
                }
                n = rx.recv_many(&mut batch, BATCH) => {
                    if n == 0 {
                        return;
                    }
                    let bytes: usize = batch.iter().map(|o| o.data.len()).sum();
                    let mut pipe = redis::pipe();
                    for o in &batch {
                        let channel = match o.to {
                            None => all.clone(),
                            Some(i) => s.channel_of(i),
                        };
                        pipe.cmd("PUBLISH").arg(channel).arg(&o.data).ignore();
                    }
                    batch.clear();
                    let res = pipe.query_async::<()>(&mut conn).await;
                    s.queued_bytes.fetch_sub(bytes, Ordering::AcqRel);
                    match res {
                        Ok(()) => {
                            s.counters.published.fetch_add(n as u64, Ordering::Relaxed);
                        }
                        Err(e) => {
                            s.counters.failed_writes.fetch_add(n as u64, Ordering::Relaxed);
                            break e.to_string();
                        }
                    }
                }
            }
        };
        s.publisher_up.store(false, Ordering::Release);
        *s.conn.lock().unwrap_or_else(|e| e.into_inner()) = None;
        tracing::warn!("cluster: lost Redis ({err}): reconnecting, publishes dropped meanwhile");
        failing = true;
        while let Ok(o) = rx.try_recv() {
            drop_queued(&s, &o);
        }
    }
    s.publisher_up.store(false, Ordering::Release);
}

/// Says this instance is alive (with its connection count), writes its connection set when
/// it changed, and renews the set's expiry; forgets instances long gone.
async fn heartbeat(s: &Shared, conn: &mut MultiplexedConnection) -> Result<(), String> {
    let ids: Vec<u64> = match &*s.server() {
        Some(server) => server.connections().iter().map(|c| c.id()).collect(),
        None => Vec::new(),
    };
    let me = s.origin.instance;
    let key = s.conns_key(me);
    let mut pipe = redis::pipe();
    pipe.atomic();
    pipe.cmd("PUBLISH")
        .arg(s.channel_all())
        .arg(envelope::heartbeat(s.origin, ids.len() as u32))
        .ignore();
    let dirty = s.conns_dirty.swap(false, Ordering::AcqRel);
    if dirty {
        pipe.cmd("DEL").arg(&key).ignore();
        if !ids.is_empty() {
            pipe.cmd("SADD").arg(&key).arg(&ids).ignore();
        }
    }
    let ttl = s.opts.heartbeat_timeout.as_millis().max(1) as u64;
    pipe.cmd("PEXPIRE").arg(&key).arg(ttl).ignore();
    let res = pipe.query_async::<()>(conn).await;
    if res.is_err() && dirty {
        s.conns_dirty.store(true, Ordering::Release);
    }
    let forget = s.opts.heartbeat_timeout * 10;
    s.peers().retain(|_, p| p.last_seen.elapsed() < forget);
    res.map_err(|e| e.to_string())
}

/// Leaves the cluster at once (the others drop this instance without waiting for its
/// heartbeat to time out).
async fn leave(s: &Shared, conn: &mut MultiplexedConnection) {
    let mut pipe = redis::pipe();
    pipe.cmd("PUBLISH")
        .arg(s.channel_all())
        .arg(envelope::leave(s.origin))
        .ignore();
    pipe.cmd("DEL").arg(s.conns_key(s.origin.instance)).ignore();
    let _ = tokio::time::timeout(s.opts.command_timeout, pipe.query_async::<()>(conn)).await;
}

/// The subscriber task: until the server stops.
pub(super) async fn subscriber(s: Arc<Shared>) {
    let mut stop = s.stop.subscribe();
    let mut backoff = s.opts.reconnect_min;
    let mut first = true;
    let channels = [s.channel_all(), s.channel_of(s.origin.instance)];
    while !s.stopped() {
        let sub = async {
            let mut ps = s.client.get_async_pubsub().await?;
            for c in &channels {
                ps.subscribe(c).await?;
            }
            Ok::<_, redis::RedisError>(ps)
        };
        let sub = tokio::select! {
            r = tokio::time::timeout(s.opts.command_timeout, sub) => r,
            _ = stop.changed() => break,
        };
        let Ok(Ok(ps)) = sub else {
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stop.changed() => break,
            }
            backoff = backoff_next(&s, backoff);
            continue;
        };
        if !first {
            s.counters.reconnects.fetch_add(1, Ordering::Relaxed);
            tracing::info!("cluster: subscribed to Redis again");
        }
        first = false;
        backoff = s.opts.reconnect_min;
        let (mut sink, mut stream) = ps.split();
        let mut last_rx = Instant::now();
        s.subscriber_up.store(true, Ordering::Release);
        let mut watchdog = tokio::time::interval(s.opts.heartbeat);
        watchdog.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.changed() => {
                    s.subscriber_up.store(false, Ordering::Release);
                    return;
                }
                m = stream.next() => match m {
                    Some(m) => {
                        last_rx = Instant::now();
                        on_message(&s, m.get_payload_bytes()).await;
                    }
                    None => break,
                },
                _ = watchdog.tick() => {
                    // Silent for a heartbeat timeout (this instance's own heartbeats come back
                    // on this connection): is the connection alive? A PING answers (Redis
                    // stalled, or the link cut without a reset, does not).
                    if last_rx.elapsed() > s.opts.heartbeat_timeout {
                        let ping = sink.ping::<redis::Value>();
                        match tokio::time::timeout(s.opts.command_timeout, ping).await {
                            Ok(Ok(_)) => last_rx = Instant::now(),
                            _ => {
                                tracing::warn!("cluster: the subscription does not answer: resubscribing");
                                break;
                            }
                        }
                    }
                }
            }
        }
        s.subscriber_up.store(false, Ordering::Release);
    }
    s.subscriber_up.store(false, Ordering::Release);
}

/// Handles one envelope from Redis.
async fn on_message(s: &Shared, payload: &[u8]) {
    let Some(env) = envelope::decode(payload) else {
        tracing::debug!("cluster: a payload that is not ours on the channel");
        return;
    };
    let me = s.origin;
    let c = &s.counters;
    match env {
        Envelope::Heartbeat { origin, conns } => {
            if origin.instance == me.instance {
                if origin.incarnation != me.incarnation {
                    c.id_conflicts.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(
                        "cluster: another instance uses instance id {}: connection ids clash",
                        me.instance
                    );
                }
                return;
            }
            seen(s, origin.instance, origin.incarnation, 0, Some(conns));
        }
        Envelope::Leave { origin } => {
            let mut peers = s.peers();
            if peers
                .get(&origin.instance)
                .is_some_and(|p| p.incarnation == origin.incarnation)
            {
                peers.remove(&origin.instance);
            }
        }
        Envelope::Msg {
            origin,
            seq,
            target,
            name,
            binary,
            body,
        } => {
            if origin.instance == me.instance {
                // Our own cluster-wide publish, back from Redis: delivered locally already.
                return;
            }
            c.received.fetch_add(1, Ordering::Relaxed);
            seen(s, origin.instance, origin.incarnation, seq, None);
            let server = s.server().clone();
            let Some(server) = server else { return };
            let target = match &target {
                Target::All => ClusterTarget::All,
                Target::Room(r) => ClusterTarget::Room(r),
                Target::Conns(ids) => ClusterTarget::Conns(ids),
            };
            let msg = crate::server::ClusterMsg {
                name,
                json: body,
                binary,
            };
            match server.deliver_cluster_msg(target, msg).await {
                Ok(n) => {
                    c.delivered.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) => {
                    c.undeliverable.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(
                        "cluster: message {name} from instance {}: {e}",
                        origin.instance
                    );
                }
            }
        }
    }
}

/// Notes that an instance was heard from (with the sequence number of a cluster-wide
/// message, 0 otherwise, and its connection count when a heartbeat gives it), counting the
/// cluster-wide messages of it this one missed.
fn seen(s: &Shared, instance: u16, incarnation: u32, seq: u64, conns: Option<u32>) {
    let mut peers = s.peers();
    let p = peers.entry(instance).or_insert(Peer {
        incarnation,
        last_seen: Instant::now(),
        conns: 0,
        last_seq: 0,
    });
    if p.incarnation != incarnation {
        *p = Peer {
            incarnation,
            last_seen: Instant::now(),
            conns: 0,
            last_seq: 0,
        };
    }
    p.last_seen = Instant::now();
    if seq > 0 {
        if p.last_seq > 0 && seq > p.last_seq + 1 {
            s.counters
                .missed
                .fetch_add(seq - p.last_seq - 1, Ordering::Relaxed);
        }
        p.last_seq = p.last_seq.max(seq);
    }
    if let Some(n) = conns {
        p.conns = n;
    }
}
