#[rpc_macros::service(protocols = "ui/fixtures/wire-option-alias")]
pub mod chat {}

fn main() {}
