mod manual {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, JsonSchema, rpc_macros::Message)]
    pub struct MsgPing {}
}

// The folder already has message `Ping` (msg_ping.rs).
#[rpc_macros::service(protocols = "ui/fixtures/duplicate", extra_msgs = [crate::manual::MsgPing])]
pub mod chat {}

fn main() {}
