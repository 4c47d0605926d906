//! TSRPC's error value and the `ApiReturn` alias.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The four kinds of TSRPC error (`TsrpcErrorType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorType {
    /// Transport failure, timeout or lost connection (produced locally by a client).
    NetworkError,
    /// Server-side failure or bad input.
    ServerError,
    /// Client-side misuse (produced locally).
    ClientError,
    /// A business error returned by an API handler.
    ApiError,
}

impl ErrorType {
    /// The name used on the wire (`"ApiError"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::NetworkError => "NetworkError",
            ErrorType::ServerError => "ServerError",
            ErrorType::ClientError => "ClientError",
            ErrorType::ApiError => "ApiError",
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error code: TSRPC allows a string or an integer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ErrorCode {
    /// An integer code such as `42`.
    Int(i64),
    /// A string code such as `"LOST_CONN"`.
    Str(String),
}

impl From<&str> for ErrorCode {
    fn from(s: &str) -> Self {
        ErrorCode::Str(s.to_owned())
    }
}
impl From<String> for ErrorCode {
    fn from(s: String) -> Self {
        ErrorCode::Str(s)
    }
}
impl From<i64> for ErrorCode {
    fn from(n: i64) -> Self {
        ErrorCode::Int(n)
    }
}
impl From<i32> for ErrorCode {
    fn from(n: i32) -> Self {
        ErrorCode::Int(n.into())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        matches!(self, ErrorCode::Str(s) if s == other)
    }
}
impl PartialEq<i64> for ErrorCode {
    fn eq(&self, other: &i64) -> bool {
        matches!(self, ErrorCode::Int(n) if n == other)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorCode::Int(n) => write!(f, "{n}"),
            ErrorCode::Str(s) => f.write_str(s),
        }
    }
}

/// The error of every failed call: TSRPC's `TsrpcError`.
///
/// On the wire it is `{"message":..,"type":..,"code":..,...extra}`, in that key order.
///
/// ```
/// use rpc_runtime::{ErrorType, TsrpcError};
/// let err = TsrpcError::api("Failed on purpose").with_code("E_FAIL").with_extra("detail", "extra field");
/// assert_eq!(
///     serde_json::to_string(&err).unwrap(),
///     r#"{"message":"Failed on purpose","type":"ApiError","code":"E_FAIL","detail":"extra field"}"#
/// );
/// assert_eq!(err.kind, ErrorType::ApiError);
/// assert_eq!(err.to_string(), "[TSRPC ApiError]: Failed on purpose");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TsrpcError {
    /// Human readable text.
    pub message: String,
    /// Which kind of error this is (`type` on the wire).
    pub kind: ErrorType,
    /// Optional code.
    pub code: Option<ErrorCode>,
    /// Every other field, kept in order (for example `innerErr`).
    pub extra: Map<String, Value>,
}

/// What every API call returns: TSRPC's `ApiReturn<Res>`.
pub type ApiReturn<Res> = Result<Res, TsrpcError>;

impl TsrpcError {
    /// A new error of the given kind.
    pub fn new(kind: ErrorType, message: impl Into<String>) -> Self {
        TsrpcError {
            message: message.into(),
            kind,
            code: None,
            extra: Map::new(),
        }
    }
    /// A business error (`ApiError`), what a handler usually returns.
    pub fn api(message: impl Into<String>) -> Self {
        Self::new(ErrorType::ApiError, message)
    }
    /// A `ServerError`.
    pub fn server(message: impl Into<String>) -> Self {
        Self::new(ErrorType::ServerError, message)
    }
    /// A `NetworkError`.
    pub fn network(message: impl Into<String>) -> Self {
        Self::new(ErrorType::NetworkError, message)
    }
    /// A `ClientError`.
    pub fn client(message: impl Into<String>) -> Self {
        Self::new(ErrorType::ClientError, message)
    }
    /// Sets the code.
    pub fn with_code(mut self, code: impl Into<ErrorCode>) -> Self {
        self.code = Some(code.into());
        self
    }
    /// Adds an extra field (kept on the wire after `code`).
    pub fn with_extra(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }
    /// True when the code is this string.
    pub fn is_code(&self, code: &str) -> bool {
        matches!(&self.code, Some(ErrorCode::Str(s)) if s == code)
    }

    // Well-known errors (TSRPC-WIRE.md d).

    /// NetworkError `TIMEOUT` "Request Timeout".
    pub fn timeout() -> Self {
        Self::network("Request Timeout").with_code(codes::TIMEOUT)
    }
    /// NetworkError `LOST_CONN` with the close reason (or "Lost connection to server").
    pub fn lost_conn(reason: &str) -> Self {
        let msg = if reason.is_empty() {
            "Lost connection to server"
        } else {
            reason
        };
        Self::network(msg).with_code(codes::LOST_CONN)
    }
    /// ClientError `WS_NOT_OPEN`.
    pub fn ws_not_open() -> Self {
        Self::client("WebSocket is not connected").with_code(codes::WS_NOT_OPEN)
    }
    /// ClientError `ABORTED`.
    pub fn aborted() -> Self {
        Self::client("Aborted").with_code(codes::ABORTED)
    }
    /// ClientError `CANCELLED`: a pre flow stopped the action.
    pub fn cancelled(what: &str) -> Self {
        Self::client(format!("Cancelled by {what}")).with_code(codes::CANCELLED)
    }
    /// ServerError `INTERNAL_ERR`, with `innerErr` when given.
    pub fn internal(inner: Option<String>) -> Self {
        let e = Self::server("Internal Server Error").with_code(codes::INTERNAL_ERR);
        match inner {
            Some(inner) => e.with_extra("innerErr", inner),
            None => e,
        }
    }
    /// ServerError `INPUT_DATA_ERR`.
    pub fn input_data(message: impl Into<String>) -> Self {
        Self::server(message).with_code(codes::INPUT_DATA_ERR)
    }
}

/// The error codes this crate produces itself (`TsrpcError::code`), TSRPC's names for them:
/// test one with `err.is_code(codes::TIMEOUT)`. Codes set by handlers are theirs to name; the
/// reasons this crate gives when it closes a connection are in [`reasons`](crate::reasons).
pub mod codes {
    /// Client timeout.
    pub const TIMEOUT: &str = "TIMEOUT";
    /// Connection closed while a call was pending.
    pub const LOST_CONN: &str = "LOST_CONN";
    /// Call or send while the WebSocket is not connected.
    pub const WS_NOT_OPEN: &str = "WS_NOT_OPEN";
    /// A call aborted by the user.
    pub const ABORTED: &str = "ABORTED";
    /// A call or send stopped by a pre flow.
    pub const CANCELLED: &str = "CANCELLED";
    /// A handler failed.
    pub const INTERNAL_ERR: &str = "INTERNAL_ERR";
    /// The server's API timeout elapsed.
    pub const SERVER_TIMEOUT: &str = "SERVER_TIMEOUT";
    /// No handler for this API.
    pub const UNHANDLED_API: &str = "UNHANDLED_API";
    /// Bad input (HTTP), or a request that does not encode (client).
    pub const INPUT_DATA_ERR: &str = "INPUT_DATA_ERR";
    /// A message that does not encode (client).
    pub const ENCODE_MSG_ERR: &str = "ENCODE_MSG_ERR";
    /// A write to the socket failed.
    pub const SEND_BUF_ERR: &str = "SEND_BUF_ERR";
    /// A connect attempt failed.
    pub const CONNECT_FAILED: &str = "CONNECT_FAILED";
}

impl fmt::Display for TsrpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[TSRPC {}]: {}", self.kind, self.message)
    }
}

impl std::error::Error for TsrpcError {}

impl Serialize for TsrpcError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2 + self.code.is_some() as usize + self.extra.len()))?;
        map.serialize_entry("message", &self.message)?;
        map.serialize_entry("type", self.kind.as_str())?;
        if let Some(code) = &self.code {
            map.serialize_entry("code", code)?;
        }
        for (k, v) in &self.extra {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for TsrpcError {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TsrpcError;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a TsrpcError object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<TsrpcError, A::Error> {
                let mut message = None;
                let mut kind = None;
                let mut code = None;
                let mut extra = Map::new();
                while let Some(key) = m.next_key::<String>()? {
                    match key.as_str() {
                        "message" => message = Some(m.next_value::<String>()?),
                        "type" => kind = Some(m.next_value::<ErrorType>()?),
                        "code" => code = m.next_value::<Option<ErrorCode>>()?,
                        _ => {
                            let v = m.next_value::<Value>()?;
                            extra.insert(key, v);
                        }
                    }
                }
                Ok(TsrpcError {
                    message: message.ok_or_else(|| de::Error::missing_field("message"))?,
                    // TSRPC defaults the type to ApiError.
                    kind: kind.unwrap_or(ErrorType::ApiError),
                    code,
                    extra,
                })
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_extra_fields_in_order() {
        let text = r#"{"message":"Internal Server Error","type":"ServerError","code":"INTERNAL_ERR","innerErr":"boom"}"#;
        let e: TsrpcError = serde_json::from_str(text).unwrap();
        assert_eq!(e.kind, ErrorType::ServerError);
        assert!(e.is_code("INTERNAL_ERR"));
        assert_eq!(serde_json::to_string(&e).unwrap(), text);
    }

    #[test]
    fn numeric_code() {
        let e: TsrpcError =
            serde_json::from_str(r#"{"message":"m","type":"ApiError","code":42}"#).unwrap();
        assert_eq!(e.code, Some(ErrorCode::Int(42)));
    }
}
