//! The WebSocket client's message listeners: by name or pattern, typed or raw.

use std::sync::Arc;

use regex::Regex;

use super::WsClient;
use crate::codec::Input;
use crate::listener::ListenerHandle;
use crate::proto::{Message, MsgEnum};

impl WsClient {
    /// Listens to the message `M`; the handler gets each one, in the order received.
    pub fn listen_msg<M: Message>(
        &self,
        handler: impl Fn(M) + Send + Sync + 'static,
    ) -> ListenerHandle {
        self.inner.listeners.add_name(
            M::NAME,
            Arc::new(move |name, body: Input<'_>, checked| {
                match body.decode::<M>() {
                    Ok(m) => handler(m),
                    Err(_) if !checked => return false,
                    Err(e) => tracing::warn!("message {name} does not decode: {e}"),
                }
                true
            }),
        )
    }

    /// Listens to every message whose name matches `pattern`, decoded into the service's
    /// message enum; the handler also gets the name.
    pub fn listen_msg_matching<E: MsgEnum>(
        &self,
        pattern: Regex,
        handler: impl Fn(E, &str) + Send + Sync + 'static,
    ) -> ListenerHandle {
        self.inner.listeners.add_pattern(
            pattern,
            Arc::new(move |name, body: Input<'_>, checked| {
                if !checked {
                    // `E` may be written by hand: its success does not show the body is JSON.
                    return false;
                }
                let json = match body.json_text() {
                    Ok(json) => json,
                    Err(e) => {
                        tracing::warn!("message {name} does not decode: {e}");
                        return true;
                    }
                };
                match E::decode(name, &json) {
                    Ok(Some(m)) => handler(m, name),
                    Ok(None) => tracing::warn!("message {name} is not part of the service"),
                    Err(e) => tracing::warn!("message {name} does not decode: {e}"),
                }
                true
            }),
        )
    }

    /// Listens by name with the JSON body (the untyped layer).
    pub fn listen_msg_raw(
        &self,
        name: &str,
        handler: impl Fn(&str, serde_json::Value) + Send + Sync + 'static,
    ) -> ListenerHandle {
        self.inner.listeners.add_name(
            name,
            Arc::new(move |name, body: Input<'_>, checked| {
                if checked {
                    handler(name, body.value().unwrap_or_default());
                }
                checked
            }),
        )
    }

    /// Listens by regex with the JSON body (the untyped layer).
    pub fn listen_msg_matching_raw(
        &self,
        pattern: Regex,
        handler: impl Fn(&str, serde_json::Value) + Send + Sync + 'static,
    ) -> ListenerHandle {
        self.inner.listeners.add_pattern(
            pattern,
            Arc::new(move |name, body: Input<'_>, checked| {
                if checked {
                    handler(name, body.value().unwrap_or_default());
                }
                checked
            }),
        )
    }

    /// Stops one listener; false when it was not listening.
    pub fn unlisten_msg(&self, handle: ListenerHandle) -> bool {
        self.inner.listeners.remove(handle)
    }

    /// Stops every listener of this exact name, or of this pattern (its source text).
    pub fn unlisten_msg_all(&self, name_or_pattern: &str) -> usize {
        self.inner.listeners.remove_all(name_or_pattern)
    }

    /// Stops every listener of a message name `pattern` matches, and every pattern listener
    /// added with the same regex (its source text), as TSRPC's `unlistenMsgAll(RegExp)`.
    /// Returns how many were stopped. TSRPC expands a pattern listener into one listener per
    /// message name of its service, so there a narrower regex stops it for some names only;
    /// here a pattern listener is one listener, stopped only by its own regex (or
    /// [`unlisten_msg`](Self::unlisten_msg)).
    pub fn unlisten_msg_all_matching(&self, pattern: &Regex) -> usize {
        self.inner.listeners.remove_matching(pattern)
    }
}
