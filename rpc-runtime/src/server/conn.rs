//! A client's connection, as server code sees it.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::core::ServerCore;
use super::flows::ConnDataEvent;
use crate::error::TsrpcError;
use crate::service::Message;
use crate::ws_util::truncate_reason;

/// Which transport a connection is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnType {
    /// A WebSocket connection (TSRPC `LONG`).
    WebSocket,
    /// One HTTP exchange (TSRPC `SHORT`).
    Http,
}

/// Signals between a WebSocket connection's reader, its writer and `close()`.
#[derive(Debug)]
pub(crate) struct WsSignals {
    /// Permits for API calls running at once on this connection.
    pub(crate) calls: Arc<tokio::sync::Semaphore>,
    /// Permits for frames queued by `send_msg` and returns (the send window). A sender forgets
    /// its permit; the writer gives them back, a batch at a time, once the frames are written.
    pub(crate) window: tokio::sync::Semaphore,
    /// Frames in the queue, of every kind (the writer subtracts a batch at a time).
    pub(crate) queued: AtomicUsize,
    /// The most frames the queue holds for frames that do not wait (broadcasts, pings).
    pub(crate) queue_cap: usize,
    /// The close frame to send, set once.
    pub(crate) close: Mutex<Option<(u16, String)>>,
    /// Set with `close` (checked on every send without taking its lock).
    pub(crate) close_requested: AtomicBool,
    /// Wakes the writer to send the close frame.
    pub(crate) close_now: Notify,
    /// The reader finished (peer closed, error, or terminated).
    pub(crate) finished: Notify,
    /// The writer gave up waiting for the peer's close: the reader must stop.
    pub(crate) terminate: Notify,
    /// Set with `terminate` (checked per frame without polling it).
    pub(crate) terminated: AtomicBool,
    /// Set once the reader finished.
    pub(crate) closed: AtomicBool,
}

/// A queued frame, and whether it took a permit of the connection's send window (frames of
/// `send_msg` and API returns do; broadcasts and control frames do not).
pub(crate) type Outbound = (WsMessage, bool);

pub(crate) enum ConnKind {
    Ws {
        tx: mpsc::UnboundedSender<Outbound>,
        signals: Arc<WsSignals>,
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
    pub(crate) core: Arc<ServerCore>,
}

/// A connection: send messages to it, close it. A cheap clone.
#[derive(Clone)]
pub struct Connection {
    pub(crate) inner: Arc<ConnInner>,
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

impl WsSignals {
    /// Tells the reader to stop (the writer gave up on the socket).
    pub(crate) fn terminate(&self) {
        self.terminated.store(true, Ordering::Release);
        self.terminate.notify_one();
    }

    /// `send_queue` frames may wait in the send window; frames that do not wait may fill the
    /// queue up to `queue_cap`.
    pub(crate) fn new(max_pending_calls: usize, send_queue: usize, queue_cap: usize) -> Self {
        WsSignals {
            calls: Arc::new(tokio::sync::Semaphore::new(max_pending_calls.max(1))),
            window: tokio::sync::Semaphore::new(send_queue.max(1)),
            queued: AtomicUsize::new(0),
            queue_cap: queue_cap.max(1),
            close: Mutex::new(None),
            close_requested: AtomicBool::new(false),
            close_now: Notify::new(),
            finished: Notify::new(),
            terminate: Notify::new(),
            terminated: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        }
    }
}

impl Connection {
    /// A number unique among this server's connections.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// The client's IP: the first `X-Forwarded-For` entry, else the socket's address.
    pub fn ip(&self) -> &str {
        &self.inner.ip
    }

    /// The socket's remote address.
    pub fn remote_addr(&self) -> SocketAddr {
        self.inner.remote
    }

    /// The server this connection belongs to (for broadcasts from a handler).
    pub fn server(&self) -> super::ServerHandle {
        super::ServerHandle {
            core: self.inner.core.clone(),
        }
    }

    /// WebSocket or HTTP.
    pub fn conn_type(&self) -> ConnType {
        match self.inner.kind {
            ConnKind::Ws { .. } => ConnType::WebSocket,
            ConnKind::Http { .. } => ConnType::Http,
        }
    }

    /// True once the connection is closed or closing.
    pub fn is_closed(&self) -> bool {
        match &self.inner.kind {
            ConnKind::Ws { signals, .. } => {
                signals.closed.load(Ordering::Acquire)
                    || signals.close_requested.load(Ordering::Acquire)
            }
            ConnKind::Http { .. } => false,
        }
    }

    /// Sends a message to this client. Waits for queue space (backpressure). Fails when the
    /// connection is closed, or is HTTP (which cannot push).
    pub async fn send_msg<M: Message>(&self, msg: &M) -> Result<(), TsrpcError> {
        let frame = self
            .inner
            .core
            .codec
            .encode_msg_value(M::NAME, msg)
            .map_err(|e| {
                TsrpcError::server(e.to_string()).with_code(crate::error::codes::ENCODE_MSG_ERR)
            })?;
        self.send_text(frame).await
    }

    /// Sends a message by name with a JSON body (the untyped layer).
    pub async fn send_msg_raw(
        &self,
        name: &str,
        msg: &serde_json::Value,
    ) -> Result<(), TsrpcError> {
        let json = crate::json::to_string(msg).unwrap_or_else(|_| "null".into());
        self.send_msg_json(name, &json).await
    }

    pub(crate) async fn send_msg_json(&self, name: &str, json: &str) -> Result<(), TsrpcError> {
        let frame = self.inner.core.codec.encode_msg(name, json);
        self.send_text(frame).await
    }

    /// Queues a text frame through the `pre_send_data` flow, waiting for space.
    pub(crate) async fn send_text(&self, text: String) -> Result<(), TsrpcError> {
        let ConnKind::Ws { tx, .. } = &self.inner.kind else {
            return Err(TsrpcError::server("Short connection cannot sendMsg"));
        };
        if self.is_closed() {
            return Err(
                TsrpcError::network("Connection closed").with_code(crate::error::codes::LOST_CONN)
            );
        }
        let flows = &self.inner.core.flows;
        let text = if flows.pre_send_data.is_empty() {
            text
        } else {
            let ev = ConnDataEvent {
                conn: self.clone(),
                data: text,
            };
            match flows.pre_send_data.exec(ev).await {
                Some(ev) => ev.data,
                None => return Err(TsrpcError::cancelled("pre_send_data flow")),
            }
        };
        let ConnKind::Ws { signals, .. } = &self.inner.kind else {
            unreachable!("checked above")
        };
        let lost =
            || TsrpcError::network("Connection closed").with_code(crate::error::codes::LOST_CONN);
        // Wait for room in the send window (backpressure). The writer closes the window when it
        // stops, so a waiting sender always wakes. The permit goes back once written.
        match signals.window.try_acquire() {
            Ok(p) => p.forget(),
            Err(tokio::sync::TryAcquireError::Closed) => return Err(lost()),
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                signals.window.acquire().await.map_err(|_| lost())?.forget()
            }
        }
        signals.queued.fetch_add(1, Ordering::Relaxed);
        tx.send((WsMessage::text(text), true)).map_err(|_| lost())
    }

    /// Queues a frame without waiting. `Err(true)` when the queue is full.
    pub(crate) fn try_send_frame(&self, frame: WsMessage) -> Result<(), bool> {
        match &self.inner.kind {
            ConnKind::Ws { tx, signals } => {
                if signals.queued.fetch_add(1, Ordering::Relaxed) >= signals.queue_cap {
                    signals.queued.fetch_sub(1, Ordering::Relaxed);
                    return Err(true);
                }
                tx.send((frame, false)).map_err(|_| false)
            }
            ConnKind::Http { .. } => Err(false),
        }
    }

    /// Closes the connection with code 1000 and this reason (truncated to 123 bytes); the
    /// client's `post_disconnect` gets the reason. Over HTTP the reason goes in the
    /// `X-TSRPC-Close-Reason` header.
    pub fn close(&self, reason: impl Into<String>) {
        self.close_with(1000, reason.into())
    }

    pub(crate) fn close_with(&self, code: u16, reason: String) {
        match &self.inner.kind {
            ConnKind::Ws { signals, .. } => {
                let mut close = signals.close.lock().unwrap_or_else(|e| e.into_inner());
                if close.is_none() && !signals.closed.load(Ordering::Acquire) {
                    *close = Some((code, truncate_reason(&reason).to_owned()));
                    signals.close_requested.store(true, Ordering::Release);
                    signals.close_now.notify_one();
                }
            }
            ConnKind::Http { close_reason } => {
                *close_reason.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
            }
        }
    }

    /// The reason given to `close()`, if any.
    pub(crate) fn close_reason(&self) -> Option<String> {
        match &self.inner.kind {
            ConnKind::Ws { signals, .. } => signals
                .close
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .map(|c| c.1.clone()),
            ConnKind::Http { close_reason } => close_reason
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}
