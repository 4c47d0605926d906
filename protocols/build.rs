//! Rebuilds the crate when a protocol file is added or removed (edits are tracked by the
//! macro's `include_str!`s).

fn main() {
    rpc_codegen::watch("src/chat");
    rpc_codegen::watch("src/bench");
}
