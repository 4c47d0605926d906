mod manual {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    // Named `Echo` by its derive: only rustc sees that name, so the check is a constant.
    #[derive(Serialize, Deserialize, JsonSchema, rpc_macros::Api)]
    #[rpc(name = "Echo", res = ResSay)]
    pub struct ReqSay {
        pub text: String,
    }

    #[derive(Serialize, Deserialize, JsonSchema)]
    pub struct ResSay {}
}

#[rpc_macros::service(protocols = "ui/fixtures/duplicate", extra_apis = [crate::manual::ReqSay])]
pub mod chat {}

fn main() {}
