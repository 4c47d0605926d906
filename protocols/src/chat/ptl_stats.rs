use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Server-side counters, used to verify that sendMsg over HTTP reached the server.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ReqStats {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResStats {
    /// `uint`.
    pub chat_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_chat: Option<LastChat>,
}

/// `ResStats.lastChat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LastChat {
    pub name: String,
    pub content: String,
}
