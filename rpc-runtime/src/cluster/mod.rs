//! Scale-out through Redis (feature `redis`): [`RedisCluster`], a cluster adapter that carries
//! broadcasts, room broadcasts and sends by connection id between server instances over Redis
//! pub/sub, and keeps the cluster's view (which instances, which connections) by heartbeats.
//!
//! ```no_run
//! # async fn run(proto: rpc_runtime::proto::ServiceProto) -> Result<(), Box<dyn std::error::Error>> {
//! use rpc_runtime::cluster::{RedisCluster, RedisClusterOptions};
//! use rpc_runtime::server::{Server, ServerOptions};
//!
//! let cluster = RedisCluster::new(RedisClusterOptions::new("redis://127.0.0.1:6379"))?;
//! let server = Server::ws(proto, "0.0.0.0:3000".parse()?, ServerOptions::default())
//!     .cluster(cluster.clone())
//!     .start()
//!     .await?;
//! // `server.broadcast_msg(..)` now reaches the connections of every instance.
//! # Ok(()) }
//! ```
//!
//! Semantics (docs/SCALE-OUT.md): at most once. A message is published once to Redis, which
//! forwards it to the instances subscribed at that moment; nothing is stored or resent. While
//! Redis cannot be reached, publishes are dropped and counted ([`ClusterStats`]), the
//! connections of the publishing instance get them all the same, and the adapter reconnects
//! with backoff. Messages of one publisher arrive in the order it published them.

mod envelope;
mod tasks;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use self::envelope::Origin;
use crate::server::{
    instance_of, ClusterAdapter, ClusterError, ClusterMsg, ClusterTarget, ServerHandle,
};

/// Options of a [`RedisCluster`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RedisClusterOptions {
    /// The Redis server: `redis://host:port/`, `redis://:password@host/`, `redis+unix:///path`.
    pub url: String,
    /// Prefix of the channels and keys, so several clusters can share a Redis (default `rpc`).
    pub prefix: String,
    /// This instance's id, 1 to 65535 (the high bits of its connection ids). Default: drawn
    /// at random; give each instance its own when you can (a clash is logged and counted).
    pub instance_id: Option<u16>,
    /// How often the instance says it is alive (default 1 s).
    pub heartbeat: Duration,
    /// An instance not heard from for this long has left the cluster (default 5 s): its
    /// connections leave the cluster view, and sends to them fail with
    /// [`ClusterError::InstanceGone`].
    pub heartbeat_timeout: Duration,
    /// Publishes waiting for Redis, at most (default 4096); more are dropped and counted.
    pub queue: usize,
    /// Bytes of publishes waiting for Redis, at most (default 16 MiB).
    pub max_queued_bytes: usize,
    /// First wait before reconnecting to Redis (doubled each failure, default 100 ms).
    pub reconnect_min: Duration,
    /// Longest wait between reconnects (default 5 s).
    pub reconnect_max: Duration,
    /// Longest wait for a connection to Redis or for a reply (default 2 s).
    pub command_timeout: Duration,
}

impl RedisClusterOptions {
    /// Defaults, for the Redis at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        RedisClusterOptions {
            url: url.into(),
            prefix: "rpc".into(),
            instance_id: None,
            heartbeat: Duration::from_secs(1),
            heartbeat_timeout: Duration::from_secs(5),
            queue: 4096,
            max_queued_bytes: 16 << 20,
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(5),
            command_timeout: Duration::from_secs(2),
        }
    }

    /// With this instance id.
    pub fn instance_id(mut self, id: u16) -> Self {
        self.instance_id = Some(id);
        self
    }

    /// With this prefix of channels and keys.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// With this heartbeat interval and timeout.
    pub fn heartbeat(mut self, interval: Duration, timeout: Duration) -> Self {
        self.heartbeat = interval;
        self.heartbeat_timeout = timeout;
        self
    }

    /// With this bound on waiting publishes (count and bytes).
    pub fn queue(mut self, publishes: usize, bytes: usize) -> Self {
        self.queue = publishes;
        self.max_queued_bytes = bytes;
        self
    }

    /// With these reconnect waits.
    pub fn reconnect(mut self, min: Duration, max: Duration) -> Self {
        self.reconnect_min = min;
        self.reconnect_max = max;
        self
    }
}

/// Counters of a [`RedisCluster`] (since it was made).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterStats {
    /// Publishes written to Redis.
    pub published: u64,
    /// Publishes dropped because Redis could not be reached.
    pub dropped_unavailable: u64,
    /// Publishes dropped because the queue was full (Redis slow or stalled).
    pub dropped_queue_full: u64,
    /// Publishes lost in a write to Redis that failed (they may or may not have reached it).
    pub failed_writes: u64,
    /// Messages received from other instances.
    pub received: u64,
    /// Messages of other instances this one did not receive (gaps in their sequence numbers
    /// of cluster-wide messages: dropped by the publisher or missed by this subscriber).
    pub missed: u64,
    /// Received messages that could not be delivered (not in this server's proto).
    pub undeliverable: u64,
    /// Frames queued to this instance's connections for messages of other instances.
    pub delivered: u64,
    /// Connections to Redis made again after a loss (publishing and subscribing).
    pub reconnects: u64,
    /// Heartbeats seen with this instance's id from another run of an instance.
    pub id_conflicts: u64,
    /// Publishes waiting for Redis now.
    pub queued: u64,
    /// Bytes of publishes waiting for Redis now.
    pub queued_bytes: u64,
    /// The publishing connection is up.
    pub publisher_up: bool,
    /// The subscribing connection is up.
    pub subscriber_up: bool,
}

/// Another instance, as this one sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstanceInfo {
    /// Its id.
    pub id: u16,
    /// Its WebSocket connections, by its last heartbeat.
    pub connections: u32,
    /// Time since it was last heard from.
    pub last_seen: Duration,
}

struct Peer {
    incarnation: u32,
    last_seen: Instant,
    conns: u32,
    /// Last sequence number of its cluster-wide messages seen (0: none yet).
    last_seq: u64,
}

#[derive(Default)]
struct Counters {
    published: AtomicU64,
    dropped_unavailable: AtomicU64,
    dropped_queue_full: AtomicU64,
    failed_writes: AtomicU64,
    received: AtomicU64,
    missed: AtomicU64,
    undeliverable: AtomicU64,
    delivered: AtomicU64,
    reconnects: AtomicU64,
    id_conflicts: AtomicU64,
}

/// A publish waiting for Redis.
struct Outgoing {
    /// Its instance's channel, or the cluster-wide one (`None`).
    to: Option<u16>,
    data: Vec<u8>,
}

struct Shared {
    opts: RedisClusterOptions,
    client: redis::Client,
    /// The publisher's connection while it is up (for reads such as the cluster view).
    conn: Mutex<Option<redis::aio::MultiplexedConnection>>,
    origin: Origin,
    tx: mpsc::Sender<Outgoing>,
    rx: Mutex<Option<mpsc::Receiver<Outgoing>>>,
    queued_bytes: AtomicUsize,
    publisher_up: AtomicBool,
    subscriber_up: AtomicBool,
    /// Sequence number of the last cluster-wide message published, held while it is queued
    /// (so the queue's order is the numbers' order).
    seq: Mutex<u64>,
    counters: Counters,
    peers: Mutex<HashMap<u16, Peer>>,
    server: Mutex<Option<ServerHandle>>,
    /// The connection set in Redis is stale (connections came or went, or Redis restarted).
    conns_dirty: AtomicBool,
    /// True once the server stopped (`detach`): the tasks leave.
    stop: watch::Sender<bool>,
}

/// A cluster adapter on Redis pub/sub. Make one per server instance and give it to
/// [`Server::cluster`](crate::server::Server::cluster); it starts working when the server
/// starts, and leaves the cluster when the server stops. See the [module](self) docs.
pub struct RedisCluster {
    shared: Arc<Shared>,
}

impl fmt::Debug for RedisCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCluster")
            .field("instance_id", &self.shared.origin.instance)
            .field("prefix", &self.shared.opts.prefix)
            .finish()
    }
}

/// A number that differs between runs and instances (no random crate for this).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    h.finish()
}

impl RedisCluster {
    /// An adapter for the Redis at `opts.url` (nothing is connected before the server starts).
    /// Fails on a URL that is not a Redis URL, or an instance id of 0.
    pub fn new(opts: RedisClusterOptions) -> Result<Arc<Self>, ClusterError> {
        let client = redis::Client::open(opts.url.as_str())
            .map_err(|e| ClusterError::Config(format!("bad Redis URL {}: {e}", opts.url)))?;
        let r = random_u64();
        let instance = match opts.instance_id {
            Some(0) => {
                return Err(ClusterError::Config(
                    "instance id 0 is reserved for servers without a cluster".into(),
                ))
            }
            Some(id) => id,
            None => ((r >> 32) as u16).max(1),
        };
        let (tx, rx) = mpsc::channel(opts.queue.max(1));
        let shared = Shared {
            client,
            conn: Mutex::new(None),
            origin: Origin {
                instance,
                incarnation: r as u32,
            },
            tx,
            rx: Mutex::new(Some(rx)),
            queued_bytes: AtomicUsize::new(0),
            publisher_up: AtomicBool::new(false),
            subscriber_up: AtomicBool::new(false),
            seq: Mutex::new(0),
            counters: Counters::default(),
            peers: Mutex::new(HashMap::new()),
            server: Mutex::new(None),
            conns_dirty: AtomicBool::new(true),
            stop: watch::channel(false).0,
            opts,
        };
        Ok(Arc::new(RedisCluster {
            shared: Arc::new(shared),
        }))
    }

    /// The counters.
    pub fn stats(&self) -> ClusterStats {
        let s = &self.shared;
        let c = &s.counters;
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ClusterStats {
            published: n(&c.published),
            dropped_unavailable: n(&c.dropped_unavailable),
            dropped_queue_full: n(&c.dropped_queue_full),
            failed_writes: n(&c.failed_writes),
            received: n(&c.received),
            missed: n(&c.missed),
            undeliverable: n(&c.undeliverable),
            delivered: n(&c.delivered),
            reconnects: n(&c.reconnects),
            id_conflicts: n(&c.id_conflicts),
            queued: (s.opts.queue.max(1) - s.tx.capacity()) as u64,
            queued_bytes: s.queued_bytes.load(Ordering::Relaxed) as u64,
            publisher_up: s.publisher_up.load(Ordering::Relaxed),
            subscriber_up: s.subscriber_up.load(Ordering::Relaxed),
        }
    }

    /// The options.
    pub fn options(&self) -> &RedisClusterOptions {
        &self.shared.opts
    }

    /// The other instances heard from within the heartbeat timeout, by id.
    pub fn instances(&self) -> Vec<InstanceInfo> {
        let timeout = self.shared.opts.heartbeat_timeout;
        let mut v: Vec<InstanceInfo> = self
            .shared
            .peers()
            .iter()
            .filter(|(_, p)| p.last_seen.elapsed() < timeout)
            .map(|(id, p)| InstanceInfo {
                id: *id,
                connections: p.conns,
                last_seen: p.last_seen.elapsed(),
            })
            .collect();
        v.sort_by_key(|i| i.id);
        v
    }

    /// The WebSocket connections of the whole cluster, by id: this instance's, and those of
    /// every live instance as it last wrote them to Redis (each heartbeat, when they changed).
    /// An instance that left is gone from it within the heartbeat timeout. Fails when Redis
    /// cannot be reached.
    pub async fn cluster_connections(&self) -> Result<Vec<u64>, ClusterError> {
        let s = &self.shared;
        let mut ids: Vec<u64> = match &*s.server() {
            Some(server) => server.connections().iter().map(|c| c.id()).collect(),
            None => Vec::new(),
        };
        let others = self.instances();
        if !others.is_empty() {
            let mut pipe = redis::pipe();
            for i in &others {
                pipe.cmd("SMEMBERS").arg(s.conns_key(i.id));
            }
            let sets: Vec<Vec<u64>> = tasks::query(s, &pipe).await?;
            ids.extend(sets.into_iter().flatten());
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Waits until `n` other instances are heard from (or `timeout` passes); true if they
    /// were. For start-up: instances find each other by their first heartbeats.
    pub async fn wait_for_instances(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.instances().len() >= n && self.shared.subscriber_up.load(Ordering::Relaxed) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Shared {
    fn peers(&self) -> MutexGuard<'_, HashMap<u16, Peer>> {
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn server(&self) -> MutexGuard<'_, Option<ServerHandle>> {
        self.server.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn channel_all(&self) -> String {
        format!("{}:all", self.opts.prefix)
    }

    fn channel_of(&self, instance: u16) -> String {
        format!("{}:i:{instance}", self.opts.prefix)
    }

    fn conns_key(&self, instance: u16) -> String {
        format!("{}:conns:{instance}", self.opts.prefix)
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Queues a publish; drops it (counted) when Redis is down or the queue is full.
    fn enqueue(&self, to: Option<u16>, data: Vec<u8>) -> Result<(), ClusterError> {
        let c = &self.counters;
        if !self.publisher_up.load(Ordering::Acquire) {
            c.dropped_unavailable.fetch_add(1, Ordering::Relaxed);
            return Err(ClusterError::Unavailable("no connection to Redis".into()));
        }
        let len = data.len();
        let max = self.opts.max_queued_bytes;
        if self
            .queued_bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
                (b == 0 || b + len <= max).then_some(b + len)
            })
            .is_err()
        {
            c.dropped_queue_full.fetch_add(1, Ordering::Relaxed);
            return Err(ClusterError::QueueFull);
        }
        match self.tx.try_send(Outgoing { to, data }) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.queued_bytes.fetch_sub(len, Ordering::AcqRel);
                match e {
                    mpsc::error::TrySendError::Full(_) => {
                        c.dropped_queue_full.fetch_add(1, Ordering::Relaxed);
                        Err(ClusterError::QueueFull)
                    }
                    mpsc::error::TrySendError::Closed(_) => {
                        c.dropped_unavailable.fetch_add(1, Ordering::Relaxed);
                        Err(ClusterError::Unavailable("the adapter has stopped".into()))
                    }
                }
            }
        }
    }

    fn is_alive(&self, instance: u16) -> bool {
        if instance == self.origin.instance {
            return true;
        }
        self.peers()
            .get(&instance)
            .is_some_and(|p| p.last_seen.elapsed() < self.opts.heartbeat_timeout)
    }
}

fn too_long() -> ClusterError {
    ClusterError::Encode(crate::TsrpcError::server(
        "a room or message name over 65535 bytes cannot cross the cluster",
    ))
}

impl ClusterAdapter for RedisCluster {
    fn instance_id(&self) -> u16 {
        self.shared.origin.instance
    }

    fn attach(&self, server: ServerHandle) {
        let s = &self.shared;
        let rx = s.rx.lock().unwrap_or_else(|e| e.into_inner()).take();
        match rx {
            Some(rx) => {
                *s.server() = Some(server);
                tokio::spawn(tasks::publisher(s.clone(), rx));
                tokio::spawn(tasks::subscriber(s.clone()));
            }
            None => tracing::error!(
                "a RedisCluster serves one server: make one adapter per server (instance {})",
                s.origin.instance
            ),
        }
    }

    fn detach(&self) {
        let _ = self.shared.stop.send(true);
        self.shared.server().take();
    }

    fn publish(&self, target: ClusterTarget<'_>, msg: ClusterMsg<'_>) -> Result<(), ClusterError> {
        let s = &self.shared;
        if let ClusterTarget::Conns(ids) = target {
            // One publish per instance, on its own channel.
            let mut by_instance: Vec<(u16, Vec<u64>)> = Vec::new();
            for &id in ids {
                let i = instance_of(id);
                match by_instance.iter_mut().find(|(n, _)| *n == i) {
                    Some((_, v)) => v.push(id),
                    None => by_instance.push((i, vec![id])),
                }
            }
            let mut res = Ok(());
            for (i, ids) in by_instance {
                let data = envelope::msg(s.origin, 0, ClusterTarget::Conns(&ids), msg)
                    .ok_or_else(too_long)?;
                if let Err(e) = s.enqueue(Some(i), data) {
                    res = Err(e);
                }
            }
            return res;
        }
        let mut seq = s.seq.lock().unwrap_or_else(|e| e.into_inner());
        let data = envelope::msg(s.origin, *seq + 1, target, msg).ok_or_else(too_long)?;
        // A dropped publish keeps its number: the others count it as missed.
        *seq += 1;
        s.enqueue(None, data)
    }

    fn is_instance_alive(&self, instance: u16) -> bool {
        self.shared.is_alive(instance)
    }

    fn conn_opened(&self, _id: u64) {
        self.shared.conns_dirty.store(true, Ordering::Release);
    }

    fn conn_closed(&self, _id: u64) {
        self.shared.conns_dirty.store(true, Ordering::Release);
    }
}
