//! The close reasons this crate gives when it closes a connection itself, as the peer reads
//! them (`DisconnectEvent::reason` on a client, `ConnDisconnectEvent::reason` on a server):
//! compare against these rather than against copied text. TSRPC's error codes are in
//! [`codes`](crate::codes).

/// A server closes a connection that sends a binary frame it cannot decode (truncated, an
/// unknown service or property id, a type mismatch, garbage) with TSRPC's generic text; an HTTP
/// request gets it as the `INPUT_DATA_ERR` message.
pub const INVALID_BUFFER_REASON: &str =
    "Invalid request buffer, please check the version of service proto.";

/// A frame larger than `max_frame_size` (close code 1009).
pub const FRAME_TOO_BIG_REASON: &str = "Frame too large";

/// A text frame that is not valid UTF-8 (close code 1007).
pub const INVALID_UTF8_REASON: &str = "Invalid UTF-8 in a text frame";

/// A connection whose send queue stayed full: a broadcast found it full, or `send_msg` (or an
/// API return) waited for room longer than `queue_full_timeout` (a client that does not read).
pub const SEND_QUEUE_FULL_REASON: &str = "Send queue full: the client does not read fast enough";

/// A binary-only server (`ServerOptions::json` false) closes a connection that sends a text
/// frame with TSRPC's text.
pub const JSON_DISABLED_REASON: &str = "JSON mode is not enabled, please use binary instead.";
