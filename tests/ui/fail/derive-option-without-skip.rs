use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

// Types declared by hand are checked by their derive, with the error on the field itself.
#[derive(Serialize, Deserialize, JsonSchema, rpc_macros::Message)]
pub struct MsgEcho {
    pub text: String,
    pub times: Option<u32>,
}

fn main() {}
