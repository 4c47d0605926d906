//! Serving TSRPC over HTTP (JSON mode). Placeholder until the HTTP transport lands.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpStream;

use super::core::ServerCore;

/// Serves one TCP connection as HTTP (or, with `upgrade`, as WebSocket when asked).
pub(crate) async fn serve_conn(
    core: Arc<ServerCore>,
    stream: TcpStream,
    remote: SocketAddr,
    upgrade: bool,
) {
    if upgrade {
        super::ws::accept(core, stream, remote).await;
    }
}
