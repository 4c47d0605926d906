use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Server -> client (part of the burst sent by PtlGameBurst).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MsgGameStart {
    pub game_id: String,
    /// uint: varint in binary mode
    pub seed: u64,
    /// array of nested objects
    pub players: Vec<Player>,
}

/// One entry of `MsgGameStart.players`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Player {
    pub id: f64,
    pub name: String,
}
