#[rpc_macros::service(protocols = "ui/fixtures/wire-alias")]
pub mod chat {}

fn main() {}
