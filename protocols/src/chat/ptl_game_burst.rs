use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// WebSocket only: the server sends game/GameStart, `frames` x game/GameFrame and game/GameOver
/// to the caller, then returns `sent` (= frames + 2). Over HTTP it returns an ApiError.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReqGameBurst {
    /// `uint`.
    pub frames: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResGameBurst {
    /// `uint`.
    pub sent: u64,
}
