use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Sleeps `ms` milliseconds, then returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReqSlow {
    /// `uint`.
    pub ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResSlow {
    /// `uint`.
    pub slept_ms: u64,
}
