// A service is a Rust protocol folder or an imported TSRPC proto, not both.
#[rpc_macros::service(protocols = "ui/fixtures/pass-basic", tsrpc_proto = "ui/fixtures/import/bigint.json")]
pub mod chat {}

fn main() {}
