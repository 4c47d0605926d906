use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Returns success, then (WebSocket only) the server closes this connection
/// with `conn.close(reason)`. Over HTTP it simply returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReqKick {
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ResKick {}
