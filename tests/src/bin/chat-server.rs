//! The chat server as a process of its own, for fault tests that kill and restart it.
//!
//! `chat-server <port>` binds `127.0.0.1:<port>` (0 picks one), serves WebSocket and HTTP, and
//! prints `READY ws://127.0.0.1:<port> pid=<pid>`. It exits when its standard input closes.

use tokio::io::AsyncReadExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args()
        .nth(1)
        .unwrap_or_default()
        .parse()
        .unwrap_or(0);
    let server = rpc_examples::chat_server::start_ws_and_http(
        std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        rpc_runtime::ServerOptions::default(),
    )
    .await?;
    println!(
        "READY ws://{} pid={}",
        server.local_addr(),
        std::process::id()
    );
    let mut sink = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    server.stop().await;
    Ok(())
}
