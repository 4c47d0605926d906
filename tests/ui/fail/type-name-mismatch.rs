#[rpc_macros::service(protocols = "ui/fixtures/type-name-mismatch")]
pub mod chat {}

fn main() {}
