//! Listening to messages after `start()`: on the whole server ([`ServerHandle::listen_msg`]) or
//! on one connection ([`Connection::listen_msg`]), each undone with the handle it returns.
//!
//! A message goes to its connection's listeners first, then to the server's (those of the
//! builder, then those added later, in the order they were added), as in TSRPC; each finishes
//! before the next starts (see [`ServerOptions::msg_queue`](super::ServerOptions)). A listener
//! added while a
//! message is being dispatched hears the next one. A connection's listeners go with it: they
//! are dropped when it closes.

use std::future::Future;
use std::sync::OnceLock;

use super::conn::Connection;
use super::handle::ServerHandle;
use super::handler::{erase_msg, erase_msg_raw, ErasedMsg, MsgCall};
use crate::listener::{ListenerHandle, Listeners};
use crate::proto::Message;

/// A connection's own listeners, made on first use.
#[derive(Default)]
pub(crate) struct ConnListeners(OnceLock<Listeners<ErasedMsg>>);

impl ConnListeners {
    fn get_or_init(&self) -> &Listeners<ErasedMsg> {
        self.0.get_or_init(Listeners::new)
    }

    /// The listeners of `name`, if the connection has any.
    pub(crate) fn matching(&self, name: &str) -> Option<Vec<ErasedMsg>> {
        let l = self.0.get()?;
        let found = l.matching(name);
        (!found.is_empty()).then_some(found)
    }

    /// Drops every listener (the connection closed: a listener holding a clone of it would
    /// otherwise keep it alive).
    pub(crate) fn clear(&self) {
        if let Some(l) = self.0.get() {
            l.clear();
        }
    }
}

impl ServerHandle {
    /// Listens to the message `M` from now on, on every connection; undo with
    /// [`unlisten_msg`](Self::unlisten_msg).
    ///
    /// ```no_run
    /// # async fn f(server: rpc_runtime::ServerHandle) {
    /// # #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
    /// # struct MsgChat { content: String }
    /// # impl rpc_runtime::Message for MsgChat { const NAME: &'static str = "Chat"; }
    /// let handle = server.listen_msg(|call: rpc_runtime::MsgCall<MsgChat>| async move {
    ///     println!("{}", call.msg.content);
    /// });
    /// server.unlisten_msg(handle);
    /// # }
    /// ```
    pub fn listen_msg<M, F, Fut>(&self, handler: F) -> ListenerHandle
    where
        M: Message,
        F: Fn(MsgCall<M>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.core.msgs.add_name(M::NAME, erase_msg(handler))
    }

    /// Listens to a message by name, on JSON values (the untyped layer).
    pub fn listen_msg_raw<F, Fut>(&self, name: &str, handler: F) -> ListenerHandle
    where
        F: Fn(MsgCall<serde_json::Value>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.core.msgs.add_name(name, erase_msg_raw(handler))
    }

    /// Removes a listener added by [`listen_msg`](Self::listen_msg) or
    /// [`listen_msg_raw`](Self::listen_msg_raw); false when it was not there.
    pub fn unlisten_msg(&self, handle: ListenerHandle) -> bool {
        self.core.msgs.remove(handle)
    }
}

impl Connection {
    /// Listens to the message `M` on this connection only (before the server's listeners),
    /// until [`unlisten_msg`](Self::unlisten_msg) or the connection closes. The listener gets
    /// the connection in `call.conn`: capturing a clone of it is not needed.
    pub fn listen_msg<M, F, Fut>(&self, handler: F) -> ListenerHandle
    where
        M: Message,
        F: Fn(MsgCall<M>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.inner
            .msgs
            .get_or_init()
            .add_name(M::NAME, erase_msg(handler))
    }

    /// Listens to a message by name on this connection, on JSON values.
    pub fn listen_msg_raw<F, Fut>(&self, name: &str, handler: F) -> ListenerHandle
    where
        F: Fn(MsgCall<serde_json::Value>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.inner
            .msgs
            .get_or_init()
            .add_name(name, erase_msg_raw(handler))
    }

    /// Removes a listener of this connection; false when it was not there.
    pub fn unlisten_msg(&self, handle: ListenerHandle) -> bool {
        self.inner.msgs.0.get().is_some_and(|l| l.remove(handle))
    }
}
