//! The HTTP client: TSRPC JSON mode over `POST /<service name>`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::core::{ClientCore, Transport};
use super::impl_rpc_client;
use crate::error::{ApiReturn, TsrpcError};

/// Options of an [`HttpClient`]. Defaults match TSRPC's.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpClientOptions {
    /// Default timeout of a call (15 s; `None` or zero: none).
    pub timeout: Option<Duration>,
    /// Largest response body accepted (16 MiB).
    pub max_body_size: usize,
}

impl Default for HttpClientOptions {
    fn default() -> Self {
        HttpClientOptions {
            timeout: Some(Duration::from_secs(15)),
            max_body_size: 16 << 20,
        }
    }
}

impl HttpClientOptions {
    /// Sets the default call timeout.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }
}

pub(crate) struct HttpInner {
    base: String,
    options: HttpClientOptions,
    pub(crate) core: ClientCore,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// A TSRPC HTTP client (JSON mode): calls and one-way messages, keep-alive connections.
/// A cheap clone.
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
    /// A client for `url` (`http://host:port`, may hold a path prefix).
    pub fn new(url: impl Into<String>, options: HttpClientOptions) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(4))
            .build(connector);
        let base = url.into().trim_end_matches('/').to_owned();
        HttpClient {
            inner: Arc::new(HttpInner {
                core: ClientCore::new(options.timeout),
                base,
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

/// A network error the way Node names it (`ECONNREFUSED`, `ECONNRESET`, ...).
fn network_error(e: &(dyn std::error::Error + 'static)) -> TsrpcError {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            let code = match io.kind() {
                ConnectionRefused => "ECONNREFUSED",
                ConnectionReset => "ECONNRESET",
                ConnectionAborted => "ECONNABORTED",
                TimedOut => "ETIMEDOUT",
                BrokenPipe => "EPIPE",
                UnexpectedEof => "ECONNRESET",
                _ => "ENETWORK",
            };
            return TsrpcError::network(io.to_string()).with_code(code);
        }
        cur = err.source();
    }
    let text = e.to_string();
    let code = if text.contains("closed") || text.contains("reset") {
        "ECONNRESET"
    } else {
        "ENETWORK"
    };
    TsrpcError::network(text).with_code(code)
}

impl HttpInner {
    async fn post(&self, path_and_query: &str, body: String) -> Result<(u16, Bytes), TsrpcError> {
        let uri = format!("{}/{}", self.base, path_and_query);
        let req = Request::builder()
            .method(Method::POST)
            .uri(&uri)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| TsrpcError::client(format!("Invalid URL {uri}: {e}")))?;
        let resp = self
            .client
            .request(req)
            .await
            .map_err(|e| network_error(&e))?;
        let status = resp.status().as_u16();
        let limited = http_body_util::Limited::new(resp.into_body(), self.options.max_body_size);
        let body = limited
            .collect()
            .await
            .map_err(|e| match e.downcast_ref::<hyper::Error>() {
                Some(h) => network_error(h),
                None => TsrpcError::network(e.to_string()).with_code("EBODY"),
            })?
            .to_bytes();
        Ok((status, body))
    }
}

impl Transport for HttpInner {
    async fn send_call(&self, name: &str, req_json: String, _sn: u64) -> ApiReturn<String> {
        let (status, body) = self.post(name, req_json).await?;
        let parse_err = || {
            TsrpcError::server("Parse server output error")
                .with_extra("httpCode", status)
        };
        #[derive(serde::Deserialize)]
        struct Ret<'a> {
            #[serde(rename = "isSucc")]
            is_succ: bool,
            #[serde(borrow, default)]
            res: Option<&'a serde_json::value::RawValue>,
            #[serde(default)]
            err: Option<TsrpcError>,
        }
        let ret: Ret<'_> = serde_json::from_slice(&body).map_err(|_| parse_err())?;
        if ret.is_succ {
            Ok(ret.res.map(|r| r.get().to_owned()).unwrap_or_else(|| "null".into()))
        } else {
            Err(ret.err.unwrap_or_else(parse_err))
        }
    }

    async fn send_msg(&self, name: &str, msg_json: String) -> Result<(), TsrpcError> {
        let (status, _) = self.post(&format!("{name}?type=msg"), msg_json).await?;
        if status == 200 {
            Ok(())
        } else {
            Err(TsrpcError::server(format!("HTTP Error {status}")).with_extra("httpCode", status))
        }
    }
}
