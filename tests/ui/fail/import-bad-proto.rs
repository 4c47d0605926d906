// A trailing comma: the proto object is not JSON. The error names the file, line and column.
#[rpc_macros::service(tsrpc_proto = "ui/fixtures/import/bad-json.ts")]
pub mod chat {}

fn main() {}
