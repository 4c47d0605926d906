//! The wire codec: TSRPC frames to and from envelopes, the only door between the transports
//! and the wire.
//!
//! Two modes, as TSRPC's: JSON ([`Codec::Json`], this file: text frames `[name, body, sn?]`) and
//! binary ([`binary`]: TSBuffer frames, driven by the service's TSRPC proto). Clients and
//! servers reach frames only through this module; a request or message body reaches a handler
//! as an [`Input`] (JSON text or TSBuffer bytes), decoded straight into its type, and a
//! response leaves as a [`Payload`] encoded as the connection's [`Out`] says.
//!
//! Decoding has two ways, chosen by [`Parse`]. [`Parse::Full`] parses the whole frame.
//! [`Parse::Scan`] first tries to split the usual frames by scanning, without parsing: an API
//! call `["<plain name>",<body>,<sn>]`, an API success `["<plain name>",{"isSucc":true,
//! "res":<res>},<sn>]`, a message `["<plain name>",<body>]`. A call's or a message's body so
//! split is [unchecked](Body::is_split): only a typed decode that consumes it whole shows the
//! frame is the one the full parse would read; when that decode refuses it, the caller decodes
//! the frame again with [`Parse::Full`], which gives the same outcome or the error. (An API
//! success's `res` is checked by the scan itself.) The tests below prove each scan against the
//! full parse.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::TsrpcError;

pub(crate) mod binary;
mod body;
mod scan;
pub(crate) use self::binary::Binary;
pub(crate) use self::body::{Input, Out, OwnedInput, Payload};
use self::scan::{split_api_frame, split_api_success, split_msg_frame};

/// The close reason for input that is not an envelope.
pub(crate) const UNRESOLVED_NAME: &str = "Invalid request format: unresolved service name.";

/// Which wire encoding a peer speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub(crate) enum Codec {
    /// TSRPC JSON mode (`json: true`): text frames `[name, body, sn?]`.
    #[default]
    Json,
}

/// How to decode a frame: see the module doc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parse {
    /// Split the usual frames by scanning; a body may come split, unchecked.
    Scan,
    /// Parse the whole frame.
    Full,
}

/// A WebSocket data frame to send: text (JSON mode) or binary (binary mode).
#[derive(Debug, Clone)]
pub(crate) enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

impl Frame {
    /// The WebSocket message.
    pub(crate) fn into_message(self) -> tokio_tungstenite::tungstenite::Message {
        match self {
            Frame::Text(t) => tokio_tungstenite::tungstenite::Message::text(t),
            Frame::Binary(b) => tokio_tungstenite::tungstenite::Message::binary(b),
        }
    }
}

impl Out {
    /// The WebSocket frame of an API return: `[name, {"isSucc":..}, sn]` (JSON) or
    /// `ServerOutputData {buffer | error, serviceId, sn}` (binary; `{buffer | error}` alone for
    /// a call that came without sn, `sn` 0, as TSRPC answers it).
    pub(crate) fn api_return_frame(
        &self,
        name: &str,
        service_id: u64,
        sn: u64,
        ret: Result<Payload, TsrpcError>,
    ) -> Frame {
        match self {
            Out::Bin(bin, _) => Frame::Binary(bin.encode_api_return(service_id, sn, &ret, sn != 0)),
            Out::Json => {
                Frame::Text(Codec::Json.wrap_api_return(name, sn, ret.map(Payload::into_json)))
            }
        }
    }
}

impl Payload {
    /// The JSON text of a JSON payload.
    pub(crate) fn into_json(self) -> String {
        match self {
            Payload::Json(s) => s,
            // Only an `Out::Bin` makes binary payloads, and it writes binary frames.
            Payload::Bin(_) => "null".to_owned(),
        }
    }
}

/// A body (the JSON text of a request, a response or a message) as the codec hands it over.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Body<'a> {
    text: &'a str,
    split: bool,
}

impl<'a> Body<'a> {
    /// A body parsed out of its frame, or a whole HTTP body: a decode that refuses it is final.
    pub(crate) fn parsed(text: &'a str) -> Self {
        Body { text, split: false }
    }
    /// A body split out of its frame by scanning, unchecked (see the module doc).
    fn split(text: &'a str) -> Self {
        Body { text, split: true }
    }
    /// The JSON text.
    pub(crate) fn text(&self) -> &'a str {
        self.text
    }
    /// True when it was split out of its frame by scanning: a decode that refuses it must be
    /// followed by the full parse of the frame, whose outcome counts.
    pub(crate) fn is_split(&self) -> bool {
        self.split
    }
}

/// A frame from a client, decoded.
#[derive(Debug)]
pub(crate) enum ServerInput<'a> {
    Api {
        name: Cow<'a, str>,
        body: Body<'a>,
        sn: u64,
    },
    Msg {
        name: Cow<'a, str>,
        body: Body<'a>,
    },
}

/// A frame from a server, decoded.
#[derive(Debug)]
pub(crate) enum ServerOutput<'a> {
    ApiReturn {
        sn: u64,
        ret: Result<Body<'a>, TsrpcError>,
    },
    Msg {
        name: Cow<'a, str>,
        body: Body<'a>,
    },
}

/// `[name, body, sn?]` with everything after the third element ignored.
struct Envelope<'a> {
    name: Cow<'a, str>,
    body: Option<&'a RawValue>,
    sn: Option<&'a RawValue>,
}

impl<'de> Deserialize<'de> for Envelope<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de> Visitor<'de> for V<'de> {
            type Value = Envelope<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("[name, body, sn?]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Envelope<'de>, A::Error> {
                #[derive(Deserialize)]
                struct Name<'a>(#[serde(borrow)] Cow<'a, str>);
                let name = match seq.next_element::<Name<'de>>()? {
                    Some(Name(n)) => n,
                    None => return Err(de::Error::custom("no name")),
                };
                let body = seq.next_element::<&'de RawValue>()?;
                let sn = if body.is_some() {
                    seq.next_element::<&'de RawValue>()?
                } else {
                    None
                };
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Envelope { name, body, sn })
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}

fn null_raw() -> &'static RawValue {
    // `from_str` of a literal cannot fail.
    serde_json::from_str("null").unwrap_or_else(|_| unreachable!())
}

/// Parses an sn: a JSON number that JavaScript reads as an integer from 0 to 2^53 (`7`, and
/// also `7.0`, `7e0`, or `9007199254740993`, which JavaScript rounds to 2^53).
fn parse_sn(raw: &RawValue) -> Option<u64> {
    const MAX: u64 = 1 << 53;
    if let Ok(sn) = serde_json::from_str::<u64>(raw.get()) {
        if sn <= MAX {
            return Some(sn);
        }
    }
    let sn: f64 = serde_json::from_str(raw.get()).ok()?;
    (sn.fract() == 0.0 && (0.0..=MAX as f64).contains(&sn)).then_some(sn as u64)
}

/// Why a frame could not be read as an envelope: the text TSRPC closes the connection with.
fn envelope_error(text: &str, e: serde_json::Error) -> String {
    if e.is_syntax() || e.is_eof() {
        // Only this prefix is stable: the rest is the parser's own text (V8's in TSRPC).
        let _ = text;
        format!("Input is not a valid JSON string: {e}")
    } else {
        UNRESOLVED_NAME.to_owned()
    }
}

impl Codec {
    /// Decodes a client frame (server side). `Err` is the close reason.
    pub(crate) fn decode_server_input<'a>(
        &self,
        text: &'a str,
        parse: Parse,
    ) -> Result<ServerInput<'a>, String> {
        if parse == Parse::Scan {
            if let Some((name, body, sn)) = split_api_frame(text) {
                return Ok(ServerInput::Api {
                    name: Cow::Borrowed(name),
                    body: Body::split(body),
                    sn,
                });
            }
        }
        let env: Envelope<'a> = serde_json::from_str(text).map_err(|e| envelope_error(text, e))?;
        let body = Body::parsed(env.body.unwrap_or(null_raw()).get());
        match env.sn {
            None => Ok(ServerInput::Msg {
                name: env.name,
                body,
            }),
            Some(raw) => match parse_sn(raw) {
                Some(sn) => Ok(ServerInput::Api {
                    name: env.name,
                    body,
                    sn,
                }),
                None => Err(format!("Invalid request format: invalid sn {}.", raw.get())),
            },
        }
    }

    /// Decodes a server frame (client side). `Err` describes the problem.
    pub(crate) fn decode_server_output<'a>(
        &self,
        text: &'a str,
        parse: Parse,
    ) -> Result<ServerOutput<'a>, String> {
        if parse == Parse::Scan {
            // The usual API success: its `res` is checked to be one JSON value (not built),
            // so the whole frame is.
            if let Some((sn, res)) = split_api_success(text) {
                return Ok(ServerOutput::ApiReturn {
                    sn,
                    ret: Ok(Body::parsed(res)),
                });
            }
            if let Some((name, body)) = split_msg_frame(text) {
                return Ok(ServerOutput::Msg {
                    name: Cow::Borrowed(name),
                    body: Body::split(body),
                });
            }
        }
        let env: Envelope<'a> =
            serde_json::from_str(text).map_err(|e| format!("Invalid server output: {e}"))?;
        let body = env.body.unwrap_or(null_raw());
        match env.sn.and_then(parse_sn) {
            // TSRPC's client treats sn 0 as "no sn" too.
            Some(sn) if sn > 0 => {
                let ret =
                    decode_api_return(body.get()).map_err(|e| format!("Invalid ApiReturn: {e}"))?;
                Ok(ServerOutput::ApiReturn {
                    sn,
                    ret: ret.map(|raw| Body::parsed(raw.get())),
                })
            }
            _ => Ok(ServerOutput::Msg {
                name: env.name,
                body: Body::parsed(body.get()),
            }),
        }
    }

    /// `[name, body, sn]`.
    pub(crate) fn encode_api_req(&self, name: &str, body: &str, sn: u64) -> String {
        let mut out = String::with_capacity(name.len() + body.len() + 24);
        out.push('[');
        push_json_str(&mut out, name);
        out.push(',');
        out.push_str(body);
        out.push(',');
        push_u64(&mut out, sn);
        out.push(']');
        out
    }

    /// `[name, body, sn]`, written around `body` in its own buffer (no copy of the body).
    pub(crate) fn wrap_api_req(&self, name: &str, body: String, sn: u64) -> String {
        if !is_plain(name) {
            return self.encode_api_req(name, &body, sn);
        }
        let mut out = body;
        out.reserve(name.len() + 4 + 21);
        out.insert_str(0, "\",");
        out.insert_str(0, name);
        out.insert_str(0, "[\"");
        out.push(',');
        push_u64(&mut out, sn);
        out.push(']');
        out
    }

    /// `[name, body]`.
    /// `[name, msg]`, the message serialized straight into the frame (one buffer).
    pub(crate) fn encode_msg_value<T: serde::Serialize + ?Sized>(
        &self,
        name: &str,
        msg: &T,
    ) -> serde_json::Result<String> {
        // One buffer for the whole frame, sized for a typical small message.
        let mut head = String::with_capacity(name.len() + 132);
        head.push('[');
        push_json_str(&mut head, name);
        head.push(',');
        let mut buf = head.into_bytes();
        crate::json::to_writer(&mut buf, msg)?;
        buf.push(b']');
        crate::json::trim(&mut buf);
        String::from_utf8(buf).map_err(|e| serde::ser::Error::custom(e.to_string()))
    }

    pub(crate) fn encode_msg(&self, name: &str, body: &str) -> String {
        let mut out = String::with_capacity(name.len() + body.len() + 8);
        out.push('[');
        push_json_str(&mut out, name);
        out.push(',');
        out.push_str(body);
        out.push(']');
        out
    }

    /// `[name, {"isSucc":true,"res":..}, sn]` or `[name, {"isSucc":false,"err":..}, sn]`.
    pub(crate) fn encode_api_return(
        &self,
        name: &str,
        sn: u64,
        ret: &Result<String, TsrpcError>,
    ) -> String {
        let body = ret.as_ref().map_or(0, String::len);
        let mut out = String::with_capacity(name.len() + body + 64);
        out.push('[');
        push_json_str(&mut out, name);
        out.push(',');
        push_api_return_body(&mut out, ret);
        out.push(',');
        push_u64(&mut out, sn);
        out.push(']');
        out
    }

    /// [`encode_api_return`](Self::encode_api_return) taking the result: a success is written
    /// around the response JSON in its own buffer (no copy of the response).
    pub(crate) fn wrap_api_return(
        &self,
        name: &str,
        sn: u64,
        ret: Result<String, TsrpcError>,
    ) -> String {
        match ret {
            Ok(res) if is_plain(name) => {
                const HEAD: &str = r#"",{"isSucc":true,"res":"#;
                let mut out = res;
                out.reserve_exact(name.len() + HEAD.len() + 2 + 23);
                out.insert_str(0, HEAD);
                out.insert_str(0, name);
                out.insert_str(0, "[\"");
                out.push_str("},");
                push_u64(&mut out, sn);
                out.push(']');
                out
            }
            ret => self.encode_api_return(name, sn, &ret),
        }
    }

    /// Decodes `{"isSucc":true,"res":..}` or `{"isSucc":false,"err":..}` alone (the HTTP
    /// body). `Err` when it is not one.
    pub(crate) fn decode_api_return_body<'a>(
        &self,
        text: &'a str,
    ) -> serde_json::Result<Result<Body<'a>, TsrpcError>> {
        Ok(decode_api_return(text)?.map(|raw| Body::parsed(raw.get())))
    }

    /// `{"isSucc":true,"res":..}` alone (the HTTP body).
    pub(crate) fn encode_api_return_body(&self, ret: &Result<String, TsrpcError>) -> String {
        let mut out = String::with_capacity(64);
        push_api_return_body(&mut out, ret);
        out
    }
}

/// The `{"isSucc":..}` object of an API return.
#[derive(Deserialize)]
struct Ret<'a> {
    #[serde(rename = "isSucc")]
    is_succ: bool,
    #[serde(borrow, default)]
    res: Option<&'a RawValue>,
    #[serde(default)]
    err: Option<TsrpcError>,
}

impl<'a> Ret<'a> {
    fn into_result(self) -> Result<&'a RawValue, TsrpcError> {
        if self.is_succ {
            Ok(self.res.unwrap_or(null_raw()))
        } else {
            Err(self
                .err
                .unwrap_or_else(|| TsrpcError::server("Parse server output error")))
        }
    }
}

/// Decodes an API return object (`{"isSucc":true,"res":..}` or `{"isSucc":false,"err":..}`),
/// the body of an HTTP answer and the middle of a WebSocket one. `Err` when it is not one.
fn decode_api_return(text: &str) -> serde_json::Result<Result<&RawValue, TsrpcError>> {
    let ret: Ret<'_> = serde_json::from_str(text)?;
    Ok(ret.into_result())
}

fn push_api_return_body(out: &mut String, ret: &Result<String, TsrpcError>) {
    match ret {
        Ok(res) => {
            out.push_str(r#"{"isSucc":true,"res":"#);
            out.push_str(res);
            out.push('}');
        }
        Err(err) => {
            out.push_str(r#"{"isSucc":false,"err":"#);
            // A TsrpcError always serializes.
            out.push_str(&crate::json::to_string_untyped(err).unwrap_or_else(|_| "{}".to_owned()));
            out.push('}');
        }
    }
}

/// True when `s` needs no escape in a JSON string.
fn is_plain(s: &str) -> bool {
    s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\')
}

fn push_json_str(out: &mut String, s: &str) {
    if is_plain(s) {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    }
}

/// Writes `n` in decimal, without a temporary String.
fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(b as char);
    }
}

#[cfg(test)]
mod tests;
