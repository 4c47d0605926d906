#[rpc_macros::service(protocols = "ui/fixtures/wire-generic")]
pub mod chat {}

fn main() {}
