use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JsonSchema, rpc_macros::Api)]
#[rpc(name = "Echo", response = ResEcho)]
pub struct ReqEcho {
    pub text: String,
}

#[derive(Serialize, Deserialize, JsonSchema)]
pub struct ResEcho {}

fn main() {}
