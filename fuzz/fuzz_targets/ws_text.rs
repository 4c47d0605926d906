//! One valid masked text frame whose payload is the input: the JSON layer, deep (envelope,
//! name, typed decode, dispatch, handler, reply).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rpc_fuzz::server().ws_text(data);
});
