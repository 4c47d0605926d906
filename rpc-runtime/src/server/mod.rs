//! Servers: the builder, options, and a running server.

mod conn;
mod core;
mod flows;
mod handler;
pub(crate) mod http;
pub(crate) mod ws;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use regex::Regex;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use self::conn::QueueError;
pub use self::conn::{ConnType, Connection, SEND_QUEUE_FULL_REASON};
use self::core::{ServerCore, SocketGuard};
pub use self::flows::{
    ApiCallEvent, ApiReturnFlowEvent, ConnDataEvent, ConnDisconnectEvent, MsgCallEvent, ServerFlows,
};
pub use self::handler::{ApiCall, HandlerError, HandlerResult, MsgCall};
use self::handler::{CallCtx, ErasedApi, ErasedMsg};
pub use self::ws::{FRAME_TOO_BIG_REASON, INVALID_UTF8_REASON};
use crate::error::TsrpcError;
use crate::listener::Listeners;
use crate::service::{Api, Message, MsgEnum, ServiceProto};

/// Options of a server. Defaults match TSRPC's where they are safe.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerOptions {
    /// A handler running longer gets ServerError `SERVER_TIMEOUT` (30 s; `None`: no limit).
    pub api_timeout: Option<Duration>,
    /// Put the inner error text in `innerErr` of `INTERNAL_ERR` (on in debug builds).
    pub return_inner_error: bool,
    /// Close connections that sent no heartbeat within this time (code 3001). Off by default.
    pub heartbeat_wait: Option<Duration>,
    /// Send WebSocket ping control frames this often; a connection that answers nothing for
    /// two periods is dropped (finds half-open sockets). 30 s; `None` turns it off.
    pub ping_interval: Option<Duration>,
    /// Largest WebSocket frame or message accepted (16 MiB); larger ones close the connection
    /// with code 1009.
    pub max_frame_size: usize,
    /// Largest HTTP body accepted (16 MiB); larger ones get 413.
    pub max_body_size: usize,
    /// The whole HTTP body must arrive within this time from the end of the request head
    /// (30 s), however it trickles in; else 408 with ServerError `BODY_TIMEOUT` and the
    /// connection is closed. `None`: no overall deadline (a body that stalls for
    /// `handshake_timeout` between two reads still gets 408).
    pub body_timeout: Option<Duration>,
    /// Frames queued per connection before `send_msg` (and API returns) wait for the writer:
    /// the send window (256).
    pub send_queue: usize,
    /// Frames a broadcast may queue beyond the send window (768) before it closes the
    /// connection with [`SEND_QUEUE_FULL_REASON`]: room for a slow client that still reads.
    pub broadcast_slack: usize,
    /// WebSocket read buffer per connection (4 KiB; tungstenite zero-fills it on the first read,
    /// so it is most of an idle connection's memory: 8 KiB cost 4 KiB more per connection and
    /// read no faster in the benchmarks, since a read of frames larger than it just takes more
    /// syscalls).
    pub read_buffer_size: usize,
    /// A handshake (WebSocket) or request head (HTTP) must arrive within this time (10 s).
    pub handshake_timeout: Duration,
    /// After sending a close frame, wait this long for the peer's close (3 s).
    pub close_timeout: Duration,
    /// At most this many TCP connections at once (10,000): WebSocket (also one upgraded from
    /// HTTP on a WebSocket + HTTP server), HTTP keep-alive, handshakes in progress. Each holds
    /// its slot until its socket is closed. On every server kind, a connection past the limit
    /// is answered `503 Service Unavailable` with `Connection: close` and a JSON body, ServerError
    /// `SERVER_FULL` (whether it sent an HTTP request or a WebSocket upgrade; a `WsClient` sees a
    /// connect error whose `innerErr` says `HTTP error: 503 Service Unavailable`), then closed.
    /// A refused socket takes no slot, and gets at most 2 s (or `handshake_timeout` if shorter)
    /// for its TLS handshake, request head and answer; past 256 refusals at once, sockets are
    /// closed at accept without an answer.
    pub max_connections: usize,
    /// API calls one WebSocket connection may have running at once (1,024); past that the
    /// server stops reading that connection until one finishes.
    pub max_pending_calls: usize,
    /// API calls the whole server may have running at once (100,000); past that, a connection
    /// whose next call cannot start is not read until one finishes (backpressure, no error).
    /// A call that finishes on its first poll never counts.
    pub max_pending_calls_total: usize,
    /// Bytes of frames queued per WebSocket connection by `send_msg` and API returns (4 MiB),
    /// next to the frame window (`send_queue`): when either is full, senders wait. A frame
    /// longer than this is admitted only into a queue with nothing else waiting in it.
    /// Broadcasts may fill the queue to twice this before the connection is closed with
    /// [`SEND_QUEUE_FULL_REASON`].
    pub max_queued_bytes: usize,
    /// A sender that waits this long for room in a full queue (30 s) closes the connection with
    /// [`SEND_QUEUE_FULL_REASON`] and fails with `LOST_CONN`: the client does not read.
    pub queue_full_timeout: Duration,
    /// Serve TLS (`wss://`, `https://`) with this configuration (feature `tls`). The TLS
    /// handshake must finish within `handshake_timeout`.
    #[cfg(feature = "tls")]
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            api_timeout: Some(Duration::from_secs(30)),
            return_inner_error: cfg!(debug_assertions),
            heartbeat_wait: None,
            ping_interval: Some(Duration::from_secs(30)),
            max_frame_size: 16 << 20,
            max_body_size: 16 << 20,
            body_timeout: Some(Duration::from_secs(30)),
            send_queue: 256,
            broadcast_slack: 768,
            read_buffer_size: 4 * 1024,
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(3),
            max_connections: 10_000,
            max_pending_calls: 1024,
            max_pending_calls_total: 100_000,
            max_queued_bytes: 4 << 20,
            queue_full_timeout: Duration::from_secs(30),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl ServerOptions {
    /// Sets the API timeout.
    pub fn api_timeout(mut self, t: Option<Duration>) -> Self {
        self.api_timeout = t;
        self
    }
    /// Sets `return_inner_error`.
    pub fn return_inner_error(mut self, on: bool) -> Self {
        self.return_inner_error = on;
        self
    }
    /// Sets the heartbeat wait time.
    pub fn heartbeat_wait(mut self, t: Option<Duration>) -> Self {
        self.heartbeat_wait = t;
        self
    }
    /// Sets the ping interval.
    pub fn ping_interval(mut self, t: Option<Duration>) -> Self {
        self.ping_interval = t;
        self
    }
    /// Sets the maximum frame size.
    pub fn max_frame_size(mut self, n: usize) -> Self {
        self.max_frame_size = n;
        self
    }
    /// Serves TLS with this configuration.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: Arc<rustls::ServerConfig>) -> Self {
        self.tls = Some(config);
        self
    }
    /// Sets the maximum number of connections.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }
    /// Sets the handshake timeout.
    pub fn handshake_timeout(mut self, t: Duration) -> Self {
        self.handshake_timeout = t;
        self
    }
    /// Sets the maximum number of API calls running at once on one connection.
    pub fn max_pending_calls(mut self, n: usize) -> Self {
        self.max_pending_calls = n;
        self
    }
    /// Sets the maximum number of API calls running at once on the whole server.
    pub fn max_pending_calls_total(mut self, n: usize) -> Self {
        self.max_pending_calls_total = n;
        self
    }
    /// Sets the bytes queued per connection before `send_msg` waits.
    pub fn max_queued_bytes(mut self, n: usize) -> Self {
        self.max_queued_bytes = n;
        self
    }
    /// Sets how long a sender may wait for room before the connection is closed.
    pub fn queue_full_timeout(mut self, t: Duration) -> Self {
        self.queue_full_timeout = t;
        self
    }
    /// Sets the number of frames queued per connection before `send_msg` waits.
    pub fn send_queue(mut self, n: usize) -> Self {
        self.send_queue = n;
        self
    }
    /// Sets how many frames a broadcast may queue beyond the send window.
    pub fn broadcast_slack(mut self, n: usize) -> Self {
        self.broadcast_slack = n;
        self
    }
    /// Sets the maximum HTTP body size.
    pub fn max_body_size(mut self, n: usize) -> Self {
        self.max_body_size = n;
        self
    }
    /// Sets the time the whole HTTP body must arrive within.
    pub fn body_timeout(mut self, t: Option<Duration>) -> Self {
        self.body_timeout = t;
        self
    }
    /// Sets how long a closing connection may take: to write what was queued and the close
    /// frame, then to wait for the peer's close.
    pub fn close_timeout(mut self, t: Duration) -> Self {
        self.close_timeout = t;
        self
    }
}

/// Which transports a server speaks on its port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transports {
    /// WebSocket only.
    Ws,
    /// HTTP only.
    Http,
    /// Both on one port: a request asking for a WebSocket upgrade is WebSocket, the rest HTTP.
    Both,
}

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
        let erased: ErasedApi = Arc::new(move |body: &str, ctx: CallCtx| {
            let req = crate::validate::decode::<A>(body)?;
            let fut = handler(ApiCall {
                req,
                conn: ctx.conn,
                sn: ctx.sn,
            });
            Ok(Box::pin(async move {
                let res = fut.await?;
                crate::json::to_string(&res).map_err(HandlerError::from)
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
        let erased: ErasedApi = Arc::new(move |body: &str, ctx: CallCtx| {
            let req: serde_json::Value = serde_json::from_str(body)
                .map_err(|e| format!("Input is not a valid JSON string: {e}"))?;
            let fut = handler(ApiCall {
                req,
                conn: ctx.conn,
                sn: ctx.sn,
            });
            Ok(Box::pin(async move {
                let res = fut.await?;
                crate::json::to_string(&res).map_err(HandlerError::from)
            }))
        });
        self.apis.insert(name.to_owned(), erased);
        self
    }

    /// Listens to the message `M`. Messages of one connection are handled in order, each
    /// handler awaited before the next message.
    pub fn listen_msg<M, F, Fut>(self, handler: F) -> Self
    where
        M: Message,
        F: Fn(MsgCall<M>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let erased: ErasedMsg = Arc::new(move |_name: &str, body: &str, conn: Connection| {
            let msg = crate::validate::decode::<M>(body)?;
            Ok(Box::pin(handler(MsgCall { msg, conn })))
        });
        self.msgs.add_name(M::NAME, erased);
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
        let erased: ErasedMsg = Arc::new(move |name: &str, body: &str, conn: Connection| {
            match E::decode(name, body)? {
                Some(msg) => Ok(Box::pin(handler(MsgCall { msg, conn })) as _),
                None => Ok(Box::pin(async {}) as _),
            }
        });
        self.msgs.add_pattern(pattern, erased);
        self
    }

    /// Listens to a message by name, on JSON values (the untyped layer).
    pub fn listen_msg_raw<F, Fut>(self, name: &str, handler: F) -> Self
    where
        F: Fn(MsgCall<serde_json::Value>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let erased: ErasedMsg = Arc::new(move |_name: &str, body: &str, conn: Connection| {
            let msg: serde_json::Value = serde_json::from_str(body)
                .map_err(|e| format!("Input is not a valid JSON string: {e}"))?;
            Ok(Box::pin(handler(MsgCall { msg, conn })))
        });
        self.msgs.add_name(name, erased);
        self
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
    pub(crate) fn into_core(self) -> Arc<ServerCore> {
        Arc::new(ServerCore::new(
            self.proto,
            self.apis,
            self.msgs,
            self.flows,
            self.options,
        ))
    }

    /// Binds and starts serving.
    pub async fn start(self) -> Result<RunningServer, StartError> {
        let missing = self.unimplemented_apis();
        if !missing.is_empty() && !self.allow_unimplemented {
            return Err(StartError::Unimplemented(missing));
        }
        let listener = match self.bind {
            Bind::Addr(addr) => TcpListener::bind(addr)
                .await
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
        let core = Arc::new(ServerCore::new(
            self.proto,
            self.apis,
            self.msgs,
            self.flows,
            self.options,
        ));
        let shutdown = Arc::new(Notify::new());
        let task = tokio::spawn(accept_loop(
            core.clone(),
            listener,
            self.transports,
            shutdown.clone(),
        ));
        Ok(RunningServer {
            handle: ServerHandle { core },
            local_addr,
            transports: self.transports,
            shutdown,
            accept_task: task.abort_handle(),
        })
    }
}

/// Sockets past `max_connections` answered 503 at the same time, at most; more are closed at
/// accept without an answer (a flood cannot pin more tasks than this).
const MAX_REFUSING: usize = 256;

/// A refusal (TLS handshake, reading the request head, writing the 503, waiting for the client
/// to close) takes at most this long, or `handshake_timeout` when that is shorter.
const REFUSE_TIMEOUT: Duration = Duration::from_secs(2);

async fn accept_loop(
    core: Arc<ServerCore>,
    listener: TcpListener,
    transports: Transports,
    shutdown: Arc<Notify>,
) {
    let refusing = Arc::new(AtomicUsize::new(0));
    let full_answer = http::server_full_response(&core);
    loop {
        let accepted = tokio::select! {
            _ = shutdown.notified() => return,
            a = listener.accept() => a,
        };
        let (stream, remote) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of descriptors and the like: back off a little, keep serving.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Some(slot) = core.open_socket() else {
            refuse(&core, stream, remote, &refusing, &full_answer);
            continue;
        };
        // The slot goes with the socket, whatever it becomes.
        let stream = Counted {
            io: stream,
            _slot: slot,
        };
        #[cfg(feature = "tls")]
        if let Some(config) = &core.options.tls {
            let acceptor = tokio_rustls::TlsAcceptor::from(config.clone());
            let core = core.clone();
            tokio::spawn(async move {
                let handshake = acceptor.accept(stream);
                match tokio::time::timeout(core.options.handshake_timeout, handshake).await {
                    Ok(Ok(tls)) => serve_stream(core, tls, remote, transports).await,
                    Ok(Err(e)) => tracing::debug!("TLS handshake from {remote} failed: {e}"),
                    Err(_) => tracing::debug!("TLS handshake from {remote} timed out"),
                }
            });
            continue;
        }
        let core = core.clone();
        tokio::spawn(serve_stream(core, stream, remote, transports));
    }
}

/// Answers a socket past `max_connections` with 503 (after the TLS handshake on a TLS server),
/// in a bounded time and outside the limit; closes it at once when [`MAX_REFUSING`] sockets
/// are being refused already.
fn refuse(
    core: &Arc<ServerCore>,
    stream: TcpStream,
    remote: SocketAddr,
    refusing: &Arc<AtomicUsize>,
    answer: &Bytes,
) {
    let reserved = refusing.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
        (n < MAX_REFUSING).then_some(n + 1)
    });
    if reserved.is_err() {
        tracing::warn!("connection from {remote} closed: max_connections reached");
        return;
    }
    tracing::warn!("connection from {remote} refused (503): max_connections reached");
    let refusing = RefusingGuard(refusing.clone());
    let limit = match core.options.handshake_timeout {
        t if t.is_zero() => REFUSE_TIMEOUT,
        t => t.min(REFUSE_TIMEOUT),
    };
    let deadline = tokio::time::Instant::now() + limit;
    let answer = answer.clone();
    #[cfg(feature = "tls")]
    if let Some(config) = &core.options.tls {
        let acceptor = tokio_rustls::TlsAcceptor::from(config.clone());
        tokio::spawn(async move {
            let _refusing = refusing;
            if let Ok(Ok(tls)) = tokio::time::timeout_at(deadline, acceptor.accept(stream)).await {
                http::refuse(tls, &answer, deadline).await;
            }
        });
        return;
    }
    tokio::spawn(async move {
        let _refusing = refusing;
        http::refuse(stream, &answer, deadline).await;
    });
}

/// Counts a refusal in progress until dropped.
struct RefusingGuard(Arc<AtomicUsize>);

impl Drop for RefusingGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An accepted socket holding one of the `max_connections` slots for as long as it lives:
/// through a TLS session, an HTTP keep-alive connection, and a WebSocket upgraded from HTTP
/// (hyper hands the socket itself to the upgrade), up to the moment the socket is closed.
struct Counted<S> {
    io: S,
    _slot: SocketGuard,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

async fn serve_stream<S>(core: Arc<ServerCore>, stream: S, remote: SocketAddr, t: Transports)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    match t {
        Transports::Ws => ws::accept(core, stream, remote).await,
        Transports::Http => http::serve_conn(core, stream, remote, false).await,
        Transports::Both => http::serve_conn(core, stream, remote, true).await,
    }
}

/// A handle on a started server, for code that runs inside it (handlers get one from
/// [`Connection::server`]): connections and broadcasts. A cheap clone.
#[derive(Clone)]
pub struct ServerHandle {
    pub(crate) core: Arc<ServerCore>,
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt(f)
    }
}

impl ServerHandle {
    /// The server's flows.
    pub fn flows(&self) -> &ServerFlows {
        &self.core.flows
    }

    /// Every open WebSocket connection, oldest first.
    pub fn connections(&self) -> Vec<Connection> {
        self.core.connections()
    }

    /// Number of API calls running now.
    pub fn pending_calls(&self) -> usize {
        self.core.pending_calls()
    }

    /// Sends `msg` to every connection, encoded once. Never waits for a slow connection: one
    /// whose queue is full is closed with [`SEND_QUEUE_FULL_REASON`].
    pub async fn broadcast_msg<M: Message>(&self, msg: &M) -> Result<(), TsrpcError> {
        let conns = self.core.connections();
        self.broadcast_msg_to(msg, &conns).await
    }

    /// Sends `msg` to these connections, encoded once.
    pub async fn broadcast_msg_to<M: Message>(
        &self,
        msg: &M,
        conns: &[Connection],
    ) -> Result<(), TsrpcError> {
        let json = crate::json::to_string(msg).map_err(|e| {
            TsrpcError::server(e.to_string()).with_code(crate::error::codes::ENCODE_MSG_ERR)
        })?;
        self.broadcast_json(M::NAME, &json, conns).await
    }

    /// Broadcasts a message by name with a JSON body (the untyped layer); `None`: to all.
    pub async fn broadcast_msg_raw(
        &self,
        name: &str,
        msg: &serde_json::Value,
        conns: Option<&[Connection]>,
    ) -> Result<(), TsrpcError> {
        let json = crate::json::to_string(msg).unwrap_or_else(|_| "null".into());
        match conns {
            Some(c) => self.broadcast_json(name, &json, c).await,
            None => {
                let all = self.core.connections();
                self.broadcast_json(name, &json, &all).await
            }
        }
    }

    async fn broadcast_json(
        &self,
        name: &str,
        json: &str,
        conns: &[Connection],
    ) -> Result<(), TsrpcError> {
        let text = self.core.codec.encode_msg(name, json);
        if !self.core.flows.pre_send_data.is_empty() {
            // A data flow may rewrite frames per connection: no shared encoding then.
            for c in conns {
                let _ = c.send_text(text.clone()).await;
            }
            return Ok(());
        }
        let frame = tokio_tungstenite::tungstenite::Message::text(text);
        for c in conns {
            if c.is_closed() {
                continue;
            }
            if let Err(QueueError::Full) = c.try_send_frame(frame.clone()) {
                tracing::warn!("connection {} closed: send queue full", c.id());
                c.close(SEND_QUEUE_FULL_REASON);
            }
        }
        Ok(())
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
        let core = &self.handle.core;
        core.begin_stop();
        self.shutdown.notify_one();
        self.accept_task.abort();
        for c in core.connections() {
            c.close("Server stopped");
        }
        let wait = core.options.close_timeout + Duration::from_millis(500);
        let _ = tokio::time::timeout(wait, core.connections_gone()).await;
    }

    /// Stops accepting, waits for pending API calls (at most `max_wait`), then
    /// [`stop`](Self::stop)s. Returns true when every pending call finished in time.
    pub async fn graceful_stop(&self, max_wait: Duration) -> bool {
        let core = &self.handle.core;
        core.begin_stop();
        self.shutdown.notify_one();
        self.accept_task.abort();
        let finished = tokio::time::timeout(max_wait, core.wait_idle())
            .await
            .is_ok();
        self.stop().await;
        finished
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}
