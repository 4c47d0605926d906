//! Servers: the builder ([`Server`]: implement APIs, listen to messages, start) and a running
//! server ([`RunningServer`]: its address, broadcasts, stop). A server speaks WebSocket, HTTP
//! or both on one port ([`Transports`]), with the limits of its [`ServerOptions`]; handlers
//! get an [`ApiCall`] or a [`MsgCall`] with the [`Connection`] it came on.

mod accept;
mod cluster;
mod conn;
mod core;
mod cors;
pub(crate) mod flows;
mod handle;
mod handler;
pub(crate) mod http;
mod http_req;
mod job;
mod listen;
mod local;
mod log;
mod metrics;
#[cfg(feature = "tower")]
mod mount;
mod msg_lane;
mod options;
mod reply;
mod rooms;
mod state;
pub(crate) mod ws;
mod ws_io;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use tokio::net::TcpListener;
use tokio::sync::Notify;

pub use self::accept::Transports;
pub use self::cluster::{
    instance_of, ClusterAdapter, ClusterError, ClusterMsg, ClusterTarget, CONN_COUNTER_BITS,
};
pub use self::conn::{ConnType, Connection};
use self::core::ServerCore;
pub use self::cors::Cors;
use self::flows::ServerFlows;
pub use self::handle::ServerHandle;
pub use self::handler::{ApiCall, HandlerError, HandlerResult, MsgCall};
use self::handler::{CallCtx, ErasedApi, ErasedMsg};
pub use self::http_req::HttpRequest;
pub use self::metrics::ServerMetrics;
#[cfg(feature = "tower")]
pub use self::mount::{MountedServer, RpcFuture, RpcService};
pub use self::options::ServerOptions;
pub use self::state::Extensions;
use crate::codec::Input;
pub use crate::listener::ListenerHandle;
use crate::listener::Listeners;
use crate::proto::{Api, Message, MsgEnum, ServiceProto};

/// Why [`Server::start`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Some APIs have no handler (and `allow_unimplemented` was not called).
    #[error("APIs without a handler: {}", .0.join(", "))]
    Unimplemented(Vec<String>),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
}

enum Bind {
    Addr(SocketAddr),
    Listener(std::net::TcpListener),
}

/// Binds `addr` and listens with `backlog` (as `TcpListener::bind`, which takes 128).
fn listen(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    // As the standard library's bind: a restarted server can take its port back at once.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// A server being set up: implement APIs, listen to messages, then [`start`](Self::start).
pub struct Server {
    proto: ServiceProto,
    bind: Bind,
    transports: Transports,
    options: ServerOptions,
    apis: HashMap<String, ErasedApi>,
    msgs: Listeners<ErasedMsg>,
    flows: Arc<ServerFlows>,
    allow_unimplemented: bool,
    cluster: Option<Arc<dyn ClusterAdapter>>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("service", &self.proto.name)
            .field("transports", &self.transports)
            .field("apis", &self.apis.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Server {
    /// A server for `proto` on `addr` speaking `transports`.
    pub fn new(
        proto: ServiceProto,
        addr: SocketAddr,
        transports: Transports,
        options: ServerOptions,
    ) -> Self {
        Server {
            proto,
            bind: Bind::Addr(addr),
            transports,
            options,
            apis: HashMap::new(),
            msgs: Listeners::new(),
            flows: Arc::new(ServerFlows::default()),
            allow_unimplemented: false,
            cluster: None,
        }
    }

    /// A WebSocket server on `addr` (`127.0.0.1:0` picks a free port).
    pub fn ws(proto: ServiceProto, addr: SocketAddr, options: ServerOptions) -> Self {
        Self::new(proto, addr, Transports::Ws, options)
    }

    /// An HTTP server on `addr`.
    pub fn http(proto: ServiceProto, addr: SocketAddr, options: ServerOptions) -> Self {
        Self::new(proto, addr, Transports::Http, options)
    }

    /// WebSocket and HTTP on one port.
    pub fn ws_and_http(proto: ServiceProto, addr: SocketAddr, options: ServerOptions) -> Self {
        Self::new(proto, addr, Transports::Both, options)
    }

    /// Serves on a listener bound already (instead of the address given).
    pub fn with_listener(mut self, listener: std::net::TcpListener) -> Self {
        self.bind = Bind::Listener(listener);
        self
    }

    /// The server's flows.
    pub fn flows(&self) -> &ServerFlows {
        &self.flows
    }

    /// Implements the API whose request type is `A`.
    pub fn implement_api<A, F, Fut>(mut self, handler: F) -> Self
    where
        A: Api,
        F: Fn(ApiCall<A>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult<A::Res>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let erased: ErasedApi = Arc::new(move |body: Input<'_>, ctx: CallCtx| {
            let req = body.decode::<A>()?;
            let out = ctx.out;
            let fut = handler(ApiCall {
                req,
                conn: ctx.conn,
                sn: ctx.sn,
                extensions: ctx.ext,
            });
            Ok(Box::pin(async move {
                let res = fut.await?;
                out.encode(&res).map_err(HandlerError::from)
            }))
        });
        self.apis.insert(A::NAME.to_owned(), erased);
        self
    }

    /// Implements an API by name, on JSON values (the untyped layer).
    pub fn implement_api_raw<F, Fut>(mut self, name: &str, handler: F) -> Self
    where
        F: Fn(ApiCall<serde_json::Value>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult<serde_json::Value>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let erased: ErasedApi = Arc::new(move |body: Input<'_>, ctx: CallCtx| {
            let req = body.value()?;
            let out = ctx.out;
            let fut = handler(ApiCall {
                req,
                conn: ctx.conn,
                sn: ctx.sn,
                extensions: ctx.ext,
            });
            Ok(Box::pin(async move {
                let res = fut.await?;
                out.encode_value(&res).map_err(HandlerError::from)
            }))
        });
        self.apis.insert(name.to_owned(), erased);
        self
    }

    /// Listens to the message `M`. Messages of one connection are handled in order, each
    /// listener's future finished before the next one starts; API calls of the connection run
    /// concurrently with them, so a slow listener does not hold up calls (see
    /// [`ServerOptions::msg_queue`](ServerOptions#structfield.msg_queue)).
    pub fn listen_msg<M, F, Fut>(self, handler: F) -> Self
    where
        M: Message,
        F: Fn(MsgCall<M>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.msgs.add_name(M::NAME, handler::erase_msg(handler));
        self
    }

    /// Listens to every message whose name matches `pattern`, decoded into the service's
    /// message enum `E`.
    pub fn listen_msg_matching<E, F, Fut>(self, pattern: Regex, handler: F) -> Self
    where
        E: MsgEnum,
        F: Fn(MsgCall<E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let erased: ErasedMsg = Arc::new(
            move |name: &str, body: Input<'_>, conn: Connection, ext: &Extensions| match E::decode(
                name,
                &body.json_text()?,
            )? {
                Some(msg) => Ok(Box::pin(handler(MsgCall {
                    msg,
                    conn,
                    extensions: ext.clone(),
                })) as _),
                None => Ok(Box::pin(async {}) as _),
            },
        );
        self.msgs.add_pattern(pattern, erased);
        self
    }

    /// Listens to a message by name, on JSON values (the untyped layer).
    pub fn listen_msg_raw<F, Fut>(self, name: &str, handler: F) -> Self
    where
        F: Fn(MsgCall<serde_json::Value>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.msgs.add_name(name, handler::erase_msg_raw(handler));
        self
    }

    /// Joins a cluster of server instances through `adapter` (such as
    /// `rpc_runtime::cluster::RedisCluster`, feature `redis`): broadcasts, room broadcasts and
    /// sends by connection id reach the connections of every instance, and connection ids
    /// carry the adapter's instance id (see [`instance_of`]). See docs/SCALE-OUT.md.
    pub fn cluster(mut self, adapter: Arc<dyn ClusterAdapter>) -> Self {
        self.cluster = Some(adapter);
        self
    }

    /// The core, with the cluster adapter plugged in and attached.
    fn build_core(self) -> Arc<ServerCore> {
        let core = Arc::new(ServerCore::new(
            self.proto,
            self.apis,
            self.msgs,
            self.flows,
            self.options,
        ));
        if let Some(c) = self.cluster {
            core.set_cluster(c.clone());
            c.attach(ServerHandle { core: core.clone() });
        }
        core
    }

    /// Lets [`start`](Self::start) succeed with APIs left unimplemented; calling one gets
    /// ServerError `UNHANDLED_API`.
    pub fn allow_unimplemented(mut self) -> Self {
        self.allow_unimplemented = true;
        self
    }

    /// Names of the APIs that have no handler yet.
    pub fn unimplemented_apis(&self) -> Vec<String> {
        self.proto
            .api_names()
            .filter(|n| !self.apis.contains_key(*n))
            .map(str::to_owned)
            .collect()
    }

    /// The server's core, without binding anything (the fuzz entry points serve it over
    /// in-memory pipes).
    #[cfg(feature = "fuzz")]
    pub(crate) fn into_core(self) -> Arc<ServerCore> {
        Arc::new(ServerCore::new(
            self.proto,
            self.apis,
            self.msgs,
            self.flows,
            self.options,
        ))
    }

    fn check_implemented(&self) -> Result<(), StartError> {
        let missing = self.unimplemented_apis();
        if !missing.is_empty() && !self.allow_unimplemented {
            return Err(StartError::Unimplemented(missing));
        }
        Ok(())
    }

    /// Serves inside a host application instead of on a port of its own (feature `tower`):
    /// the [`MountedServer`]'s [`service`](MountedServer::service) answers the WebSocket
    /// upgrades and HTTP requests routed to it, by the server's [`Transports`]; the address
    /// given to the constructor is not used. See [`MountedServer`] for axum, limits and
    /// shutdown. Fails as [`start`](Self::start) when APIs are unimplemented.
    #[cfg(feature = "tower")]
    pub fn mount(self) -> Result<MountedServer, StartError> {
        self.check_implemented()?;
        let transports = self.transports;
        Ok(MountedServer::new(self.build_core(), transports))
    }

    /// Binds and starts serving.
    pub async fn start(mut self) -> Result<RunningServer, StartError> {
        self.check_implemented()?;
        let bind = std::mem::replace(&mut self.bind, Bind::Addr(([0, 0, 0, 0], 0).into()));
        let listener = match bind {
            Bind::Addr(addr) => listen(addr, self.options.listen_backlog)
                .map_err(|source| StartError::Bind { addr, source })?,
            Bind::Listener(l) => {
                let addr = l.local_addr().unwrap_or_else(|_| ([0, 0, 0, 0], 0).into());
                l.set_nonblocking(true)
                    .and_then(|_| TcpListener::from_std(l))
                    .map_err(|source| StartError::Bind { addr, source })?
            }
        };
        let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: ([0, 0, 0, 0], 0).into(),
            source,
        })?;
        let transports = self.transports;
        let core = self.build_core();
        let shutdown = Arc::new(Notify::new());
        let task = tokio::spawn(accept::accept_loop(
            core.clone(),
            listener,
            transports,
            shutdown.clone(),
        ));
        Ok(RunningServer {
            handle: ServerHandle { core },
            local_addr,
            transports,
            shutdown,
            accept_task: task.abort_handle(),
        })
    }
}

/// A started server. Derefs to [`ServerHandle`] for connections and broadcasts.
#[derive(Debug)]
pub struct RunningServer {
    handle: ServerHandle,
    local_addr: SocketAddr,
    transports: Transports,
    shutdown: Arc<Notify>,
    accept_task: tokio::task::AbortHandle,
}

impl std::ops::Deref for RunningServer {
    type Target = ServerHandle;
    fn deref(&self) -> &ServerHandle {
        &self.handle
    }
}

impl RunningServer {
    /// The address it listens on (read the port back after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `ws://addr` or `http://addr`, for clients.
    pub fn url(&self) -> String {
        #[cfg(feature = "tls")]
        let tls = self.handle.core.options.tls.is_some();
        #[cfg(not(feature = "tls"))]
        let tls = false;
        let scheme = match (self.transports, tls) {
            (Transports::Http, false) => "http",
            (Transports::Http, true) => "https",
            (_, false) => "ws",
            (_, true) => "wss",
        };
        format!("{scheme}://{}", self.local_addr)
    }

    /// A handle to give to code that outlives this borrow.
    pub fn handle(&self) -> ServerHandle {
        self.handle.clone()
    }

    /// Stops: no new connections; every connection is closed with `Server stopped`; waits
    /// (up to the close timeout) for them to go.
    pub async fn stop(&self) {
        self.shutdown.notify_one();
        self.accept_task.abort();
        self.handle.core.stop().await;
    }

    /// Stops accepting, waits for pending API calls (at most `max_wait`), then
    /// [`stop`](Self::stop)s. Returns true when every pending call finished in time.
    pub async fn graceful_stop(&self, max_wait: Duration) -> bool {
        self.shutdown.notify_one();
        self.accept_task.abort();
        self.handle.core.graceful_stop(max_wait).await
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}
