//! The chat server mounted in an axum app: TSRPC's WebSocket and HTTP endpoint at `/rpc`, next
//! to the app's own routes (`/` and `/health`), on one port. Run it with
//! `cargo run -p rpc-examples --bin chat_axum` and point a TSRPC client (browser or Node) at
//! `ws://127.0.0.1:3000/rpc` or `http://127.0.0.1:3000/rpc`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rpc_runtime::server::{MountedServer, ServerOptions, StartError};

use crate::chat;
use crate::chat_server;

/// Where the endpoint is mounted.
pub const RPC_PATH: &str = "/rpc";

/// The app: `GET /` (a page saying where the endpoint is), `GET /health` (`ok`), and the chat
/// server (WebSocket and HTTP, both of TSRPC's modes) nested at [`RPC_PATH`]. Returns the
/// mounted server too, for broadcasts and for stopping it.
pub fn app(options: ServerOptions) -> Result<(axum::Router, Arc<MountedServer>), StartError> {
    // The address of `ws_and_http` is not used by a mounted server: axum owns the port.
    let unused = SocketAddr::from(([127, 0, 0, 1], 0));
    let server = chat_server::build(chat::Server::ws_and_http(unused, options));
    let rpc = Arc::new(server.into_inner().mount()?);
    let router = axum::Router::new()
        .route(
            "/",
            axum::routing::get(|| async {
                format!("chat server: TSRPC endpoint at {RPC_PATH} (WebSocket and HTTP)\n")
            }),
        )
        .route("/health", axum::routing::get(|| async { "ok" }))
        .nest_service(RPC_PATH, rpc.service());
    Ok((router, rpc))
}

/// Serves [`app`] on `listener` until `shutdown` resolves; then stops the endpoint gracefully
/// (pending calls get up to 5 s, then its WebSocket connections are closed) and axum finishes
/// the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (router, rpc) = app(options).map_err(std::io::Error::other)?;
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        rpc.graceful_stop(Duration::from_secs(5)).await;
    })
    .await
}
