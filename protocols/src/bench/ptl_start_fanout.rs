use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// W4: returns `{}`, then the server broadcasts `m` x `Chat` to every connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReqStartFanout {
    pub m: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ResStartFanout {}
