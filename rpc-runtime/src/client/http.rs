//! The HTTP client: TSRPC over HTTP POST, in binary mode (the default) or JSON mode.
//!
//! * Binary mode: a call or a message is `POST <url>` with `Content-Type:
//!   application/octet-stream` and a `ServerInputData {serviceId, buffer}` body; the answer is a
//!   `ServerOutputData {buffer | error}` (an empty body for a message). The data flows see JSON
//!   bodies only.
//! * JSON mode: a call is `POST <url>/<name>` with `Content-Type: application/json` and the request as the
//!   body. A 200 or 500 answer holds an `ApiReturn` (`{"isSucc":..}`); any other status is
//!   ServerError `HTTP Error <status>` with `httpCode` (as TSRPC's browser client does), unless
//!   its body is an error return (such as a 413 from our server), which is then returned with
//!   `httpCode` added.
//! * A message is `POST <url>/<name>?type=msg`; the server answers 200 with an empty body once
//!   the message is decoded. Unlike TSRPC's client (which ignores the answer) an error body
//!   (`INPUT_DATA_ERR` for a message the server cannot decode) is returned as the error.
//! * Network failures are NetworkError with Node's codes (`ECONNREFUSED`, `ECONNRESET`, ...);
//!   the call timeout gives NetworkError `TIMEOUT` (messages use the client's default timeout).
//! * Connections are kept alive and reused (idle ones are dropped after 4 s, before a Node
//!   server's 5 s keep-alive timeout).
//! * `pre_send_data` sees each request body, `pre_recv_data` each response body.

use crate::codec::{Binary, Codec, Payload};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::core::{ClientCore, Transport};
use super::flows::{ClientFlows, DataEvent};
use super::impl_rpc_client;
use crate::error::{ApiReturn, TsrpcError};

/// Options of an [`HttpClient`]. Defaults match TSRPC's.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpClientOptions {
    /// Default timeout of a call or message (15 s; `None` or zero: none).
    pub timeout: Option<Duration>,
    /// Largest response body accepted (16 MiB); a larger one fails the call with ServerError
    /// `Parse server output error` (code `BODY_TOO_LARGE`).
    pub max_body_size: usize,
    /// How long an unused keep-alive connection is kept (4 s; `None`: no limit).
    pub pool_idle_timeout: Option<Duration>,
    /// Speak TSRPC's JSON mode (`POST /<name>` with JSON bodies). Default `false`: binary
    /// (`POST <url>` with a `ServerInputData` body), as TSRPC's clients. Binary mode needs the
    /// service's TSRPC proto ([`tsrpc_proto`](HttpClientOptions#structfield.tsrpc_proto), which
    /// the generated `Client::http` sets); a client without one speaks JSON.
    pub json: bool,
    /// The service's TSRPC proto JSON, for binary mode (see [`WsClientOptions::tsrpc_proto`]).
    ///
    /// [`WsClientOptions::tsrpc_proto`]: crate::client::WsClientOptions#structfield.tsrpc_proto
    pub tsrpc_proto: Option<&'static str>,
    /// Log every call and its return (TSRPC's `logApi`; default `true`): `[ApiReq]`,
    /// `[ApiRes]`, `[ApiErr]` events through `tracing` at DEBUG, target `rpc_runtime::client`
    /// (nothing is formatted unless a subscriber wants them).
    pub log_api: bool,
    /// Log every message sent (TSRPC's `logMsg`; default `true`): `[SendMsg]` events, as
    /// `log_api`.
    pub log_msg: bool,
    /// TLS settings for `https://` URLs (feature `tls`): trusted roots, client certificate.
    /// Default `None`: the platform's trusted roots (rustls-native-certs; `SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` replace them when set), so `https://` to public servers works as is.
    #[cfg(feature = "tls")]
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl Default for HttpClientOptions {
    fn default() -> Self {
        HttpClientOptions {
            timeout: Some(Duration::from_secs(15)),
            max_body_size: 16 << 20,
            pool_idle_timeout: Some(Duration::from_secs(4)),
            json: false,
            tsrpc_proto: None,
            log_api: true,
            log_msg: true,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl HttpClientOptions {
    /// Sets [`json`](HttpClientOptions#structfield.json): `true` for JSON mode, `false` (the
    /// default) for binary.
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
    /// Sets whether calls and messages are logged (`log_api`, `log_msg`).
    pub fn log(mut self, api: bool, msg: bool) -> Self {
        self.log_api = api;
        self.log_msg = msg;
        self
    }
    /// Sets the largest response body accepted.
    pub fn max_body_size(mut self, n: usize) -> Self {
        self.max_body_size = n;
        self
    }
    /// Sets the TLS settings used for `https://` URLs.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }
    /// Sets how long an unused keep-alive connection is kept.
    pub fn pool_idle_timeout(mut self, t: Option<Duration>) -> Self {
        self.pool_idle_timeout = t;
        self
    }
}

#[cfg(not(feature = "tls"))]
type Connector = HttpConnector;
#[cfg(feature = "tls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

#[cfg(not(feature = "tls"))]
fn connector(http: HttpConnector, _options: &HttpClientOptions, _https: bool) -> Connector {
    http
}

#[cfg(feature = "tls")]
fn connector(mut http: HttpConnector, options: &HttpClientOptions, https: bool) -> Connector {
    http.enforce_http(false);
    // No settings given: the platform's roots, read only when the URL is https://.
    let config = match &options.tls {
        Some(config) => config.as_ref().clone(),
        None if https => super::tls::default_config().as_ref().clone(),
        None => rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth(),
    };
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http)
}

pub(crate) struct HttpInner {
    base: String,
    /// Why `base` cannot be used, found when the client was built.
    base_error: Option<String>,
    options: HttpClientOptions,
    pub(crate) core: ClientCore,
    flows: ClientFlows,
    client: Client<Connector, Full<Bytes>>,
}

/// A TSRPC HTTP client (binary or JSON mode): calls and one-way messages over keep-alive
/// connections.
/// A cheap clone.
///
/// ```no_run
/// use rpc_runtime::{HttpClient, RpcClient};
/// # async fn demo() {
/// let client = HttpClient::new("http://127.0.0.1:3000", Default::default());
/// let ret = client
///     .call_raw("Add", &serde_json::json!({"a": 1, "b": 2}), Default::default())
///     .await;
/// # }
/// ```
#[derive(Clone)]
pub struct HttpClient {
    pub(crate) inner: Arc<HttpInner>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("url", &self.inner.base)
            .finish()
    }
}

impl_rpc_client!(HttpClient);

impl HttpClient {
    /// A client for `url` (`http://host:port`, may hold a path prefix such as
    /// `http://host/api`). `http`, and `https` with feature `tls`; with any other URL every call fails with
    /// ClientError `INVALID_URL`.
    pub fn new(url: impl Into<String>, options: HttpClientOptions) -> Self {
        let base = url.into().trim_end_matches('/').to_owned();
        let https = base
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(options.pool_idle_timeout)
            .build(self::connector(connector, &options, https));
        let base_error = check_base(&base).err();
        HttpClient {
            inner: Arc::new(HttpInner {
                core: ClientCore::new(
                    options.timeout,
                    options.json,
                    options.tsrpc_proto,
                    super::core::Log {
                        api: options.log_api,
                        msg: options.log_msg,
                    },
                ),
                flows: ClientFlows::default(),
                base,
                base_error,
                options,
                client,
            }),
        }
    }

    /// The server URL.
    pub fn url(&self) -> &str {
        &self.inner.base
    }
}

fn check_base(base: &str) -> Result<(), String> {
    let uri: Uri = base
        .parse()
        .map_err(|e| format!("Invalid URL {base}: {e}"))?;
    match uri.scheme_str() {
        Some("https") if !cfg!(feature = "tls") => Err(format!(
            "Invalid URL {base}: https:// needs the `tls` feature of rpc-runtime"
        )),
        Some("http" | "https") if uri.authority().is_some() => Ok(()),
        Some("http" | "https") => Err(format!("Invalid URL {base}: no host")),
        _ => Err(format!(
            "Invalid URL {base}: only http:// and https:// are supported"
        )),
    }
}

/// A network error the way Node names it (`ECONNREFUSED`, `ECONNRESET`, ...).
fn network_error(e: &(dyn std::error::Error + 'static), authority: &str) -> TsrpcError {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut hang_up = false;
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            let (code, msg) = match io.kind() {
                ConnectionRefused => ("ECONNREFUSED", format!("connect ECONNREFUSED {authority}")),
                ConnectionReset => ("ECONNRESET", "read ECONNRESET".to_owned()),
                ConnectionAborted => ("ECONNABORTED", io.to_string()),
                TimedOut => ("ETIMEDOUT", format!("connect ETIMEDOUT {authority}")),
                BrokenPipe => ("EPIPE", "write EPIPE".to_owned()),
                UnexpectedEof => ("ECONNRESET", "socket hang up".to_owned()),
                NotFound | AddrNotAvailable => {
                    ("ENOTFOUND", format!("getaddrinfo ENOTFOUND {authority}"))
                }
                _ => ("ENETWORK", io.to_string()),
            };
            return TsrpcError::network(msg).with_code(code);
        }
        if let Some(h) = err.downcast_ref::<hyper::Error>() {
            hang_up |= h.is_incomplete_message() || h.is_closed() || h.is_canceled();
        }
        cur = err.source();
    }
    if hang_up {
        // The peer closed the connection before answering (Node: `socket hang up`).
        return TsrpcError::network("socket hang up").with_code("ECONNRESET");
    }
    let text = e.to_string();
    let code = if text.contains("dns error") || text.contains("failed to lookup") {
        "ENOTFOUND"
    } else {
        "ENETWORK"
    };
    TsrpcError::network(text).with_code(code)
}

fn parse_error(status: u16) -> TsrpcError {
    TsrpcError::server("Parse server output error").with_extra("httpCode", status)
}

impl HttpInner {
    /// POSTs `body` to `<base>/<path_and_query>` and reads the answer (through the data flows).
    async fn post(
        &self,
        path_and_query: &str,
        body: String,
        sn: Option<u64>,
    ) -> Result<(u16, String), TsrpcError> {
        let flows = &self.flows;
        let body = if flows.pre_send_data.is_empty() {
            body
        } else {
            match flows.pre_send_data.exec(DataEvent { data: body, sn }).await {
                Some(ev) => ev.data,
                None => return Err(TsrpcError::cancelled("pre_send_data flow")),
            }
        };
        let (status, bytes) = self
            .post_bytes(path_and_query, body.into(), "application/json")
            .await?;
        let mut text = match String::from_utf8(bytes.into()) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        if !flows.pre_recv_data.is_empty() {
            match flows.pre_recv_data.exec(DataEvent { data: text, sn }).await {
                Some(ev) => text = ev.data,
                None => return Err(TsrpcError::cancelled("pre_recv_data flow")),
            }
        }
        Ok((status, text))
    }

    /// POSTs `body` and reads the whole answer.
    async fn post_bytes(
        &self,
        path_and_query: &str,
        body: Bytes,
        content_type: &'static str,
    ) -> Result<(u16, Bytes), TsrpcError> {
        if let Some(e) = &self.base_error {
            return Err(TsrpcError::client(e.clone()).with_code("INVALID_URL"));
        }
        let url = if path_and_query.is_empty() {
            self.base.clone()
        } else {
            format!("{}/{}", self.base, path_and_query)
        };
        let uri: Uri = url.parse().map_err(|e| {
            TsrpcError::client(format!("Invalid URL path {path_and_query}: {e}"))
                .with_code("INVALID_URL")
        })?;
        let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
        let req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(CONTENT_TYPE, HeaderValue::from_static(content_type))
            .body(Full::new(body))
            .map_err(|e| TsrpcError::client(e.to_string()).with_code("INVALID_URL"))?;
        let resp = self
            .client
            .request(req)
            .await
            .map_err(|e| network_error(&e, &authority))?;
        let status = resp.status().as_u16();
        let limited = Limited::new(resp.into_body(), self.options.max_body_size);
        let bytes = match limited.collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                return Err(parse_error(status).with_code("BODY_TOO_LARGE"));
            }
            Err(e) => return Err(network_error(&*e, &authority)),
        };
        Ok((status, bytes))
    }

    /// A binary POST: `ServerInputData {serviceId, buffer}` to the server's URL; the answer's
    /// status and body. The data flows see JSON bodies only.
    async fn post_binary(
        &self,
        bin: &Binary,
        name: &str,
        body: &[u8],
        api: bool,
    ) -> Result<(u16, Bytes), TsrpcError> {
        let service = if api { bin.api(name) } else { bin.msg(name) };
        let Some(service) = service else {
            return Err(TsrpcError::client(format!(
                "{name} is not in the service's TSRPC proto"
            )));
        };
        let frame = bin.encode_input(service.id, None, body);
        self.post_bytes("", frame.into(), "application/octet-stream")
            .await
    }

    /// The return in a binary answer (an answer of ours that is JSON, such as a 413, is read
    /// too).
    fn binary_return(bin: &Binary, status: u16, body: &[u8]) -> ApiReturn<Payload> {
        match bin.decode_http_return(body) {
            Ok(ret) => ret.map(Payload::Bin),
            Err(_) => {
                let text = String::from_utf8_lossy(body);
                Err(
                    error_in_body(status, &text).unwrap_or_else(|| match status {
                        200 | 500 => parse_error(status),
                        _ => http_error(status),
                    }),
                )
            }
        }
    }
}

/// An error return in a body of any status, `httpCode` added for an unusual status.
fn error_in_body(status: u16, body: &str) -> Option<TsrpcError> {
    let err = Codec::Json.decode_api_return_body(body).ok()?.err()?;
    Some(if status == 200 || status == 500 {
        err
    } else {
        err.with_extra("httpCode", status)
    })
}

fn http_error(status: u16) -> TsrpcError {
    TsrpcError::server(format!("HTTP Error {status}")).with_extra("httpCode", status)
}

impl Transport for HttpInner {
    fn flows(&self) -> &ClientFlows {
        &self.flows
    }

    async fn send_call(&self, name: &str, req: Payload, sn: u64) -> Option<ApiReturn<Payload>> {
        Some(self.call(name, req, sn).await)
    }

    async fn send_msg(&self, name: &str, msg: Payload) -> Result<(), TsrpcError> {
        self.msg(name, msg).await
    }
}

impl HttpInner {
    async fn call(&self, name: &str, req: Payload, sn: u64) -> ApiReturn<Payload> {
        let req_json = match (req, self.core.binary()) {
            (Payload::Bin(body), Some(bin)) => {
                let (status, answer) = self.post_binary(bin, name, &body, true).await?;
                return Self::binary_return(bin, status, &answer);
            }
            (req, _) => req.into_json(),
        };
        let (status, body) = self.post(name, req_json, Some(sn)).await?;
        if status != 200 && status != 500 {
            return Err(error_in_body(status, &body).unwrap_or_else(|| http_error(status)));
        }
        match Codec::Json.decode_api_return_body(&body) {
            Ok(ret) => ret.map(|res| Payload::Json(res.text().to_owned())),
            Err(_) => Err(parse_error(status)),
        }
    }

    async fn msg(&self, name: &str, msg: Payload) -> Result<(), TsrpcError> {
        // The call pipeline's timeout covers calls only.
        let timeout = self.options.timeout.filter(|t| !t.is_zero());
        if let (Payload::Bin(body), Some(bin)) = (&msg, self.core.binary()) {
            let post = self.post_binary(bin, name, body, false);
            let (status, answer) = match timeout {
                Some(t) => tokio::time::timeout(t, post)
                    .await
                    .unwrap_or_else(|_| Err(TsrpcError::timeout()))?,
                None => post.await?,
            };
            if status == 200 && answer.is_empty() {
                return Ok(());
            }
            return match Self::binary_return(bin, status, &answer) {
                Err(e) => Err(e),
                Ok(_) if status == 200 => Ok(()),
                Ok(_) => Err(http_error(status)),
            };
        }
        let msg_json = msg.into_json();
        let path = format!("{name}?type=msg");
        let post = self.post(&path, msg_json, None);
        let (status, body) = match timeout {
            Some(t) => tokio::time::timeout(t, post)
                .await
                .unwrap_or_else(|_| Err(TsrpcError::timeout()))?,
            None => post.await?,
        };
        if let Some(err) = error_in_body(status, &body) {
            return Err(err);
        }
        if status == 200 {
            Ok(())
        } else {
            Err(http_error(status))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert!(check_base("http://127.0.0.1:3000").is_ok());
        assert!(check_base("http://127.0.0.1:3000/api").is_ok());
        assert!(check_base("ws://127.0.0.1:3000").is_err());
        assert_eq!(
            check_base("https://example.com").is_ok(),
            cfg!(feature = "tls"),
            "https:// works with the tls feature only"
        );
        assert!(check_base("not a url").is_err());
    }

    #[test]
    fn error_bodies() {
        let body = r#"{"isSucc":false,"err":{"message":"too big","type":"ServerError","code":"BODY_TOO_LARGE"}}"#;
        let e = error_in_body(413, body).unwrap();
        assert_eq!(e.message, "too big");
        assert_eq!(e.extra["httpCode"], 413);
        assert!(error_in_body(200, "").is_none());
        assert!(error_in_body(200, r#"{"isSucc":true,"res":{}}"#).is_none());
        let e = http_error(404);
        assert_eq!(e.message, "HTTP Error 404");
        assert_eq!(e.extra["httpCode"], 404);
    }
}
