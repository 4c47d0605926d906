// `interface MsgCard extends Omit<Profile, 'secret'>`: TSBuffer's binary encoder drops the
// inherited fields, so the import refuses it.
#[rpc_macros::service(tsrpc_proto = "ui/fixtures/import/extends-omit.ts")]
pub mod cards {}

fn main() {}
