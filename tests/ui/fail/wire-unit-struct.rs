#[rpc_macros::service(protocols = "ui/fixtures/wire-unit-struct")]
pub mod chat {}

fn main() {}
