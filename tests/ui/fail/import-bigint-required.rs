// `skip_unsupported_optional_fields` leaves out the optional `BigInt64Array` field; the
// required `bigint` field is still refused.
#[rpc_macros::service(
    tsrpc_proto = "ui/fixtures/import/bigint.json",
    skip_unsupported_optional_fields = true
)]
pub mod pay {}

fn main() {}
