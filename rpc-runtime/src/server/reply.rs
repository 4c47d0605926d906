//! An API call's reply comes before a close its own code asks for.
//!
//! A Rust handler answers by returning, so `call.conn.close(reason)` inside it always runs
//! before the reply exists. TSRPC's handlers answer with `call.succ(res)` and may close after
//! it; to keep that order, the connection handed to a WebSocket call (its [`ApiCall`]'s `conn`,
//! the flow events of the call, and every clone of them) carries a [`CallReply`]: a close asked
//! for through it while the call's reply is not yet queued waits for the reply, which is queued
//! first and then closes the connection (the link writes frames queued before a close ahead of
//! the close frame). Meanwhile the connection counts as closed: the handler's own `send_msg`
//! fails, input is ignored, broadcasts skip it. A close through any other handle (another
//! connection's handler, a stop, the server's own limits) happens at once, and so does one
//! through the call's handle once its reply has gone. A close waits no longer than the call
//! runs (its API timeout bounds that), and a reply dropped unsent still makes it.
//!
//! Over HTTP a close only names a reason for the `X-TSRPC-Close-Reason` header of the answer,
//! which always carries the reply: nothing waits there.
//!
//! [`ApiCall`]: super::ApiCall

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use super::conn::{ConnKind, Connection};
use crate::codec::Frame;

/// The call's reply is not queued yet; no close waits.
const RUNNING: u8 = 0;
/// The call's reply is not queued yet; a close waits for it (in `CallReply::close`).
const CLOSE_WAITING: u8 = 1;
/// The call's reply is queued (or will never be): a close through its handle is at once.
const DONE: u8 = 2;

/// One WebSocket call's hold on its connection's close (see the module doc).
#[derive(Debug)]
pub(crate) struct CallReply {
    state: AtomicU8,
    /// The close to make once the reply is queued: code and reason.
    close: Mutex<Option<(u16, String)>>,
}

impl CallReply {
    fn new() -> Self {
        CallReply {
            state: AtomicU8::new(RUNNING),
            close: Mutex::new(None),
        }
    }

    /// Keeps the close until the reply is queued; gives the reason back when the reply has gone
    /// already (the caller closes at once then).
    fn hold_close(&self, code: u16, reason: String) -> Result<(), String> {
        let mut slot = self.close.lock().unwrap_or_else(|e| e.into_inner());
        if self.state.load(Ordering::Acquire) == DONE {
            return Err(reason);
        }
        if slot.is_some() {
            return Ok(()); // only the first close counts
        }
        *slot = Some((code, reason));
        // The reply may be queued meanwhile: whoever moves the state last decides.
        match self.state.compare_exchange(
            RUNNING,
            CLOSE_WAITING,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => Ok(()),
            Err(_) => Err(slot.take().map(|(_, r)| r).unwrap_or_default()),
        }
    }

    /// The reply is queued (or will never be): the close that waited for it, if any.
    fn reply_gone(&self) -> Option<(u16, String)> {
        if self.state.swap(DONE, Ordering::AcqRel) != CLOSE_WAITING {
            return None;
        }
        self.close.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl Connection {
    /// The handle a call on this connection gets: over WebSocket it holds a close asked for
    /// through it until the call's reply is queued ([`Reply`]). Over HTTP, a plain clone.
    pub(crate) fn for_call(&self) -> Connection {
        let call = match self.inner.kind {
            ConnKind::Ws { .. } => Some(Arc::new(CallReply::new())),
            ConnKind::Http { .. } => None,
        };
        Connection {
            inner: self.inner.clone(),
            call,
        }
    }

    /// Defers a close asked for through a call's handle while its reply is not yet queued;
    /// gives the reason back when the close must happen now.
    pub(crate) fn defer_close(&self, code: u16, reason: String) -> Result<(), String> {
        let (
            Some(call),
            ConnKind::Ws {
                link,
                close_waiting,
                ..
            },
        ) = (&self.call, &self.inner.kind)
        else {
            return Err(reason);
        };
        if link.is_closing() {
            return Err(reason); // closing already: nothing to wait for
        }
        if close_waiting.load(Ordering::Acquire) {
            return Ok(()); // a close waits already: only the first counts
        }
        call.hold_close(code, reason)?;
        close_waiting.store(true, Ordering::Release);
        Ok(())
    }
}

/// The reply of one API call on its way out. Dropped (sent or not), it makes the close its
/// call asked for, if one waits.
#[derive(Debug)]
pub(crate) struct Reply {
    /// The call's own handle.
    conn: Connection,
}

impl Reply {
    /// The reply of the call whose handle is `conn`.
    pub(crate) fn new(conn: Connection) -> Self {
        Reply { conn }
    }

    /// Queues the reply frame, then makes the close that waited for it. A close the call
    /// asked for does not stop the reply; any other close does.
    pub(crate) async fn send(self, frame: Frame) -> Result<(), crate::error::TsrpcError> {
        self.conn.queue(frame, true).await
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        let Some(call) = &self.conn.call else { return };
        if let Some((code, reason)) = call.reply_gone() {
            self.conn.close_now(code, reason);
        }
    }
}
