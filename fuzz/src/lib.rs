//! The server every fuzz target feeds: the reference chat server, never bound to a socket.

use std::sync::OnceLock;
use std::time::Duration;

use protocols::chat;
use rpc_runtime::__fuzz::FuzzServer;
use rpc_runtime::server::ServerOptions;

/// Small limits, so that the fuzzer reaches the oversize paths (close 1009, HTTP 413) with
/// small inputs, and a short API timeout, so that a `Slow` call cannot outlive its input by
/// much. The same as `tests/tests/fuzz_props.rs` uses.
pub fn options() -> ServerOptions {
    ServerOptions::default()
        .api_timeout(Some(Duration::from_millis(200)))
        .max_frame_size(64 * 1024)
        .max_body_size(64 * 1024)
}

/// The chat server of `rpc_examples::chat_server`, built once per process.
pub fn server() -> &'static FuzzServer {
    static SERVER: OnceLock<FuzzServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let addr = ([127, 0, 0, 1], 0).into();
        let server = rpc_examples::chat_server::build(chat::Server::ws(addr, options()));
        FuzzServer::new(server.into_inner())
    })
}
