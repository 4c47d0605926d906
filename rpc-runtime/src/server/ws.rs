//! Serving TSRPC over WebSocket: handshake, the reader (an actor per connection) and the writer.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Interval};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};
use tracing::Instrument;

use super::conn::{link_limits, ConnKind, Connection, DATA_BUFFER, DATA_TEXT, DATA_UNDECIDED};
use super::core::ServerCore;
use super::flows::{ConnDataEvent, ConnDisconnectEvent};
use super::handler::BoxFuture;
use super::http_req::{origin_allowed, HttpRequest};
use super::job::ApiJob;
use super::msg_lane::MsgLane;
use super::options::ServerOptions;
use super::reply::Reply;
use crate::codec::binary::BinInput;
use crate::codec::{Frame, Input, Parse, ServerInput};
use crate::reasons::{
    FRAME_TOO_BIG_REASON, INVALID_BUFFER_REASON, INVALID_UTF8_REASON, JSON_DISABLED_REASON,
};
use crate::ws_link::{spawn_writer, Link, Timing};
use crate::ws_util::HEARTBEAT;

pub(crate) fn ws_config(core: &ServerCore) -> WebSocketConfig {
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(core.options.max_frame_size);
    config.max_frame_size = Some(core.options.max_frame_size);
    config.read_buffer_size = core.options.read_buffer_size;
    config
}

/// Reads `Sec-WebSocket-Protocol` and echoes the first offered protocol. Returns the request
/// (for `Connection::http_request`) and the connection's data type (TSRPC-WIRE a.1).
pub(crate) fn handshake_headers(req: &Request, resp: &mut Response) -> (HttpRequest, u8) {
    let protocols = req
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok());
    if let Some(protocols) = protocols {
        if let Some(first) = protocols.split(',').map(str::trim).find(|p| !p.is_empty()) {
            if let Ok(v) = HeaderValue::from_str(first) {
                resp.headers_mut().insert("sec-websocket-protocol", v);
            }
        }
    }
    let http_req = HttpRequest::packed(req.method().clone(), req.uri().clone(), req.headers());
    (http_req, data_type(protocols))
}

/// The data type the offered sub-protocols choose: `text` if offered, else `buffer` if
/// offered, else undecided (the first data frame decides), as TSRPC's `WsServer`.
pub(crate) fn data_type(protocols: Option<&str>) -> u8 {
    let offered = |p: &str| protocols.is_some_and(|v| v.split(',').any(|o| o.trim() == p));
    if offered("text") {
        DATA_TEXT
    } else if offered("buffer") {
        DATA_BUFFER
    } else {
        DATA_UNDECIDED
    }
}

/// Accepts a WebSocket handshake on a fresh TCP stream, then serves it.
pub(crate) async fn accept<S>(core: Arc<ServerCore>, stream: S, remote: SocketAddr)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut opened = None;
    let allowed = core.options.ws_allowed_origins.as_deref();
    // The signature is tungstenite's handshake callback; it runs before the answer is written.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        if !origin_allowed(req.headers(), allowed) {
            let mut refused = ErrorResponse::new(Some("Origin not allowed".into()));
            *refused.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::FORBIDDEN;
            return Err(refused);
        }
        let (req, t) = handshake_headers(req, &mut resp);
        opened = Some(Opened::new(&core, remote, Some(req), t));
        Ok(resp)
    };
    // tungstenite reads the request head and answers; the frames are ours (`ws_io`). Boxed:
    // the handshake's state is gone once done, and the connection's task keeps only `serve`.
    let mut config = ws_config(&core);
    config.read_buffer_size = 0;
    let handshake = Box::pin(tokio_tungstenite::accept_hdr_async_with_config(
        super::ws_io::HeadOnly::new(stream),
        callback,
        Some(config),
    ));
    let done = tokio::time::timeout(core.options.handshake_timeout, handshake).await;
    match (done, opened) {
        (Ok(Ok(ws)), Some(opened)) => {
            let (stream, read) = ws.into_inner().into_parts();
            serve(core, opened, stream, read).await
        }
        (done, opened) => {
            match done {
                Ok(Err(e)) => tracing::debug!("websocket handshake from {remote} failed: {e}"),
                Err(_) => tracing::debug!("websocket handshake from {remote} timed out"),
                // tungstenite runs the callback in every handshake that succeeds.
                Ok(Ok(_)) => tracing::debug!("websocket handshake from {remote}: no request"),
            }
            if let Some(opened) = opened {
                opened.abandon(&core);
            }
        }
    }
}

/// A WebSocket connection made and registered while its handshake is answered, before the
/// answer goes out: once a client's `connect()` returns, the server lists the connection and
/// its broadcasts reach it (frames queued before the writer starts wait for it).
pub(crate) struct Opened {
    conn: Connection,
    link: Arc<Link>,
}

impl Opened {
    pub(crate) fn new(
        core: &Arc<ServerCore>,
        remote: SocketAddr,
        http_req: Option<HttpRequest>,
        data_type: u8,
    ) -> Self {
        let link = Link::new(link_limits(&core.options));
        let kind = ConnKind::Ws {
            link: link.clone(),
            close_waiting: AtomicBool::new(false),
            data_type: AtomicU8::new(data_type),
        };
        let conn = core.new_conn(remote, http_req, kind);
        Opened { conn, link }
    }

    /// The handshake failed after the connection was made: it goes, as if it never was
    /// (no flows or logs ran for it).
    pub(crate) fn abandon(self, core: &ServerCore) {
        self.link.abort();
        core.unregister(self.conn.id());
    }
}

async fn tick(i: &mut Option<Interval>) {
    match i {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// The timers of a connection's reader: TSRPC's heartbeat wait, and the WebSocket pings that
/// find a peer gone silent or one that takes nothing of what is sent to it.
struct Watchdog {
    heartbeat_wait: Duration,
    heartbeat_check: Option<Interval>,
    ping_every: Duration,
    ping: Option<Interval>,
    /// When the last heartbeat came (or the connection opened, or reading resumed).
    last_heartbeat: Instant,
    /// When the last frame came (kept only with pings on: no clock read per frame otherwise).
    last_rx: Instant,
    /// The writer's progress when the ping timer last looked.
    last_written: u64,
    /// Since when the writer has had frames waiting and written none.
    stalled_since: Option<Instant>,
}

impl Watchdog {
    fn new(options: &ServerOptions) -> Self {
        let now = Instant::now();
        let every = |d: Option<Duration>| {
            let d = d.filter(|d| !d.is_zero())?;
            Some((d, tokio::time::interval_at(now + d, d)))
        };
        let (heartbeat_wait, heartbeat_check) = every(options.heartbeat_wait).unzip();
        let (ping_every, ping) = every(options.ping_interval).unzip();
        Watchdog {
            heartbeat_wait: heartbeat_wait.unwrap_or_default(),
            heartbeat_check,
            ping_every: ping_every.unwrap_or_default(),
            ping,
            last_heartbeat: now,
            last_rx: now,
            last_written: 0,
            stalled_since: None,
        }
    }

    /// A frame came.
    fn received(&mut self) {
        if self.ping.is_some() {
            self.last_rx = Instant::now();
        }
    }

    /// A heartbeat came.
    fn heartbeat(&mut self) {
        self.last_heartbeat = Instant::now();
        self.last_rx = self.last_heartbeat;
    }

    /// Reading resumed after a frame's handling held it: what came meanwhile was not read, so
    /// the peer's silence is counted from now, as after a heartbeat.
    fn resumed(&mut self) {
        self.heartbeat();
    }

    /// Waits for the next timer and acts on it. True when the peer is gone and the socket must
    /// be dropped: no frame from it for two ping intervals (half-open), or, even while reads
    /// are paused (`reading` false), a writer that has had frames waiting and written none for
    /// about two ping intervals (the peer reads nothing, so it cannot answer pings either).
    async fn next(&mut self, conn: &Connection, link: &Link, reading: bool) -> bool {
        tokio::select! {
            // Heartbeats cannot be seen while reads are paused: no judgement then.
            _ = tick(&mut self.heartbeat_check), if reading => {
                if self.last_heartbeat.elapsed() >= self.heartbeat_wait {
                    conn.close_with(3001, "Receive heartbeat timeout".into());
                }
                false
            }
            _ = tick(&mut self.ping) => {
                let (queued, written) = link.progress();
                if written == self.last_written && queued > 0 {
                    let since = *self.stalled_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= self.ping_every {
                        tracing::debug!("connection {} takes nothing: dropped", conn.id());
                        return true;
                    }
                } else {
                    self.stalled_since = None;
                }
                self.last_written = written;
                if reading && self.last_rx.elapsed() >= self.ping_every * 2 {
                    tracing::debug!("connection {} is half-open: no answer to pings", conn.id());
                    return true;
                }
                let _ = conn.try_send_frame(WsMessage::Ping(Default::default()));
                false
            }
        }
    }
}

/// Serves one open WebSocket until it closes; `read`: bytes read past the handshake.
pub(crate) async fn serve<S>(core: Arc<ServerCore>, opened: Opened, stream: S, read: Vec<u8>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Opened { conn, link } = opened;
    let max = core.options.max_frame_size;
    let (mut source, sink) = super::ws_io::split(stream, read, max, max);
    let timing = Timing {
        close_timeout: core.options.close_timeout,
        linger: core.options.close_timeout,
    };
    spawn_writer(link.clone(), sink, timing);
    let calls = Arc::new(Semaphore::new(core.options.max_pending_calls.max(1)));
    if core.stopping.load(Ordering::Acquire) {
        // A server that is stopping closes new sockets at once (TSRPC uses 1012).
        conn.close_with(1012, "Server stopped".into());
    }
    // Everything the connection does runs in its span (`log`).
    let span = super::log::conn_span(&conn);
    async move {
        core.flows.post_connect.exec(conn.clone()).await;
        super::log::connected(&core, &conn);

        let mut watchdog = Watchdog::new(&core.options);
        // The lane's frames: a quarter of the send budget (a message waiting there usually holds its
        // reply too, which the send budget counts).
        let mut lane = MsgLane::new(core.options.msg_queue, core.options.max_queued_bytes / 4);
        let mut peer_reason: Option<String> = None;

        // One waiter for the whole loop, not one registered and dropped per frame.
        let terminate = link.stopped_reading();
        tokio::pin!(terminate);
        loop {
            // The socket first: the other branches are polled when it has nothing to read (or
            // tokio's task budget runs out, every 128 reads at most); a stop is also seen per frame.
            if link.must_stop_reading() {
                break;
            }
            let frame = tokio::select! {
                biased;
                f = source.next() => f,
                _ = &mut terminate => break,
                gone = watchdog.next(&conn, &link, true) => {
                    if gone {
                        break;
                    }
                    continue;
                }
            };
            match frame {
                Some(Ok(frame @ (WsMessage::Text(_) | WsMessage::Binary(_)))) => {
                    watchdog.received();
                    if let WsMessage::Binary(data) = &frame {
                        if data.as_ref() == HEARTBEAT {
                            watchdog.heartbeat();
                            // Always answered, whatever the options.
                            let _ = conn.try_send_frame(WsMessage::binary(HEARTBEAT.to_vec()));
                            continue;
                        }
                    }
                    if conn.is_closed() {
                        continue; // after a close, input is ignored
                    }
                    // While a frame is handled the socket is not read (backpressure: a full send
                    // queue or the call limit holds the handling); the timers still run, so a peer
                    // that takes nothing is dropped on time and its buffers freed.
                    let mut handling =
                        std::pin::pin!(on_frame(&core, &conn, &calls, &mut lane, frame));
                    let first =
                        std::future::poll_fn(|cx| Poll::Ready(handling.as_mut().poll(cx))).await;
                    if first.is_pending() {
                        let gone = loop {
                            tokio::select! {
                                biased;
                                _ = &mut handling => break false,
                                gone = watchdog.next(&conn, &link, false) => if gone {
                                    break true;
                                },
                            }
                        };
                        if gone {
                            break;
                        }
                        watchdog.resumed();
                    }
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    peer_reason = frame.map(|f| f.reason.to_string());
                }
                Some(Ok(WsMessage::Ping(data))) => {
                    watchdog.received();
                    let _ = conn.try_send_frame(WsMessage::Pong(data));
                }
                Some(Ok(_)) => watchdog.received(), // pong
                Some(Err(WsError::Capacity(e))) => {
                    tracing::debug!("connection {}: {e}", conn.id());
                    conn.close_with(1009, FRAME_TOO_BIG_REASON.into());
                    break;
                }
                Some(Err(WsError::Utf8(e))) => {
                    tracing::debug!("connection {}: {e}", conn.id());
                    conn.close_with(1007, INVALID_UTF8_REASON.into());
                    break;
                }
                Some(Err(WsError::Protocol(e))) => {
                    tracing::debug!("connection {}: {e}", conn.id());
                    conn.close_with(1002, format!("WebSocket protocol error: {e}"));
                    break;
                }
                Some(Err(e)) => {
                    tracing::debug!("connection {}: {e}", conn.id());
                    break;
                }
                None => break,
            }
        }

        link.reader_done();
        core.unregister(conn.id());
        conn.inner.msgs.clear();
        let reason = conn
            .close_reason()
            .or(peer_reason)
            .filter(|r| !r.is_empty());
        super::log::disconnected(&core, &conn, reason.as_deref());
        core.flows
            .post_disconnect
            .exec(ConnDisconnectEvent { conn, reason })
            .await;
    }
    .instrument(span)
    .await
}

/// What a text frame asks for, decoded.
enum Work {
    /// Nothing more to do (bad input closed the connection, or a flow stopped it).
    Done,
    /// An API call, ready to run.
    Call(ApiJob, u64),
    /// A message's listeners, to run in order.
    Msg(Vec<BoxFuture<()>>),
}

/// Handles one data frame (text or binary). The frame is dropped once decoded, before the
/// handlers run (and wait for room in the send queue): a connection holds each frame only
/// while decoding it.
async fn on_frame(
    core: &Arc<ServerCore>,
    conn: &Connection,
    calls: &Arc<Semaphore>,
    lane: &mut MsgLane,
    frame: WsMessage,
) {
    let len = frame.len();
    let work = match &frame {
        WsMessage::Text(text) => {
            if !core.options.json {
                // A binary-only server refuses text, whatever the sub-protocol said.
                conn.close(JSON_DISABLED_REASON);
                return;
            }
            if conn.data_type() == DATA_UNDECIDED {
                conn.set_data_type(DATA_TEXT);
            }
            decode_text(core, conn, text.as_str()).await
        }
        WsMessage::Binary(bytes) => {
            if conn.data_type() == DATA_UNDECIDED {
                conn.set_data_type(DATA_BUFFER);
            }
            decode_binary(core, conn, bytes).await
        }
        _ => Work::Done,
    };
    drop(frame);
    match work {
        Work::Done => {}
        // Boxed: a call's state is not part of the reader's task, which stays small while the
        // connection is idle (one allocation per call).
        Work::Call(job, sn) => Box::pin(run_call(core, calls, job, sn)).await,
        // In order among the connection's messages, without holding up its calls (`msg_lane`).
        Work::Msg(handlers) => lane.push(handlers, len).await,
    }
}

async fn decode_text(core: &Arc<ServerCore>, conn: &Connection, text: &str) -> Work {
    let owned;
    let mut text = text;
    if !core.flows.pre_recv_data.is_empty() {
        let ev = ConnDataEvent {
            conn: conn.clone(),
            data: text.to_owned(),
        };
        // Boxed, as every wait that is not the common case here: the connection's task (whose
        // size is its largest state) stays small while idle.
        match Box::pin(core.flows.pre_recv_data.exec(ev)).await {
            Some(ev) => {
                owned = ev.data;
                text = &owned;
            }
            None => return Work::Done,
        }
    }
    // The usual API call comes split by scanning, its body unchecked: the handler's decode is
    // then its only parse. A body that decode refuses is read again the full way, which gives
    // the same outcome or the error (see `codec`).
    let mut parse = Parse::Scan;
    loop {
        match core.codec.decode_server_input(text, parse) {
            Err(reason) => conn.close(reason),
            Ok(ServerInput::Api { name, body, sn }) => {
                let out = core.api_out(conn.binary().is_some(), &name);
                match core.dispatch_api(conn, &name, sn, Input::Json(body), out) {
                    Ok(job) => return Work::Call(job, sn),
                    Err(_) if body.is_split() => {
                        parse = Parse::Full;
                        continue;
                    }
                    Err(e) => conn.close(e.ws_reason()),
                }
            }
            Ok(ServerInput::Msg { name, body }) => {
                match core.dispatch_msg(conn, &name, Input::Json(body)).await {
                    Err(e) => conn.close(e.ws_reason()),
                    Ok(handlers) => return Work::Msg(handlers),
                }
            }
        }
        break;
    }
    Work::Done
}

/// Decodes a binary frame. Any input it cannot decode or dispatch closes the connection with
/// TSRPC's generic reason (the detail is logged).
async fn decode_binary(core: &Arc<ServerCore>, conn: &Connection, bytes: &[u8]) -> Work {
    let bin = match core.binary() {
        Ok(bin) => bin,
        Err(why) => {
            tracing::debug!("binary frame on connection {}: {why}", conn.id());
            conn.close(INVALID_BUFFER_REASON);
            return Work::Done;
        }
    };
    let reason = match bin.decode_server_input(bytes) {
        Err(reason) => reason,
        // An API call without sn is answered without serviceId and sn, as TSRPC answers it
        // (sn 0 stands for none: TSRPC's clients number calls from 1).
        Ok(BinInput::Api {
            name,
            service,
            body,
            sn,
        }) => {
            let sn = sn.unwrap_or(0);
            let out = match (conn.binary(), service.res) {
                (Some(_), Some(res)) => (bin.out(res), service.id),
                _ => (crate::codec::Out::Json, 0),
            };
            match core.dispatch_api(conn, name, sn, Input::Bin(body), out) {
                Ok(job) => return Work::Call(job, sn),
                Err(e) => binary_reason(e),
            }
        }
        Ok(BinInput::Msg { name, body }) => {
            match core.dispatch_msg(conn, name, Input::Bin(body)).await {
                Ok(handlers) => return Work::Msg(handlers),
                Err(e) => binary_reason(e),
            }
        }
    };
    conn.close(reason);
    Work::Done
}

/// The close reason of bad binary input: always TSRPC's generic text.
fn binary_reason(e: super::core::InputError) -> String {
    tracing::debug!("binary input refused: {}", e.ws_reason());
    INVALID_BUFFER_REASON.to_owned()
}

/// Runs a decoded API call: at once when its handler finishes on the first poll (the return
/// is queued from the reader), else in a task of its own.
async fn run_call(core: &Arc<ServerCore>, calls: &Arc<Semaphore>, mut job: ApiJob, sn: u64) {
    // At most `max_pending_calls` run at once on this connection and `max_pending_calls_total`
    // on the server: past either, this connection is not read until one finishes
    // (backpressure, nothing dropped). A call that finishes on its first poll needs no permit:
    // it runs only when one of each is free, and is done before the next frame is read. Only
    // this reader takes the connection's permits, so one free now is still free after that
    // poll; the server's may be taken meanwhile, so a call may wait for one after its first
    // poll (at most one call per connection beyond the server's limit).
    let total = &core.calls_total;
    let mut permits = (None, None);
    if calls.available_permits() == 0 {
        let Ok(p) = Box::pin(calls.clone().acquire_owned()).await else {
            return;
        };
        permits.0 = Some(p);
    }
    if total.available_permits() == 0 {
        let Ok(p) = Box::pin(total.clone().acquire_owned()).await else {
            return;
        };
        permits.1 = Some(p);
    }
    let (out, service_id) = (job.out, job.service_id);
    // Most handlers finish at once: their return is queued from here, with no task per call
    // (and so behind the other returns read in this wake-up, for one write). A handler that
    // waits goes on in a task of its own, so calls on one connection still run concurrently.
    // Without flows the handler's own future is polled (no second boxed future per call).
    // The return goes through the call's own handle ([`Reply`]): a close its handler asked for
    // waits for it, and is made once it is queued (or dropped unsent).
    if let Some(ret) = std::future::poll_fn(|cx| Poll::Ready(job.poll_once(cx))).await {
        let (reply, name) = job.into_reply();
        let frame = out.api_return_frame(&name, service_id, sn, ret);
        return returned(reply, frame, &name, sn).await;
    }
    let reply = job.reply();
    let name = job.name.clone();
    let mut call = Box::pin(async move {
        let ret = job.run().await;
        (out.api_return_frame(&name, service_id, sn, ret), name)
    });
    if let Poll::Ready((frame, name)) =
        std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await
    {
        return returned(reply, frame, &name, sn).await;
    }
    let (Some(conn_permit), Some(server_permit)) = (
        Box::pin(take_permit(calls, permits.0)).await,
        Box::pin(take_permit(total, permits.1)).await,
    ) else {
        return;
    };
    tokio::spawn(async move {
        let (frame, name) = call.await;
        drop((conn_permit, server_permit));
        send_return(reply, frame, &name, sn).await;
    });
}

/// `held`, or a permit of `sem` (waiting for one when none is free); `None` once it closed.
async fn take_permit(
    sem: &Arc<tokio::sync::Semaphore>,
    held: Option<tokio::sync::OwnedSemaphorePermit>,
) -> Option<tokio::sync::OwnedSemaphorePermit> {
    if held.is_some() {
        return held;
    }
    match sem.clone().try_acquire_owned() {
        Ok(p) => Some(p),
        Err(_) => sem.clone().acquire_owned().await.ok(),
    }
}

/// Queues the return of a call answered from the reader.
async fn returned(reply: Reply, frame: Frame, name: &str, sn: u64) {
    send_return(reply, frame, name, sn).await;
    // Every few dozen returns queued in one wake-up the reader yields (tokio's task budget),
    // so the writer sends those while the rest of the batch is handled: the peer gets replies
    // sooner, which pipelined callers need (figures in bench/README.md).
    tokio::task::consume_budget().await;
}

async fn send_return(reply: Reply, frame: Frame, name: &str, sn: u64) {
    if let Err(e) = reply.send(frame).await {
        tracing::debug!("return of {name} #{sn} not sent: {e}");
    }
}
