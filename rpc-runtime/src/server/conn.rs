//! A client's connection, as server code sees it.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, Notify, TryAcquireError};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::core::ServerCore;
use super::flows::ConnDataEvent;
use super::ServerOptions;
use crate::error::TsrpcError;
use crate::proto::Message;
use crate::reasons::SEND_QUEUE_FULL_REASON;
use crate::ws_util::truncate_reason;

/// Which transport a connection is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnType {
    /// A WebSocket connection (TSRPC `LONG`).
    WebSocket,
    /// One HTTP exchange (TSRPC `SHORT`).
    Http,
}

/// Signals between a WebSocket connection's reader, its writer and `close()`, and the
/// connection's send budget.
///
/// The budget: frames of `send_msg` and API returns take one permit of the send window
/// (`send_queue` frames) and as many of the byte budget as they are long (`max_queued_bytes`; a
/// longer frame takes the whole budget, so it is admitted only into a queue with no such frame
/// in it). Broadcasts and control frames never wait: they are refused when the queue holds
/// `queue_cap` frames or, unless it is empty, would pass `broadcast_byte_cap` bytes. The writer
/// gives everything back, a batch at a time, once the frames are written.
#[derive(Debug)]
pub(crate) struct WsSignals {
    /// Permits for API calls running at once on this connection.
    pub(crate) calls: Arc<tokio::sync::Semaphore>,
    /// Permits for frames queued by `send_msg` and returns (the send window). A sender forgets
    /// its permit; the writer gives them back, a batch at a time, once the frames are written.
    pub(crate) window: tokio::sync::Semaphore,
    /// Permits for the bytes of frames queued by `send_msg` and returns (the byte budget).
    pub(crate) bytes: tokio::sync::Semaphore,
    /// The byte budget's size (at most `u32::MAX`, the most one acquire takes).
    byte_budget: u32,
    /// How long a sender may wait for room before the connection is closed.
    queue_full_timeout: Duration,
    /// Frames in the queue, of every kind (the writer subtracts a batch at a time).
    pub(crate) queued: AtomicUsize,
    /// Bytes of the frames in the queue, of every kind, until written.
    pub(crate) queued_bytes: AtomicUsize,
    /// The most frames the queue holds for frames that do not wait (broadcasts, pings).
    pub(crate) queue_cap: usize,
    /// The most bytes the queue holds for frames that do not wait (unless it is empty).
    broadcast_byte_cap: usize,
    /// Batches the writer has written: read by the reader's ping timer to see whether a peer
    /// that does not answer still takes what is sent to it.
    pub(crate) written: AtomicU64,
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

/// A queued frame, with what it holds of the connection's send budget (given back once it is
/// written).
#[derive(Debug)]
pub(crate) struct Outbound {
    pub(crate) msg: WsMessage,
    /// Its length, counted in `queued_bytes`.
    pub(crate) len: usize,
    /// Permits of the send window it took (1 for `send_msg` and API returns, else 0).
    pub(crate) window: usize,
    /// Permits of the byte budget it took (0 for broadcasts and control frames).
    pub(crate) bytes: u32,
}

/// Why a frame that does not wait was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueueError {
    /// The queue is full: the peer does not read fast enough.
    Full,
    /// The connection is closed (or is HTTP, which cannot push).
    Closed,
}

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

    /// The signals and send budget of a new connection, sized by the server's options.
    pub(crate) fn new(options: &ServerOptions) -> Self {
        let send_queue = options.send_queue.max(1);
        let byte_budget = options.max_queued_bytes.clamp(1, u32::MAX as usize);
        WsSignals {
            calls: Arc::new(tokio::sync::Semaphore::new(
                options.max_pending_calls.max(1),
            )),
            window: tokio::sync::Semaphore::new(send_queue),
            bytes: tokio::sync::Semaphore::new(byte_budget),
            byte_budget: byte_budget as u32,
            queue_full_timeout: options.queue_full_timeout,
            queued: AtomicUsize::new(0),
            queued_bytes: AtomicUsize::new(0),
            queue_cap: send_queue.saturating_add(options.broadcast_slack),
            broadcast_byte_cap: byte_budget.saturating_mul(2),
            written: AtomicU64::new(0),
            close: Mutex::new(None),
            close_requested: AtomicBool::new(false),
            close_now: Notify::new(),
            finished: Notify::new(),
            terminate: Notify::new(),
            terminated: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        }
    }

    /// Gives back what a written batch held of the send budget.
    pub(crate) fn written(&self, frames: usize, bytes: usize, window: usize, byte_permits: usize) {
        self.queued.fetch_sub(frames, Ordering::Relaxed);
        self.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
        self.window.add_permits(window);
        self.bytes.add_permits(byte_permits);
        self.written.fetch_add(1, Ordering::Relaxed);
    }

    /// Nothing more will be written: senders waiting for room, or sending later, fail.
    pub(crate) fn close_budget(&self) {
        self.window.close();
        self.bytes.close();
    }

    /// Takes room for a `len`-byte frame of `send_msg` or an API return: one permit of the
    /// send window and `len` bytes of the byte budget (all of it for a longer frame). Waits
    /// while the queue is full, up to `queue_full_timeout`. Returns the byte permits taken.
    async fn reserve(&self, len: usize) -> Result<u32, ReserveError> {
        let want = len.min(self.byte_budget as usize) as u32;
        match self.window.try_acquire() {
            Ok(w) => match self.bytes.try_acquire_many(want) {
                Ok(b) => {
                    w.forget();
                    b.forget();
                    return Ok(want);
                }
                Err(TryAcquireError::Closed) => return Err(ReserveError::Closed),
                Err(TryAcquireError::NoPermits) => drop(w),
            },
            Err(TryAcquireError::Closed) => return Err(ReserveError::Closed),
            Err(TryAcquireError::NoPermits) => {}
        }
        // The queue is full: wait for the writer (permits are given back if this times out).
        let room = async {
            let w = self.window.acquire().await.ok()?;
            let b = self.bytes.acquire_many(want).await.ok()?;
            w.forget();
            b.forget();
            Some(want)
        };
        match tokio::time::timeout(self.queue_full_timeout, room).await {
            Ok(Some(want)) => Ok(want),
            Ok(None) => Err(ReserveError::Closed),
            Err(_) => Err(ReserveError::TimedOut),
        }
    }

    /// Counts a frame that does not wait (a broadcast or a control frame) into the queue, or
    /// refuses it when the queue is full.
    fn admit(&self, len: usize) -> Result<(), QueueError> {
        if self.queued.fetch_add(1, Ordering::Relaxed) >= self.queue_cap {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(QueueError::Full);
        }
        let before = self.queued_bytes.fetch_add(len, Ordering::Relaxed);
        if before > 0 && before.saturating_add(len) > self.broadcast_byte_cap {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            self.queued_bytes.fetch_sub(len, Ordering::Relaxed);
            return Err(QueueError::Full);
        }
        Ok(())
    }
}

/// Why [`WsSignals::reserve`] found no room.
enum ReserveError {
    /// The connection closed meanwhile.
    Closed,
    /// The queue stayed full for `queue_full_timeout`.
    TimedOut,
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
        // Wait for room in the send window and the byte budget (backpressure). The writer
        // closes the budget when it stops, so a waiting sender always wakes; a queue that stays
        // full closes the connection. What is taken goes back once written.
        let len = text.len();
        let bytes = match signals.reserve(len).await {
            Ok(bytes) => bytes,
            Err(ReserveError::Closed) => return Err(lost()),
            Err(ReserveError::TimedOut) => {
                tracing::warn!(
                    "connection {} closed: send queue full for {:?}",
                    self.inner.id,
                    signals.queue_full_timeout
                );
                self.close(SEND_QUEUE_FULL_REASON);
                return Err(TsrpcError::network(SEND_QUEUE_FULL_REASON)
                    .with_code(crate::error::codes::LOST_CONN));
            }
        };
        signals.queued.fetch_add(1, Ordering::Relaxed);
        signals.queued_bytes.fetch_add(len, Ordering::Relaxed);
        let frame = Outbound {
            msg: WsMessage::text(text),
            len,
            window: 1,
            bytes,
        };
        tx.send(frame).map_err(|_| lost())
    }

    /// Queues a frame that does not wait (a broadcast, a ping, a heartbeat reply).
    pub(crate) fn try_send_frame(&self, frame: WsMessage) -> Result<(), QueueError> {
        match &self.inner.kind {
            ConnKind::Ws { tx, signals } => {
                let len = frame.len();
                signals.admit(len)?;
                let frame = Outbound {
                    msg: frame,
                    len,
                    window: 0,
                    bytes: 0,
                };
                tx.send(frame).map_err(|_| QueueError::Closed)
            }
            ConnKind::Http { .. } => Err(QueueError::Closed),
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
