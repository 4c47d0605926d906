//! The chat server mounted in an axum app, on one port: `cargo run -p rpc-examples --bin
//! chat_axum [ADDR]` (default `127.0.0.1:3000`). `GET /` and `GET /health` are the app's own
//! routes; TSRPC clients connect to `ws://ADDR/rpc` or `http://ADDR/rpc`. Ctrl-C stops it
//! gracefully. See `rpc_examples::chat_axum`.

use rpc_examples::chat_axum::{self, RPC_PATH};
use rpc_runtime::server::ServerOptions;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // The server's TSRPC-style log lines (connections, calls, messages) on stderr.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    println!("app on http://{local}/ (and /health)");
    println!("TSRPC endpoint: ws://{local}{RPC_PATH} and http://{local}{RPC_PATH}");
    println!("Ctrl-C to stop");
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
        println!("stopping");
    };
    chat_axum::serve(listener, ServerOptions::default(), ctrl_c).await
}
