//! Raw bytes of an HTTP/1.1 connection: request line, headers, body (chunked or not), several
//! requests (keep-alive), and WebSocket upgrades followed by frames.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rpc_fuzz::server().http_request(data);
});
