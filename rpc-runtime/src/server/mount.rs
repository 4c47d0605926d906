//! Serving inside a host application (feature `tower`): [`Server::mount`](super::Server::mount)
//! gives a [`MountedServer`], whose [`RpcService`] is a tower `Service` answering the
//! WebSocket upgrades and HTTP requests of the endpoint. The host owns the port, the accept
//! loop, HTTP keep-alive and its middleware; the endpoint owns its connections.
//!
//! In axum, nest it at a path, next to the app's own routes and under its layers:
//!
//! ```no_run
//! # #[cfg(feature = "axum")]
//! # async fn demo(server: rpc_runtime::Server) -> Result<(), Box<dyn std::error::Error>> {
//! let rpc = server.mount()?;
//! let app = axum::Router::new()
//!     .route("/health", axum::routing::get(|| async { "ok" }))
//!     .nest_service("/rpc", rpc.service());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
//! # drop(stop_tx);
//! axum::serve(
//!     listener,
//!     app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
//! )
//! .with_graceful_shutdown(async move {
//!     let _ = stop_rx.await;
//!     // Close the endpoint's WebSocket connections (axum does not wait for upgraded ones):
//!     // pending calls get up to 5 s first.
//!     rpc.graceful_stop(std::time::Duration::from_secs(5)).await;
//! })
//! .await?;
//! # Ok(()) }
//! ```
//!
//! Clients reach it under the prefix: `ws://host:3000/rpc` (any path under it upgrades) and
//! `http://host:3000/rpc/` (TSRPC's HTTP client posts JSON to `<server>/<api name>`; axum's
//! `nest_service` strips `/rpc` before the endpoint sees the path).
//!
//! Mounted, the limits of [`ServerOptions`](super::ServerOptions) apply as on a port of the
//! endpoint's own, with one difference: the host's server owns the TCP connections, so
//! `max_connections` counts what the endpoint holds: each WebSocket connection for as long as
//! it is open, and each HTTP request while it is read and answered (an idle keep-alive
//! connection of the host counts nothing). A request past the limit gets the same `503`
//! ServerError `SERVER_FULL` answer. `max_body_size`, `body_timeout`, the send queues and
//! `max_queued_bytes`, pings and heartbeats are as on a port of its own; the time allowed for a
//! request head (`handshake_timeout` on a port of its own) is the host server's.
//!
//! The client address of a connection ([`Connection::ip`](super::Connection)) is the
//! `SocketAddr` in the request's extensions (axum's `ConnectInfo<SocketAddr>` with feature
//! `axum`, as `into_make_service_with_connect_info` puts it there, or a bare `SocketAddr` a
//! hyper host inserts), else `0.0.0.0:0`.
//!
//! # Shutdown
//!
//! [`MountedServer::stop`] and [`graceful_stop`](MountedServer::graceful_stop) work as on a
//! [`RunningServer`](super::RunningServer): every WebSocket connection of the endpoint is
//! closed with `Server stopped` (after pending calls finish, for the graceful one), and from
//! then on every request to the endpoint is answered `503` (a WebSocket upgrade is closed at
//! once with code 1012, as TSRPC). The host's routes and its listener are the host's: call the
//! endpoint's stop from the host's graceful-shutdown future (as above), so upgraded WebSocket
//! connections, which the host's server no longer tracks, are closed before it returns.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};

use super::accept::Transports;
use super::core::ServerCore;
use super::handle::ServerHandle;
use super::http::{self, ReqBody};

/// A server serving inside a host application (from [`Server::mount`](super::Server::mount)):
/// its [`service`](Self::service) to route requests to, and [`stop`](Self::stop). Derefs to
/// [`ServerHandle`] for connections and broadcasts.
#[derive(Debug)]
pub struct MountedServer {
    handle: ServerHandle,
    transports: Transports,
}

impl std::ops::Deref for MountedServer {
    type Target = ServerHandle;
    fn deref(&self) -> &ServerHandle {
        &self.handle
    }
}

impl MountedServer {
    pub(super) fn new(core: Arc<ServerCore>, transports: Transports) -> Self {
        MountedServer {
            handle: ServerHandle { core },
            transports,
        }
    }

    /// The endpoint as a tower `Service` (a cheap clone): give it to the host's router, e.g.
    /// axum's `Router::nest_service("/rpc", mounted.service())`.
    pub fn service(&self) -> RpcService {
        RpcService {
            core: self.handle.core.clone(),
            transports: self.transports,
        }
    }

    /// A handle to give to code that outlives this borrow.
    pub fn handle(&self) -> ServerHandle {
        self.handle.clone()
    }

    /// Stops: every request from now on is answered `503`; every WebSocket connection is
    /// closed with `Server stopped`; waits (up to the close timeout) for them to go.
    pub async fn stop(&self) {
        self.handle.core.stop().await;
    }

    /// Refuses new requests, waits for pending API calls (at most `max_wait`), then
    /// [`stop`](Self::stop)s. Returns true when every pending call finished in time.
    pub async fn graceful_stop(&self, max_wait: Duration) -> bool {
        self.handle.core.graceful_stop(max_wait).await
    }
}

/// The endpoint of a [`MountedServer`] as a tower `Service` over `http::Request`s of any body
/// of [`Bytes`]: WebSocket upgrades (when the server speaks WebSocket) and TSRPC's HTTP
/// requests (when it speaks HTTP), answered exactly as on a port of its own.
#[derive(Clone)]
pub struct RpcService {
    core: Arc<ServerCore>,
    transports: Transports,
}

impl fmt::Debug for RpcService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpcService")
            .field("service", &self.core.proto.name)
            .field("transports", &self.transports)
            .finish()
    }
}

/// The future of `RpcService`'s `Service::call`.
pub type RpcFuture =
    Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

impl<B: ReqBody> tower_service::Service<Request<B>> for RpcService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = RpcFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> RpcFuture {
        let core = self.core.clone();
        let transports = self.transports;
        Box::pin(async move { Ok(serve(core, req, transports).await) })
    }
}

async fn serve<B: ReqBody>(
    core: Arc<ServerCore>,
    req: Request<B>,
    transports: Transports,
) -> Response<Full<Bytes>> {
    let remote = remote_addr(&req);
    if transports == Transports::Ws && !http::wants_websocket(req.headers()) {
        // A WebSocket-only endpoint: what a plain request gets from a WebSocket server.
        return http::upgrade_required();
    }
    let Some(slot) = core.open_socket() else {
        tracing::warn!("request from {remote} refused (503): max_connections reached");
        return http::server_full(&core, req.headers().get(hyper::header::ORIGIN));
    };
    let upgrade = transports != Transports::Http;
    http::respond(core, req, remote, upgrade, Some(slot)).await
}

fn remote_addr<B>(req: &Request<B>) -> SocketAddr {
    let ext = req.extensions();
    #[cfg(feature = "axum")]
    if let Some(info) = ext.get::<axum::extract::ConnectInfo<SocketAddr>>() {
        return info.0;
    }
    ext.get::<SocketAddr>()
        .copied()
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)))
}
