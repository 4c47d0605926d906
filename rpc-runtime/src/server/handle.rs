//! A handle on a started server, for code that runs inside it: its connections, its flows,
//! and broadcasts (one encoding for every connection, never waiting for a slow one).

use std::fmt;
use std::sync::Arc;

use super::cluster::{instance_of, ClusterError, ClusterMsg, ClusterTarget};
use super::conn::Connection;
use super::core::ServerCore;
use super::flows::ServerFlows;
use crate::codec::{Binary, Frame};
use crate::error::TsrpcError;
use crate::proto::{Message, ServiceKind};
use crate::reasons::SEND_QUEUE_FULL_REASON;
use crate::ws_link::SendError;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A handle on a started server, for code that runs inside it (handlers get one from
/// [`Connection::server`]): connections and broadcasts. A cheap clone.
#[derive(Clone)]
pub struct ServerHandle {
    pub(crate) core: Arc<ServerCore>,
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt(f)
    }
}

impl Connection {
    /// The server this connection belongs to (for broadcasts from a handler).
    pub fn server(&self) -> ServerHandle {
        let host: Arc<dyn std::any::Any + Send + Sync> = self.inner.host.clone();
        match host.downcast::<ServerCore>() {
            Ok(core) => ServerHandle { core },
            // A connection is made only by `ServerCore::new_conn`, with its core as the host.
            Err(_) => unreachable!("a connection's host is its server's core"),
        }
    }
}

impl ServerHandle {
    /// The server's flows.
    pub fn flows(&self) -> &ServerFlows {
        &self.core.flows
    }

    /// Every open WebSocket connection, oldest first.
    pub fn connections(&self) -> Vec<Connection> {
        self.core.connections()
    }

    /// Number of API calls running now.
    pub fn pending_calls(&self) -> usize {
        self.core.pending_calls()
    }

    /// Sends `msg` to every connection, encoded once; with a cluster adapter, to every
    /// connection of every instance (published once, at most once: see docs/SCALE-OUT.md).
    /// Never waits for a slow connection: one whose queue is full is closed with
    /// [`SEND_QUEUE_FULL_REASON`]. A message the cluster could not take (its broker down, its
    /// queue full) is dropped for the other instances and counted by the adapter; the
    /// connections of this instance get it all the same.
    pub async fn broadcast_msg<M: Message>(&self, msg: &M) -> Result<(), TsrpcError> {
        let conns = self.core.connections_unordered();
        self.broadcast(M::NAME, msg, true, &conns, Some(ClusterTarget::All))
            .await
    }

    /// Sends `msg` to these connections (of this instance), encoded once per data type (JSON
    /// and binary connections can share a server).
    pub async fn broadcast_msg_to<M: Message>(
        &self,
        msg: &M,
        conns: &[Connection],
    ) -> Result<(), TsrpcError> {
        self.broadcast(M::NAME, msg, true, conns, None).await
    }

    /// Broadcasts a message by name with a JSON body (the untyped layer); `None`: to all (of
    /// every instance, with a cluster adapter), else to these connections of this instance.
    pub async fn broadcast_msg_raw(
        &self,
        name: &str,
        msg: &serde_json::Value,
        conns: Option<&[Connection]>,
    ) -> Result<(), TsrpcError> {
        match conns {
            Some(c) => self.broadcast(name, msg, false, c, None).await,
            None => {
                let all = self.core.connections_unordered();
                self.broadcast(name, msg, false, &all, Some(ClusterTarget::All))
                    .await
            }
        }
    }

    /// Sends `msg` to the connections in `room` ([`Connection::join_room`]), of every instance
    /// with a cluster adapter. Encoded once; slow connections are closed as by
    /// [`broadcast_msg`](Self::broadcast_msg).
    pub async fn broadcast_msg_to_room<M: Message>(
        &self,
        room: &str,
        msg: &M,
    ) -> Result<(), TsrpcError> {
        let conns = self.room_connections(room);
        self.broadcast(M::NAME, msg, true, &conns, Some(ClusterTarget::Room(room)))
            .await
    }

    /// [`broadcast_msg_to_room`](Self::broadcast_msg_to_room) by name with a JSON body.
    pub async fn broadcast_msg_to_room_raw(
        &self,
        room: &str,
        name: &str,
        msg: &serde_json::Value,
    ) -> Result<(), TsrpcError> {
        let conns = self.room_connections(room);
        self.broadcast(name, msg, false, &conns, Some(ClusterTarget::Room(room)))
            .await
    }

    /// The connections of this instance in `room`, oldest first.
    pub fn room_connections(&self, room: &str) -> Vec<Connection> {
        let mut ids = self.core.rooms.members(room);
        ids.sort_unstable();
        ids.into_iter()
            .filter_map(|id| self.core.connection(id))
            .collect()
    }

    /// The open connection `id` of this instance.
    pub fn connection(&self, id: u64) -> Option<Connection> {
        self.core.connection(id)
    }

    /// This instance's id in its cluster (the high bits of its connection ids); 0 without a
    /// cluster adapter.
    pub fn instance_id(&self) -> u16 {
        self.core.cluster.get().map_or(0, |c| c.instance_id())
    }

    /// Sends `msg` to the connections `ids`, of this instance or (with a cluster adapter) of
    /// others, encoded once. Delivered as a broadcast is (never waiting: a connection whose
    /// queue is full is closed). Every id that can be reached is sent to; the error is the
    /// first id that cannot: not open here, its instance gone from the cluster, or the
    /// cluster unavailable. A send to a connection that closed on a live instance is dropped
    /// there (at most once).
    pub async fn send_msg_to_conns<M: Message>(
        &self,
        ids: &[u64],
        msg: &M,
    ) -> Result<(), ClusterError> {
        self.send_to_ids(ids, M::NAME, msg, true).await
    }

    /// [`send_msg_to_conns`](Self::send_msg_to_conns) by name with a JSON body.
    pub async fn send_msg_to_conns_raw(
        &self,
        ids: &[u64],
        name: &str,
        msg: &serde_json::Value,
    ) -> Result<(), ClusterError> {
        self.send_to_ids(ids, name, msg, false).await
    }

    /// For cluster adapters: delivers a message another instance published to this instance's
    /// connections in `target`: its JSON frame made once from its body, its binary frame as
    /// the publisher encoded it (or, without one, encoded once from the body). Returns the
    /// number of connections it was queued for; fails when the message is not in this
    /// server's proto or its body does not encode.
    pub async fn deliver_cluster_msg(
        &self,
        target: ClusterTarget<'_>,
        msg: ClusterMsg<'_>,
    ) -> Result<usize, TsrpcError> {
        let (name, body) = (msg.name, msg.json);
        if self.core.proto.find(name, ServiceKind::Msg).is_none() {
            return Err(
                TsrpcError::server(format!("no message {name} in the service proto"))
                    .with_code(crate::error::codes::ENCODE_MSG_ERR),
            );
        }
        let conns = match target {
            ClusterTarget::All => self.core.connections_unordered(),
            ClusterTarget::Room(room) => self.room_connections(room),
            ClusterTarget::Conns(ids) => ids
                .iter()
                .filter_map(|id| self.core.connection(*id))
                .collect(),
        };
        let text = || Ok(self.core.codec.encode_msg(name, body));
        let binary = |bin: &Binary| match msg.binary {
            Some(frame) => Ok(frame.to_vec()),
            None => {
                let value: serde_json::Value = serde_json::from_str(body)
                    .map_err(|e| encode_err(format!("cluster message {name}: {e}")))?;
                bin.encode_msg_value(name, &value).map_err(encode_err)
            }
        };
        self.send_each(&conns, text, binary).await?;
        Ok(conns.len())
    }

    async fn send_to_ids<T: serde::Serialize + ?Sized>(
        &self,
        ids: &[u64],
        name: &str,
        msg: &T,
        typed: bool,
    ) -> Result<(), ClusterError> {
        let cluster = self.core.cluster.get();
        let me = self.instance_id();
        let mut first_err = None;
        let mut local = Vec::new();
        let mut remote = Vec::new();
        for &id in ids {
            let instance = instance_of(id);
            let err = if instance == me {
                match self.core.connection(id) {
                    Some(c) if !c.is_closed() => {
                        local.push(c);
                        continue;
                    }
                    _ => ClusterError::NotConnected(id),
                }
            } else {
                match cluster {
                    None => ClusterError::NoCluster(id),
                    Some(c) if c.is_instance_alive(instance) => {
                        remote.push(id);
                        continue;
                    }
                    Some(_) => ClusterError::InstanceGone { conn: id, instance },
                }
            };
            first_err.get_or_insert(err);
        }
        let mut encoded = Encoded::default();
        if let (Some(cluster), false) = (cluster, remote.is_empty()) {
            encoded = self.encode_for_cluster(name, msg, typed)?;
            if let Err(e) = cluster.publish(ClusterTarget::Conns(&remote), encoded.msg(name)) {
                first_err.get_or_insert(e);
            }
        }
        if !local.is_empty() {
            self.encode_and_send(name, msg, typed, &local, encoded)
                .await?;
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Sends `msg` to `conns` and publishes it to the cluster for `remote`: the JSON body is
    /// written once for both.
    async fn broadcast<T: serde::Serialize + ?Sized>(
        &self,
        name: &str,
        msg: &T,
        typed: bool,
        conns: &[Connection],
        remote: Option<ClusterTarget<'_>>,
    ) -> Result<(), TsrpcError> {
        let mut encoded = Encoded::default();
        if let (Some(target), Some(cluster)) = (remote, self.core.cluster.get()) {
            encoded = self.encode_for_cluster(name, msg, typed)?;
            // Counted (and logged) by the adapter: local delivery goes on regardless.
            if let Err(e) = cluster.publish(target, encoded.msg(name)) {
                tracing::trace!("cluster publish of {name}: {e}");
            }
        }
        self.encode_and_send(name, msg, typed, conns, encoded).await
    }

    /// The JSON body, and the binary frame when the service has binary mode (one that does not
    /// encode in binary goes without it: a binary connection gets the error, as locally).
    fn encode_for_cluster<T: serde::Serialize + ?Sized>(
        &self,
        name: &str,
        msg: &T,
        typed: bool,
    ) -> Result<Encoded, TsrpcError> {
        Ok(Encoded {
            json: Some(to_json(msg, typed)?),
            binary: self
                .core
                .binary()
                .ok()
                .and_then(|b| b.encode_msg_value(name, msg).ok()),
        })
    }

    /// Sends `msg` to `conns`, each frame kind encoded the first time a connection needs it
    /// (or taken from `encoded`, when it was encoded for the cluster).
    async fn encode_and_send<T: serde::Serialize + ?Sized>(
        &self,
        name: &str,
        msg: &T,
        typed: bool,
        conns: &[Connection],
        mut encoded: Encoded,
    ) -> Result<(), TsrpcError> {
        let json = encoded.json.take();
        let text = || match &json {
            Some(json) => Ok(self.core.codec.encode_msg(name, json)),
            None => Ok(self.core.codec.encode_msg(name, &to_json(msg, typed)?)),
        };
        let binary = |bin: &Binary| match encoded.binary.take() {
            Some(frame) => Ok(frame),
            None => bin.encode_msg_value(name, msg).map_err(encode_err),
        };
        self.send_each(conns, text, binary).await
    }

    /// Sends one message to `conns`: the text frame and the binary frame made (by `text` and
    /// `binary`) the first time a connection of that data type needs them, then shared.
    async fn send_each(
        &self,
        conns: &[Connection],
        mut text: impl FnMut() -> Result<String, TsrpcError>,
        mut binary: impl FnMut(&Binary) -> Result<Vec<u8>, TsrpcError>,
    ) -> Result<(), TsrpcError> {
        // Messages (their bytes shared by every clone), not frames: no copy per connection.
        let mut text_msg: Option<WsMessage> = None;
        let mut binary_msg: Option<WsMessage> = None;
        let flows = !self.core.flows.pre_send_data.is_empty();
        for c in conns {
            if c.is_closed() && !flows {
                continue;
            }
            let frame = match c.binary() {
                Some(bin) => match &binary_msg {
                    Some(f) => f.clone(),
                    None => binary_msg.insert(WsMessage::binary(binary(bin)?)).clone(),
                },
                None => match &text_msg {
                    Some(f) => f.clone(),
                    None => text_msg.insert(WsMessage::text(text()?)).clone(),
                },
            };
            if flows {
                // A data flow may rewrite frames per connection: no shared frame then.
                let frame = match frame {
                    WsMessage::Binary(b) => Frame::Binary(b.to_vec()),
                    other => {
                        Frame::Text(other.into_text().map(|t| t.to_string()).unwrap_or_default())
                    }
                };
                let _ = c.queue(frame, false).await;
                continue;
            }
            if let Err(SendError::Full) = c.try_send_frame(frame) {
                tracing::warn!("connection {} closed: send queue full", c.id());
                c.close(SEND_QUEUE_FULL_REASON);
            }
        }
        Ok(())
    }
}

/// A message encoded for the cluster: its JSON body, its binary frame.
#[derive(Default)]
struct Encoded {
    json: Option<String>,
    binary: Option<Vec<u8>>,
}

impl Encoded {
    fn msg<'a>(&'a self, name: &'a str) -> ClusterMsg<'a> {
        ClusterMsg {
            name,
            json: self.json.as_deref().unwrap_or("null"),
            binary: self.binary.as_deref(),
        }
    }
}

fn encode_err(e: String) -> TsrpcError {
    TsrpcError::server(e).with_code(crate::error::codes::ENCODE_MSG_ERR)
}

/// A message body as JSON text (`typed`: written by its type's own rules).
fn to_json<T: serde::Serialize + ?Sized>(msg: &T, typed: bool) -> Result<String, TsrpcError> {
    if typed {
        crate::json::to_string(msg)
    } else {
        crate::json::to_string_untyped(msg)
    }
    .map_err(|e| encode_err(e.to_string()))
}
