#[rpc_macros::service(protocols = "ui/fixtures/missing-res")]
pub mod chat {}

fn main() {}
