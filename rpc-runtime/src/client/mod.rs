//! Clients: [`WsClient`] (WebSocket: calls, messages both ways, connection flows) and
//! [`HttpClient`] (HTTP: calls and one-way messages), their options, and the [`RpcClient`]
//! trait with what every client can do, whatever its transport. Both share one call pipeline
//! (sn, flows, timeout, abort); their flows are in [`flows`](crate::flows).

mod core;
mod deadline;
pub(crate) mod flows;
mod http;
#[cfg(feature = "tls")]
mod tls;
mod ws;

use std::future::Future;
use std::time::Duration;

use serde_json::Value;

use self::core::{ClientCore, Part};
use self::flows::ClientFlows;
use crate::codec::Payload;
use crate::error::{ApiReturn, TsrpcError};
use crate::proto::{Api, Message};

pub use self::http::{HttpClient, HttpClientOptions};
pub use self::ws::{
    ConnectionStatus, Heartbeat, ReconnectPolicy, WsClient, WsClientOptions, WsStatus,
};
pub use crate::listener::ListenerHandle;

/// Options of one call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallOptions {
    /// Overrides the client's timeout for this call; `Some(Duration::ZERO)` means none.
    pub timeout: Option<Duration>,
    /// A key to abort this call with [`RpcClient::abort_by_key`].
    pub abort_key: Option<String>,
    /// Re-send this call after a reconnect when the connection is lost before its return
    /// came (only for idempotent APIs: the server may have run it already). Needs a
    /// [`WsClient`] with a reconnect policy; the call still ends at its timeout, and fails
    /// with `LOST_CONN` when the policy gives up or `disconnect()` is called. Default `false`:
    /// a lost connection fails the call with `LOST_CONN` at once. Ignored by [`HttpClient`].
    pub resend_on_reconnect: bool,
}

impl CallOptions {
    /// Options with this timeout.
    pub fn timeout(timeout: Duration) -> Self {
        CallOptions {
            timeout: Some(timeout),
            ..Self::default()
        }
    }
    /// Options that re-send the call after a reconnect
    /// ([`resend_on_reconnect`](CallOptions#structfield.resend_on_reconnect)).
    pub fn resend_on_reconnect() -> Self {
        CallOptions {
            resend_on_reconnect: true,
            ..Self::default()
        }
    }
    /// Options with this abort key.
    pub fn abort_key(key: impl Into<String>) -> Self {
        CallOptions {
            abort_key: Some(key.into()),
            ..Self::default()
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// What every client can do, whatever its transport: call APIs and send messages, typed or by
/// name, and abort calls.
///
/// Implemented by [`WsClient`] and [`HttpClient`]; the
/// generated `call_xxx` / `send_msg_xxx` methods are thin sugar over it.
pub trait RpcClient: Clone + Send + Sync + 'static + sealed::Sealed {
    #[doc(hidden)]
    fn __core(&self) -> &ClientCore;
    #[doc(hidden)]
    fn __call(
        &self,
        name: &str,
        req: Payload,
        options: CallOptions,
    ) -> impl Future<Output = ApiReturn<Payload>> + Send;
    #[doc(hidden)]
    fn __send(
        &self,
        name: &str,
        msg: Payload,
    ) -> impl Future<Output = Result<(), TsrpcError>> + Send;

    /// True when the client speaks TSRPC's JSON mode: `json` set in its options, or no TSRPC
    /// proto to speak binary with (a client made without its service's proto). False: binary.
    fn is_json(&self) -> bool {
        self.__core().is_json()
    }

    /// Calls the API whose request type is `A`, with the client's default options.
    fn call_api<A: Api>(&self, req: A) -> impl Future<Output = ApiReturn<A::Res>> + Send {
        self.call_api_with(req, CallOptions::default())
    }

    /// Calls the API whose request type is `A` with these options.
    fn call_api_with<A: Api>(
        &self,
        req: A,
        options: CallOptions,
    ) -> impl Future<Output = ApiReturn<A::Res>> + Send {
        async move {
            let core = self.__core();
            let body = core.encode(A::NAME, Part::Req, &req, true)?;
            drop(req);
            let res = self.__call(A::NAME, body, options).await?;
            core.decode_res::<A::Res>(A::NAME, &res)
        }
    }

    /// Sends a message. Resolves when the message is handed to the transport (over WebSocket
    /// it waits for queue space; over HTTP, for the server's answer).
    fn send_msg<M: Message>(&self, msg: &M) -> impl Future<Output = Result<(), TsrpcError>> + Send {
        let body = self.__core().encode(M::NAME, Part::Msg, msg, true);
        async move { self.__send(M::NAME, body?).await }
    }

    /// Calls an API by name with a JSON request (the untyped layer).
    fn call_raw(
        &self,
        name: &str,
        req: &Value,
        options: CallOptions,
    ) -> impl Future<Output = ApiReturn<Value>> + Send {
        let body = self.__core().encode(name, Part::Req, req, false);
        async move {
            let res = self.__call(name, body?, options).await?;
            match res {
                Payload::Json(json) => serde_json::from_str(&json)
                    .map_err(|e| TsrpcError::server(format!("Parse server output error: {e}"))),
                bin => Ok(self.__core().value(name, Part::Res, &bin)),
            }
        }
    }

    /// Sends a message by name with a JSON body (the untyped layer).
    fn send_msg_raw(
        &self,
        name: &str,
        msg: &Value,
    ) -> impl Future<Output = Result<(), TsrpcError>> + Send {
        let body = self.__core().encode(name, Part::Msg, msg, false);
        async move { self.__send(name, body?).await }
    }

    /// Aborts the pending call with this sn: it resolves with ClientError `ABORTED`.
    fn abort(&self, sn: u64) -> bool {
        self.__core().abort(sn)
    }
    /// Aborts every pending call made with this abort key; returns how many.
    fn abort_by_key(&self, key: &str) -> usize {
        self.__core().abort_by_key(key)
    }
    /// Aborts every pending call; returns how many.
    fn abort_all(&self) -> usize {
        self.__core().abort_all()
    }
    /// The sn of the last call made (0 before any).
    fn last_sn(&self) -> u64 {
        self.__core().last_sn()
    }
    /// The sn the next call will use (unless another call takes it first). TSRPC's `nextSN`
    /// getter returns the sn of the last call made despite its name: that is
    /// [`last_sn`](Self::last_sn) here.
    fn next_sn(&self) -> u64 {
        self.__core().peek_next_sn()
    }
    /// The client's call, message and data flows (hook chains). A [`WsClient`] also has
    /// connection flows: its own [`flows`](WsClient::flows) returns them all.
    fn flows(&self) -> &ClientFlows;
}

macro_rules! impl_rpc_client {
    ($ty:ty) => {
        impl $crate::client::sealed::Sealed for $ty {}
        impl $crate::client::RpcClient for $ty {
            fn __core(&self) -> &$crate::client::ClientCore {
                &self.inner.core
            }
            fn flows(&self) -> &$crate::flows::ClientFlows {
                $crate::client::core::Transport::flows(&*self.inner)
            }
            fn __call(
                &self,
                name: &str,
                req: $crate::codec::Payload,
                options: $crate::client::CallOptions,
            ) -> impl ::std::future::Future<Output = $crate::error::ApiReturn<$crate::codec::Payload>> + Send
            {
                self.inner.core.call(&*self.inner, name, req, options)
            }
            fn __send(
                &self,
                name: &str,
                msg: $crate::codec::Payload,
            ) -> impl ::std::future::Future<Output = Result<(), $crate::error::TsrpcError>> + Send
            {
                self.inner.core.send(&*self.inner, name, msg)
            }
        }
    };
}
pub(crate) use impl_rpc_client;
