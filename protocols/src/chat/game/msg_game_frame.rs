use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Server -> client (part of the burst sent by PtlGameBurst).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MsgGameFrame {
    /// uint: varint
    pub frame: u64,
    pub inputs: Vec<FrameInput>,
    /// optional
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

/// One entry of `MsgGameFrame.inputs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FrameInput {
    pub player_id: f64,
    /// int: zigzag varint
    pub dx: i64,
    pub dy: i64,
}
