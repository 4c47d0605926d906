//! A handle on a started server, for code that runs inside it: its connections, its flows,
//! and broadcasts (one encoding for every connection, never waiting for a slow one).

use std::fmt;
use std::sync::Arc;

use super::conn::Connection;
use super::core::ServerCore;
use super::flows::ServerFlows;
use crate::error::TsrpcError;
use crate::proto::Message;
use crate::reasons::SEND_QUEUE_FULL_REASON;
use crate::ws_link::SendError;

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

    /// Sends `msg` to these connections, encoded once.
    pub async fn broadcast_msg_to<M: Message>(
        &self,
        msg: &M,
        conns: &[Connection],
    ) -> Result<(), TsrpcError> {
        let json = crate::json::to_string(msg).map_err(|e| {
            TsrpcError::server(e.to_string()).with_code(crate::error::codes::ENCODE_MSG_ERR)
        })?;
        self.broadcast_json(M::NAME, &json, conns).await
    }

    /// Broadcasts a message by name with a JSON body (the untyped layer); `None`: to all.
    pub async fn broadcast_msg_raw(
        &self,
        name: &str,
        msg: &serde_json::Value,
        conns: Option<&[Connection]>,
    ) -> Result<(), TsrpcError> {
        let json = crate::json::to_string_untyped(msg).unwrap_or_else(|_| "null".into());
        match conns {
            Some(c) => self.broadcast_json(name, &json, c).await,
            None => {
                let all = self.core.connections();
                self.broadcast_json(name, &json, &all).await
            }
        }
    }

    async fn broadcast_json(
        &self,
        name: &str,
        json: &str,
        conns: &[Connection],
    ) -> Result<(), TsrpcError> {
        let text = self.core.codec.encode_msg(name, json);
        if !self.core.flows.pre_send_data.is_empty() {
            // A data flow may rewrite frames per connection: no shared encoding then.
            for c in conns {
                let _ = c.send_text(text.clone()).await;
            }
            return Ok(());
        }
        let frame = tokio_tungstenite::tungstenite::Message::text(text);
        for c in conns {
            if c.is_closed() {
                continue;
            }
            if let Err(SendError::Full) = c.try_send_frame(frame.clone()) {
                tracing::warn!("connection {} closed: send queue full", c.id());
                c.close(SEND_QUEUE_FULL_REASON);
            }
        }
        Ok(())
    }
}
