use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Client -> server: the server broadcasts it to every connection (sender included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MsgUserJoin {
    pub room_id: String,
    /// nested object
    pub user: RoomUser,
    /// array of strings
    pub tags: Vec<String>,
}

/// `MsgUserJoin.user`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoomUser {
    pub id: f64,
    pub name: String,
}
