//! Rebuilds the crate when a protocol file is added or removed (edits are tracked by the
//! macro's `include_str!`s), and keeps the proto locks `src/chat.proto.json` and
//! `src/bench.proto.json` (TSRPC's ids, committed) current.

fn main() {
    rpc_codegen::watch("src/chat");
    rpc_codegen::watch("src/bench");
}
