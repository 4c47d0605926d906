//! What handlers receive and return, and their type-erased form.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::conn::Connection;
use super::state::Extensions;
use crate::codec::{Input, Out, Payload};
use crate::error::TsrpcError;

/// A boxed, sendable future.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// One API call, as a handler gets it.
#[derive(Debug)]
#[non_exhaustive]
pub struct ApiCall<Req> {
    /// The decoded request.
    pub req: Req,
    /// The connection it came on (a short connection over HTTP).
    pub conn: Connection,
    /// The call's sn (0 over HTTP, which has none).
    pub sn: u64,
    /// Typed values the `pre_api_call` flow attached to this call ([`ApiCallEvent::ext`]),
    /// such as the current user; read them with [`ext`](Self::ext).
    ///
    /// [`ApiCallEvent::ext`]: super::flows::ApiCallEvent#structfield.ext
    pub extensions: Extensions,
}

impl<Req> ApiCall<Req> {
    /// The value of type `T` a flow attached to this call, if any.
    ///
    /// ```
    /// # fn f(call: rpc_runtime::ApiCall<()>) {
    /// #[derive(Clone)]
    /// struct CurrentUser { id: u64 }
    /// let user_id = call.ext::<CurrentUser>().map(|u| u.id);
    /// # }
    /// ```
    pub fn ext<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.extensions.get::<T>()
    }
}

/// One received message, as a listener gets it.
#[derive(Debug)]
#[non_exhaustive]
pub struct MsgCall<M> {
    /// The decoded message.
    pub msg: M,
    /// The connection it came on.
    pub conn: Connection,
    /// Typed values the `pre_msg_call` flow attached to this message; read them with
    /// [`ext`](Self::ext).
    pub extensions: Extensions,
}

impl<M> MsgCall<M> {
    /// The value of type `T` a flow attached to this message, if any.
    pub fn ext<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.extensions.get::<T>()
    }
}

/// Why a handler failed. Build it from a [`TsrpcError`] (sent to the caller as is) or from any
/// other error (the caller gets ServerError `INTERNAL_ERR`, with `innerErr` when the server's
/// `return_inner_error` is on). `?` converts both.
///
/// ```
/// use rpc_runtime::{HandlerError, HandlerResult, TsrpcError};
/// fn check(n: i64) -> HandlerResult<i64> {
///     if n < 0 {
///         return Err(TsrpcError::api("negative").with_code("NEG").into());
///     }
///     let parsed: i64 = "12".parse()?; // a ParseIntError becomes INTERNAL_ERR
///     Ok(n + parsed)
/// }
/// assert!(check(1).is_ok());
/// ```
pub struct HandlerError(pub(crate) HandlerErrorKind);

pub(crate) enum HandlerErrorKind {
    Tsrpc(TsrpcError),
    Internal(Box<dyn StdError + Send + Sync>),
}

impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            HandlerErrorKind::Tsrpc(e) => f.debug_tuple("HandlerError").field(e).finish(),
            HandlerErrorKind::Internal(e) => f.debug_tuple("HandlerError").field(e).finish(),
        }
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            HandlerErrorKind::Tsrpc(e) => e.fmt(f),
            HandlerErrorKind::Internal(e) => e.fmt(f),
        }
    }
}

impl<E: Into<Box<dyn StdError + Send + Sync>>> From<E> for HandlerError {
    fn from(e: E) -> Self {
        let boxed: Box<dyn StdError + Send + Sync> = e.into();
        match boxed.downcast::<TsrpcError>() {
            Ok(t) => HandlerError(HandlerErrorKind::Tsrpc(*t)),
            Err(other) => HandlerError(HandlerErrorKind::Internal(other)),
        }
    }
}

impl HandlerError {
    /// The error the caller gets.
    pub(crate) fn into_tsrpc(self, return_inner_error: bool) -> TsrpcError {
        match self.0 {
            HandlerErrorKind::Tsrpc(e) => e,
            HandlerErrorKind::Internal(e) => {
                TsrpcError::internal(return_inner_error.then(|| e.to_string()))
            }
        }
    }
}

/// What an API handler returns.
pub type HandlerResult<T> = Result<T, HandlerError>;

/// What a type-erased API handler gets besides the body.
pub(crate) struct CallCtx {
    pub(crate) conn: Connection,
    pub(crate) sn: u64,
    /// How the response is written (the connection's data type).
    pub(crate) out: Out,
    /// What the `pre_api_call` flow attached.
    pub(crate) ext: Extensions,
}

/// Decodes a request body, JSON or binary (`Err`: the input error text), and returns the
/// handler's future, whose output is the response encoded as `CallCtx::out` says.
pub(crate) type ErasedApi = Arc<
    dyn Fn(Input<'_>, CallCtx) -> Result<BoxFuture<HandlerResult<Payload>>, String> + Send + Sync,
>;

/// Decodes a message body (`Err`: the input error text) and returns the listener's future
/// (which gets a clone of the extensions the `pre_msg_call` flow attached).
pub(crate) type ErasedMsg = Arc<
    dyn Fn(&str, Input<'_>, Connection, &Extensions) -> Result<BoxFuture<()>, String> + Send + Sync,
>;

/// A typed listener of the message `M`, erased.
pub(crate) fn erase_msg<M, F, Fut>(handler: F) -> ErasedMsg
where
    M: crate::proto::Message,
    F: Fn(MsgCall<M>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(
        move |_name: &str, body: Input<'_>, conn: Connection, ext: &Extensions| {
            let msg = body.decode::<M>()?;
            Ok(Box::pin(handler(MsgCall {
                msg,
                conn,
                extensions: ext.clone(),
            })))
        },
    )
}

/// A listener on JSON values, erased.
pub(crate) fn erase_msg_raw<F, Fut>(handler: F) -> ErasedMsg
where
    F: Fn(MsgCall<serde_json::Value>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(
        move |_name: &str, body: Input<'_>, conn: Connection, ext: &Extensions| {
            let msg = body.value()?;
            Ok(Box::pin(handler(MsgCall {
                msg,
                conn,
                extensions: ext.clone(),
            })))
        },
    )
}
