//! Typed data a connection carries for its whole life (a session, a user, a room): set by a
//! handler or a flow, read by the next ones, dropped with the connection.
//!
//! The values live in an [`Extensions`] map (one value per type, as `http::Extensions`) behind
//! a lock that is held only inside these methods, never across an `.await`: every task of the
//! connection (its calls run concurrently) sees the latest value. A value that must change in
//! place from several tasks at once is best an `Arc` of a lock or of atomics of its own.
//!
//! Over HTTP each request is a connection of its own (as TSRPC's `HttpConnection`): what is set
//! on it lasts for that request only.
//!
//! ```
//! use rpc_runtime::server::Extensions;
//! #[derive(Clone, Debug, PartialEq)]
//! struct Session { user: String }
//! // What `conn.set_state` / `conn.state` do, on the map itself:
//! let mut map = Extensions::new();
//! map.insert(Session { user: "ann".into() });
//! assert_eq!(map.get::<Session>().map(|s| s.user.as_str()), Some("ann"));
//! ```

use std::sync::Mutex;

pub use hyper::http::Extensions;

use super::conn::Connection;

/// A connection's typed state: an [`Extensions`] map behind a lock.
#[derive(Debug, Default)]
pub(crate) struct ConnState(Mutex<Extensions>);

impl ConnState {
    fn with<R>(&self, f: impl FnOnce(&mut Extensions) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Connection {
    /// A clone of this connection's value of type `T`, if one was set.
    ///
    /// ```
    /// # async fn f(conn: rpc_runtime::Connection) {
    /// #[derive(Clone)]
    /// struct Session { user_id: u64 }
    /// conn.set_state(Session { user_id: 7 });
    /// assert_eq!(conn.state::<Session>().map(|s| s.user_id), Some(7));
    /// # }
    /// ```
    pub fn state<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.inner.state.with(|m| m.get::<T>().cloned())
    }

    /// Sets this connection's value of type `T`; returns the one it replaces.
    pub fn set_state<T: Clone + Send + Sync + 'static>(&self, value: T) -> Option<T> {
        self.inner.state.with(|m| m.insert(value))
    }

    /// Removes this connection's value of type `T` and returns it.
    pub fn remove_state<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.inner.state.with(|m| m.remove::<T>())
    }

    /// Runs `f` on the connection's whole state map, under its lock (keep it short: every task
    /// of the connection that reads or writes state waits meanwhile). For a read-modify-write
    /// no other task may interleave with, such as counting calls.
    ///
    /// ```
    /// # fn f(conn: rpc_runtime::Connection) {
    /// #[derive(Clone, Default)]
    /// struct Calls(u32);
    /// let n = conn.with_state(|s| {
    ///     let calls = s.get_or_insert_default::<Calls>();
    ///     calls.0 += 1;
    ///     calls.0
    /// });
    /// # }
    /// ```
    pub fn with_state<R>(&self, f: impl FnOnce(&mut Extensions) -> R) -> R {
        self.inner.state.with(f)
    }
}
