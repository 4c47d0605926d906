use std::collections::HashMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JsonSchema, rpc_macros::Message)]
pub struct MsgScores {
    pub by_round: HashMap<u32, u32>,
    pub by_cell: HashMap<(u8, u8), u32>,
}

fn main() {}
