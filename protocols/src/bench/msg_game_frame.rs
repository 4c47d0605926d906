use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// W3: `GameFrame(i)`: `frame = i`, four inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MsgGameFrame {
    pub frame: u64,
    pub inputs: Vec<PlayerInput>,
}

/// One entry of `MsgGameFrame.inputs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlayerInput {
    pub player: u32,
    pub x: f64,
    pub y: f64,
}
