//! The WebSocket client.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use regex::Regex;
use tokio::sync::{mpsc, watch, Notify, Semaphore, TryAcquireError};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::core::{ClientCore, Transport};
use super::flows::{DataEvent, DisconnectEvent, MsgEvent, PreConnectEvent};
use super::impl_rpc_client;
use crate::codec::{Codec, ServerOutput};
use crate::error::{codes, ApiReturn, TsrpcError};
use crate::listener::{ListenerHandle, Listeners};
use crate::service::{Message, MsgEnum};
use crate::ws_util::{truncate_reason, HEARTBEAT};

/// Client heartbeat: a binary `00` ping every `interval`; no pong within `timeout` closes the
/// connection (code 3000, reason `Heartbeat timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// Time between a pong and the next ping.
    pub interval: Duration,
    /// How long to wait for a pong.
    pub timeout: Duration,
}

/// Options of a [`WsClient`]. Defaults match TSRPC's.
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
    /// TLS settings for `wss://` URLs (feature `tls`): trusted roots, client certificate.
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
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl WsClientOptions {
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
type MsgHandler = Arc<dyn Fn(&str, &str, bool) -> bool + Send + Sync>;
type ConnectResult = Option<Result<(), TsrpcError>>;

enum Outgoing {
    Frame(WsMessage),
    Close(u16, String),
}

/// One live socket.
struct Live {
    gen: u64,
    tx: mpsc::UnboundedSender<Outgoing>,
    /// Frames that may wait in the queue (`send_queue`): a sender forgets its permit, the
    /// writer gives them back a batch at a time once written, and closes it when it stops.
    window: Arc<Semaphore>,
    manual: AtomicBool,
    pong: Notify,
    closed: watch::Sender<bool>,
    /// Set with `closed` (read per frame without its lock).
    is_closed: AtomicBool,
}

struct State {
    status: WsStatus,
    gen: u64,
    live: Option<Arc<Live>>,
    connecting: Option<(watch::Sender<ConnectResult>, tokio::task::AbortHandle)>,
}

pub(crate) struct WsInner {
    url: String,
    options: WsClientOptions,
    pub(crate) core: ClientCore,
    codec: Codec,
    state: Mutex<State>,
    listeners: Listeners<MsgHandler>,
    latency_us: AtomicU64,
}

/// A TSRPC WebSocket client (JSON mode). A cheap clone: every clone is the same client.
///
/// ```no_run
/// # async fn demo() -> Result<(), rpc_runtime::TsrpcError> {
/// use rpc_runtime::{RpcClient, WsClient, WsClientOptions};
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
                core: ClientCore::new(options.timeout),
                options,
                codec: Codec::Json,
                state: Mutex::new(State {
                    status: WsStatus::Closed,
                    gen: 0,
                    live: None,
                    connecting: None,
                }),
                listeners: Listeners::new(),
                latency_us: AtomicU64::new(u64::MAX),
            }),
        }
    }

    /// The server URL.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The client's flows (hook chains), among them `post_disconnect` for reconnecting.
    pub fn flows(&self) -> &super::ClientFlows {
        &self.inner.core.flows
    }

    /// The connection status.
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
            }
            st.connecting.take()
        };
        if let Some((tx, _)) = tx {
            tx.send_replace(Some(res));
        }
        if connected {
            self.inner.core.flows.post_connect.exec(self.clone()).await;
        }
    }

    async fn try_connect(&self, gen: u64) -> Result<(), TsrpcError> {
        let flows = &self.inner.core.flows;
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
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("text"));
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
                .map(tokio_tungstenite::Connector::Rustls),
        );
        let (stream, _resp) = tokio::time::timeout(self.inner.options.connect_timeout, connect)
            .await
            .map_err(|_| fail("connect timeout".into()))?
            .map_err(refused)?;
        let (sink, source) = stream.split();
        let (tx, rx) = mpsc::unbounded_channel();
        let window = Arc::new(Semaphore::new(self.inner.options.send_queue.max(1)));
        let live = Arc::new(Live {
            gen,
            tx,
            window: window.clone(),
            manual: AtomicBool::new(false),
            pong: Notify::new(),
            closed: watch::Sender::new(false),
            is_closed: AtomicBool::new(false),
        });
        {
            let mut st = self.inner.lock_state();
            if st.gen != gen || st.status != WsStatus::Opening {
                return Err(TsrpcError::network("Disconnected while connecting")
                    .with_code(codes::CONNECT_FAILED));
            }
            st.status = WsStatus::Opened;
            st.live = Some(live.clone());
        }
        tokio::spawn(write_loop(
            sink,
            rx,
            window,
            live.closed.subscribe(),
            self.inner.options.close_linger,
        ));
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
            match st.status {
                WsStatus::Closed => return,
                WsStatus::Opening => {
                    st.status = WsStatus::Closed;
                    st.gen += 1;
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
        let _ = live.tx.send(Outgoing::Close(code, reason.clone()));
        let mut closed = live.closed.subscribe();
        let done = tokio::time::timeout(Duration::from_secs(1), wait_closed(&mut closed)).await;
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
            }
        }
        live.is_closed.store(true, Ordering::Release);
        live.closed.send_replace(true);
        self.inner.core.fail_all(|| TsrpcError::lost_conn(&reason));
        let ev = DisconnectEvent {
            reason: (!reason.is_empty()).then_some(reason),
            is_manual: live.manual.load(Ordering::SeqCst),
            client: self.clone(),
        };
        self.inner.core.flows.post_disconnect.exec(ev).await;
    }

    async fn read_loop(
        self,
        mut source: futures_util::stream::SplitStream<
            tokio_tungstenite::WebSocketStream<
                tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
            >,
        >,
        live: Arc<Live>,
    ) {
        let mut reason = String::new();
        // True once the server's close frame (or its answer to ours) came.
        let mut close_frame = false;
        let mut closed_rx = live.closed.subscribe();
        // One waiter for the whole loop, not one registered and dropped per frame.
        let closed = wait_closed(&mut closed_rx);
        tokio::pin!(closed);
        // API returns handled since the socket last had nothing to read.
        let mut returns = 0;
        loop {
            // The socket first: the close signal is polled only when there is nothing to read
            // (polling it costs more than a frame's dispatch), and checked by a flag per frame.
            if live.is_closed.load(Ordering::Acquire) {
                break;
            }
            let frame = tokio::select! {
                biased;
                f = std::future::poll_fn(|cx| {
                    let next = source.poll_next_unpin(cx);
                    if next.is_pending() {
                        returns = 0;
                    }
                    next
                }) => f,
                _ = &mut closed => break,
            };
            match frame {
                Some(Ok(WsMessage::Text(text))) => {
                    if self.on_text(text.as_str()).await {
                        returns += 1;
                        if returns == RETURNS_PER_YIELD {
                            // Let the callers of these returns run (and send their next calls)
                            // while the rest of what was read waits: the server gets work
                            // sooner, which pipelined calls need (bench/README.md).
                            returns = 0;
                            tokio::task::yield_now().await;
                        }
                    }
                }
                Some(Ok(WsMessage::Binary(b))) => {
                    if b.as_ref() == HEARTBEAT {
                        live.pong.notify_one();
                    } else {
                        tracing::warn!("binary frame ignored: only JSON mode is supported");
                    }
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    // The connection is over now, whether or not the server ends TCP: a server
                    // that keeps it open must not leave calls pending (a close code a peer may
                    // not send arrives as 1002 `Protocol violation`).
                    if let Some(f) = frame {
                        reason = f.reason.to_string();
                    }
                    close_frame = true;
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::debug!("websocket read error: {e}");
                    break;
                }
                None => break,
            }
        }
        // After a close frame from the server this answers it: tungstenite has queued the
        // answer (the server's code), which the writer's close flushes.
        let _ = live.tx.send(Outgoing::Close(1000, String::new()));
        if close_frame {
            // The server ends the TCP connection (RFC 6455 7.1.1); give it `close_linger`, then
            // drop this half (the writer drops the other once its close is written). Reading
            // also flushes the answer if the writer could not.
            let linger = self.inner.options.close_linger;
            tokio::spawn(async move {
                let drain = async { while let Some(Ok(_)) = source.next().await {} };
                let _ = tokio::time::timeout(linger, drain).await;
            });
        } else {
            drop(source);
        }
        self.on_close(&live, reason).await;
    }

    /// Handles a text frame; true when it was an API return.
    async fn on_text(&self, text: &str) -> bool {
        let flows = &self.inner.core.flows;
        let owned;
        let mut text = text;
        if !flows.pre_recv_data.is_empty() {
            let ev = DataEvent {
                data: text.to_owned(),
                sn: None,
            };
            match flows.pre_recv_data.exec(ev).await {
                Some(ev) => {
                    owned = ev.data;
                    text = &owned;
                }
                None => return false,
            }
        }
        // The usual API success is split by scanning (its `res` checked, not built).
        if let Some((sn, res)) = crate::codec::split_api_success(text) {
            self.inner.core.complete(sn, Ok(res.to_owned()));
            return true;
        }
        if flows.pre_recv_msg.is_empty() && flows.post_recv_msg.is_empty() {
            if let Some((name, body)) = crate::codec::split_msg_frame(text) {
                if self.dispatch_unchecked(name, body) {
                    return false;
                }
            }
        }
        match self.inner.codec.decode_server_output(text) {
            Ok(ServerOutput::ApiReturn { sn, ret }) => {
                self.inner
                    .core
                    .complete(sn, ret.map(|raw| raw.get().to_owned()));
                return true;
            }
            Ok(ServerOutput::Msg { name, body }) => self.dispatch_msg(&name, body.get()).await,
            Err(e) => {
                tracing::warn!("bad frame from server: {e}");
                // A reply whose return cannot be read fails its call now (as TSRPC's HTTP
                // client does); a frame without a readable sn fails none.
                if let Some(sn) = reply_sn(text) {
                    self.inner.core.complete(sn, Err(parse_output_error()));
                    return true;
                }
            }
        }
        false
    }

    /// Dispatches a message whose body was not parsed: true when the first listener decoded it
    /// (so it is valid JSON) and every listener got it; false, with no listener run, otherwise.
    fn dispatch_unchecked(&self, name: &str, json: &str) -> bool {
        self.inner.listeners.with_matching(name, |it| {
            let Some(first) = it.next() else {
                return false;
            };
            if !first(name, json, false) {
                return false;
            }
            for h in it {
                h(name, json, true);
            }
            true
        })
    }

    async fn dispatch_msg(&self, name: &str, json: &str) {
        let flows = &self.inner.core.flows;
        if flows.pre_recv_msg.is_empty() && flows.post_recv_msg.is_empty() {
            self.inner.listeners.for_each_matching(name, |h| {
                h(name, json, true);
            });
            return;
        }
        let ev = MsgEvent {
            msg_name: name.to_owned(),
            msg: serde_json::from_str(json).unwrap_or_default(),
        };
        let Some(ev) = flows.pre_recv_msg.exec(ev).await else {
            return;
        };
        let json = crate::json::to_string(&ev.msg).unwrap_or_default();
        self.inner.listeners.for_each_matching(&ev.msg_name, |h| {
            h(&ev.msg_name, &json, true);
        });
        flows.post_recv_msg.exec(ev).await;
    }

    async fn heartbeat_loop(self, live: Arc<Live>, hb: Heartbeat) {
        let mut closed = live.closed.subscribe();
        loop {
            let sent = Instant::now();
            if live
                .queue(WsMessage::binary(HEARTBEAT.to_vec()))
                .await
                .is_err()
            {
                return;
            }
            tokio::select! {
                _ = wait_closed(&mut closed) => return,
                r = tokio::time::timeout(hb.timeout, live.pong.notified()) => {
                    if r.is_err() {
                        let _ = live.tx.send(Outgoing::Close(3000, "Heartbeat timeout".into()));
                        self.on_close(&live, "Heartbeat timeout".into()).await;
                        return;
                    }
                }
            }
            let us = sent.elapsed().as_micros().min(u64::MAX as u128 - 1) as u64;
            self.inner.latency_us.store(us, Ordering::Relaxed);
            tokio::select! {
                _ = wait_closed(&mut closed) => return,
                _ = tokio::time::sleep(hb.interval) => {}
            }
        }
    }

    /// Listens to the message `M`; the handler gets each one, in the order received.
    pub fn listen_msg<M: Message>(
        &self,
        handler: impl Fn(M) + Send + Sync + 'static,
    ) -> ListenerHandle {
        self.inner.listeners.add_name(
            M::NAME,
            Arc::new(move |name, json, checked| {
                match crate::validate::decode::<M>(json) {
                    Ok(m) => handler(m),
                    Err(_) if !checked => return false,
                    Err(e) => tracing::warn!("message {name} does not decode: {e}"),
                }
                true
            }),
        )
    }

    /// Listens to every message whose name matches `pattern`, decoded into the service's
    /// message enum; the handler also gets the name.
    pub fn listen_msg_matching<E: MsgEnum>(
        &self,
        pattern: Regex,
        handler: impl Fn(E, &str) + Send + Sync + 'static,
    ) -> ListenerHandle {
        self.inner.listeners.add_pattern(
            pattern,
            Arc::new(move |name, json, checked| {
                if !checked {
                    // `E` may be written by hand: its success does not show the body is JSON.
                    return false;
                }
                match E::decode(name, json) {
                    Ok(Some(m)) => handler(m, name),
                    Ok(None) => tracing::warn!("message {name} is not part of the service"),
                    Err(e) => tracing::warn!("message {name} does not decode: {e}"),
                }
                true
            }),
        )
    }

    /// Listens by name with the JSON body (the untyped layer).
    pub fn listen_msg_raw(
        &self,
        name: &str,
        handler: impl Fn(&str, serde_json::Value) + Send + Sync + 'static,
    ) -> ListenerHandle {
        self.inner.listeners.add_name(
            name,
            Arc::new(move |name, json, checked| {
                if checked {
                    handler(name, serde_json::from_str(json).unwrap_or_default());
                }
                checked
            }),
        )
    }

    /// Listens by regex with the JSON body (the untyped layer).
    pub fn listen_msg_matching_raw(
        &self,
        pattern: Regex,
        handler: impl Fn(&str, serde_json::Value) + Send + Sync + 'static,
    ) -> ListenerHandle {
        self.inner.listeners.add_pattern(
            pattern,
            Arc::new(move |name, json, checked| {
                if checked {
                    handler(name, serde_json::from_str(json).unwrap_or_default());
                }
                checked
            }),
        )
    }

    /// Stops one listener; false when it was not listening.
    pub fn unlisten_msg(&self, handle: ListenerHandle) -> bool {
        self.inner.listeners.remove(handle)
    }

    /// Stops every listener of this exact name, or of this pattern (its source text).
    pub fn unlisten_msg_all(&self, name_or_pattern: &str) -> usize {
        self.inner.listeners.remove_all(name_or_pattern)
    }
}

impl WsInner {
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
        text: String,
        sn: Option<u64>,
    ) -> Result<(), TsrpcError> {
        let flows = &self.core.flows;
        let text = if flows.pre_send_data.is_empty() {
            text
        } else {
            match Box::pin(flows.pre_send_data.exec(DataEvent { data: text, sn })).await {
                Some(ev) => ev.data,
                None => return Err(TsrpcError::cancelled("pre_send_data flow")),
            }
        };
        live.queue(WsMessage::text(text)).await
    }
}

impl Live {
    /// Queues a frame, waiting for room in the send window.
    async fn queue(&self, frame: WsMessage) -> Result<(), TsrpcError> {
        match self.window.try_acquire() {
            Ok(p) => p.forget(),
            Err(TryAcquireError::Closed) => return Err(TsrpcError::ws_not_open()),
            Err(TryAcquireError::NoPermits) => match self.window.acquire().await {
                Ok(p) => p.forget(),
                Err(_) => return Err(TsrpcError::ws_not_open()),
            },
        }
        self.tx
            .send(Outgoing::Frame(frame))
            .map_err(|_| TsrpcError::ws_not_open())
    }
}

impl Transport for WsInner {
    const SWEPT: bool = true;

    async fn send_call(&self, name: &str, req_json: String, sn: u64) -> Option<ApiReturn<String>> {
        // The call's entry is in the core's table already: a connection lost from here on
        // fails it with LOST_CONN (`on_close` clears the live socket, then the table).
        let Some(live) = self.live() else {
            return Some(Err(TsrpcError::ws_not_open()));
        };
        let frame = self.codec.wrap_api_req(name, req_json, sn);
        match self.send_frame(&live, frame, Some(sn)).await {
            Ok(()) => None,
            Err(e) => Some(Err(e)),
        }
    }

    async fn send_msg(&self, name: &str, msg_json: String) -> Result<(), TsrpcError> {
        let live = self.live().ok_or_else(TsrpcError::ws_not_open)?;
        let frame = self.codec.encode_msg(name, &msg_json);
        self.send_frame(&live, frame, None).await
    }
}

/// The read loop yields after this many API returns read in one go. Fewer yields mean fewer,
/// larger writes (less CPU per call), more mean the server gets the next calls sooner: with
/// many calls in flight, 32 measured as fast as 16 on idle cores and faster when other jobs
/// share them, and 64 slower in both (figures in bench/README.md).
const RETURNS_PER_YIELD: usize = 32;

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

/// The default of [`WsClientOptions::close_linger`].
const DEFAULT_CLOSE_LINGER: Duration = Duration::from_secs(1);

/// TSRPC's error for a reply the client cannot parse: ServerError, no code.
fn parse_output_error() -> TsrpcError {
    TsrpcError::server("Parse server output error")
}

/// The sn of a frame shaped like an API return, `[name, <anything>, sn, ...]` with `sn` an
/// integer from 1 to 2^53; `None` when there is none (a message, or not such an array).
fn reply_sn(text: &str) -> Option<u64> {
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(text).ok()?;
    let sn: u64 = serde_json::from_str(items.get(2)?.get()).ok()?;
    (sn > 0 && sn <= 1 << 53).then_some(sn)
}

async fn wait_closed(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|c| *c).await;
}

type Sink = futures_util::stream::SplitSink<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    WsMessage,
>;

/// Writes queued frames, everything available per wake-up, one flush each time. Ends after a
/// close frame, on a write error, or once the connection is closed for the client (the reader
/// ended, or `disconnect` stopped waiting): a write in progress then gets `linger` to finish.
async fn write_loop(
    mut sink: Sink,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    window: Arc<Semaphore>,
    mut closed: watch::Receiver<bool>,
    linger: Duration,
) {
    // However this ends, senders waiting for the window wake (and fail).
    struct Stopped(Arc<Semaphore>);
    impl Drop for Stopped {
        fn drop(&mut self) {
            self.0.close();
        }
    }
    let _stopped = Stopped(window.clone());
    let closed = wait_closed(&mut closed);
    tokio::pin!(closed);
    loop {
        let first = tokio::select! {
            biased;
            item = rx.recv() => match item {
                Some(first) => first,
                None => return,
            },
            _ = &mut closed => return,
        };
        let batch = write_batch(&mut sink, first, &mut rx, &window);
        tokio::pin!(batch);
        // A server that does not read holds this write; a closed connection bounds it.
        let go_on = tokio::select! {
            biased;
            go_on = &mut batch => go_on,
            _ = &mut closed => {
                let _ = tokio::time::timeout(linger, &mut batch).await;
                return;
            }
        };
        if !go_on {
            return;
        }
    }
}

/// Writes `first` and everything queued behind it, flushes once and gives back the frames'
/// window permits. False when the writer must stop (a close frame was sent, or a write failed).
async fn write_batch(
    sink: &mut Sink,
    first: Outgoing,
    rx: &mut mpsc::UnboundedReceiver<Outgoing>,
    window: &Semaphore,
) -> bool {
    let mut next = Some(first);
    let mut frames = 0;
    while let Some(item) = next.take() {
        match item {
            Outgoing::Frame(m) => {
                frames += 1;
                if sink.feed(m).await.is_err() {
                    return false;
                }
            }
            Outgoing::Close(code, reason) => {
                let frame = CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason.into(),
                };
                let _ = sink.send(WsMessage::Close(Some(frame))).await;
                return false;
            }
        }
        next = rx.try_recv().ok();
    }
    if sink.flush().await.is_err() {
        return false;
    }
    window.add_permits(frames);
    true
}

#[cfg(test)]
mod tests {
    use super::reply_sn;

    #[test]
    fn reply_sn_reads_the_third_element() {
        assert_eq!(reply_sn(r#"["Add",{"isSucc":false,"err":5},7]"#), Some(7));
        assert_eq!(reply_sn(r#"["Add",null,1,"extra"]"#), Some(1));
        assert_eq!(reply_sn(r#"[5,{},9007199254740992]"#), Some(1 << 53));
        for none in [
            "not json",
            "[]",
            r#"["Add",{}]"#,
            r#"["Add",{},0]"#,
            r#"["Add",{},"1"]"#,
            r#"["Add",{},1.5]"#,
            r#"["Add",{},9007199254740993]"#,
            r#"{"sn":1}"#,
        ] {
            assert_eq!(reply_sn(none), None, "{none}");
        }
    }
}
