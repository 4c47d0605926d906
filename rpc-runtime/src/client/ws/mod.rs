//! The WebSocket client: connecting, the connection's life and its close, sending. What it
//! reads is handled in `reader`, its message listeners in `listen`, its options in `options`.

mod listen;
mod options;
mod reader;
mod reconnect;

pub use self::options::{Heartbeat, WsClientOptions};
pub use self::reconnect::{ConnectionStatus, ReconnectPolicy};

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{watch, Notify};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::core::{ClientCore, Transport};
use super::flows::{ClientFlows, DataEvent, DisconnectEvent, PreConnectEvent, WsClientFlows};
use super::impl_rpc_client;
use crate::codec::{Codec, Frame, Input, Payload};
use crate::error::{codes, ApiReturn, TsrpcError};
use crate::listener::Listeners;
use crate::ws_link::{spawn_writer, Limits, Link, Timing};
use crate::ws_util::truncate_reason;

/// Connection status of a [`WsClient`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsStatus {
    /// Connecting.
    Opening,
    /// Connected.
    Opened,
    /// `disconnect()` is waiting for the close handshake.
    Closing,
    /// Not connected.
    Closed,
}

/// A message listener: `(name, body, checked)`. With `checked` false the body was split out of
/// the frame without being parsed: the listener then does nothing and returns false unless it
/// decodes the body (which shows it is valid JSON); with `checked` true it always returns true.
type MsgHandler = Arc<dyn Fn(&str, Input<'_>, bool) -> bool + Send + Sync>;
type ConnectResult = Option<Result<(), TsrpcError>>;

/// One live socket.
struct Live {
    gen: u64,
    /// The send side: queue (`send_queue` frames), writer, close handshake.
    link: Arc<Link>,
    manual: AtomicBool,
    pong: Notify,
    /// Set once the client left this connection (`on_close`): the sweeper, the heartbeat and
    /// a `connect()` waiting for a `disconnect()` watch it.
    closed: watch::Sender<bool>,
    /// When it opened (the reconnect backoff resets after a stable connection).
    opened_at: tokio::time::Instant,
}

struct State {
    status: WsStatus,
    gen: u64,
    live: Option<Arc<Live>>,
    connecting: Option<(watch::Sender<ConnectResult>, tokio::task::AbortHandle)>,
    /// The built-in reconnect's task while it runs (waiting or attempting).
    reconnect: Option<tokio::task::AbortHandle>,
    /// Reconnect attempts since the last stable connection.
    attempts: u32,
}

pub(crate) struct WsInner {
    url: String,
    options: WsClientOptions,
    pub(crate) core: ClientCore,
    flows: WsClientFlows,
    codec: Codec,
    state: Mutex<State>,
    listeners: Listeners<MsgHandler>,
    latency_us: AtomicU64,
    status_tx: watch::Sender<ConnectionStatus>,
    jitter: reconnect::Jitter,
}

/// A TSRPC WebSocket client, in binary mode (sub-protocol `buffer`, TSBuffer frames: the
/// default, given the service's TSRPC proto) or JSON mode (`text`). A cheap clone: every clone
/// is the same client.
///
/// ```no_run
/// # async fn demo() -> Result<(), rpc_runtime::TsrpcError> {
/// use rpc_runtime::client::{RpcClient, WsClient, WsClientOptions};
/// let client = WsClient::new("ws://127.0.0.1:3000", WsClientOptions::default());
/// client.connect().await?;
/// let sum = client.call_raw("Add", &serde_json::json!({"a": 1, "b": 2}), Default::default()).await?;
/// assert_eq!(sum["c"], 3);
/// client.disconnect().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct WsClient {
    pub(crate) inner: Arc<WsInner>,
}

impl fmt::Debug for WsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsClient")
            .field("url", &self.inner.url)
            .field("status", &self.status())
            .finish()
    }
}

impl_rpc_client!(WsClient);

impl WsClient {
    /// A client for `url` (`ws://host:port/path`). Nothing happens until [`connect`](Self::connect).
    pub fn new(url: impl Into<String>, options: WsClientOptions) -> Self {
        WsClient {
            inner: Arc::new(WsInner {
                url: url.into(),
                core: ClientCore::new(
                    options.timeout,
                    options.json,
                    options.tsrpc_proto,
                    super::core::Log {
                        api: options.log_api,
                        msg: options.log_msg,
                    },
                ),
                flows: WsClientFlows::default(),
                options,
                codec: Codec::Json,
                state: Mutex::new(State {
                    status: WsStatus::Closed,
                    gen: 0,
                    live: None,
                    connecting: None,
                    reconnect: None,
                    attempts: 0,
                }),
                listeners: Listeners::new(),
                latency_us: AtomicU64::new(u64::MAX),
                status_tx: watch::Sender::new(ConnectionStatus::Closed),
                jitter: reconnect::Jitter::new(),
            }),
        }
    }

    /// The server URL.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The client's flows (hook chains), among them `post_disconnect` for reconnecting.
    pub fn flows(&self) -> &WsClientFlows {
        &self.inner.flows
    }

    /// The socket's status (TSRPC's four states). With a reconnect policy it is `Closed`
    /// between attempts: [`status_changes`](Self::status_changes) tells reconnecting apart.
    pub fn status(&self) -> WsStatus {
        self.inner.lock_state().status
    }

    /// True when connected.
    pub fn is_connected(&self) -> bool {
        self.status() == WsStatus::Opened
    }

    /// The round trip of the last heartbeat, once one came back.
    pub fn last_heartbeat_latency(&self) -> Option<Duration> {
        match self.inner.latency_us.load(Ordering::Relaxed) {
            u64::MAX => None,
            us => Some(Duration::from_micros(us)),
        }
    }

    /// Connects. `Ok` at once when connected; a connect while connecting joins that attempt.
    /// A failed connect is an `Err` (NetworkError); it does not fire `post_disconnect`.
    pub async fn connect(&self) -> Result<(), TsrpcError> {
        let mut rx = loop {
            let closing = {
                let mut st = self.inner.lock_state();
                match st.status {
                    WsStatus::Opened => return Ok(()),
                    WsStatus::Opening => match &st.connecting {
                        Some((tx, _)) => break tx.subscribe(),
                        None => return Err(TsrpcError::network("Connect attempt lost")),
                    },
                    // A disconnect() is finishing: let it (post_disconnect fires), then connect.
                    WsStatus::Closing => match st.live.clone() {
                        Some(live) => Some(live),
                        None => {
                            st.status = WsStatus::Closed;
                            continue;
                        }
                    },
                    WsStatus::Closed => {
                        st.gen += 1;
                        st.status = WsStatus::Opening;
                        if st.reconnect.is_none() {
                            self.inner.publish(ConnectionStatus::Connecting);
                        }
                        let (tx, rx) = watch::channel(None);
                        let client = self.clone();
                        let gen = st.gen;
                        let task = tokio::spawn(async move { client.attempt(gen).await });
                        st.connecting = Some((tx, task.abort_handle()));
                        break rx;
                    }
                }
            };
            if let Some(live) = closing {
                let mut closed = live.closed.subscribe();
                // disconnect() forces the close after 1 s; this only waits for it.
                let _ =
                    tokio::time::timeout(Duration::from_secs(2), wait_closed(&mut closed)).await;
            }
        };
        loop {
            if let Some(res) = rx.borrow_and_update().clone() {
                return res;
            }
            if rx.changed().await.is_err() {
                return Err(TsrpcError::network("Connect attempt lost"));
            }
        }
    }

    /// One connect attempt; its result goes to every `connect()` waiting on generation `gen`.
    async fn attempt(&self, gen: u64) {
        let res = self.try_connect(gen).await;
        let connected = res.is_ok();
        let tx = {
            let mut st = self.inner.lock_state();
            if st.gen != gen {
                return;
            }
            if !connected {
                st.status = WsStatus::Closed;
                if st.reconnect.is_none() {
                    self.inner.publish(ConnectionStatus::Closed);
                }
            }
            st.connecting.take()
        };
        if let Some((tx, _)) = tx {
            tx.send_replace(Some(res));
        }
        if connected {
            self.inner.flows.post_connect.exec(self.clone()).await;
        }
    }

    async fn try_connect(&self, gen: u64) -> Result<(), TsrpcError> {
        let flows = &self.inner.flows;
        if !flows.pre_connect.is_empty() {
            match flows.pre_connect.exec(PreConnectEvent::default()).await {
                None => return Err(TsrpcError::cancelled("pre_connect flow")),
                Some(PreConnectEvent { ret: Some(ret) }) => return ret,
                Some(_) => {}
            }
        }
        let fail = |detail: String| {
            TsrpcError::network(format!(
                "Failed to connect to WebSocket server: {}",
                self.inner.url
            ))
            .with_code(codes::CONNECT_FAILED)
            .with_extra("innerErr", detail)
        };
        // A server that answers the upgrade with an HTTP error (503 when it is full) says why.
        let refused = |e: tokio_tungstenite::tungstenite::Error| match e {
            tokio_tungstenite::tungstenite::Error::Http(resp) => {
                let status = resp.status();
                let why = http_refusal_reason(resp.body().as_deref().unwrap_or_default());
                let mut err = fail(format!("HTTP error: {status}"));
                err.message = match why {
                    Some(why) => format!("{} (HTTP {status}: {why})", err.message),
                    None => format!("{} (HTTP {status})", err.message),
                };
                err.with_extra("httpCode", status.as_u16())
            }
            e => fail(e.to_string()),
        };
        let mut request = self
            .inner
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| fail(e.to_string()))?;
        let protocol = if self.inner.core.is_json() {
            "text"
        } else {
            "buffer"
        };
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(protocol));
        let mut config = WebSocketConfig::default();
        config.max_message_size = Some(self.inner.options.max_frame_size);
        config.max_frame_size = Some(self.inner.options.max_frame_size);
        config.read_buffer_size = 8 * 1024;
        #[cfg(not(feature = "tls"))]
        let connect = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
        #[cfg(feature = "tls")]
        let connect = tokio_tungstenite::connect_async_tls_with_config(
            request,
            Some(config),
            true,
            self.inner
                .options
                .tls
                .clone()
                // The platform's roots, read only when a wss:// URL needs them.
                .or_else(|| {
                    self.inner
                        .url
                        .get(..6)
                        .is_some_and(|s| s.eq_ignore_ascii_case("wss://"))
                        .then(super::tls::default_config)
                })
                .map(tokio_tungstenite::Connector::Rustls),
        );
        let (stream, _resp) = tokio::time::timeout(self.inner.options.connect_timeout, connect)
            .await
            .map_err(|_| fail("connect timeout".into()))?
            .map_err(refused)?;
        let (sink, source) = stream.split();
        let link = Link::new(Limits {
            window: self.inner.options.send_queue.max(1),
            window_bytes: usize::MAX,
            max_frames: usize::MAX,
            max_bytes: usize::MAX,
            full_timeout: None,
        });
        let linger = self.inner.options.close_linger;
        // The wait for the server's close after ours is longer than `disconnect()`'s own, which
        // decides how a close that gets no answer ends.
        let timing = Timing {
            close_timeout: DISCONNECT_WAIT + linger,
            linger,
        };
        let live = Arc::new(Live {
            gen,
            link: link.clone(),
            manual: AtomicBool::new(false),
            pong: Notify::new(),
            closed: watch::Sender::new(false),
            opened_at: tokio::time::Instant::now(),
        });
        {
            let mut st = self.inner.lock_state();
            if st.gen != gen || st.status != WsStatus::Opening {
                return Err(TsrpcError::network("Disconnected while connecting")
                    .with_code(codes::CONNECT_FAILED));
            }
            st.status = WsStatus::Opened;
            st.live = Some(live.clone());
            if let Some(task) = st.reconnect.take() {
                // Back (through the reconnect task, or a connect() of the application).
                task.abort();
                tracing::info!(url = %self.inner.url, attempt = st.attempts, "reconnected");
            }
            self.inner.publish(ConnectionStatus::Connected);
        }
        spawn_writer(link, sink, timing);
        tokio::spawn(self.clone().read_loop(source, live.clone()));
        // Call timeouts: calls are pending only while connected (`on_close` fails them).
        let client = self.clone();
        let mut closed = live.closed.subscribe();
        tokio::spawn(async move {
            client
                .inner
                .core
                .sweep_loop(async move { wait_closed(&mut closed).await })
                .await
        });
        if let Some(hb) = self.inner.options.heartbeat {
            tokio::spawn(self.clone().heartbeat_loop(live, hb));
        }
        Ok(())
    }

    /// Closes the connection (code 1000). Resolves once closed (at most about 1 s); works while
    /// connecting (that attempt then fails); does nothing when closed.
    pub async fn disconnect(&self) {
        self.disconnect_with(1000, "").await
    }

    /// Closes the connection with this code and reason.
    pub async fn disconnect_with(&self, code: u16, reason: &str) {
        let live = {
            let mut st = self.inner.lock_state();
            if let Some(task) = st.reconnect.take() {
                // A manual disconnect stops reconnecting.
                task.abort();
                if st.status == WsStatus::Closed {
                    self.inner.publish(ConnectionStatus::Closed);
                }
            }
            match st.status {
                WsStatus::Closed => return,
                WsStatus::Opening => {
                    st.status = WsStatus::Closed;
                    st.gen += 1;
                    self.inner.publish(ConnectionStatus::Closed);
                    if let Some((tx, task)) = st.connecting.take() {
                        task.abort();
                        tx.send_replace(Some(Err(TsrpcError::network(
                            "Disconnected while connecting",
                        )
                        .with_code(codes::CONNECT_FAILED))));
                    }
                    return;
                }
                WsStatus::Opened | WsStatus::Closing => {
                    st.status = WsStatus::Closing;
                    match &st.live {
                        Some(l) => l.clone(),
                        None => return,
                    }
                }
            }
        };
        live.manual.store(true, Ordering::SeqCst);
        let reason = truncate_reason(reason).to_owned();
        live.link.close(code, &reason);
        let mut closed = live.closed.subscribe();
        let done = tokio::time::timeout(DISCONNECT_WAIT, wait_closed(&mut closed)).await;
        if done.is_err() {
            self.on_close(
                &live,
                if reason.is_empty() {
                    "Connection closed, but not received ws.onClose event.".into()
                } else {
                    reason
                },
            )
            .await;
        }
    }

    /// Leaves the connected state once per socket: fails pending calls, fires post_disconnect.
    async fn on_close(&self, live: &Arc<Live>, reason: String) {
        {
            let mut st = self.inner.lock_state();
            let current = st.live.as_ref().is_some_and(|l| Arc::ptr_eq(l, live));
            if !current {
                return;
            }
            st.live = None;
            if st.gen == live.gen {
                st.status = WsStatus::Closed;
                self.plan_reconnect(&mut st, live);
            }
        }
        live.link.abort();
        live.closed.send_replace(true);
        self.inner.core.fail_all(|| TsrpcError::lost_conn(&reason));
        let ev = DisconnectEvent {
            reason: (!reason.is_empty()).then_some(reason),
            is_manual: live.manual.load(Ordering::SeqCst),
            client: self.clone(),
        };
        self.inner.flows.post_disconnect.exec(ev).await;
    }
}

impl WsClient {
    /// After losing `live` (under the state lock): starts the reconnect task when the policy
    /// says so, else publishes `Closed`. The status is `Reconnecting` before pending calls fail,
    /// so a call to be re-sent sees it.
    fn plan_reconnect(&self, st: &mut State, live: &Live) {
        let policy = match &self.inner.options.reconnect {
            Some(p) if !live.manual.load(Ordering::SeqCst) && st.reconnect.is_none() => p,
            _ => {
                self.inner.publish(ConnectionStatus::Closed);
                return;
            }
        };
        if live.opened_at.elapsed() >= policy.stable_after {
            st.attempts = 0;
        }
        if policy.max_attempts.is_some_and(|max| st.attempts >= max) {
            tracing::warn!(url = %self.inner.url, "connection lost; reconnect attempts used up");
            self.inner.publish(ConnectionStatus::Closed);
            return;
        }
        st.attempts += 1;
        let attempt = st.attempts;
        let delay = policy.delay(attempt, self.inner.jitter.unit());
        tracing::info!(url = %self.inner.url, attempt, ?delay, "connection lost; reconnecting");
        self.inner
            .publish(ConnectionStatus::Reconnecting { attempt, delay });
        let task = tokio::spawn(self.clone().reconnect_loop(attempt, delay));
        st.reconnect = Some(task.abort_handle());
    }
}

impl WsInner {
    /// Publishes a status (to [`WsClient::status_changes`]), when it changed.
    fn publish(&self, status: ConnectionStatus) {
        self.status_tx.send_if_modified(|s| {
            let changed = *s != status;
            *s = status;
            changed
        });
    }
    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn live(&self) -> Option<Arc<Live>> {
        let st = self.lock_state();
        match st.status {
            WsStatus::Opened => st.live.clone(),
            _ => None,
        }
    }

    async fn send_frame(
        &self,
        live: &Live,
        frame: Frame,
        sn: Option<u64>,
    ) -> Result<(), TsrpcError> {
        let flows = &self.flows;
        let frame = match frame {
            Frame::Text(text) if !flows.pre_send_data.is_empty() => {
                match Box::pin(flows.pre_send_data.exec(DataEvent { data: text, sn })).await {
                    Some(ev) => Frame::Text(ev.data),
                    None => return Err(TsrpcError::cancelled("pre_send_data flow")),
                }
            }
            frame => frame,
        };
        live.queue(frame.into_message()).await
    }

    /// A request or message frame: JSON text, or `ServerInputData` for binary.
    fn frame(&self, name: &str, body: Payload, sn: Option<u64>) -> Result<Frame, TsrpcError> {
        match (body, self.core.binary()) {
            (Payload::Bin(body), Some(bin)) => {
                let id = match sn {
                    Some(_) => bin.api(name),
                    None => bin.msg(name),
                }
                .map(|s| s.id)
                .ok_or_else(|| {
                    TsrpcError::client(format!("{name} is not in the service's TSRPC proto"))
                })?;
                Ok(Frame::Binary(bin.encode_input(id, sn, &body)))
            }
            (body, _) => {
                let json = body.into_json();
                Ok(Frame::Text(match sn {
                    Some(sn) => self.codec.wrap_api_req(name, json, sn),
                    None => self.codec.encode_msg(name, &json),
                }))
            }
        }
    }
}

impl Live {
    /// Queues a frame, waiting for room in the send window.
    async fn queue(&self, frame: WsMessage) -> Result<(), TsrpcError> {
        self.link
            .send(frame)
            .await
            .map_err(|_| TsrpcError::ws_not_open())
    }
}

impl Transport for WsInner {
    const SWEPT: bool = true;

    fn flows(&self) -> &ClientFlows {
        &self.flows
    }

    async fn send_call(&self, name: &str, req: Payload, sn: u64) -> Option<ApiReturn<Payload>> {
        // The call's entry is in the core's table already: a connection lost from here on
        // fails it with LOST_CONN (`on_close` clears the live socket, then the table).
        let Some(live) = self.live() else {
            return Some(Err(TsrpcError::ws_not_open()));
        };
        let frame = match self.frame(name, req, Some(sn)) {
            Ok(frame) => frame,
            Err(e) => return Some(Err(e)),
        };
        match self.send_frame(&live, frame, Some(sn)).await {
            Ok(()) => None,
            Err(e) => Some(Err(e)),
        }
    }

    fn waits_for_reconnect(&self) -> bool {
        self.options
            .reconnect
            .as_ref()
            .is_some_and(|p| p.wait_for_connection)
    }

    async fn retry_after(&self, err: &TsrpcError, resend: bool) -> bool {
        self.wait_to_retry(err, resend).await
    }

    async fn send_msg(&self, name: &str, msg: Payload) -> Result<(), TsrpcError> {
        let live = self.live().ok_or_else(TsrpcError::ws_not_open)?;
        let frame = self.frame(name, msg, None)?;
        self.send_frame(&live, frame, None).await
    }
}

/// The reason in the body of an HTTP error answered to a WebSocket upgrade: TSRPC's
/// `{"isSucc":false,"err":{"message":..}}`, else the body's text (at most 200 bytes).
fn http_refusal_reason(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?.trim();
    if text.is_empty() {
        return None;
    }
    let from_json = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.pointer("/err/message")?.as_str().map(str::to_owned));
    Some(from_json.unwrap_or_else(|| crate::ws_util::truncate_reason(text).to_owned()))
}

/// How long `disconnect()` waits for the close handshake before it closes the connection on
/// its own side.
const DISCONNECT_WAIT: Duration = Duration::from_secs(1);

async fn wait_closed(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|c| *c).await;
}
