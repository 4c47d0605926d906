//! A client's connection, as server code sees it.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::options::ServerOptions;
use super::reply::CallReply;
use crate::codec::{Binary, Codec, Frame};
use crate::error::TsrpcError;
use crate::flow::Flow;
use crate::proto::Message;
use crate::reasons::SEND_QUEUE_FULL_REASON;
use crate::ws_link::{Limits, Link, SendError, Wait};

/// Which transport a connection is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnType {
    /// A WebSocket connection (TSRPC `LONG`).
    WebSocket,
    /// One HTTP exchange (TSRPC `SHORT`).
    Http,
}

/// The send budget of a server's WebSocket connection, from its options: `send_msg` and API
/// returns wait for room in `send_queue` frames and `max_queued_bytes` bytes (up to
/// `queue_full_timeout`); broadcasts and control frames never wait, and are refused past
/// `send_queue + broadcast_slack` frames or twice `max_queued_bytes` bytes.
pub(crate) fn link_limits(options: &ServerOptions) -> Limits {
    let window = options.send_queue.max(1);
    Limits {
        window,
        window_bytes: options.max_queued_bytes,
        max_frames: window.saturating_add(options.broadcast_slack),
        max_bytes: options.max_queued_bytes.saturating_mul(2),
        full_timeout: Some(options.queue_full_timeout),
    }
}

/// The data type of a WebSocket connection is not known yet: the first data frame decides.
pub(crate) const DATA_UNDECIDED: u8 = 0;
/// A JSON connection (text frames).
pub(crate) const DATA_TEXT: u8 = 1;
/// A binary connection (TSBuffer frames).
pub(crate) const DATA_BUFFER: u8 = 2;

pub(crate) enum ConnKind {
    Ws {
        /// The send side: queue, writer, close handshake.
        link: Arc<Link>,
        /// A close asked for inside an API call waits for that call's reply (see `reply`).
        close_waiting: AtomicBool,
        /// TSRPC's `dataType`: [`DATA_UNDECIDED`], [`DATA_TEXT`] or [`DATA_BUFFER`].
        data_type: AtomicU8,
    },
    Http {
        close_reason: Mutex<Option<String>>,
    },
}

pub(crate) struct ConnInner {
    pub(crate) id: u64,
    pub(crate) remote: SocketAddr,
    pub(crate) ip: String,
    pub(crate) kind: ConnKind,
    /// What the connection needs of its server (the server's core): a small handle, so the
    /// core can hold its connections without the connection's type naming the core.
    pub(crate) host: Arc<dyn ConnHost>,
    /// The HTTP request (or WebSocket upgrade request) behind the connection.
    pub(crate) http_req: Option<super::http_req::HttpRequest>,
    /// The connection's own message listeners (`Connection::listen_msg`).
    pub(crate) msgs: super::listen::ConnListeners,
    /// Typed state set by handlers and flows (`Connection::state`).
    pub(crate) state: super::state::ConnState,
}

/// What a connection needs of its server: the codec and the `pre_send_data` flow. The
/// server's core implements it ([`Connection::server`] is built from it in `handle`).
pub(crate) trait ConnHost: std::any::Any + Send + Sync {
    /// The wire codec.
    fn codec(&self) -> Codec;
    /// The binary tables (`Err`: binary mode is not available).
    fn binary(&self) -> Result<&'static Binary, &str>;
    /// The flow every frame sent goes through.
    fn pre_send_data(&self) -> &Flow<ConnDataEvent>;
    /// The server's flows.
    fn flows(&self) -> &super::flows::ServerFlows;
}

/// Data of `pre_send_data` / `pre_recv_data`: a whole frame of JSON mode (the data flows see
/// text frames and JSON bodies only: binary frames pass them by).
#[derive(Debug, Clone)]
pub struct ConnDataEvent {
    /// The connection.
    pub conn: Connection,
    /// The frame's text.
    pub data: String,
}

/// A connection: send messages to it, close it. A cheap clone.
#[derive(Clone)]
pub struct Connection {
    pub(crate) inner: Arc<ConnInner>,
    /// Set on the handle an API call gets (over WebSocket): a close asked for through it waits
    /// for that call's reply (see `reply`).
    pub(crate) call: Option<Arc<CallReply>>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.inner.id)
            .field("ip", &self.inner.ip)
            .field("type", &self.conn_type())
            .finish()
    }
}

impl PartialEq for Connection {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}
impl Eq for Connection {}

impl Connection {
    /// A number unique among this server's connections.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// The client's IP: the socket's address; behind a proxy listed in the server's
    /// [`trusted_proxies`](super::ServerOptions#structfield.trusted_proxies), the client's
    /// address that proxy gave in `X-Forwarded-For`. (Unlike TSRPC, which believes that header
    /// from anyone.)
    pub fn ip(&self) -> &str {
        &self.inner.ip
    }

    /// The socket's remote address.
    pub fn remote_addr(&self) -> SocketAddr {
        self.inner.remote
    }

    /// WebSocket or HTTP.
    pub fn conn_type(&self) -> ConnType {
        match self.inner.kind {
            ConnKind::Ws { .. } => ConnType::WebSocket,
            ConnKind::Http { .. } => ConnType::Http,
        }
    }

    /// True once the connection is closed or closing (a close asked for inside an API call
    /// counts from then on, though it waits for that call's reply).
    pub fn is_closed(&self) -> bool {
        match &self.inner.kind {
            ConnKind::Ws {
                link,
                close_waiting,
                ..
            } => link.is_closing() || close_waiting.load(Ordering::Acquire),
            ConnKind::Http { .. } => false,
        }
    }

    /// Sends a message to this client, in the connection's data type (JSON or binary). Waits
    /// for queue space (backpressure). Fails when the connection is closed, or is HTTP (which
    /// cannot push).
    pub async fn send_msg<M: Message>(&self, msg: &M) -> Result<(), TsrpcError> {
        let host = &self.inner.host;
        if self.send_flows() {
            let value = serde_json::to_value(msg).map_err(|e| {
                TsrpcError::server(e.to_string()).with_code(crate::error::codes::ENCODE_MSG_ERR)
            })?;
            return self.send_msg_flowed(M::NAME, value).await;
        }
        let frame = match self.binary() {
            Some(bin) => bin.encode_msg_value(M::NAME, msg).map(Frame::Binary),
            None => host
                .codec()
                .encode_msg_value(M::NAME, msg)
                .map(Frame::Text)
                .map_err(|e| e.to_string()),
        }
        .map_err(|e| TsrpcError::server(e).with_code(crate::error::codes::ENCODE_MSG_ERR))?;
        self.queue(frame, false).await
    }

    /// The binary tables when this is a binary connection (and binary mode is available).
    pub(crate) fn binary(&self) -> Option<&'static Binary> {
        match &self.inner.kind {
            ConnKind::Ws { data_type, .. } if data_type.load(Ordering::Relaxed) == DATA_BUFFER => {
                self.inner.host.binary().ok()
            }
            _ => None,
        }
    }

    /// TSRPC's `dataType` of a WebSocket connection ([`DATA_UNDECIDED`] over HTTP).
    pub(crate) fn data_type(&self) -> u8 {
        match &self.inner.kind {
            ConnKind::Ws { data_type, .. } => data_type.load(Ordering::Relaxed),
            ConnKind::Http { .. } => DATA_UNDECIDED,
        }
    }

    /// Sets the data type (once the first data frame decided it).
    pub(crate) fn set_data_type(&self, t: u8) {
        if let ConnKind::Ws { data_type, .. } = &self.inner.kind {
            data_type.store(t, Ordering::Relaxed);
        }
    }

    /// Sends a message by name with a JSON body (the untyped layer).
    pub async fn send_msg_raw(
        &self,
        name: &str,
        msg: &serde_json::Value,
    ) -> Result<(), TsrpcError> {
        if self.send_flows() {
            return self.send_msg_flowed(name, msg.clone()).await;
        }
        let json = crate::json::to_string_untyped(msg).unwrap_or_else(|_| "null".into());
        self.send_msg_json(name, &json).await
    }

    /// Whether `pre_send_msg` or `post_send_msg` has a node.
    fn send_flows(&self) -> bool {
        let flows = self.inner.host.flows();
        !(flows.pre_send_msg.is_empty() && flows.post_send_msg.is_empty())
    }

    /// Sends a message through `pre_send_msg` and `post_send_msg`.
    async fn send_msg_flowed(&self, name: &str, msg: serde_json::Value) -> Result<(), TsrpcError> {
        let flows = self.inner.host.flows();
        let ev = super::flows::SendMsgEvent {
            conn: self.clone(),
            msg_name: name.to_owned(),
            msg,
        };
        let Some(ev) = flows.pre_send_msg.exec(ev).await else {
            return Err(TsrpcError::cancelled("pre_send_msg flow"));
        };
        let json = crate::json::to_string_untyped(&ev.msg).unwrap_or_else(|_| "null".into());
        self.send_msg_json(&ev.msg_name, &json).await?;
        flows.post_send_msg.exec(ev).await;
        Ok(())
    }

    pub(crate) async fn send_msg_json(&self, name: &str, json: &str) -> Result<(), TsrpcError> {
        let frame = match self.binary() {
            Some(bin) => {
                let value: serde_json::Value =
                    serde_json::from_str(json).unwrap_or(serde_json::Value::Null);
                let frame = bin.encode_msg_value(name, &value).map_err(|e| {
                    TsrpcError::server(e).with_code(crate::error::codes::ENCODE_MSG_ERR)
                })?;
                Frame::Binary(frame)
            }
            None => Frame::Text(self.inner.host.codec().encode_msg(name, json)),
        };
        self.queue(frame, false).await
    }

    /// Queues a frame (a text one through the `pre_send_data` flow), waiting for space; a
    /// `reply` goes even when a close waits for it.
    pub(crate) async fn queue(&self, frame: Frame, reply: bool) -> Result<(), TsrpcError> {
        // Without data flows and with room in the queue, nothing waits: the frame is queued
        // here, and what waits (flows, a full queue) is boxed, out of the callers' futures
        // (a connection's reader among them: it stays small while idle).
        if let ConnKind::Ws { link, .. } = &self.inner.kind {
            let closed = if reply {
                link.is_closing()
            } else {
                self.is_closed()
            };
            let plain = !closed
                && (matches!(frame, Frame::Binary(_))
                    || self.inner.host.pre_send_data().is_empty());
            if plain {
                return match link.send_now(frame.into_message()) {
                    Ok(()) => Ok(()),
                    Err(Wait::Closed) => Err(TsrpcError::network("Connection closed")
                        .with_code(crate::error::codes::LOST_CONN)),
                    Err(Wait::Full(msg)) => Box::pin(self.queue_wait(link, msg)).await,
                };
            }
        }
        Box::pin(self.queue_slow(frame, reply)).await
    }

    /// [`queue`](Self::queue) when the frame waits for room.
    async fn queue_wait(&self, link: &Link, msg: WsMessage) -> Result<(), TsrpcError> {
        self.sent(link.send(msg).await)
    }

    /// [`queue`](Self::queue) through the `pre_send_data` flow, or on a closed connection.
    async fn queue_slow(&self, frame: Frame, reply: bool) -> Result<(), TsrpcError> {
        let ConnKind::Ws { link, .. } = &self.inner.kind else {
            return Err(TsrpcError::server("Short connection cannot sendMsg"));
        };
        let closed = if reply {
            link.is_closing()
        } else {
            self.is_closed()
        };
        if closed {
            return Err(
                TsrpcError::network("Connection closed").with_code(crate::error::codes::LOST_CONN)
            );
        }
        let pre_send_data = self.inner.host.pre_send_data();
        let frame = match frame {
            Frame::Text(text) if !pre_send_data.is_empty() => {
                let ev = ConnDataEvent {
                    conn: self.clone(),
                    data: text,
                };
                match pre_send_data.exec(ev).await {
                    Some(ev) => Frame::Text(ev.data),
                    None => return Err(TsrpcError::cancelled("pre_send_data flow")),
                }
            }
            frame => frame,
        };
        // Waits for room in the send budget (backpressure); a queue that stays full closes the
        // connection.
        self.sent(link.send(frame.into_message()).await)
    }

    /// The outcome of a send that may have waited.
    fn sent(&self, sent: Result<(), SendError>) -> Result<(), TsrpcError> {
        match sent {
            Ok(()) => Ok(()),
            Err(SendError::TimedOut) => {
                tracing::warn!(
                    "connection {} closed: its send queue stayed full for queue_full_timeout",
                    self.inner.id
                );
                self.close_now(1000, SEND_QUEUE_FULL_REASON.into());
                Err(TsrpcError::network(SEND_QUEUE_FULL_REASON)
                    .with_code(crate::error::codes::LOST_CONN))
            }
            Err(SendError::Closed | SendError::Full) => {
                Err(TsrpcError::network("Connection closed")
                    .with_code(crate::error::codes::LOST_CONN))
            }
        }
    }

    /// Queues a frame that does not wait (a broadcast, a ping, a heartbeat reply).
    pub(crate) fn try_send_frame(&self, frame: WsMessage) -> Result<(), SendError> {
        match &self.inner.kind {
            ConnKind::Ws { link, .. } => link.try_send(frame),
            ConnKind::Http { .. } => Err(SendError::Closed),
        }
    }

    /// Closes the connection with code 1000 and this reason (truncated to 123 bytes); the
    /// client's `post_disconnect` gets the reason. Frames queued before go first.
    ///
    /// Inside an API handler (through `call.conn` or a clone of it) the close waits for the
    /// call's reply: the client gets the reply, then the close, as after TSRPC's
    /// `call.succ(res); conn.close(reason)`. Meanwhile the connection counts as closed. Over
    /// HTTP the reason goes in the `X-TSRPC-Close-Reason` header of the answer, which still
    /// carries the reply; the keep-alive socket stays open, as TSRPC's does.
    pub fn close(&self, reason: impl Into<String>) {
        self.close_with(1000, reason.into())
    }

    pub(crate) fn close_with(&self, code: u16, reason: String) {
        if let Err(reason) = self.defer_close(code, reason) {
            self.close_now(code, reason);
        }
    }

    /// Closes without waiting for any call's reply.
    pub(crate) fn close_now(&self, code: u16, reason: String) {
        match &self.inner.kind {
            ConnKind::Ws { link, .. } => {
                link.close(code, &reason);
            }
            ConnKind::Http { close_reason } => {
                *close_reason.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
            }
        }
    }

    /// The reason given to `close()`, if any.
    pub(crate) fn close_reason(&self) -> Option<String> {
        match &self.inner.kind {
            ConnKind::Ws { link, .. } => link.close_reason(),
            ConnKind::Http { close_reason } => close_reason
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}
