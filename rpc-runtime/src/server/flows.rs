//! The server's flows (TSRPC-WIRE.md f), and the data each one carries.

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use super::conn::ConnDataEvent;
use super::conn::Connection;
use super::state::Extensions;
use crate::error::TsrpcError;
use crate::flow::Flow;

/// Data of `post_disconnect`.
#[derive(Debug, Clone)]
pub struct ConnDisconnectEvent {
    /// The connection that closed.
    pub conn: Connection,
    /// Why, when known (the close reason).
    pub reason: Option<String>,
}

/// Data of `pre_api_call`: a node may change `req`, or set `ret` to answer without the handler.
#[derive(Debug, Clone)]
pub struct ApiCallEvent {
    /// The connection.
    pub conn: Connection,
    /// The API's service name.
    pub api_name: String,
    /// The API's TSRPC `conf` from the service proto ([`ServiceDef::conf`]), such as
    /// `{"needLogin": true}`: what a flow checks before the handler runs.
    ///
    /// [`ServiceDef::conf`]: crate::proto::ServiceDef::conf
    pub conf: Option<std::sync::Arc<Value>>,
    /// The call's sn (0 over HTTP).
    pub sn: u64,
    /// The decoded request, as JSON.
    pub req: Value,
    /// When set, this is returned and the handler does not run.
    pub ret: Option<Result<Value, TsrpcError>>,
    /// Typed values for the handler (`call.ext::<T>()`), such as the current user: what a node
    /// inserts here the handler reads, without looking anything up again.
    pub ext: Extensions,
}

impl ApiCallEvent {
    /// The API's `conf` read into `C` (a struct of the fields the server acts on, such as
    /// `need_login`; `Default` when the API has no `conf`). `Err` when the conf does not
    /// fit `C`: a flow should refuse the call then rather than run it unguarded.
    ///
    /// ```
    /// use rpc_runtime::flows::ApiCallEvent;
    /// use rpc_runtime::TsrpcError;
    /// #[derive(serde::Deserialize, Default)]
    /// #[serde(rename_all = "camelCase", default)]
    /// struct Conf { need_login: bool }
    /// #[derive(Clone)]
    /// struct Session { user: String }
    ///
    /// fn guard(mut ev: ApiCallEvent) -> Option<ApiCallEvent> {
    ///     match ev.conf_as::<Conf>() {
    ///         Ok(conf) if conf.need_login && ev.conn.state::<Session>().is_none() => {
    ///             ev.refuse(TsrpcError::api("Need login").with_code("NEED_LOGIN"))
    ///         }
    ///         Ok(_) => {}
    ///         Err(e) => ev.refuse(e),
    ///     }
    ///     Some(ev)
    /// }
    /// # let _ = guard;
    /// ```
    pub fn conf_as<C: DeserializeOwned + Default>(&self) -> Result<C, TsrpcError> {
        conf_as(self.conf.as_deref(), &self.api_name)
    }

    /// Answers the call with `err` instead of running its handler (sets [`ret`](Self::ret)).
    pub fn refuse(&mut self, err: TsrpcError) {
        self.ret = Some(Err(err));
    }
}

fn conf_as<C: DeserializeOwned + Default>(
    conf: Option<&Value>,
    name: &str,
) -> Result<C, TsrpcError> {
    match conf {
        None => Ok(C::default()),
        Some(v) => C::deserialize(v).map_err(|e| {
            tracing::error!("the conf of {name} does not fit the type a flow reads it as: {e}");
            TsrpcError::server(format!("Invalid conf of {name}: {e}"))
        }),
    }
}

/// Data of `pre_api_return` (may replace `ret`) and `post_api_return`.
#[derive(Debug, Clone)]
pub struct ApiReturnFlowEvent {
    /// The connection.
    pub conn: Connection,
    /// The API's service name.
    pub api_name: String,
    /// The call's sn.
    pub sn: u64,
    /// What the caller gets.
    pub ret: Result<Value, TsrpcError>,
}

/// Data of `pre_msg_call`.
#[derive(Debug, Clone)]
pub struct MsgCallEvent {
    /// The connection.
    pub conn: Connection,
    /// The message's service name.
    pub msg_name: String,
    /// The decoded message, as JSON (a node may change it).
    pub msg: Value,
    /// The message's TSRPC `conf` from the service proto, if it has one.
    pub conf: Option<std::sync::Arc<Value>>,
    /// Typed values for the listeners (`call.ext::<T>()`).
    pub ext: Extensions,
}

impl MsgCallEvent {
    /// The message's `conf` read into `C`, as [`ApiCallEvent::conf_as`].
    pub fn conf_as<C: DeserializeOwned + Default>(&self) -> Result<C, TsrpcError> {
        conf_as(self.conf.as_deref(), &self.msg_name)
    }
}

/// Data of `pre_send_msg` (a node may change `msg`) and `post_send_msg`.
#[derive(Debug, Clone)]
pub struct SendMsgEvent {
    /// The connection it goes to.
    pub conn: Connection,
    /// The message's service name.
    pub msg_name: String,
    /// The message, as JSON.
    pub msg: Value,
}

/// Every flow of a server. A "pre" node returning `None` stops what it guards: an API call then
/// gets ServerError `CANCELLED` (no call is left without an answer), a message reaches no
/// listener, a frame is not sent or not handled.
#[derive(Debug, Default)]
pub struct ServerFlows {
    /// After a connection opened.
    pub post_connect: Flow<Connection>,
    /// After a connection closed.
    pub post_disconnect: Flow<ConnDisconnectEvent>,
    /// Before an API handler runs.
    pub pre_api_call: Flow<ApiCallEvent>,
    /// Before an API return is sent.
    pub pre_api_return: Flow<ApiReturnFlowEvent>,
    /// After an API return was sent.
    pub post_api_return: Flow<ApiReturnFlowEvent>,
    /// After an API call is done: its handler (or the `pre_api_call` answer) and its return
    /// flows ran, and its return goes out (TSRPC's `postApiCallFlow`).
    pub post_api_call: Flow<ApiReturnFlowEvent>,
    /// Before message listeners run.
    pub pre_msg_call: Flow<MsgCallEvent>,
    /// After every listener of a message finished (TSRPC's `postMsgCallFlow`); not run when
    /// `pre_msg_call` stopped the message.
    pub post_msg_call: Flow<MsgCallEvent>,
    /// Before `conn.send_msg` / `send_msg_raw` encode a message: a node may change it, or stop
    /// it (the send then fails with `CANCELLED`). Broadcasts do not run it (encoded once for
    /// every connection). With a node here or in `post_send_msg`, a message goes through JSON
    /// values on its way out.
    pub pre_send_msg: Flow<SendMsgEvent>,
    /// After `conn.send_msg` / `send_msg_raw` queued a message.
    pub post_send_msg: Flow<SendMsgEvent>,
    /// Before a frame is written.
    pub pre_send_data: Flow<ConnDataEvent>,
    /// Before a received frame is decoded.
    pub pre_recv_data: Flow<ConnDataEvent>,
}
