#[rpc_macros::service(protocols = "ui/fixtures/wire-map-key")]
pub mod chat {}

fn main() {}
