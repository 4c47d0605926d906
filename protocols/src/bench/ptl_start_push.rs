use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// W3: returns `{}`, then the server pushes `n` x `GameFrame` to the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReqStartPush {
    pub n: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ResStartPush {}
