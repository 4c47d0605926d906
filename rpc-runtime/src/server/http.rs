//! Serving TSRPC over HTTP (JSON and binary mode), and WebSocket upgrades on the same port.
//!
//! One concept, TSRPC's HTTP answers, which is why the file passes 600 lines: every status,
//! header and body a request can get is here, next to the reasons it gets it.
//!
//! What a request gets (TSRPC-WIRE.md b):
//!
//! * `POST /<api name>` with a `Content-Type` containing `application/json` (`/` is TSRPC's
//!   `jsonHostPath`, [`ServerOptions::json_host_path`](super::ServerOptions); a POST outside it
//!   is read as binary, as TSRPC does): the API's return,
//!   `{"isSucc":true,"res":..}` (200) or `{"isSucc":false,"err":..}` (200 for an `ApiError`,
//!   500 for any other error type).
//! * `POST /<msg name>?type=msg` (`type=msg` among the `&`-separated query parts): 200 with an
//!   empty body as soon as the message is decoded; the listeners run after the answer.
//! * Bad input (unknown path, invalid JSON, a body that does not match the type): 200 with
//!   ServerError `INPUT_DATA_ERR` and TSRPC's texts (`Invalid URL path: <url>`, `Input is not a
//!   valid JSON string: ...`, the validator's text).
//! * Any other request (not POST, or not JSON, or any request to a binary-only server): a
//!   binary (TSBuffer) request, `ServerInputData {serviceId, buffer}`, as TSRPC reads it. Its
//!   answer is 200 without a `Content-Type`, `ServerOutputData {buffer}` or `{error}` whatever
//!   the error type, or an empty body for a message; a body that cannot be decoded gets
//!   `{error}` ServerError `INPUT_DATA_ERR` `Invalid request buffer, please check the version
//!   of service proto.` (TSRPC-WIRE b.2, b.5).
//! * `OPTIONS`: 200, empty (CORS preflight), unless CORS is off (`cors: None`: an ordinary
//!   request then, as TSRPC). A stopping server: 503, empty.
//! * A body over `max_body_size`: 413 with ServerError [`BODY_TOO_LARGE`]; a `Content-Length`
//!   over the limit is refused before any of the body is read, a chunked body as soon as it
//!   goes over. The connection is closed after a 413.
//! * A body that does not arrive whole within `body_timeout` (30 s from the end of the head,
//!   however it trickles in), or stalls for `handshake_timeout` between two chunks: 408 with
//!   ServerError [`BODY_TIMEOUT`]; the connection is closed.
//! * A connection past `max_connections` (whatever it asks, an upgrade included, on every
//!   server kind): 503 with ServerError [`SERVER_FULL`], then the socket is closed. It is
//!   answered outside hyper (by the accept loop), after its request head, without any flow running.
//!
//! Every response carries `X-Powered-By: TSRPC 3.4.21` and the CORS headers of
//! [`ServerOptions::cors`](super::ServerOptions) (TSRPC's default: any origin); JSON
//! bodies have `Content-Type: application/json; charset=utf-8`. `conn.close(reason)` in a
//! handler puts the reason in `X-TSRPC-Close-Reason`.
//!
//! Each request is a short connection ([`ConnType::Http`](super::ConnType::Http)): as in TSRPC,
//! `post_connect` runs when its body has been read and `post_disconnect` once it is answered.
//! `pre_recv_data` sees the body text (before the URL is resolved, as TSRPC does) and
//! `pre_send_data` every JSON body sent. A `pre_recv_data` node that stops an API request makes
//! it answer 500 ServerError `CANCELLED` (a message: 200, empty); a `pre_send_data` node that
//! stops a body makes the answer 500 with an empty body. No request is left unanswered.
//!
//! With `upgrade` (WebSocket and HTTP on one port), a `GET` asking for `Upgrade: websocket`
//! becomes a WebSocket connection, exactly as on a WebSocket-only server.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt;
use http_body_util::{Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::conn::{ConnKind, Connection};
use super::core::{InputError, ServerCore, SocketGuard};
use super::flows::{ConnDataEvent, ConnDisconnectEvent};
use super::http_req::{origin_allowed, HttpRequest};
use crate::codec::binary::{self, BinInput};
use crate::codec::{Input, Out, Payload};
use crate::error::{codes, ErrorType, TsrpcError};
use crate::reasons::INVALID_BUFFER_REASON;

/// The error code of the 413 answer to a body over `max_body_size`.
pub(crate) const BODY_TOO_LARGE: &str = "BODY_TOO_LARGE";

/// The error code of the 408 answer to a body not received in time.
pub(crate) const BODY_TIMEOUT: &str = "BODY_TIMEOUT";

/// The error code of the 503 answer to a connection past `max_connections`.
pub(crate) const SERVER_FULL: &str = "SERVER_FULL";

/// `X-Powered-By` of every response, as TSRPC 3.4.21 sends it.
const POWERED_BY: &str = "TSRPC 3.4.21";

const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

type Body = Full<Bytes>;

/// What a request body must be to be served: any `http_body` body of [`Bytes`] (hyper's
/// `Incoming`, axum's `Body`, ...).
pub(crate) trait ReqBody:
    hyper::body::Body<Data = Bytes, Error: Into<BoxError>> + Send + 'static
{
}

impl<B> ReqBody for B where
    B: hyper::body::Body<Data = Bytes, Error: Into<BoxError>> + Send + 'static
{
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Serves one TCP connection as HTTP/1.1 with keep-alive (or, with `upgrade`, as WebSocket when
/// a request asks for it).
pub(crate) async fn serve_conn<S>(
    core: Arc<ServerCore>,
    stream: S,
    remote: SocketAddr,
    upgrade: bool,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc_core = core.clone();
    let service = service_fn(move |req: Request<Incoming>| {
        let core = svc_core.clone();
        async move { Ok::<_, Infallible>(respond(core, req, remote, upgrade, None).await) }
    });
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).keep_alive(true);
    // Also the idle time allowed between two requests of a keep-alive connection.
    let head_timeout = Some(core.options.handshake_timeout).filter(|t| !t.is_zero());
    builder.header_read_timeout(head_timeout);
    let conn = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let stopped = core.stopped();
    let mut stopped = std::pin::pin!(stopped);
    let mut shutting_down = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!("http connection from {remote}: {e}");
                }
                return;
            }
            _ = &mut stopped, if !shutting_down => {
                // Finish the request in flight (if any), then close.
                conn.as_mut().graceful_shutdown();
                shutting_down = true;
            }
        }
    }
}

/// One request: a WebSocket upgrade, or a TSRPC HTTP exchange (with the common headers).
/// `slot` (a mounted endpoint's count of the request against `max_connections`) is held until
/// the answer is made, or by the WebSocket connection the request upgrades to.
pub(crate) async fn respond<B: ReqBody>(
    core: Arc<ServerCore>,
    req: Request<B>,
    remote: SocketAddr,
    upgrade: bool,
    slot: Option<SocketGuard>,
) -> Response<Body> {
    if upgrade && wants_websocket(req.headers()) {
        return upgrade_websocket(core, req, remote, slot);
    }
    let inner = core.options.return_inner_error;
    let origin = req.headers().get(header::ORIGIN).cloned();
    let mut resp = match AssertUnwindSafe(handle(&core, req, remote))
        .catch_unwind()
        .await
    {
        Ok(resp) => resp,
        Err(panic) => {
            // A flow node panicked (handlers are guarded already).
            let msg = panic_text(&*panic);
            tracing::error!("HTTP request from {remote} panicked: {msg}");
            let err = TsrpcError::internal(inner.then_some(msg));
            json(
                StatusCode::INTERNAL_SERVER_ERROR,
                api_error_body(&core, err),
            )
        }
    };
    common_headers(&core, origin.as_ref(), resp.headers_mut());
    resp
}

/// `X-Powered-By` and the CORS headers (for a request from `origin`).
fn common_headers(core: &ServerCore, origin: Option<&HeaderValue>, h: &mut HeaderMap) {
    h.insert("x-powered-by", HeaderValue::from_static(POWERED_BY));
    if let Some(cors) = &core.options.cors {
        cors.apply(origin, h);
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panicked".into())
}

/// Why a body could not be read.
enum BodyError {
    TooLarge,
    /// Nothing came for the idle time.
    Stalled,
    /// Not whole by the body deadline.
    TimedOut,
    Broken,
}

/// Reads a whole body: at most `max` bytes, no wait longer than `idle` (zero: no limit) for
/// the next piece, and all of it by `deadline`.
async fn read_body<B: ReqBody>(
    body: B,
    max: usize,
    idle: Duration,
    deadline: Option<Instant>,
) -> Result<Bytes, BodyError> {
    let mut body = std::pin::pin!(Limited::new(body, max));
    // Most bodies come in one chunk: kept as is; a second chunk starts a copy.
    let mut first: Option<Bytes> = None;
    let mut buf = BytesMut::new();
    loop {
        let next = std::future::poll_fn(|cx| hyper::body::Body::poll_frame(body.as_mut(), cx));
        let idle_until = (!idle.is_zero()).then(|| Instant::now() + idle);
        let until = match (idle_until, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let frame = match until {
            None => next.await,
            Some(until) => match tokio::time::timeout_at(until, next).await {
                Ok(frame) => frame,
                Err(_) if deadline == Some(until) => return Err(BodyError::TimedOut),
                Err(_) => return Err(BodyError::Stalled),
            },
        };
        match frame {
            None if buf.is_empty() => return Ok(first.unwrap_or_default()),
            None => return Ok(buf.freeze()),
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                if first.is_none() && buf.is_empty() {
                    first = Some(data);
                } else {
                    if let Some(f) = first.take() {
                        buf.extend_from_slice(&f);
                    }
                    buf.extend_from_slice(&data);
                }
            }
            Some(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
                return Err(BodyError::TooLarge)
            }
            Some(Err(_)) => return Err(BodyError::Broken),
        }
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

async fn handle<B: ReqBody>(
    core: &Arc<ServerCore>,
    req: Request<B>,
    remote: SocketAddr,
) -> Response<Body> {
    if core.stopping.load(Ordering::Acquire) {
        return closing(empty(StatusCode::SERVICE_UNAVAILABLE));
    }
    if req.method() == Method::OPTIONS && core.options.cors.is_some() {
        return empty(StatusCode::OK);
    }
    // TSRPC's `req.url`: the request target as sent (no decoding).
    let url = match req.uri().path_and_query() {
        Some(pq) if req.uri().scheme().is_none() => pq.as_str().to_owned(),
        _ => req.uri().to_string(),
    };
    let is_json = core.options.json
        && req.method() == Method::POST
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| contains_ignore_case(v.as_bytes(), b"application/json"))
        && url.starts_with(core.options.json_host_path.as_str());

    let max = core.options.max_body_size;
    if content_length(req.headers()).is_some_and(|n| n > max as u64) {
        // Refused without reading the body; hyper closes the connection after this answer.
        return too_large(core, max);
    }
    let body_timeout = core.options.body_timeout.filter(|t| !t.is_zero());
    let deadline = body_timeout.map(|t| Instant::now() + t);
    let idle = core.options.handshake_timeout;
    let (parts, body) = req.into_parts();
    let http_req = HttpRequest::new(parts.method, parts.uri, parts.headers);
    let body = match read_body(body, max, idle, deadline).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => return too_large(core, max),
        Err(BodyError::Stalled) => {
            return body_timeout_answer(core, format!("Request body stalled for {idle:?}"))
        }
        Err(BodyError::TimedOut) => {
            let t = body_timeout.unwrap_or_default();
            let msg = format!("Request body not received within {t:?}");
            return body_timeout_answer(core, msg);
        }
        Err(BodyError::Broken) => return closing(empty(StatusCode::BAD_REQUEST)),
    };

    let conn = core.new_conn(
        remote,
        Some(http_req),
        ConnKind::Http {
            close_reason: Mutex::new(None),
        },
    );
    if !core.flows.post_connect.is_empty() {
        core.flows.post_connect.exec(conn.clone()).await;
    }
    let mut resp = if is_json {
        handle_json(core, &conn, &url, body).await
    } else {
        handle_binary(core, &conn, &body).await
    };
    let reason = conn.close_reason();
    if let Some(r) = &reason {
        resp.headers_mut()
            .insert("x-tsrpc-close-reason", header_value_lossy(r));
    }
    if !core.flows.post_disconnect.is_empty() {
        let core = core.clone();
        tokio::spawn(async move {
            let ev = ConnDisconnectEvent { conn, reason };
            core.flows.post_disconnect.exec(ev).await;
        });
    }
    resp
}

async fn handle_json(
    core: &Arc<ServerCore>,
    conn: &Connection,
    url: &str,
    body: Bytes,
) -> Response<Body> {
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (url, None),
    };
    let is_msg = query.is_some_and(|q| q.split('&').any(|part| part == "type=msg"));
    // Under `json_host_path` (checked by the caller, as TSRPC does).
    let name = path
        .strip_prefix(core.options.json_host_path.as_str())
        .unwrap_or(path);

    let mut text = match String::from_utf8(body.into()) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    if !core.flows.pre_recv_data.is_empty() {
        let ev = ConnDataEvent {
            conn: conn.clone(),
            data: text,
        };
        match core.flows.pre_recv_data.exec(ev).await {
            Some(ev) => text = ev.data,
            None if is_msg => return empty(StatusCode::OK),
            None => {
                let err = TsrpcError::server("Cancelled by pre_recv_data flow")
                    .with_code(codes::CANCELLED);
                return api_return(core, conn, Err(err)).await;
            }
        }
    }
    let url_error = || format!("Invalid URL path: {url}");

    if is_msg {
        if core
            .proto
            .find(name, crate::proto::ServiceKind::Msg)
            .is_none()
        {
            return input_error(core, conn, url_error()).await;
        }
        // Checked here too: a message nobody listens to is not decoded by anyone.
        if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&text) {
            let msg = format!("Input is not a valid JSON string: {e}");
            return input_error(core, conn, msg).await;
        }
        return match core.dispatch_msg(conn, name, Input::json(&text)).await {
            Err(e) => input_error(core, conn, input_text(e, url)).await,
            Ok(listeners) => {
                // Answered before the listeners run (TSRPC ends the response first).
                if !listeners.is_empty() {
                    tokio::spawn(async move {
                        for l in listeners {
                            l.await;
                        }
                    });
                }
                empty(StatusCode::OK)
            }
        };
    }

    match core.dispatch_api(conn, name, 0, Input::json(&text), (Out::Json, 0)) {
        Err(e) => input_error(core, conn, input_text(e, url)).await,
        Ok(job) => {
            let ret = run_job(core, job).await;
            api_return(core, conn, ret.map(Payload::into_json)).await
        }
    }
}

/// Runs a call in a task of its own: the handler finishes even if the client goes away.
async fn run_job(core: &ServerCore, job: super::job::ApiJob) -> Result<Payload, TsrpcError> {
    match tokio::spawn(job.run()).await {
        Ok(ret) => ret,
        Err(e) => {
            let inner = core.options.return_inner_error;
            Err(TsrpcError::internal(inner.then(|| e.to_string())))
        }
    }
}

/// A binary request: `ServerInputData {serviceId, buffer}` in, `ServerOutputData {buffer |
/// error}` out, always 200 and without a `Content-Type` (TSRPC-WIRE b.2); any input that
/// cannot be decoded gets ServerError `INPUT_DATA_ERR` with TSRPC's generic text. The data
/// flows see JSON bodies only.
async fn handle_binary(core: &Arc<ServerCore>, conn: &Connection, body: &[u8]) -> Response<Body> {
    let input_error = || {
        let err = TsrpcError::input_data(INVALID_BUFFER_REASON);
        binary(binary::encode_error(&err, None, None))
    };
    let bin = match core.binary() {
        Ok(bin) => bin,
        Err(why) => {
            tracing::debug!("binary HTTP request: {why}");
            return input_error();
        }
    };
    match bin.decode_server_input(body) {
        Err(_) => input_error(),
        Ok(BinInput::Msg { name, body }) => {
            match core.dispatch_msg(conn, name, Input::Bin(body)).await {
                Err(e) => {
                    tracing::debug!("binary message refused: {}", e.ws_reason());
                    input_error()
                }
                Ok(listeners) => {
                    // Answered before the listeners run (TSRPC ends the response first).
                    if !listeners.is_empty() {
                        tokio::spawn(async move {
                            for l in listeners {
                                l.await;
                            }
                        });
                    }
                    empty(StatusCode::OK)
                }
            }
        }
        Ok(BinInput::Api {
            name,
            service,
            body,
            ..
        }) => {
            let Some(res) = service.res else {
                return input_error();
            };
            let out = (bin.out(res), service.id);
            match core.dispatch_api(conn, name, 0, Input::Bin(body), out) {
                Err(e) => {
                    tracing::debug!("binary call refused: {}", e.ws_reason());
                    input_error()
                }
                Ok(job) => {
                    let ret = run_job(core, job).await;
                    binary(bin.encode_api_return(service.id, 0, &ret, false))
                }
            }
        }
    }
}

/// 200 with a binary body and no `Content-Type`, as TSRPC answers binary requests.
fn binary(body: Vec<u8>) -> Response<Body> {
    Response::new(Full::new(Bytes::from(body)))
}

fn input_text(e: InputError, url: &str) -> String {
    match e {
        InputError::UnknownApi(_) | InputError::UnknownMsg(_) => format!("Invalid URL path: {url}"),
        InputError::Invalid(m) => m,
    }
}

/// 200 with ServerError `INPUT_DATA_ERR` (the status is not changed for bad input).
async fn input_error(core: &ServerCore, conn: &Connection, message: String) -> Response<Body> {
    let body = api_error_body(core, TsrpcError::input_data(message));
    send_json(core, conn, StatusCode::OK, body).await
}

/// An API's return: 200, or 500 for an error that is not an `ApiError`.
async fn api_return(
    core: &ServerCore,
    conn: &Connection,
    ret: Result<String, TsrpcError>,
) -> Response<Body> {
    let status = match &ret {
        Err(e) if e.kind != ErrorType::ApiError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::OK,
    };
    let body = core.codec.encode_api_return_body(&ret);
    send_json(core, conn, status, body).await
}

fn api_error_body(core: &ServerCore, err: TsrpcError) -> String {
    core.codec.encode_api_return_body(&Err(err))
}

/// A JSON body through `pre_send_data`.
async fn send_json(
    core: &ServerCore,
    conn: &Connection,
    status: StatusCode,
    body: String,
) -> Response<Body> {
    if core.flows.pre_send_data.is_empty() {
        return json(status, body);
    }
    let ev = ConnDataEvent {
        conn: conn.clone(),
        data: body,
    };
    match core.flows.pre_send_data.exec(ev).await {
        Some(ev) => json(status, ev.data),
        None => empty(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

fn too_large(core: &ServerCore, max: usize) -> Response<Body> {
    let err = TsrpcError::server(format!("Request body too large (max {max} bytes)"))
        .with_code(BODY_TOO_LARGE);
    closing(json(
        StatusCode::PAYLOAD_TOO_LARGE,
        api_error_body(core, err),
    ))
}

fn body_timeout_answer(core: &ServerCore, message: String) -> Response<Body> {
    let err = TsrpcError::server(message).with_code(BODY_TIMEOUT);
    closing(json(StatusCode::REQUEST_TIMEOUT, api_error_body(core, err)))
}

/// The whole answer to a connection past `max_connections`: 503, `Connection: close`, the
/// common headers and a JSON body with ServerError [`SERVER_FULL`].
pub(crate) fn server_full_response(core: &ServerCore) -> Bytes {
    let body = server_full_body(core);
    let cors = core
        .options
        .cors
        .as_ref()
        .map(|c| c.raw_lines())
        .unwrap_or_default();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\n\
         Content-Type: {JSON_CONTENT_TYPE}\r\n\
         Content-Length: {}\r\n\
         Connection: close\r\n\
         X-Powered-By: {POWERED_BY}\r\n\
         {cors}\r\n",
        body.len()
    );
    Bytes::from(head + &body)
}

fn server_full_body(core: &ServerCore) -> String {
    let err = TsrpcError::server("Server full: too many connections").with_code(SERVER_FULL);
    api_error_body(core, err)
}

#[cfg(feature = "tower")]
/// The answer of a mounted endpoint to a request past `max_connections`: the same 503 as
/// [`server_full_response`], as a response for the host's server to write.
pub(crate) fn server_full(core: &ServerCore, origin: Option<&HeaderValue>) -> Response<Body> {
    let mut resp = closing(json(
        StatusCode::SERVICE_UNAVAILABLE,
        server_full_body(core),
    ));
    common_headers(core, origin, resp.headers_mut());
    resp
}

fn json(status: StatusCode, body: String) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    resp
}

fn empty(status: StatusCode) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = status;
    resp
}

/// Asks for the connection to be closed after this response.
fn closing(mut resp: Response<Body>) -> Response<Body> {
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// A header value from any text: control characters (which no header may hold) become spaces.
fn header_value_lossy(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| {
        let clean: String = text
            .chars()
            .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
            .collect();
        HeaderValue::from_str(&clean).unwrap_or_else(|_| HeaderValue::from_static(""))
    })
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

pub(crate) fn wants_websocket(headers: &HeaderMap) -> bool {
    has_token(headers, header::UPGRADE, "websocket")
}

/// The answer of a WebSocket-only mounted endpoint to a request that is not an upgrade: 426,
/// `Upgrade: websocket`.
#[cfg(feature = "tower")]
pub(crate) fn upgrade_required() -> Response<Body> {
    let mut resp = closing(empty(StatusCode::UPGRADE_REQUIRED));
    let h = resp.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(
        header::SEC_WEBSOCKET_VERSION,
        HeaderValue::from_static("13"),
    );
    resp
}

/// Answers a WebSocket handshake (101) and serves the socket once hyper hands it over.
fn upgrade_websocket<B>(
    core: Arc<ServerCore>,
    mut req: Request<B>,
    remote: SocketAddr,
    slot: Option<SocketGuard>,
) -> Response<Body> {
    let headers = req.headers();
    let key = headers.get(header::SEC_WEBSOCKET_KEY).cloned();
    let version_ok = headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_some_and(|v| v.as_bytes() == b"13");
    let (Some(key), true, true, true) = (
        key,
        version_ok,
        req.method() == Method::GET,
        has_token(headers, header::CONNECTION, "upgrade"),
    ) else {
        let mut resp = closing(empty(StatusCode::BAD_REQUEST));
        resp.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        return resp;
    };
    // Echo the first offered protocol (TSRPC clients offer `text` or `buffer`).
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').map(str::trim).find(|p| !p.is_empty()))
        .and_then(|p| HeaderValue::from_str(p).ok());
    if !origin_allowed(headers, core.options.ws_allowed_origins.as_deref()) {
        return closing(empty(StatusCode::FORBIDDEN));
    }
    let data_type = super::ws::data_type(
        headers
            .get(header::SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok()),
    );
    let accept = derive_accept_key(key.as_bytes());

    let on_upgrade = hyper::upgrade::on(&mut req);
    let (parts, _) = req.into_parts();
    let http_req = HttpRequest::new(parts.method, parts.uri, parts.headers);
    // Registered before the answer goes out (see `ws::Opened`).
    let opened = super::ws::Opened::new(&core, remote, Some(http_req), data_type);
    tokio::spawn(async move {
        let _slot = slot;
        match on_upgrade.await {
            Ok(upgraded) => {
                let io = TokioIo::new(upgraded);
                super::ws::serve(core, opened, io, Vec::new()).await;
            }
            Err(e) => {
                tracing::debug!("websocket upgrade from {remote} failed: {e}");
                opened.abandon(&core);
            }
        }
    });

    let mut resp = empty(StatusCode::SWITCHING_PROTOCOLS);
    let h = resp.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    if let Some(p) = protocol {
        h.insert(header::SEC_WEBSOCKET_PROTOCOL, p);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert!(contains_ignore_case(
            b"Application/JSON; charset=utf-8",
            b"application/json"
        ));
        assert!(!contains_ignore_case(b"text/plain", b"application/json"));
        assert!(!contains_ignore_case(b"", b"application/json"));
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        h.insert(header::UPGRADE, HeaderValue::from_static("WebSocket"));
        assert!(has_token(&h, header::CONNECTION, "upgrade"));
        assert!(wants_websocket(&h));
        assert_eq!(header_value_lossy("a\nb").to_str().unwrap(), "a b");
        assert_eq!(header_value_lossy("kicked").to_str().unwrap(), "kicked");
    }
}
