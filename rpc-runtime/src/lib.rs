//! The tokio runtime of a Rust framework that speaks TSRPC 3.4: clients ([`WsClient`],
//! [`HttpClient`]) and servers ([`Server`]) for TSRPC's wire protocol, with TSRPC's
//! programming model: APIs matched by serial number, messages heard by name or by regex over
//! names, [`flows`] (hook chains), heartbeats, timeouts and [`TsrpcError`]s.
//!
//! Both of TSRPC's modes, as TSRPC has them: binary (TSBuffer, TSRPC's default) and JSON. A
//! client speaks binary unless its options say `json(true)` (binary needs the service's TSRPC
//! proto, which the generated `Client::ws` / `Client::http` carry; a client built without one
//! speaks JSON); a server answers both, each connection in its own data type, unless
//! [`ServerOptions::json`](server::ServerOptions#structfield.json) is `false` (binary only).
//!
//! There are three layers: the typed methods that the [`service`] attribute generates from a
//! folder of protocol files (`call_login`, `send_msg_chat`, ...); under them, a typed-generic
//! one over the [`Api`] and [`Message`] traits (`call_api`, `send_msg`, `listen_msg`); and an
//! untyped one by service name (`call_raw`, `send_msg_raw`, ...), shown here:
//!
//! ```no_run
//! use rpc_runtime::proto::{ServiceDef, ServiceKind, ServiceProto};
//! use rpc_runtime::{RpcClient, Server, WsClient};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let proto = ServiceProto::new("demo").with(ServiceDef::named("Add", ServiceKind::Api));
//! let server = Server::ws(proto, "127.0.0.1:0".parse()?, Default::default())
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
//!
//! The crate root holds what most programs name; the rest is in modules: [`client`] and
//! [`server`] (with their options), [`proto`] (what a service is made of), [`flows`],
//! [`codes`] (TSRPC's error codes), [`reasons`] (close reasons), [`json`] and [`types`] (the
//! value types of imported TSRPC protocols: `Date`, `ObjectId`, bytes, typed arrays, maps).
//!
//! # Features
//!
//! - `macros` (default): the [`service`] attribute and the `Api` / `Message` derives, from
//!   `rpc-macros`, so a service crate needs no other dependency for them.
//! - `tls`: `wss://` and `https://`, for clients and servers, with rustls.
//! - `tower`: `Server::mount`: the server as a tower `Service` inside a host application
//!   (axum, hyper), sharing its port and middleware (`server::MountedServer`).
//! - `axum`: `tower`, and a mounted server reads the client's address from axum's
//!   `ConnectInfo`.

#[cfg(feature = "fuzz")]
#[doc(hidden)]
#[path = "fuzz.rs"]
pub mod __fuzz;
pub mod client;
#[cfg(feature = "redis")]
pub mod cluster;
mod codec;
mod error;
mod flow;
pub mod flows;
pub mod json;
mod listener;
pub mod proto;
pub mod reasons;
pub mod server;
mod tsbuffer;
pub mod types;
mod validate;
mod ws_link;
mod ws_util;

pub use client::{CallOptions, HttpClient, RpcClient, WsClient};
pub use error::{codes, ApiReturn, ErrorCode, ErrorType, TsrpcError};
pub use proto::{Api, Message, MsgEnum};
#[cfg(feature = "macros")]
pub use rpc_macros::{service, Api, Message};
pub use server::{
    ApiCall, Connection, HandlerError, HandlerResult, MsgCall, RunningServer, Server, ServerHandle,
};

/// TSBuffer, TSRPC's binary encoding, driven by the service proto: for the transports, the
/// generated code and the tests. Not public API: it may change at any time.
#[doc(hidden)]
pub mod __tsbuffer {
    pub use crate::tsbuffer::{
        transport, Error, ErrorKind, LazyProto, Proto, SchemaId, ServiceSchemas, INVALID_BUFFER,
    };
}

/// What generated code uses. Not public API: it may change at any time.
#[doc(hidden)]
pub mod __codegen {
    pub use crate::client::{
        CallOptions, HttpClient, HttpClientOptions, ListenerHandle, RpcClient, WsClient,
        WsClientOptions,
    };
    pub use crate::error::{ApiReturn, TsrpcError};
    pub use crate::proto::{
        decode_json, Api, Message, MsgEnum, ServiceDef, ServiceKind, ServiceProto,
    };
    pub use crate::server::{
        ApiCall, Connection, HandlerResult, MsgCall, RunningServer, Server, ServerHandle,
        ServerOptions, StartError,
    };
    pub use regex::Regex;
    pub use {schemars, serde, serde_json};
}
