use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Client -> server: the server echoes it back to the sender only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MsgChat {
    pub name: String,
    pub content: String,
}
