//! One WebSocket connection's send side, the same engine for clients and servers: the queue of
//! outgoing frames with its budget, the writer task that drains it, and the close handshake
//! with its time bounds. Each end keeps its own reader (what a frame means differs); the reader
//! tells the [`Link`] when it is done, and stops when the link says so.
//!
//! The invariants, all kept here:
//! - A frame queued by [`Link::send`] holds one permit of the frame window and its length in
//!   bytes of the byte budget (the whole budget for a longer frame, so such a frame waits for a
//!   queue with nothing else in it) until the writer has written it; the writer gives them back
//!   a batch at a time. A sender waits for room, up to `Limits::full_timeout`.
//! - A frame that must not wait ([`Link::try_send`]: broadcasts, control frames) is refused
//!   when the queue holds `Limits::max_frames` frames or, unless it is empty, when it would pass
//!   `Limits::max_bytes` bytes.
//! - Frames queued before [`Link::close`] are written before the close frame.
//! - Every wait of the writer is bounded: after a close, writing what was queued and the close
//!   frame takes at most `Timing::close_timeout`, and so does waiting for the peer's close; once
//!   the reader is done (or the link is aborted), a write in progress and the answer to the
//!   peer's close get `Timing::linger`. Then the socket is dropped.
//! - When the writer stops, the budget is closed: every sender waiting for room, and every later
//!   one, fails with [`SendError::Closed`].

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{Sink, SinkExt};
use tokio::sync::{Notify, Semaphore, TryAcquireError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};

/// The budget of a link's send queue.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Frames [`Link::send`] may have queued (the frame window).
    pub(crate) window: usize,
    /// Bytes [`Link::send`] may have queued (the byte budget; at most `u32::MAX` is used).
    /// `usize::MAX`: no byte budget (the frame window alone holds senders back).
    pub(crate) window_bytes: usize,
    /// Frames the queue may hold in all before [`Link::try_send`] refuses one.
    pub(crate) max_frames: usize,
    /// Bytes the queue may hold in all before [`Link::try_send`] refuses one (unless empty).
    pub(crate) max_bytes: usize,
    /// How long [`Link::send`] waits for room (`None`: as long as the link is open).
    pub(crate) full_timeout: Option<Duration>,
}

/// The time bounds of a link's close.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    /// After [`Link::close`]: to write what was queued and the close frame, and then to wait
    /// for the reader to be done (the peer's close).
    pub(crate) close_timeout: Duration,
    /// Once the reader is done or the link aborted: for a write in progress and the answer to
    /// the peer's close.
    pub(crate) linger: Duration,
}

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SendError {
    /// The link is closed: the writer has stopped.
    #[error("the connection is closed")]
    Closed,
    /// [`Link::send`] waited `Limits::full_timeout` for room: the peer does not read.
    #[error("the send queue stayed full")]
    TimedOut,
    /// [`Link::try_send`] found the queue full.
    #[error("the send queue is full")]
    Full,
}

/// Why [`Link::send_now`] did not queue a frame.
#[derive(Debug)]
pub(crate) enum Wait {
    /// The link is closed.
    Closed,
    /// No room now: the frame, to send with [`Link::send`].
    Full(WsMessage),
}

/// A queued frame, with what it holds of the budget until it is written.
#[derive(Debug)]
pub(crate) struct Outbound {
    msg: WsMessage,
    /// Its length, counted in `queued_bytes`.
    len: usize,
    /// Permits of the frame window it holds (1 for [`Link::send`], else 0).
    window: usize,
    /// Permits of the byte budget it holds (0 for [`Link::try_send`]).
    bytes: u32,
}

/// The frames waiting for the writer. An idle link holds no memory here: the writer swaps the
/// whole queue out per wake-up, and drops both deques before it waits (see `write_loop`).
#[derive(Debug, Default)]
struct Pending {
    frames: VecDeque<Outbound>,
    /// The writer has stopped: nothing more is queued.
    closed: bool,
}

/// A flag with a waiter: set once, seen by a load or awaited.
#[derive(Debug, Default)]
struct Signal {
    set: AtomicBool,
    notify: Notify,
}

impl Signal {
    fn raise(&self) {
        self.set.store(true, Ordering::Release);
        // Wakes every waiter registered before the flag was set; later ones see the flag.
        self.notify.notify_waiters();
    }
    fn is_set(&self) -> bool {
        self.set.load(Ordering::Acquire)
    }
    /// Resolves once raised. Made once and kept pinned by a loop, it stays registered (one
    /// waiter for the loop, not one per wake-up).
    async fn wait(&self) {
        let notified = self.notify.notified();
        if self.is_set() {
            return;
        }
        notified.await;
    }
}

/// The shared state of one WebSocket connection's send side: cheap to share (`Arc`), used by
/// its senders, its reader and its writer.
#[derive(Debug)]
pub(crate) struct Link {
    pending: Mutex<Pending>,
    /// Wakes the writer when a frame is queued on an empty queue.
    wake: Notify,
    window: Semaphore,
    /// The byte budget, when there is one: its permits and its size (at most `u32::MAX`).
    bytes: Option<(Semaphore, u32)>,
    limits: Limits,
    /// Frames and bytes in the queue, of every kind, until written.
    queued: AtomicUsize,
    queued_bytes: AtomicUsize,
    /// Batches the writer has written (a peer that takes nothing stops it).
    written: AtomicU64,
    /// The close frame to send, set once.
    close: Mutex<Option<(u16, String)>>,
    /// A close was asked for: the writer sends what was queued, then the close frame.
    close_requested: Signal,
    /// The connection is over: the reader is done (the peer closed, vanished or sent something
    /// fatal), or the link was aborted.
    over: Signal,
    /// The reader must stop: the writer gave up on the socket, or the link was aborted.
    stop_reading: Signal,
}

impl Link {
    /// A new link; [`spawn_writer`] starts its writer.
    pub(crate) fn new(limits: Limits) -> Arc<Link> {
        let bytes = (limits.window_bytes != usize::MAX).then(|| {
            let budget = limits.window_bytes.clamp(1, u32::MAX as usize);
            (Semaphore::new(budget), budget as u32)
        });
        let link = Link {
            pending: Mutex::default(),
            wake: Notify::new(),
            window: Semaphore::new(limits.window.max(1)),
            bytes,
            limits,
            queued: AtomicUsize::new(0),
            queued_bytes: AtomicUsize::new(0),
            written: AtomicU64::new(0),
            close: Mutex::new(None),
            close_requested: Signal::default(),
            over: Signal::default(),
            stop_reading: Signal::default(),
        };
        Arc::new(link)
    }

    fn lock_pending(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts a frame in the queue (its budget already counted), waking the writer when the queue
    /// was empty. Fails once the writer has stopped.
    fn enqueue(&self, out: Outbound) -> Result<(), SendError> {
        let mut pending = self.lock_pending();
        if pending.closed {
            drop(pending);
            self.queued.fetch_sub(1, Ordering::Relaxed);
            self.queued_bytes.fetch_sub(out.len, Ordering::Relaxed);
            return Err(SendError::Closed);
        }
        let was_empty = pending.frames.is_empty();
        pending.frames.push_back(out);
        drop(pending);
        if was_empty {
            // A permit is stored when the writer is not waiting: no wake-up is lost.
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Queues a frame, waiting for room in the frame window and the byte budget (up to
    /// `Limits::full_timeout`).
    pub(crate) async fn send(&self, msg: WsMessage) -> Result<(), SendError> {
        match self.send_now(msg) {
            Ok(()) => Ok(()),
            Err(Wait::Closed) => Err(SendError::Closed),
            // Boxed: the wait's state (a timer, two acquires) is not part of every sender's
            // future, nor of the connection tasks that hold one.
            Err(Wait::Full(msg)) => Box::pin(self.send_after_wait(msg)).await,
        }
    }

    /// [`send`](Self::send) when there is room now, without waiting; else the frame back.
    pub(crate) fn send_now(&self, msg: WsMessage) -> Result<(), Wait> {
        let len = msg.len();
        match self.try_reserve(len) {
            Ok(Some(bytes)) => self.push(msg, len, bytes).map_err(|_| Wait::Closed),
            Ok(None) => Err(Wait::Full(msg)),
            Err(_) => Err(Wait::Closed),
        }
    }

    async fn send_after_wait(&self, msg: WsMessage) -> Result<(), SendError> {
        let len = msg.len();
        let bytes = self.reserve(len).await?;
        self.push(msg, len, bytes)
    }

    /// Queues a frame whose room is taken.
    fn push(&self, msg: WsMessage, len: usize, bytes: u32) -> Result<(), SendError> {
        self.queued.fetch_add(1, Ordering::Relaxed);
        self.queued_bytes.fetch_add(len, Ordering::Relaxed);
        let out = Outbound {
            msg,
            len,
            window: 1,
            bytes,
        };
        self.enqueue(out)
    }

    /// Takes room for a `len`-byte frame if there is some now: the byte permits taken, or
    /// `None`.
    fn try_reserve(&self, len: usize) -> Result<Option<u32>, SendError> {
        let Some((bytes, budget)) = &self.bytes else {
            return match self.window.try_acquire() {
                Ok(w) => {
                    w.forget();
                    Ok(Some(0))
                }
                Err(TryAcquireError::Closed) => Err(SendError::Closed),
                Err(TryAcquireError::NoPermits) => Ok(None),
            };
        };
        let want = len.min(*budget as usize) as u32;
        match self.window.try_acquire() {
            Ok(w) => match bytes.try_acquire_many(want) {
                Ok(b) => {
                    w.forget();
                    b.forget();
                    Ok(Some(want))
                }
                Err(TryAcquireError::Closed) => Err(SendError::Closed),
                Err(TryAcquireError::NoPermits) => Ok(None),
            },
            Err(TryAcquireError::Closed) => Err(SendError::Closed),
            Err(TryAcquireError::NoPermits) => Ok(None),
        }
    }

    /// Takes room for a `len`-byte frame; returns the byte permits taken.
    async fn reserve(&self, len: usize) -> Result<u32, SendError> {
        if let Some(bytes) = self.try_reserve(len)? {
            return Ok(bytes);
        }
        let Some((bytes, budget)) = &self.bytes else {
            return self.reserve_frame().await.map(|()| 0);
        };
        let want = len.min(*budget as usize) as u32;
        // The queue is full: wait for the writer (what was taken goes back if this times out).
        let room = async {
            let w = self.window.acquire().await.map_err(|_| SendError::Closed)?;
            let b = bytes
                .acquire_many(want)
                .await
                .map_err(|_| SendError::Closed)?;
            w.forget();
            b.forget();
            Ok(want)
        };
        self.bounded(room).await
    }

    /// Waits for room for a frame when there is no byte budget: a permit of the frame window.
    async fn reserve_frame(&self) -> Result<(), SendError> {
        let room = async {
            let w = self.window.acquire().await.map_err(|_| SendError::Closed)?;
            w.forget();
            Ok(())
        };
        self.bounded(room).await
    }

    /// Waits for `room`, up to `Limits::full_timeout`.
    async fn bounded<T>(
        &self,
        room: impl std::future::Future<Output = Result<T, SendError>>,
    ) -> Result<T, SendError> {
        match self.limits.full_timeout {
            None => room.await,
            Some(t) => tokio::time::timeout(t, room)
                .await
                .unwrap_or(Err(SendError::TimedOut)),
        }
    }

    /// Queues a frame that must not wait, or refuses it when the queue is full.
    pub(crate) fn try_send(&self, msg: WsMessage) -> Result<(), SendError> {
        let len = msg.len();
        if self.queued.fetch_add(1, Ordering::Relaxed) >= self.limits.max_frames {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(SendError::Full);
        }
        let before = self.queued_bytes.fetch_add(len, Ordering::Relaxed);
        if before > 0 && before.saturating_add(len) > self.limits.max_bytes {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            self.queued_bytes.fetch_sub(len, Ordering::Relaxed);
            return Err(SendError::Full);
        }
        let out = Outbound {
            msg,
            len,
            window: 0,
            bytes: 0,
        };
        self.enqueue(out)
    }

    /// Asks for the close handshake with this code and reason: what was queued goes first, then
    /// the close frame. Only the first close counts (and none once the connection is over);
    /// true when this one did.
    pub(crate) fn close(&self, code: u16, reason: &str) -> bool {
        let mut close = self.close.lock().unwrap_or_else(|e| e.into_inner());
        if close.is_some() || self.over.is_set() {
            return false;
        }
        *close = Some((code, crate::ws_util::truncate_reason(reason).to_owned()));
        self.close_requested.raise();
        true
    }

    /// The reason given to [`close`](Self::close), if any.
    pub(crate) fn close_reason(&self) -> Option<String> {
        let close = self.close.lock().unwrap_or_else(|e| e.into_inner());
        close.as_ref().map(|(_, reason)| reason.clone())
    }

    /// True once a close was asked for or the connection is over.
    pub(crate) fn is_closing(&self) -> bool {
        self.close_requested.is_set() || self.over.is_set()
    }

    /// The reader is done: the writer answers the peer's close (within the linger) and stops.
    pub(crate) fn reader_done(&self) {
        self.over.raise();
    }

    /// The connection is over for this end: the reader must stop, and the writer finishes a
    /// write in progress (within the linger) and drops the socket.
    pub(crate) fn abort(&self) {
        self.over.raise();
        self.stop_reading.raise();
    }

    /// True once the reader must stop (checked per frame).
    pub(crate) fn must_stop_reading(&self) -> bool {
        self.stop_reading.is_set()
    }

    /// Resolves when the reader must stop.
    pub(crate) async fn stopped_reading(&self) {
        self.stop_reading.wait().await
    }

    /// Bytes of the frames in the queue.
    pub(crate) fn queued_bytes(&self) -> usize {
        self.queued_bytes.load(Ordering::Relaxed)
    }

    /// Frames in the queue and batches written so far: a peer that takes nothing leaves frames
    /// queued while the count stands still.
    pub(crate) fn progress(&self) -> (usize, u64) {
        (
            self.queued.load(Ordering::Relaxed),
            self.written.load(Ordering::Relaxed),
        )
    }

    /// Gives back what a written batch held of the budget.
    fn written(&self, frames: usize, bytes: usize, window: usize, byte_permits: usize) {
        self.queued.fetch_sub(frames, Ordering::Relaxed);
        self.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
        self.window.add_permits(window);
        if let Some((bytes, _)) = &self.bytes {
            bytes.add_permits(byte_permits);
        }
        self.written.fetch_add(1, Ordering::Relaxed);
    }

    /// Nothing more will be written: senders waiting for room, or sending later, fail.
    fn close_budget(&self) {
        self.lock_pending().closed = true;
        self.window.close();
        if let Some((bytes, _)) = &self.bytes {
            bytes.close();
        }
    }
}

/// Starts the writer of `link`: it drains the link's queue into `sink` until the connection
/// ends. `sink` is the connection's send half: tokio-tungstenite's (clients) or the server's
/// own framing (`server::ws_io`).
pub(crate) fn spawn_writer<K>(link: Arc<Link>, sink: K, timing: Timing)
where
    K: Sink<WsMessage, Error = WsError> + Unpin + Send + 'static,
{
    tokio::spawn(write_loop(link, sink, timing));
}

/// How the writer's first phase ended.
enum WriterEnd {
    /// A close was asked for (`stuck`: a write held it past the close timeout).
    Close { stuck: bool },
    /// The connection is over (the reader is done, or the link was aborted).
    Over,
    /// A write failed: the socket is broken.
    Failed,
}

impl Link {
    /// Moves the queued frames into `batch` (empty), which gives the queue its memory for the
    /// next frames. False when nothing was queued.
    fn take(&self, batch: &mut VecDeque<Outbound>) -> bool {
        let mut pending = self.lock_pending();
        if pending.frames.is_empty() {
            return false;
        }
        std::mem::swap(&mut pending.frames, batch);
        true
    }

    /// The writer goes idle: neither half of the queue keeps its memory.
    fn release(&self, batch: &mut VecDeque<Outbound>) {
        *batch = VecDeque::new();
        let mut pending = self.lock_pending();
        if pending.frames.is_empty() {
            pending.frames = VecDeque::new();
        }
    }
}

/// Writes queued frames (everything queued per wake-up, one flush). After a close: what was
/// queued before it, then the close frame, then waits for the reader to be done. Every wait is
/// bounded (see the module doc).
async fn write_loop<K>(link: Arc<Link>, mut sink: K, timing: Timing)
where
    K: Sink<WsMessage, Error = WsError> + Unpin + Send + 'static,
{
    let end = write_until_close(&link, &mut sink, timing).await;
    // Boxed: the close's state is not part of an idle writer's task.
    Box::pin(finish(link, sink, end, timing)).await
}

/// The writer's first phase: writes what is queued until a close is asked for, the connection
/// is over, or a write fails.
async fn write_until_close<K>(link: &Link, sink: &mut K, timing: Timing) -> WriterEnd
where
    K: Sink<WsMessage, Error = WsError> + Unpin + Send + 'static,
{
    // One waiter each for the whole loop, not one registered and dropped per wake-up.
    let close_requested = link.close_requested.wait();
    let over = link.over.wait();
    tokio::pin!(close_requested, over);
    let mut batch = VecDeque::new();
    'run: loop {
        if link.close_requested.is_set() {
            break 'run WriterEnd::Close { stuck: false };
        }
        if link.over.is_set() {
            break 'run WriterEnd::Over;
        }
        if !link.take(&mut batch) {
            link.release(&mut batch);
            tokio::select! {
                biased;
                _ = &mut close_requested => break 'run WriterEnd::Close { stuck: false },
                _ = &mut over => break 'run WriterEnd::Over,
                _ = link.wake.notified() => continue 'run,
            }
        }
        let write = write_batch(sink, &mut batch, link);
        tokio::pin!(write);
        // A peer that does not read holds this write: a close or the end of the connection
        // bounds it (the timers boxed, out of the task while idle).
        let ok = tokio::select! {
            biased;
            ok = &mut write => ok,
            _ = &mut close_requested => {
                match Box::pin(tokio::time::timeout(timing.close_timeout, &mut write)).await {
                    Ok(true) => break 'run WriterEnd::Close { stuck: false },
                    Ok(false) => break 'run WriterEnd::Failed,
                    Err(_) => break 'run WriterEnd::Close { stuck: true },
                }
            }
            _ = &mut over => {
                let _ = Box::pin(tokio::time::timeout(timing.linger, &mut write)).await;
                break 'run WriterEnd::Over;
            }
        };
        if !ok {
            break WriterEnd::Failed;
        }
    }
}

/// The writer's end: the budget closed, then (after a close was asked for) what was queued
/// before it and the close frame, and the wait for the peer's close. Every wait is bounded.
async fn finish<K>(link: Arc<Link>, mut sink: K, end: WriterEnd, timing: Timing)
where
    K: Sink<WsMessage, Error = WsError> + Unpin + Send + 'static,
{
    let mut batch = VecDeque::new();
    // Every way out comes here: nothing more is queued, waiting senders fail.
    link.close_budget();
    match end {
        WriterEnd::Over => {
            // Answer the peer's close (the sink holds the answer), if it still reads.
            let _ = tokio::time::timeout(timing.linger, sink.close()).await;
            return;
        }
        WriterEnd::Failed | WriterEnd::Close { stuck: true } => {
            link.stop_reading.raise();
            return;
        }
        WriterEnd::Close { stuck: false } => {}
    }
    let close = link.close.lock().unwrap_or_else(|e| e.into_inner()).clone();
    // What was queued before the close goes first, then the close frame.
    let goodbye = async {
        if link.take(&mut batch) && !write_batch(&mut sink, &mut batch, &link).await {
            return false;
        }
        match close {
            Some((code, reason)) => {
                let frame = CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason.into(),
                };
                sink.send(WsMessage::Close(Some(frame))).await.is_ok()
            }
            None => true,
        }
    };
    let sent = matches!(
        tokio::time::timeout(timing.close_timeout, goodbye).await,
        Ok(true)
    );
    // Wait for the peer's close (the reader is then done), or give up and drop the socket.
    if !sent
        || tokio::time::timeout(timing.close_timeout, link.over.wait())
            .await
            .is_err()
    {
        link.stop_reading.raise();
    }
}

/// Writes the frames in `batch` and everything queued behind them, flushes once, and gives
/// back what the frames held of the budget. False when the socket failed.
async fn write_batch<K>(sink: &mut K, batch: &mut VecDeque<Outbound>, link: &Link) -> bool
where
    K: Sink<WsMessage, Error = WsError> + Unpin,
{
    let (mut frames, mut bytes, mut window, mut byte_permits) = (0, 0, 0, 0);
    let mut ok = true;
    'all: loop {
        while let Some(out) = batch.pop_front() {
            frames += 1;
            bytes += out.len;
            window += out.window;
            byte_permits += out.bytes as usize;
            if sink.feed(out.msg).await.is_err() {
                ok = false;
                break 'all;
            }
        }
        if !link.take(batch) {
            break;
        }
    }
    ok = ok && sink.flush().await.is_ok();
    link.written(frames, bytes, window, byte_permits);
    ok
}

#[cfg(test)]
mod tests;
