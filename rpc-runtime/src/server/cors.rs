//! CORS of the HTTP answers ([`ServerOptions::cors`](super::ServerOptions#structfield.cors)):
//! which origins a browser page may call the server from, and how long a browser may keep a
//! preflight's answer. TSRPC's default is any origin (`*`) and an hour.

use std::time::Duration;

use hyper::header::{self, HeaderMap, HeaderValue};

/// The CORS headers of a server's HTTP answers. The default, [`Cors::any`], is TSRPC's:
/// `Access-Control-Allow-Origin: *`, `Access-Control-Allow-Headers: Content-Type,*`,
/// `Access-Control-Max-Age: 3600`.
///
/// ```
/// use std::time::Duration;
/// use rpc_runtime::server::{Cors, ServerOptions};
/// let options = ServerOptions::default().cors(Some(
///     Cors::origins(["https://app.example.com"]).max_age(Some(Duration::from_secs(600))),
/// ));
/// assert!(options.cors.is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// `None`: any origin (`*`). Else the origins allowed (`scheme://host[:port]`, compared
    /// without regard to ASCII case): a request whose `Origin` is one of them gets it back in
    /// `Access-Control-Allow-Origin` (with `Vary: Origin`); any other gets no CORS headers, so
    /// a browser refuses the page the answer.
    pub allowed_origins: Option<Vec<String>>,
    /// `Access-Control-Max-Age` (whole seconds; `None` or zero: not sent, as TSRPC's
    /// `corsMaxAge: 0`).
    pub max_age: Option<Duration>,
}

impl Default for Cors {
    fn default() -> Self {
        Cors::any()
    }
}

impl Cors {
    /// Any origin, preflights kept an hour (TSRPC's default).
    pub fn any() -> Self {
        Cors {
            allowed_origins: None,
            max_age: Some(Duration::from_secs(3600)),
        }
    }

    /// Only these origins, preflights kept an hour.
    pub fn origins<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Cors {
            allowed_origins: Some(origins.into_iter().map(Into::into).collect()),
            ..Cors::any()
        }
    }

    /// Sets how long a browser may keep a preflight's answer.
    pub fn max_age(mut self, max_age: Option<Duration>) -> Self {
        self.max_age = max_age;
        self
    }

    /// The value of `Access-Control-Allow-Origin` for a request from `origin`, if allowed.
    fn allow_origin(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        match &self.allowed_origins {
            None => Some(HeaderValue::from_static("*")),
            Some(list) => {
                let origin = origin?;
                let text = origin.to_str().ok()?;
                list.iter()
                    .any(|o| o.eq_ignore_ascii_case(text))
                    .then(|| origin.clone())
            }
        }
    }

    /// Adds the CORS headers of the answer to a request from `origin` (its `Origin` header).
    pub(crate) fn apply(&self, origin: Option<&HeaderValue>, h: &mut HeaderMap) {
        if self.allowed_origins.is_some() {
            h.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        let Some(allow) = self.allow_origin(origin) else {
            return;
        };
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Content-Type,*"),
        );
        if let Some(secs) = self.max_age.map(|d| d.as_secs()).filter(|s| *s > 0) {
            h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from(secs));
        }
    }

    /// The header lines (`Name: value\r\n`) for an answer written by hand, to any origin:
    /// what [`apply`](Self::apply) adds when the request's origin is not known.
    pub(crate) fn raw_lines(&self) -> String {
        let mut h = HeaderMap::new();
        self.apply(None, &mut h);
        let mut out = String::new();
        for (name, value) in &h {
            if let Ok(v) = value.to_str() {
                out.push_str(&format!("{}: {v}\r\n", canonical(name.as_str())));
            }
        }
        out
    }
}

/// `access-control-allow-origin` -> `Access-Control-Allow-Origin`.
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut c = part.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// TSRPC's `jsonHostPath` as TSRPC normalises it: starting and ending with `/` (empty: `/`).
pub(crate) fn normalize_host_path(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    let lead = if path.starts_with('/') { "" } else { "/" };
    let trail = if path.ends_with('/') { "" } else { "/" };
    format!("{lead}{path}{trail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_by_origin() {
        let mut h = HeaderMap::new();
        Cors::any().apply(None, &mut h);
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(h[header::ACCESS_CONTROL_MAX_AGE], "3600");
        assert!(h.get(header::VARY).is_none());

        let cors = Cors::origins(["https://a.example"]).max_age(None);
        let mut h = HeaderMap::new();
        let origin = HeaderValue::from_static("https://A.example");
        cors.apply(Some(&origin), &mut h);
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://A.example");
        assert!(h.get(header::ACCESS_CONTROL_MAX_AGE).is_none());
        assert_eq!(h[header::VARY], "Origin");

        let mut h = HeaderMap::new();
        let other = HeaderValue::from_static("https://evil.example");
        cors.apply(Some(&other), &mut h);
        assert!(h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        assert!(h.get(header::ACCESS_CONTROL_ALLOW_HEADERS).is_none());
        assert_eq!(Cors::any().raw_lines().lines().count(), 3);
        assert!(Cors::any()
            .raw_lines()
            .contains("Access-Control-Allow-Origin: *\r\n"));
    }

    #[test]
    fn host_path() {
        assert_eq!(normalize_host_path(""), "/");
        assert_eq!(normalize_host_path("/"), "/");
        assert_eq!(normalize_host_path("api"), "/api/");
        assert_eq!(normalize_host_path("/api/v1/"), "/api/v1/");
    }
}
