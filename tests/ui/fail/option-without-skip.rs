#[rpc_macros::service(protocols = "ui/fixtures/option-without-skip")]
pub mod chat {}

fn main() {}
