//! The HTTP request behind a connection (TSRPC's `conn.httpReq`): the request of an HTTP call,
//! or the upgrade request of a WebSocket; and the client's IP, which trusts `X-Forwarded-For`
//! only from the proxies the server's options name.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;

use hyper::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

use super::conn::Connection;

/// The head of the HTTP request behind a connection: method, URI, headers (no body).
///
/// ```
/// use rpc_runtime::server::HttpRequest;
/// let req = HttpRequest::new(
///     hyper::http::Method::GET,
///     "/?room=r%201&token=abc".parse().unwrap(),
///     [("cookie", "sid=42; theme=dark")].into_iter()
///         .map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap()))
///         .collect(),
/// );
/// assert_eq!(req.query("room").as_deref(), Some("r 1"));
/// assert_eq!(req.cookie("sid"), Some("42"));
/// assert_eq!(req.header("Cookie"), Some("sid=42; theme=dark"));
/// assert_eq!(req.query("none"), None);
/// ```
#[derive(Debug, Clone)]
pub struct HttpRequest {
    method: Method,
    uri: Uri,
    headers: OnceLock<HeaderMap>,
    /// A WebSocket upgrade's headers, packed (each name and value after its length): made a
    /// `HeaderMap` on first use, so an idle connection keeps their bytes, not a map of them.
    packed: Option<Box<[u8]>>,
}

impl HttpRequest {
    /// A request head (the server builds them; this is for tests of code that reads them).
    pub fn new(method: Method, uri: Uri, headers: HeaderMap) -> Self {
        HttpRequest {
            method,
            uri,
            headers: OnceLock::from(headers),
            packed: None,
        }
    }

    /// A request head kept for a long connection: its headers packed until read.
    pub(crate) fn packed(method: Method, uri: Uri, headers: &HeaderMap) -> Self {
        let size = headers
            .iter()
            .map(|(n, v)| 6 + n.as_str().len() + v.len())
            .sum();
        let mut packed = Vec::with_capacity(size);
        for (name, value) in headers {
            // A header name is at most 64 KiB on any server (httparse's and hyper's limits).
            let name = name.as_str().as_bytes();
            let Ok(name_len) = u16::try_from(name.len()) else {
                continue;
            };
            packed.extend_from_slice(&name_len.to_le_bytes());
            packed.extend_from_slice(name);
            packed.extend_from_slice(&(value.len() as u32).to_le_bytes());
            packed.extend_from_slice(value.as_bytes());
        }
        HttpRequest {
            method,
            uri,
            headers: OnceLock::new(),
            packed: Some(packed.into_boxed_slice()),
        }
    }

    /// The method (`GET` for a WebSocket upgrade).
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The request target as sent (path and query; the scheme and host only when the client
    /// sent an absolute URI).
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// Every header.
    pub fn headers(&self) -> &HeaderMap {
        self.headers
            .get_or_init(|| unpack(self.packed.as_deref().unwrap_or_default()))
    }

    /// The first value of header `name` (any case), when it is valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers().get(name)?.to_str().ok()
    }

    /// The first query parameter `name`, percent-decoded (`+` is a space, as in forms).
    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.uri.query()?;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k) == name).then(|| decode(v).into_owned())
        })
    }

    /// The value of cookie `name`, from the `Cookie` headers (as sent: not decoded).
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.headers()
            .get_all(hyper::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|c| {
                let (k, v) = c.split_once('=')?;
                (k.trim() == name).then(|| v.trim().trim_matches('"'))
            })
    }
}

/// The headers [`HttpRequest::packed`] packed.
fn unpack(mut packed: &[u8]) -> HeaderMap {
    let mut map = HeaderMap::new();
    let mut take = |n: usize| {
        let (head, rest) = packed.split_at_checked(n)?;
        packed = rest;
        Some(head)
    };
    while let Some(len) = take(2) {
        let name_len = u16::from_le_bytes([len[0], len[1]]) as usize;
        let Some(name) = take(name_len) else { break };
        let Some(len) = take(4).and_then(|l| <[u8; 4]>::try_from(l).ok()) else {
            break;
        };
        let Some(value) = take(u32::from_le_bytes(len) as usize) else {
            break;
        };
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            map.append(name, value);
        }
    }
    map
}

fn decode(s: &str) -> Cow<'_, str> {
    if !s.contains(['%', '+']) {
        return Cow::Borrowed(s);
    }
    let spaced = s.replace('+', " ");
    Cow::Owned(
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

impl Connection {
    /// The HTTP request behind this connection: the HTTP call's own request, or the upgrade
    /// request of a WebSocket (TSRPC's `conn.httpReq`). `None` for a call made in process.
    ///
    /// ```
    /// # fn f(conn: rpc_runtime::Connection) {
    /// let token = conn.http_request().and_then(|r| r.query("token"));
    /// let session = conn.http_request().and_then(|r| r.cookie("sid"));
    /// # }
    /// ```
    pub fn http_request(&self) -> Option<&HttpRequest> {
        self.inner.http_req.as_ref()
    }
}

/// The client's IP: the socket's address, unless that is one of the `trusted` proxies and the
/// request has `X-Forwarded-For`; then the rightmost entry that is not a trusted proxy (the
/// entries left of it were written by whoever the untrusted client is, so they are not
/// believed), or the leftmost when every entry is trusted.
pub(crate) fn client_ip(remote: SocketAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> String {
    let peer = remote.ip().to_canonical();
    if trusted.is_empty() || !trusted.contains(&peer) {
        return peer.to_string();
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    let is_trusted = |e: &str| {
        e.parse::<IpAddr>()
            .is_ok_and(|ip| trusted.contains(&ip.to_canonical()))
    };
    match entries.iter().rev().find(|e| !is_trusted(e)) {
        Some(e) => (*e).to_owned(),
        None => entries
            .first()
            .map_or_else(|| peer.to_string(), |e| (*e).to_owned()),
    }
}

/// Whether a WebSocket upgrade with this `Origin` may open: any when `allowed` is `None`; else
/// only a listed origin (exact, any case), or no `Origin` header at all (not a browser).
pub(crate) fn origin_allowed(headers: &HeaderMap, allowed: Option<&[String]>) -> bool {
    let Some(allowed) = allowed else { return true };
    match headers.get(hyper::http::header::ORIGIN) {
        None => true,
        Some(origin) => origin
            .to_str()
            .is_ok_and(|o| allowed.iter().any(|a| a.eq_ignore_ascii_case(o))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn packed_headers_read_back_the_same() {
        let mut h = HeaderMap::new();
        h.append("cookie", "a=1".parse().unwrap());
        h.append("cookie", "b=2".parse().unwrap());
        h.append(
            "x-custom-name",
            HeaderValue::from_bytes(b"\xff raw").unwrap(),
        );
        h.append("sec-websocket-protocol", "text, buffer".parse().unwrap());
        h.append("x-empty", HeaderValue::from_static(""));
        let uri: Uri = "/?token=t".parse().unwrap();
        let packed = HttpRequest::packed(Method::GET, uri.clone(), &h);
        assert_eq!(packed.headers(), &h);
        assert_eq!(
            packed.header("Sec-WebSocket-Protocol"),
            Some("text, buffer")
        );
        assert_eq!(packed.cookie("b"), Some("2"));
        assert_eq!(packed.query("token").as_deref(), Some("t"));
        assert_eq!(packed.clone().headers(), &h);
        let empty = HttpRequest::packed(Method::GET, uri, &HeaderMap::new());
        assert!(empty.headers().is_empty());
        // Cut short anywhere, what is whole is read and the rest dropped, no panic.
        let bytes = packed.packed.clone().unwrap();
        for n in 0..bytes.len() {
            let _ = unpack(&bytes[..n]);
        }
    }

    #[test]
    fn forwarded_only_from_trusted_peers() {
        let proxy: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let trusted = ["10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()];
        let h = headers(&["6.6.6.6, 1.2.3.4", "10.0.0.2"]);
        // No trusted list: the socket's address, whatever the header says.
        assert_eq!(client_ip(proxy, &h, &[]), "10.0.0.1");
        // From a trusted proxy: the rightmost untrusted entry (6.6.6.6 is the client's claim).
        assert_eq!(client_ip(proxy, &h, &trusted), "1.2.3.4");
        // From anyone else: the socket's address.
        let other: SocketAddr = "9.9.9.9:1".parse().unwrap();
        assert_eq!(client_ip(other, &h, &trusted), "9.9.9.9");
        // Every entry trusted: the leftmost; no header: the proxy.
        assert_eq!(
            client_ip(proxy, &headers(&["10.0.0.2"]), &trusted),
            "10.0.0.2"
        );
        assert_eq!(client_ip(proxy, &headers(&[]), &trusted), "10.0.0.1");
        // An IPv4 peer seen as IPv6-mapped still matches.
        let mapped: SocketAddr = "[::ffff:10.0.0.1]:5000".parse().unwrap();
        assert_eq!(client_ip(mapped, &h, &trusted), "1.2.3.4");
    }

    #[test]
    fn origins() {
        let mut h = HeaderMap::new();
        let list = vec!["https://app.example".to_owned()];
        assert!(origin_allowed(&h, None));
        assert!(origin_allowed(&h, Some(&list)), "no Origin: not a browser");
        h.insert("origin", "https://evil.example".parse().unwrap());
        assert!(origin_allowed(&h, None));
        assert!(!origin_allowed(&h, Some(&list)));
        h.insert("origin", "https://APP.example".parse().unwrap());
        assert!(origin_allowed(&h, Some(&list)));
    }
}
