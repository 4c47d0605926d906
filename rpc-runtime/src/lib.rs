//! The tokio runtime of a Rust framework that speaks TSRPC 3.4.
//!
//! Clients ([`WsClient`], [`HttpClient`]) and servers ([`Server`]) for TSRPC's wire protocol
//! (JSON mode), with TSRPC's programming model: APIs matched by serial number, messages heard by
//! name or by regex over names, flows (hook chains), heartbeats, timeouts and [`TsrpcError`]s.
//!
//! There are three layers: an untyped one by service name (`call_raw`, `send_msg_raw`, ...);
//! a typed-generic one over the [`Api`] and [`Message`] traits (`call_api`, `send_msg`,
//! `listen_msg`); and the typed methods that `rpc_macros::service` generates from a protocol
//! folder (`call_login`, `send_msg_chat`, ...), thin sugar over the second.
//!
//! ```no_run
//! use rpc_runtime::{RpcClient, Server, ServerOptions, ServiceDef, ServiceKind, ServiceProto, WsClient};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let proto = ServiceProto::new("demo").with(ServiceDef::named("Add", ServiceKind::Api));
//! let server = Server::ws(proto, "127.0.0.1:0".parse()?, ServerOptions::default())
//!     .implement_api_raw("Add", |call| async move {
//!         let c = call.req["a"].as_f64().unwrap_or(0.0) + call.req["b"].as_f64().unwrap_or(0.0);
//!         Ok(serde_json::json!({ "c": c }))
//!     })
//!     .start()
//!     .await?;
//! let client = WsClient::new(server.url(), Default::default());
//! client.connect().await?;
//! let res = client.call_raw("Add", &serde_json::json!({"a": 1, "b": 2}), Default::default()).await?;
//! assert_eq!(res["c"], 3);
//! server.stop().await;
//! # Ok(()) }
//! ```

#[doc(hidden)]
#[path = "fuzz.rs"]
pub mod __fuzz;
mod client;
mod codec;
mod error;
mod flow;
pub mod json;
mod listener;
mod server;
mod service;
mod validate;
mod ws_link;
mod ws_util;

pub use client::http::{HttpClient, HttpClientOptions};
pub use client::ws::{Heartbeat, WsClient, WsClientOptions, WsStatus};
#[doc(hidden)]
pub use client::ClientCore;
pub use client::{
    ApiReturnEvent, CallOptions, ClientFlows, DataEvent, DisconnectEvent, MsgEvent,
    PreCallApiEvent, PreConnectEvent, RpcClient,
};
pub use codec::{Codec, INVALID_BUFFER_REASON};
pub use error::{codes, ApiReturn, ErrorCode, ErrorType, TsrpcError};
pub use flow::{Flow, FlowNodeId};
pub use listener::ListenerHandle;
pub use server::{
    ApiCall, ApiCallEvent, ApiReturnFlowEvent, ConnDataEvent, ConnDisconnectEvent, ConnType,
    Connection, HandlerError, HandlerResult, MsgCall, MsgCallEvent, RunningServer, Server,
    ServerFlows, ServerHandle, ServerOptions, StartError, Transports, FRAME_TOO_BIG_REASON,
    INVALID_UTF8_REASON, SEND_QUEUE_FULL_REASON,
};
pub use service::{Api, Message, MsgEnum, ServiceDef, ServiceKind, ServiceProto};

/// Decodes JSON into `T`; on failure the error is TSRPC's text for it (as a server would close
/// a connection with, e.g. ``Property `a`: Expected type to be `number`, actually `string`.``).
pub fn decode_json<T: serde::de::DeserializeOwned + schemars::JsonSchema>(
    json: &str,
) -> Result<T, String> {
    validate::decode(json)
}

/// What generated code uses. Not public API: it may change at any time.
#[doc(hidden)]
pub mod __codegen {
    pub use crate::{
        decode_json, Api, ApiCall, ApiReturn, CallOptions, Connection, HandlerResult, HttpClient,
        HttpClientOptions, ListenerHandle, Message, MsgCall, MsgEnum, RpcClient, RunningServer,
        Server, ServerHandle, ServerOptions, ServiceDef, ServiceKind, ServiceProto, StartError,
        TsrpcError, WsClient, WsClientOptions,
    };
    pub use regex::Regex;
    pub use {schemars, serde, serde_json};
}
