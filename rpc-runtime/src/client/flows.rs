//! The client's flows (TSRPC-WIRE.md e), typed by transport, and the data each one carries.
//!
//! Every client has the call, message and data flows ([`ClientFlows`]); a WebSocket client
//! also has the connection flows ([`WsClientFlows`], which dereferences to the first), so a
//! connection hook on an HTTP client does not compile.

use std::ops::Deref;

use serde_json::Value;

use super::ws::WsClient;
use super::CallOptions;
use crate::error::{ApiReturn, TsrpcError};
use crate::flow::Flow;

/// Data of `pre_call_api`: set `ret` to skip the network and return it.
#[derive(Debug, Clone)]
pub struct PreCallApiEvent {
    /// The API's service name.
    pub api_name: String,
    /// The request, as JSON (a node may change it).
    pub req: Value,
    /// The call's options.
    pub options: CallOptions,
    /// When set, the call returns this without touching the network.
    pub ret: Option<ApiReturn<Value>>,
}

/// Data of `pre_api_return` (may replace `ret`) and `post_api_return`.
#[derive(Debug, Clone)]
pub struct ApiReturnEvent {
    /// The API's service name.
    pub api_name: String,
    /// The request as sent.
    pub req: Value,
    /// The call's options.
    pub options: CallOptions,
    /// What the call returns.
    pub ret: ApiReturn<Value>,
}

/// Data of the send/receive message flows.
#[derive(Debug, Clone)]
pub struct MsgEvent {
    /// The message's service name.
    pub msg_name: String,
    /// The message as JSON (a pre node may change it).
    pub msg: Value,
}

/// Data of `pre_send_data` / `pre_recv_data`: a whole frame (an encryption hook may rewrite it).
/// JSON mode only: binary frames and bodies pass these flows by.
#[derive(Debug, Clone)]
pub struct DataEvent {
    /// The frame's text.
    pub data: String,
    /// The sn of the call this frame belongs to, when known.
    pub sn: Option<u64>,
}

/// Data of `pre_connect`: set `ret` to short-circuit `connect()`.
#[derive(Debug, Clone, Default)]
pub struct PreConnectEvent {
    /// When set, `connect()` returns this without connecting.
    pub ret: Option<Result<(), TsrpcError>>,
}

/// Data of `post_disconnect`: fired once per transition out of the connected state.
#[derive(Debug, Clone)]
pub struct DisconnectEvent {
    /// The close reason the server gave (`conn.close(reason)`), or the local reason.
    pub reason: Option<String>,
    /// True when `disconnect()` closed the connection.
    pub is_manual: bool,
    /// The client, so a node can reconnect without capturing it.
    pub client: WsClient,
}

/// Data of `pre_reconnect`: the reconnect policy plans attempt `attempt` in `delay`. A node
/// returning `None` stops reconnecting (the status goes `Closed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconnectEvent {
    /// The attempt's number, from 1 (counted across losses until a stable connection).
    pub attempt: u32,
    /// The wait before the attempt.
    pub delay: std::time::Duration,
}

/// The flows of every client, whatever its transport: calls, messages and frames.
///
/// A node returning `None` stops a "pre" flow: the call or send resolves with ClientError
/// `CANCELLED`, the received message is not handed to listeners, the frame is not sent.
#[derive(Debug, Default)]
pub struct ClientFlows {
    /// Before a call is encoded.
    pub pre_call_api: Flow<PreCallApiEvent>,
    /// Before a call returns (may replace the return).
    pub pre_api_return: Flow<ApiReturnEvent>,
    /// After a call returned.
    pub post_api_return: Flow<ApiReturnEvent>,
    /// Before a message is sent.
    pub pre_send_msg: Flow<MsgEvent>,
    /// After a message was sent.
    pub post_send_msg: Flow<MsgEvent>,
    /// Before a received message reaches the listeners (WebSocket: an HTTP client receives
    /// none).
    pub pre_recv_msg: Flow<MsgEvent>,
    /// After a received message reached the listeners (WebSocket).
    pub post_recv_msg: Flow<MsgEvent>,
    /// Before a frame (a WebSocket frame, an HTTP body) is written.
    pub pre_send_data: Flow<DataEvent>,
    /// Before a received frame is decoded.
    pub pre_recv_data: Flow<DataEvent>,
}

/// The flows of a [`WsClient`]: the connection flows, plus every flow of [`ClientFlows`]
/// (through `Deref`).
///
/// ```no_run
/// use rpc_runtime::WsClient;
/// let client = WsClient::new("ws://127.0.0.1:3000", Default::default());
/// // A connection flow, WebSocket only: reconnect after a drop the client did not ask for.
/// client.flows().post_disconnect.push(|ev| {
///     if !ev.is_manual {
///         let client = ev.client.clone();
///         tokio::spawn(async move { client.connect().await });
///     }
///     Some(ev)
/// });
/// // A call flow, on every client.
/// client.flows().pre_call_api.push(|ev| Some(ev));
/// ```
///
/// An HTTP client has no connection, so no connection flows:
///
/// ```compile_fail
/// use rpc_runtime::{HttpClient, RpcClient};
/// let client = HttpClient::new("http://127.0.0.1:3000", Default::default());
/// client.flows().post_disconnect.push(|ev| Some(ev));
/// ```
#[derive(Debug, Default)]
pub struct WsClientFlows {
    /// The flows every client has.
    common: ClientFlows,
    /// Before connecting: a node may answer `connect()` in its place.
    pub pre_connect: Flow<PreConnectEvent>,
    /// After connecting.
    pub post_connect: Flow<WsClient>,
    /// After leaving the connected state, once per loss (a node may reconnect; or let
    /// [`WsClientOptions::reconnect`](crate::client::WsClientOptions::reconnect) do it).
    pub post_disconnect: Flow<DisconnectEvent>,
    /// Before each attempt of the built-in reconnect
    /// ([`WsClientOptions::reconnect`](crate::client::WsClientOptions::reconnect)), before its
    /// delay: a node sees every planned attempt, and may stop reconnecting.
    pub pre_reconnect: Flow<ReconnectEvent>,
}

impl Deref for WsClientFlows {
    type Target = ClientFlows;
    fn deref(&self) -> &ClientFlows {
        &self.common
    }
}
