//! A request, a response or a message in either mode: what comes in ([`Input`]: JSON text or
//! TSBuffer bytes, decoded straight into the handler's type), how what goes out is written
//! ([`Out`]), and what it is once written ([`Payload`]).

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::binary::{BinBody, Binary};
use super::Body;
use crate::tsbuffer::SchemaId;

/// An owned copy of an [`Input`], to decode again later (after flows ran).
#[derive(Debug)]
pub(crate) enum OwnedInput {
    Json(String),
    Bin(&'static Binary, SchemaId, Vec<u8>),
}

impl OwnedInput {
    /// The input again (JSON: as parsed text, since it decoded once already).
    pub(crate) fn as_input(&self) -> Input<'_> {
        match self {
            OwnedInput::Json(text) => Input::json(text),
            OwnedInput::Bin(bin, schema, bytes) => Input::Bin(BinBody {
                bin,
                schema: *schema,
                bytes,
            }),
        }
    }
}

/// A request or a message as it came: JSON text or TSBuffer bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Input<'a> {
    Json(Body<'a>),
    Bin(BinBody<'a>),
}

impl<'a> Input<'a> {
    /// JSON text, parsed out of its frame (a decode that refuses it is final).
    pub(crate) fn json(text: &'a str) -> Self {
        Input::Json(Body::parsed(text))
    }

    /// An owned copy.
    pub(crate) fn to_owned_input(self) -> OwnedInput {
        match self {
            Input::Json(body) => OwnedInput::Json(body.text().to_owned()),
            Input::Bin(b) => OwnedInput::Bin(b.bin, b.schema, b.bytes.to_vec()),
        }
    }

    /// Decodes the body into the handler's type. `Err`: the input error text (TSRPC's
    /// validator text for JSON, its generic text for binary).
    pub(crate) fn decode<T: DeserializeOwned + schemars::JsonSchema>(&self) -> Result<T, String> {
        match self {
            Input::Json(body) => crate::validate::decode::<T>(body.text()),
            Input::Bin(b) => b.decode::<T>(),
        }
    }

    /// The body as a JSON value (the untyped layer, flows).
    pub(crate) fn value(&self) -> Result<Value, String> {
        match self {
            Input::Json(body) => serde_json::from_str(body.text())
                .map_err(|e| format!("Input is not a valid JSON string: {e}")),
            Input::Bin(b) => b.value(),
        }
    }

    /// The body as JSON text (untyped consumers: a message enum, flows).
    pub(crate) fn json_text(&self) -> Result<Cow<'a, str>, String> {
        match self {
            Input::Json(body) => Ok(Cow::Borrowed(body.text())),
            Input::Bin(_) => {
                let v = self.value()?;
                Ok(Cow::Owned(
                    crate::json::to_string_untyped(&v).unwrap_or_else(|_| "null".into()),
                ))
            }
        }
    }

    /// Checks the body decodes as its schema says, decoding it into nothing.
    pub(crate) fn check_binary(&self) -> Result<(), String> {
        match self {
            Input::Json(_) => Ok(()),
            Input::Bin(b) => b.decode::<serde::de::IgnoredAny>().map(drop),
        }
    }

    /// The JSON body, if it is one.
    pub(crate) fn as_json(&self) -> Option<Body<'a>> {
        match self {
            Input::Json(b) => Some(*b),
            Input::Bin(_) => None,
        }
    }
}

/// How a response (or a message) is to be written: JSON text, or TSBuffer of a schema.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Out {
    Json,
    Bin(&'static Binary, SchemaId),
}

impl Out {
    /// Encodes `value`.
    pub(crate) fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Payload, EncodeError> {
        match self {
            Out::Json => crate::json::to_string(value)
                .map(Payload::Json)
                .map_err(|e| EncodeError(e.to_string())),
            Out::Bin(bin, schema) => bin
                .encode(*schema, value)
                .map(Payload::Bin)
                .map_err(EncodeError),
        }
    }

    /// Encodes an untyped value (JSON numbers as JavaScript writes them).
    pub(crate) fn encode_value(&self, value: &Value) -> Result<Payload, EncodeError> {
        match self {
            Out::Json => crate::json::to_string_untyped(value)
                .map(Payload::Json)
                .map_err(|e| EncodeError(e.to_string())),
            Out::Bin(..) => self.encode(value),
        }
    }

    /// Decodes a payload of this kind as a JSON value (for flows).
    pub(crate) fn value(&self, payload: &Payload) -> Value {
        match (self, payload) {
            (_, Payload::Json(s)) => serde_json::from_str(s).unwrap_or(Value::Null),
            (Out::Bin(bin, schema), Payload::Bin(b)) => {
                bin.decode_value(*schema, b).unwrap_or(Value::Null)
            }
            (Out::Json, Payload::Bin(_)) => Value::Null,
        }
    }
}

/// A response or a message the codec could not write (what TSRPC's validator refuses before
/// encoding): an internal error of the server.
#[derive(Debug)]
pub(crate) struct EncodeError(pub(crate) String);

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EncodeError {}

/// A request, a response or a message, encoded: JSON text or TSBuffer bytes. (Public only
/// because the sealed [`RpcClient`](crate::RpcClient) passes it; not nameable outside.)
#[derive(Debug, Clone, PartialEq)]
#[doc(hidden)]
pub enum Payload {
    /// JSON text.
    Json(String),
    /// TSBuffer bytes.
    Bin(Vec<u8>),
}
