#[rpc_macros::service(protocols = "ui/fixtures/wire-borrowed")]
pub mod chat {}

fn main() {}
