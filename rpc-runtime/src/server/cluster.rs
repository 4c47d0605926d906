//! The hook a cluster adapter plugs into a server ([`Server::cluster`](super::Server::cluster)):
//! what the server asks of it (publish to the other instances, tell who is alive) and what it
//! tells it (connections opened and closed). The adapter delivers what other instances publish
//! through [`ServerHandle::deliver_cluster_msg`]. No adapter's types appear here; the Redis one
//! is `rpc_runtime::cluster::RedisCluster` (feature `redis`).

use std::fmt;

use super::handle::ServerHandle;
use crate::error::TsrpcError;

/// Number of low bits of a connection id that count connections; the instance id sits above
/// them (bits 37 to 52), so ids stay below 2^53 (exact in JavaScript).
pub const CONN_COUNTER_BITS: u32 = 37;

/// The instance a connection id was made by (0: a server without a cluster adapter).
pub fn instance_of(conn_id: u64) -> u16 {
    (conn_id >> CONN_COUNTER_BITS) as u16
}

/// Who a cluster message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterTarget<'a> {
    /// Every connection of every instance.
    All,
    /// The connections that joined this room, on every instance.
    Room(&'a str),
    /// These connections (by id, of any instance).
    Conns(&'a [u64]),
}

/// A message as it crosses the cluster, encoded once by its publisher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterMsg<'a> {
    /// The message's name.
    pub name: &'a str,
    /// Its body as JSON text (for JSON connections).
    pub json: &'a str,
    /// Its whole binary frame (for binary connections), when the service has binary mode and
    /// the publisher could encode it; a receiver without it encodes one from `json`.
    pub binary: Option<&'a [u8]>,
}

/// Why a message did not reach (or will not reach) other instances.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// The adapter has lost its connection to the broker (Redis): the message was dropped and
    /// counted; it will not be sent later (at-most-once).
    #[error("cluster unavailable, message dropped: {0}")]
    Unavailable(String),
    /// The adapter's publish queue is full (the broker is slow or stalled): the message was
    /// dropped and counted.
    #[error("cluster publish queue full, message dropped")]
    QueueFull,
    /// The connection belongs to an instance that has not been heard from within the
    /// adapter's heartbeat timeout (stopped, crashed, or cut off from the broker).
    #[error("connection {conn} is on instance {instance}, which is not in the cluster")]
    InstanceGone {
        /// The connection id.
        conn: u64,
        /// Its instance.
        instance: u16,
    },
    /// A connection of this instance that is not open (closed, or never was).
    #[error("connection {0} is not open")]
    NotConnected(u64),
    /// The connection id belongs to another instance and this server has no cluster adapter.
    #[error("connection {0} belongs to another instance and this server has no cluster adapter")]
    NoCluster(u64),
    /// The message could not be encoded (or its room or name is longer than the adapter
    /// carries).
    #[error(transparent)]
    Encode(#[from] TsrpcError),
    /// The adapter's options are wrong (such as a URL it cannot read).
    #[error("cluster adapter: {0}")]
    Config(String),
}

/// A cluster adapter: carries broadcasts, room broadcasts and sends between server instances.
///
/// The server delivers to its own connections itself and calls [`publish`](Self::publish) for
/// the others; the adapter hands what other instances publish to
/// [`ServerHandle::deliver_cluster_msg`] of the server it was [`attach`](Self::attach)ed to.
/// Every method is called on the server's tasks and must not block.
pub trait ClusterAdapter: Send + Sync + fmt::Debug + 'static {
    /// This instance's id (1 to 65535): the high bits of its connection ids.
    fn instance_id(&self) -> u16;
    /// The server started: deliver what other instances publish to it.
    fn attach(&self, server: ServerHandle);
    /// The server stopped: leave the cluster.
    fn detach(&self);
    /// Sends a message (encoded once) to the other instances, for `target`. Fails without
    /// waiting when the message cannot be sent now (it is dropped).
    fn publish(&self, target: ClusterTarget<'_>, msg: ClusterMsg<'_>) -> Result<(), ClusterError>;
    /// True when the instance was heard from within the heartbeat timeout.
    fn is_instance_alive(&self, instance: u16) -> bool;
    /// A WebSocket connection opened on this instance.
    fn conn_opened(&self, _id: u64) {}
    /// A WebSocket connection of this instance closed.
    fn conn_closed(&self, _id: u64) {}
}
