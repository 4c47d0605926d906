//! The options of a [`WsClient`](super::WsClient).

#[cfg(feature = "tls")]
use std::sync::Arc;
use std::time::Duration;

use super::ReconnectPolicy;

/// Client heartbeat: a binary `00` ping every `interval`; no pong within `timeout` closes the
/// connection (code 3000, reason `Heartbeat timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// Time between a pong and the next ping.
    pub interval: Duration,
    /// How long to wait for a pong.
    pub timeout: Duration,
}

/// Options of a [`WsClient`](super::WsClient). Defaults match TSRPC's.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WsClientOptions {
    /// Default timeout of a call (15 s; `None` or zero: none).
    pub timeout: Option<Duration>,
    /// Heartbeat (default off).
    pub heartbeat: Option<Heartbeat>,
    /// How long a connect attempt may take (default 10 s).
    pub connect_timeout: Duration,
    /// Frames that may wait to be written before `send_msg` and calls wait for space (256).
    pub send_queue: usize,
    /// Largest frame accepted from the server (default 16 MiB).
    pub max_frame_size: usize,
    /// How long a socket is kept once the connection is over for the client (default 1 s;
    /// Node's `ws` client waits up to 30 s): after a close frame from the server, the time it
    /// has to end the TCP connection; after any close, the time a write in progress (such as
    /// our close frame to a server that does not read) may take. The socket is dropped when it
    /// passes. Pending calls, the status and `post_disconnect` do not wait for it.
    pub close_linger: Duration,
    /// Speak TSRPC's JSON mode (sub-protocol `text`, text frames). Default `false`: binary
    /// (sub-protocol `buffer`, TSBuffer frames), as TSRPC's clients. Binary mode needs the
    /// service's TSRPC proto ([`tsrpc_proto`](WsClientOptions#structfield.tsrpc_proto), which the
    /// generated `Client::ws` sets); a client without one speaks JSON.
    pub json: bool,
    /// The service's TSRPC proto JSON ([`ServiceProto::tsrpc_proto`]), for binary mode: the
    /// generated `Client::ws` sets it; [`proto`](Self::proto) sets it from a service proto.
    ///
    /// [`ServiceProto::tsrpc_proto`]: crate::proto::ServiceProto::tsrpc_proto
    pub tsrpc_proto: Option<&'static str>,
    /// Built-in reconnect after a connection the client did not close is lost (default `None`:
    /// off, as TSRPC; the `post_disconnect` recipe keeps working either way). See
    /// [`ReconnectPolicy`] for its defaults and what happens to calls.
    pub reconnect: Option<ReconnectPolicy>,
    /// Log every call and its return (TSRPC's `logApi`; default `true`): `[ApiReq]`,
    /// `[ApiRes]`, `[ApiErr]` events through `tracing` at DEBUG, target `rpc_runtime::client`
    /// (nothing is formatted unless a subscriber wants them).
    pub log_api: bool,
    /// Log every message sent and received (TSRPC's `logMsg`; default `true`): `[SendMsg]`,
    /// `[RecvMsg]` events, as `log_api`.
    pub log_msg: bool,
    /// TLS settings for `wss://` URLs (feature `tls`): trusted roots, client certificate.
    /// Default `None`: the platform's trusted roots (rustls-native-certs; `SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` replace them when set), so `wss://` to public servers works as is.
    #[cfg(feature = "tls")]
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl Default for WsClientOptions {
    fn default() -> Self {
        WsClientOptions {
            timeout: Some(Duration::from_secs(15)),
            heartbeat: None,
            connect_timeout: Duration::from_secs(10),
            send_queue: 256,
            max_frame_size: 16 << 20,
            close_linger: DEFAULT_CLOSE_LINGER,
            json: false,
            tsrpc_proto: None,
            reconnect: None,
            log_api: true,
            log_msg: true,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl WsClientOptions {
    /// Sets [`json`](WsClientOptions#structfield.json): `true` for JSON mode, `false` (the
    /// default) for binary.
    ///
    /// ```
    /// let json = rpc_runtime::client::WsClientOptions::default().json(true);
    /// assert!(json.json);
    /// ```
    pub fn json(mut self, json: bool) -> Self {
        self.json = json;
        self
    }
    /// Takes the TSRPC proto of `proto` (for binary mode), if it has one.
    pub fn proto(mut self, proto: &crate::proto::ServiceProto) -> Self {
        self.tsrpc_proto = proto.tsrpc_proto;
        self
    }
    /// Sets the default call timeout.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }
    /// Turns the heartbeat on.
    pub fn heartbeat(mut self, interval: Duration, timeout: Duration) -> Self {
        self.heartbeat = Some(Heartbeat { interval, timeout });
        self
    }
    /// Sets whether calls and messages are logged (`log_api`, `log_msg`).
    pub fn log(mut self, api: bool, msg: bool) -> Self {
        self.log_api = api;
        self.log_msg = msg;
        self
    }
    /// Turns the built-in reconnect on with this policy.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = Some(policy);
        self
    }
    /// Sets the TLS settings used for `wss://` URLs.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }
    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }
    /// Sets how many frames may wait to be written before sends wait for space.
    pub fn send_queue(mut self, n: usize) -> Self {
        self.send_queue = n;
        self
    }
    /// Sets how long a socket is kept once the connection is over (the field
    /// [`close_linger`](WsClientOptions#structfield.close_linger)).
    pub fn close_linger(mut self, linger: Duration) -> Self {
        self.close_linger = linger;
        self
    }
}

/// The default of [`WsClientOptions::close_linger`].
const DEFAULT_CLOSE_LINGER: Duration = Duration::from_secs(1);
