use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Client -> server: the server broadcasts it to every connection (sender included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MsgUserLeave {
    pub room_id: String,
    pub user_id: f64,
    /// optional field
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
