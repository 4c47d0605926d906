//! Flows: TSRPC's hook chains. A [`Flow`] is an ordered list of nodes run on a value; a node
//! may change it, or stop the chain (a "pre" flow then cancels what it guards). Every client
//! has the call, message and data flows of [`ClientFlows`]; a
//! [`WsClient`](crate::client::WsClient) also has the connection flows of [`WsClientFlows`]; a
//! server has [`ServerFlows`]. The `*Event` types are the data each flow carries.
//!
//! ```
//! use rpc_runtime::{HttpClient, RpcClient};
//! let client = HttpClient::new("http://127.0.0.1:3000", Default::default());
//! // Tag every call's request before it is encoded.
//! client.flows().pre_call_api.push(|mut ev| {
//!     ev.req["traceId"] = "abc".into();
//!     Some(ev)
//! });
//! assert_eq!(client.flows().pre_call_api.len(), 1);
//! ```

pub use crate::client::flows::{
    ApiReturnEvent, ClientFlows, DataEvent, DisconnectEvent, MsgEvent, PreCallApiEvent,
    PreConnectEvent, ReconnectEvent, WsClientFlows,
};
pub use crate::flow::{Flow, FlowNodeId};
pub use crate::server::flows::{
    ApiCallEvent, ApiReturnFlowEvent, ConnDataEvent, ConnDisconnectEvent, MsgCallEvent,
    SendMsgEvent, ServerFlows,
};
