#[rpc_macros::service(protocols = "ui/fixtures/pass-basic", protocol = "x", crate_path = "y")]
pub mod chat {}

fn main() {}
