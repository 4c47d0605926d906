use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// W4: `Chat(i)`: `name = "bot"`, `content` exactly 100 ASCII bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MsgChat {
    pub name: String,
    pub content: String,
}
