use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Server -> client (last message of the burst sent by PtlGameBurst).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MsgGameOver {
    pub game_id: String,
    /// optional number (absent on a draw)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner: Option<f64>,
    /// literal union: encoded as a Union of Literal members in binary mode
    pub result: GameResult,
    pub draw: bool,
    pub scores: Vec<f64>,
}

/// `'win' | 'draw'`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GameResult {
    Win,
    Draw,
}
