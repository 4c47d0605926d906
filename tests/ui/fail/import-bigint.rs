// TSRPC cannot send a `bigint` (JSON.stringify throws on it) nor a `BigInt64Array` (TSBuffer
// cannot encode it): the import refuses both, naming each field.
#[rpc_macros::service(tsrpc_proto = "ui/fixtures/import/bigint.json")]
pub mod pay {}

fn main() {
    // The fallback expansion still declares the generated items: no follow-on errors here.
    let _ = pay::service_proto();
}
