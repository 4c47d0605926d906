//! The server's flows (TSRPC-WIRE.md f), and the data each one carries.

use serde_json::Value;

pub use super::conn::ConnDataEvent;
use super::conn::Connection;
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
    /// Before message listeners run.
    pub pre_msg_call: Flow<MsgCallEvent>,
    /// Before a frame is written.
    pub pre_send_data: Flow<ConnDataEvent>,
    /// Before a received frame is decoded.
    pub pre_recv_data: Flow<ConnDataEvent>,
}
