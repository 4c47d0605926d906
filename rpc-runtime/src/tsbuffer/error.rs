//! The codec's one error type: what went wrong, in words fit for a log, and whether it was the
//! proto, an encode or a decode.

use std::borrow::Cow;
use std::fmt;

/// What TSRPC answers to every binary input it cannot decode (WebSocket close reason, and the
/// `message` of the `INPUT_DATA_ERR` error over HTTP). The detailed reason
/// ([`Error::detail`]) is for logs only: TSRPC never tells the peer.
pub const INVALID_BUFFER: &str =
    "Invalid request buffer, please check the version of service proto.";

/// Which step failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The service proto cannot be read (a schema that is not one, a reference to nothing).
    Proto,
    /// A value that TSBuffer cannot write for its schema (what TSRPC's validator refuses
    /// before encoding, or a kind binary mode has no encoding for, such as `bigint`).
    Encode,
    /// Bytes that are not an encoding of the schema.
    Decode,
}

/// A TSBuffer error: [`ErrorKind`], a reason, and the path of the field where it happened.
///
/// One pointer wide, so that the `Result`s every step of the codec returns stay small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    reason: Cow<'static, str>,
    /// `a.b.c`, outermost first; empty at the top.
    path: String,
    /// serde's derive found a field twice: decode again keeping the last one (see `decode`).
    duplicate: bool,
    /// The value holds what no schema sends (an integer beyond JavaScript's safe range): a
    /// union does not go on to try its other members.
    unsendable: bool,
}

impl Error {
    #[cold]
    pub(crate) fn new(kind: ErrorKind, reason: impl Into<Cow<'static, str>>) -> Self {
        Error(Box::new(Inner {
            kind,
            reason: reason.into(),
            path: String::new(),
            duplicate: false,
            unsendable: false,
        }))
    }

    /// An encode error that no union member avoids (see `Inner::unsendable`).
    #[cold]
    pub(crate) fn unsendable(reason: String) -> Self {
        let mut e = Self::encode(reason);
        e.0.unsendable = true;
        e
    }

    pub(crate) fn is_unsendable(&self) -> bool {
        self.0.unsendable
    }

    pub(crate) fn proto(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Proto, reason)
    }

    pub(crate) fn encode(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Encode, reason)
    }

    pub(crate) fn decode(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Decode, reason)
    }

    /// tsbuffer's text for a varint that runs past the end.
    pub(crate) fn varint_out_of_range() -> Self {
        Self::decode("Read varint error: index out of range")
    }

    /// tsbuffer's text (the `DataView`'s) for a fixed-size read past the end.
    pub(crate) fn out_of_bounds() -> Self {
        Self::decode("Offset is outside the bounds of the DataView")
    }

    /// Which step failed.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The reason, without the path.
    pub fn reason(&self) -> &str {
        &self.0.reason
    }

    /// Where: the field path, outermost first (`user.createdAt`), empty at the top.
    pub fn path(&self) -> &str {
        &self.0.path
    }

    /// The reason with its path, for logs (`` `user.createdAt`: .. ``).
    pub fn detail(&self) -> String {
        if self.0.path.is_empty() {
            self.0.reason.to_string()
        } else {
            format!("`{}`: {}", self.0.path, self.0.reason)
        }
    }

    /// What a TSRPC server tells a peer whose input this error refused: always
    /// [`INVALID_BUFFER`].
    pub fn wire_message(&self) -> &'static str {
        INVALID_BUFFER
    }

    pub(crate) fn is_duplicate(&self) -> bool {
        self.0.duplicate
    }

    /// The same error, located inside `field`.
    #[cold]
    pub(crate) fn within(mut self, field: &str) -> Self {
        let path = &mut self.0.path;
        if path.is_empty() {
            *path = field.to_owned();
        } else {
            *path = format!("{field}.{path}");
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match self.0.kind {
            ErrorKind::Proto => "TSBuffer proto",
            ErrorKind::Encode => "TSBuffer encode",
            ErrorKind::Decode => "TSBuffer decode",
        };
        write!(f, "{step}: {}", self.detail())
    }
}

impl std::error::Error for Error {}

impl serde::ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::encode(msg.to_string())
    }
}

impl serde::de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::decode(msg.to_string())
    }

    /// tsbuffer-validator's words.
    fn missing_field(field: &'static str) -> Self {
        Self::decode(format!("Missing required property `{field}`."))
    }

    fn duplicate_field(field: &'static str) -> Self {
        let mut e = Self::decode(format!("duplicate field `{field}`"));
        e.0.duplicate = true;
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_nest_outermost_first() {
        let e = Error::encode("Missing required property `x`.")
            .within("b")
            .within("a");
        assert_eq!(e.reason(), "Missing required property `x`.");
        assert_eq!(e.path(), "a.b");
        assert_eq!(e.detail(), "`a.b`: Missing required property `x`.");
        assert_eq!(
            e.to_string(),
            "TSBuffer encode: `a.b`: Missing required property `x`."
        );
        assert_eq!(e.wire_message(), INVALID_BUFFER);
    }
}
