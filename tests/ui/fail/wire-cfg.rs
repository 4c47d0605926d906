#[rpc_macros::service(protocols = "ui/fixtures/wire-cfg")]
pub mod chat {}

fn main() {}
