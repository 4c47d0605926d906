//! A handle on a started server, for code that runs inside it: its connections, its flows,
//! and broadcasts (one encoding for every connection, never waiting for a slow one).

use std::fmt;
use std::sync::Arc;

use super::conn::Connection;
use super::core::ServerCore;
use super::flows::ServerFlows;
use crate::codec::Frame;
use crate::error::TsrpcError;
use crate::proto::Message;
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

    /// Sends `msg` to every connection, encoded once. Never waits for a slow connection: one
    /// whose queue is full is closed with [`SEND_QUEUE_FULL_REASON`].
    pub async fn broadcast_msg<M: Message>(&self, msg: &M) -> Result<(), TsrpcError> {
        let conns = self.core.connections();
        self.broadcast_msg_to(msg, &conns).await
    }

    /// Sends `msg` to these connections, encoded once per data type (JSON and binary
    /// connections can share a server).
    pub async fn broadcast_msg_to<M: Message>(
        &self,
        msg: &M,
        conns: &[Connection],
    ) -> Result<(), TsrpcError> {
        self.broadcast(M::NAME, msg, true, conns).await
    }

    /// Broadcasts a message by name with a JSON body (the untyped layer); `None`: to all.
    pub async fn broadcast_msg_raw(
        &self,
        name: &str,
        msg: &serde_json::Value,
        conns: Option<&[Connection]>,
    ) -> Result<(), TsrpcError> {
        match conns {
            Some(c) => self.broadcast(name, msg, false, c).await,
            None => {
                let all = self.core.connections();
                self.broadcast(name, msg, false, &all).await
            }
        }
    }

    /// Sends `msg` to `conns`: each frame kind encoded the first time a connection needs it.
    async fn broadcast<T: serde::Serialize + ?Sized>(
        &self,
        name: &str,
        msg: &T,
        typed: bool,
        conns: &[Connection],
    ) -> Result<(), TsrpcError> {
        let encode_err =
            |e: String| TsrpcError::server(e).with_code(crate::error::codes::ENCODE_MSG_ERR);
        // Messages (their bytes shared by every clone), not frames: no copy per connection.
        let mut text: Option<WsMessage> = None;
        let mut binary: Option<WsMessage> = None;
        let flows = !self.core.flows.pre_send_data.is_empty();
        for c in conns {
            if c.is_closed() && !flows {
                continue;
            }
            let frame = match c.binary() {
                Some(bin) => match &binary {
                    Some(f) => f.clone(),
                    None => {
                        let f = bin.encode_msg_value(name, msg).map_err(encode_err)?;
                        binary.insert(WsMessage::binary(f)).clone()
                    }
                },
                None => match &text {
                    Some(f) => f.clone(),
                    None => {
                        let json = if typed {
                            crate::json::to_string(msg)
                        } else {
                            crate::json::to_string_untyped(msg)
                        }
                        .map_err(|e| encode_err(e.to_string()))?;
                        let f = self.core.codec.encode_msg(name, &json);
                        text.insert(WsMessage::text(f)).clone()
                    }
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
