//! A server's options: limits, timeouts and TLS, with TSRPC's defaults where they are safe,
//! and a setter per option for building them in one expression
//! (`ServerOptions::default().api_timeout(None).max_connections(100)`).

#[cfg(feature = "tls")]
use std::sync::Arc;
use std::time::Duration;

use super::cors::Cors;

#[cfg(doc)]
use crate::reasons::SEND_QUEUE_FULL_REASON;

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
    /// The listen backlog of the port the server binds (1,024; the kernel caps it at
    /// `net.core.somaxconn`): connections the kernel completes before the accept loop takes
    /// them. Past it, the kernel drops new SYNs and the client resends after a second, so a
    /// burst of connections (a restart, every client reconnecting at once) wants room here.
    /// Not used by [`Server::with_listener`](super::Server::with_listener) (the listener is already
    /// listening) nor when mounted.
    pub listen_backlog: u32,
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
    /// Accept TSRPC's JSON mode (default `true`, as a `json: true` TSRPC server): JSON and
    /// binary clients both work, each answered in its connection's data type. `false`: binary
    /// only, as TSRPC's default server; a text frame closes the connection with
    /// [`JSON_DISABLED_REASON`](crate::reasons::JSON_DISABLED_REASON), and an HTTP JSON request
    /// is read as binary (so it gets the binary `INPUT_DATA_ERR` answer). Binary mode needs
    /// the service's TSRPC proto ([`ServiceProto::tsrpc_proto`](crate::proto::ServiceProto),
    /// which every generated service has).
    pub json: bool,
    /// Log `[Connected]` / `[Disconnected]` lines (TSRPC's `logConnect`; default on). Lines
    /// are `tracing` events (target `rpc_runtime::server`): nothing shows without a
    /// subscriber, and without one they cost next to nothing. See
    /// `rpc_runtime::server` "Logs and metrics".
    pub log_connect: bool,
    /// Log `[ApiReq]` and `[ApiRes]` / `[ApiErr]` lines (TSRPC's `logApi`; default on).
    pub log_api: bool,
    /// Log `[RecvMsg]` lines (TSRPC's `logMsg`; default on).
    pub log_msg: bool,
    /// Put the request (and a received message) in its line (TSRPC's `logReqBody`; default on).
    pub log_req_body: bool,
    /// Put the response in its line (TSRPC's `logResBody`; default on).
    pub log_res_body: bool,
    /// Messages of one WebSocket connection are handled in order, each listener finished before
    /// the next starts, while the connection's API calls run concurrently with them. A
    /// listener that does not finish at once leaves the reader to a task of the connection's
    /// own, where the messages after it wait: at most this many (64), and frames of at most a
    /// quarter of `max_queued_bytes` in all (one frame at a time when it is larger); past either the connection is not read until one finishes
    /// (backpressure).
    pub msg_queue: usize,
    /// Proxies whose `X-Forwarded-For` is believed (default: none). A connection from one of
    /// these addresses gets as [`Connection::ip`](crate::Connection::ip) the rightmost
    /// `X-Forwarded-For` entry that is not itself a trusted proxy; from any other address the
    /// header is ignored and `ip()` is the socket's address. (TSRPC believes the header's first
    /// entry from anyone, so any client can claim any IP there.)
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Origins allowed to open a WebSocket (default `None`: any, as TSRPC). With a list, an
    /// upgrade whose `Origin` header is not in it (compared ignoring case, such as
    /// `https://app.example.com`) is refused with `403 Forbidden`; one without `Origin` (not
    /// a browser: browsers always send it) is let in. This guards a browser user's
    /// cookies against pages of other sites, not the server against other programs.
    pub ws_allowed_origins: Option<Vec<String>>,
    /// TSRPC's `jsonHostPath` (`/`): a JSON request is `POST <json_host_path><api name>`; a
    /// POST outside it is read as a binary request, as TSRPC does. Normalised as TSRPC does:
    /// `api` serves `/api/Add`. (Mounted in axum with `nest_service("/rpc", ..)`, the path the
    /// endpoint sees has `/rpc` stripped already: leave this at `/`.)
    pub json_host_path: String,
    /// The CORS headers of HTTP answers ([`Cors::any`], TSRPC's default: any origin, max age
    /// an hour); an `OPTIONS` request (a preflight) is answered 200 with them. `None`: no
    /// CORS headers, and `OPTIONS` is an ordinary (binary) request, as TSRPC with `cors`
    /// unset.
    pub cors: Option<Cors>,
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
            listen_backlog: 1024,
            max_pending_calls: 1024,
            max_pending_calls_total: 100_000,
            max_queued_bytes: 4 << 20,
            queue_full_timeout: Duration::from_secs(30),
            json: true,
            msg_queue: 64,
            log_connect: true,
            log_api: true,
            log_msg: true,
            log_req_body: true,
            log_res_body: true,
            trusted_proxies: Vec::new(),
            ws_allowed_origins: None,
            json_host_path: "/".into(),
            cors: Some(Cors::any()),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl ServerOptions {
    /// Sets [`json`](ServerOptions#structfield.json): `false` serves binary only.
    ///
    /// ```
    /// let binary_only = rpc_runtime::server::ServerOptions::default().json(false);
    /// assert!(!binary_only.json);
    /// ```
    pub fn json(mut self, on: bool) -> Self {
        self.json = on;
        self
    }
    /// Turns every log line on or off at once (`log_connect`, `log_api`, `log_msg`; the body
    /// options are left as they are).
    ///
    /// ```
    /// let quiet = rpc_runtime::server::ServerOptions::default().logs(false);
    /// assert!(!quiet.log_api && !quiet.log_msg && !quiet.log_connect);
    /// ```
    pub fn logs(mut self, on: bool) -> Self {
        self.log_connect = on;
        self.log_api = on;
        self.log_msg = on;
        self
    }
    /// Sets `log_req_body` and `log_res_body`.
    pub fn log_bodies(mut self, on: bool) -> Self {
        self.log_req_body = on;
        self.log_res_body = on;
        self
    }
    /// Sets how many message listener runs may wait per connection.
    pub fn msg_queue(mut self, n: usize) -> Self {
        self.msg_queue = n;
        self
    }
    /// Sets the proxies whose `X-Forwarded-For` is believed.
    ///
    /// ```
    /// let options = rpc_runtime::server::ServerOptions::default()
    ///     .trusted_proxies(["10.0.0.1".parse().unwrap()]);
    /// assert_eq!(options.trusted_proxies.len(), 1);
    /// ```
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = std::net::IpAddr>) -> Self {
        self.trusted_proxies = proxies.into_iter().collect();
        self
    }
    /// Allows WebSocket upgrades from these origins only (and from clients that send no
    /// `Origin`).
    pub fn ws_allowed_origins<S: Into<String>>(
        mut self,
        origins: impl IntoIterator<Item = S>,
    ) -> Self {
        self.ws_allowed_origins = Some(origins.into_iter().map(Into::into).collect());
        self
    }
    /// Sets [`json_host_path`](ServerOptions#structfield.json_host_path).
    ///
    /// ```
    /// let options = rpc_runtime::server::ServerOptions::default().json_host_path("api");
    /// assert_eq!(options.json_host_path, "api"); // served as `/api/`
    /// ```
    pub fn json_host_path(mut self, path: impl Into<String>) -> Self {
        self.json_host_path = path.into();
        self
    }
    /// Sets [`cors`](ServerOptions#structfield.cors) (`None`: no CORS headers).
    pub fn cors(mut self, cors: Option<Cors>) -> Self {
        self.cors = cors;
        self
    }
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
    /// Sets the listen backlog.
    pub fn listen_backlog(mut self, n: u32) -> Self {
        self.listen_backlog = n;
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
