mod manual {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, JsonSchema, rpc_macros::Api)]
    pub struct ReqEcho {
        pub text: String,
    }

    #[derive(Serialize, Deserialize, JsonSchema)]
    pub struct ResEcho {
        pub text: String,
    }
}

// The folder already has API `Echo` (ptl_echo.rs).
#[rpc_macros::service(protocols = "ui/fixtures/duplicate", extra_apis = [crate::manual::ReqEcho])]
pub mod chat {}

fn main() {}
