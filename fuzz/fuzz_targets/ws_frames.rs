//! Raw bytes a WebSocket client sends after the handshake: frames (masked or not, fragmented,
//! control frames, any length), then the envelope, name, typed decode, dispatch and reply.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rpc_fuzz::server().ws_frames(data);
});
