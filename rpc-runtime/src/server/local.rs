//! Calling the server's own APIs in process (TSRPC's `server.callApi`): for tests, and for one
//! service calling another without a socket. The call goes through what a remote call does:
//! its request is checked against the API's type, then `pre_api_call`, the handler (with the
//! API timeout, a panic caught), `pre_api_return`, `post_api_return` and `post_api_call`; it
//! counts as pending for `graceful_stop`. Only the transport is skipped: no data flows, no
//! `post_connect` / `post_disconnect`.
//!
//! The call's [`Connection`] is a short one, as an HTTP call's
//! ([`ConnType::Http`](super::ConnType::Http), `sn` 0), with no HTTP request behind it
//! ([`Connection::http_request`] is `None`) and `127.0.0.1` as its IP; it cannot be sent
//! messages.

use std::net::SocketAddr;
use std::sync::Mutex;

use serde_json::Value;

use super::conn::{ConnKind, Connection};
use super::handle::ServerHandle;
use crate::codec::{Input, Out, Payload};
use crate::error::TsrpcError;
use crate::proto::Api;

impl ServerHandle {
    /// Calls API `A` of this server in process, through the same checks and flows as a remote
    /// call (see the module doc); the error is what a remote caller would get.
    ///
    /// ```no_run
    /// # async fn f(server: rpc_runtime::ServerHandle) -> Result<(), rpc_runtime::TsrpcError> {
    /// # #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
    /// # struct ReqAdd { a: f64, b: f64 }
    /// # #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
    /// # struct ResAdd { c: f64 }
    /// # impl rpc_runtime::Api for ReqAdd { const NAME: &'static str = "Add"; type Res = ResAdd; }
    /// let res = server.call_api(ReqAdd { a: 1.0, b: 2.0 }).await?;
    /// assert_eq!(res.c, 3.0);
    /// # Ok(()) }
    /// ```
    pub async fn call_api<A: Api>(&self, req: A) -> Result<A::Res, TsrpcError> {
        let json = crate::json::to_string(&req).map_err(|e| TsrpcError::client(e.to_string()))?;
        let text = self.call_json(A::NAME, &json).await?;
        crate::proto::decode_json::<A::Res>(&text).map_err(TsrpcError::client)
    }

    /// Calls an API by name with a JSON request, in process (the untyped layer).
    pub async fn call_api_raw(&self, name: &str, req: &Value) -> Result<Value, TsrpcError> {
        let json =
            crate::json::to_string_untyped(req).map_err(|e| TsrpcError::client(e.to_string()))?;
        let text = self.call_json(name, &json).await?;
        serde_json::from_str(&text).map_err(|e| TsrpcError::client(e.to_string()))
    }

    async fn call_json(&self, name: &str, json: &str) -> Result<String, TsrpcError> {
        let core = &self.core;
        let conn: Connection = core.new_conn(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            None,
            ConnKind::Http {
                close_reason: Mutex::new(None),
            },
        );
        let job = core
            .dispatch_api(&conn, name, 0, Input::json(json), (Out::Json, 0))
            .map_err(|e| TsrpcError::input_data(e.ws_reason()))?;
        match job.run().await? {
            Payload::Json(text) => Ok(text),
            Payload::Bin(_) => Err(TsrpcError::internal(Some(
                "binary return in process".into(),
            ))),
        }
    }
}
