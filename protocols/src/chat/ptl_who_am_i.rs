use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Who the connection is logged in as (`Login` over WebSocket keeps a session on the
/// connection). Guarded: without a session the call is refused with ApiError `NEED_LOGIN`
/// before its handler runs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ReqWhoAmI {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResWhoAmI {
    pub id: f64,
    pub name: String,
}

/// TSRPC's `conf` of this service (`export const conf` in TypeScript), as JSON: the service
/// macro puts it in the service proto, where the server's `pre_api_call` flow reads it.
#[allow(dead_code)]
const CONF: &str = r#"{"needLogin":true}"#;
