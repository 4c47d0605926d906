#[rpc_macros::service(protocols = "ui/fixtures/missing-req")]
pub mod chat {}

fn main() {}
