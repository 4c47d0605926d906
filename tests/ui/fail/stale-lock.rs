// `ui/fixtures/stale-lock.proto.json` is the proto lock of an older `ui/fixtures/stale-lock`,
// and this crate has no build script to keep it current.
#[rpc_macros::service(protocols = "ui/fixtures/stale-lock")]
pub mod chat {}

fn main() {}
