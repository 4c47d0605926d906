//! The order messages are handled in, on one WebSocket connection.
//!
//! Messages of one connection are handled in the order they came, each one's listeners one
//! after the other (a listener's future finishes before the next listener, or the next
//! message's, starts). API calls do not wait for them: a call that comes after a slow message
//! runs while that message's listener still runs (calls are concurrent among themselves too,
//! as always). Nor do messages wait for calls.
//!
//! A listener that finishes on its first poll runs right in the connection's reader, as long as
//! no earlier message is still being handled; the first one that does not finish at once moves
//! to a task of the connection's own (its "lane"), and every message after it queues there
//! until the lane is empty again. At most
//! [`msg_queue`](super::ServerOptions#structfield.msg_queue) listener runs, and frames of at
//! most a quarter of [`max_queued_bytes`](super::ServerOptions#structfield.max_queued_bytes) in
//! all (one frame at a time when it is larger), wait in the lane; past either the reader waits for room (backpressure: the connection is not read
//! meanwhile), so a client cannot grow the server's memory by sending messages faster than
//! their listeners finish.
//! A listener that panics is logged and skipped.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use futures_util::FutureExt;
use tokio::sync::{mpsc, Semaphore};

use super::handler::BoxFuture;

/// One connection's message lane (see the module doc).
pub(crate) struct MsgLane {
    /// Listener runs sent to the lane's task and not finished yet.
    queued: Arc<AtomicUsize>,
    /// The lane's task, started by the first listener that does not finish at once.
    tx: Option<mpsc::Sender<BoxFuture<()>>>,
    capacity: usize,
    /// Bytes of the frames whose listeners wait or run in the lane.
    bytes: Arc<Semaphore>,
    budget: usize,
}

impl MsgLane {
    pub(crate) fn new(capacity: usize, bytes: usize) -> Self {
        let budget = bytes.clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        MsgLane {
            queued: Arc::new(AtomicUsize::new(0)),
            tx: None,
            capacity: capacity.max(1),
            bytes: Arc::new(Semaphore::new(budget)),
            budget,
        }
    }

    /// Runs one message's listeners, in order, after every message before it; `len` is the
    /// size of its frame (what a listener waiting in the lane may hold).
    pub(crate) async fn push(&mut self, handlers: Vec<BoxFuture<()>>, len: usize) {
        for mut h in handlers {
            if self.queued.load(Ordering::Acquire) == 0 {
                let polled = std::future::poll_fn(|cx| {
                    Poll::Ready(std::panic::catch_unwind(AssertUnwindSafe(|| {
                        h.as_mut().poll(cx)
                    })))
                })
                .await;
                match polled {
                    Ok(Poll::Ready(())) => continue,
                    Ok(Poll::Pending) => {}
                    Err(_) => {
                        tracing::error!("a message listener panicked");
                        continue;
                    }
                }
            }
            // Boxed: the reader's task does not carry the lane's waits while idle.
            Box::pin(self.enqueue(h, len)).await;
        }
    }

    /// Queues a listener that did not finish at once behind the others.
    async fn enqueue(&mut self, h: BoxFuture<()>, len: usize) {
        // The frame's bytes, held until the listener finishes (a frame over the budget
        // takes all of it: one at a time).
        let n = len.clamp(1, self.budget) as u32;
        let Ok(permit) = self.bytes.clone().acquire_many_owned(n).await else {
            return;
        };
        let h: BoxFuture<()> = Box::pin(async move {
            h.await;
            drop(permit);
        });
        self.queued.fetch_add(1, Ordering::AcqRel);
        let tx = self.tx.get_or_insert_with(|| {
            let (tx, rx) = mpsc::channel(self.capacity);
            tokio::spawn(run_lane(rx, self.queued.clone()));
            tx
        });
        if tx.send(h).await.is_err() {
            self.queued.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

async fn run_lane(mut rx: mpsc::Receiver<BoxFuture<()>>, queued: Arc<AtomicUsize>) {
    while let Some(h) = rx.recv().await {
        if AssertUnwindSafe(h).catch_unwind().await.is_err() {
            tracing::error!("a message listener panicked");
        }
        queued.fetch_sub(1, Ordering::AcqRel);
    }
}
