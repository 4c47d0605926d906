//! The chat server as a process of its own, for fault tests that kill and restart it and for
//! the soak.
//!
//! `chat-server <port>` binds `127.0.0.1:<port>` (0 picks one), serves WebSocket and HTTP, and
//! prints `READY ws://127.0.0.1:<port> pid=<pid>`. A line `heap` on its standard input prints
//! `HEAP <bytes>`: its live heap (bytes allocated and not freed, from a counting allocator),
//! which, unlike the resident size, does not depend on what the allocator keeps for reuse. It
//! exits when its standard input closes.

use std::alloc::System;

use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use tokio::io::{AsyncBufReadExt, BufReader};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args()
        .nth(1)
        .unwrap_or_default()
        .parse()
        .unwrap_or(0);
    let server = rpc_examples::chat_server::start_ws_and_http(
        std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        rpc_runtime::server::ServerOptions::default(),
    )
    .await?;
    println!(
        "READY ws://{} pid={}",
        server.local_addr(),
        std::process::id()
    );
    let mut commands = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(command)) = commands.next_line().await {
        if command.trim() == "heap" {
            let stats = GLOBAL.stats();
            println!(
                "HEAP {}",
                stats.bytes_allocated as i64 - stats.bytes_deallocated as i64
            );
        }
    }
    server.stop().await;
    Ok(())
}
