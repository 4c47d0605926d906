//! The wire codec: TSRPC frames to and from envelopes.
//!
//! Only TSRPC's JSON mode exists so far ([`Codec::Json`]); clients and servers reach frames only
//! through this type, so TSRPC's binary mode (TSBuffer) slots in as another variant without
//! touching them.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::TsrpcError;

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

/// A frame from a client, decoded.
#[derive(Debug)]
pub(crate) enum ServerInput<'a> {
    Api {
        name: Cow<'a, str>,
        body: &'a RawValue,
        sn: u64,
    },
    Msg {
        name: Cow<'a, str>,
        body: &'a RawValue,
    },
}

/// A frame from a server, decoded.
#[derive(Debug)]
pub(crate) enum ServerOutput<'a> {
    ApiReturn {
        sn: u64,
        ret: Result<&'a RawValue, TsrpcError>,
    },
    Msg {
        name: Cow<'a, str>,
        body: &'a RawValue,
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
    pub(crate) fn decode_server_input<'a>(&self, text: &'a str) -> Result<ServerInput<'a>, String> {
        let env: Envelope<'a> = serde_json::from_str(text).map_err(|e| envelope_error(text, e))?;
        let body = env.body.unwrap_or(null_raw());
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
    ) -> Result<ServerOutput<'a>, String> {
        // An API return (`[name, {"isSucc":..}, sn]`, sn last) is decoded in one pass, its
        // body straight into `{isSucc, res, err}`; anything else, or anything this pass
        // refuses, goes the general way (which gives the same result or the error).
        if let Some(digits) = trailing_sn(text) {
            if let Ok(frame) = serde_json::from_str::<RetFrame<'a>>(text) {
                if frame.sn.get() == digits {
                    if let Ok(sn) = digits.parse::<u64>() {
                        if sn > 0 && sn <= (1u64 << 53) {
                            return Ok(ServerOutput::ApiReturn {
                                sn,
                                ret: frame.ret.into_result(),
                            });
                        }
                    }
                }
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
                Ok(ServerOutput::ApiReturn { sn, ret })
            }
            _ => Ok(ServerOutput::Msg {
                name: env.name,
                body,
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

/// `[name, {"isSucc":..}, sn, ...]`: an API return frame, body decoded in the same pass.
struct RetFrame<'a> {
    ret: Ret<'a>,
    sn: &'a RawValue,
}

impl<'de> Deserialize<'de> for RetFrame<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de> Visitor<'de> for V<'de> {
            type Value = RetFrame<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("[name, ApiReturn, sn]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RetFrame<'de>, A::Error> {
                // Read only to refuse a name that is not a string, as the general path does.
                #[derive(Deserialize)]
                struct Name<'a>(
                    #[serde(borrow)]
                    #[allow(dead_code)]
                    Cow<'a, str>,
                );
                if seq.next_element::<Name<'de>>()?.is_none() {
                    return Err(de::Error::custom("no name"));
                }
                let Some(ret) = seq.next_element::<Ret<'de>>()? else {
                    return Err(de::Error::custom("no body"));
                };
                let Some(sn) = seq.next_element::<&'de RawValue>()? else {
                    return Err(de::Error::custom("no sn"));
                };
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(RetFrame { ret, sn })
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}

/// The digits of a frame's last element when it ends like `, 123 ]` (a plain integer).
fn trailing_sn(text: &str) -> Option<&str> {
    sn_tail(text).map(|(_, digits)| digits)
}

/// For a frame ending like `, 123 ]`: where its comma is, and the digits (at most 16, no
/// leading zero). Byte by byte from the end: every byte looked at is ASCII.
fn sn_tail(text: &str) -> Option<(usize, &str)> {
    let b = text.as_bytes();
    let is_ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r');
    let mut i = b.len();
    while i > 0 && is_ws(b[i - 1]) {
        i -= 1;
    }
    if i == 0 || b[i - 1] != b']' {
        return None;
    }
    i -= 1;
    while i > 0 && is_ws(b[i - 1]) {
        i -= 1;
    }
    let digits_end = i;
    while i > 0 && b[i - 1].is_ascii_digit() {
        i -= 1;
    }
    let digits = &text[i..digits_end];
    if digits.is_empty() || digits.len() > 16 || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    while i > 0 && is_ws(b[i - 1]) {
        i -= 1;
    }
    (i > 0 && b[i - 1] == b',').then_some((i - 1, digits))
}

/// An API success `["<plain name>",{"isSucc":true,"res":<res>},<sn>]` split by scanning, the
/// way our servers and TSRPC's write it: the sn and the `res` text, checked to be one JSON
/// value (without building it). `None` for anything else (errors, other spacing or key order),
/// which goes through [`Codec::decode_server_output`] and reads the same.
pub(crate) fn split_api_success(text: &str) -> Option<(u64, &str)> {
    const HEAD: &str = r#"",{"isSucc":true,"res":"#;
    let (comma, digits) = sn_tail(text)?;
    let sn = digits
        .parse::<u64>()
        .ok()
        .filter(|&sn| sn > 0 && sn <= 1 << 53)?;
    let head = text[..comma].strip_suffix('}')?.strip_prefix("[\"")?;
    let end = head.find('"')?;
    if !is_plain(&head[..end]) {
        return None;
    }
    let res = head[end..].strip_prefix(HEAD)?;
    serde_json::from_str::<de::IgnoredAny>(res).ok()?;
    Some((sn, res))
}

/// An API call `["<plain name>",<body>,<sn>]` split by scanning, without parsing: the name, the
/// unchecked body text and the sn. `None` for anything else, which goes through
/// [`Codec::decode_server_input`]. Only a decode of the body that consumes it whole shows the
/// frame is the one the full parse would read.
pub(crate) fn split_api_frame(text: &str) -> Option<(&str, &str, u64)> {
    let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let (comma, digits) = sn_tail(text)?;
    let sn = digits.parse::<u64>().ok().filter(|&sn| sn <= 1 << 53)?;
    let head = text[..comma].strip_prefix("[\"")?;
    let end = head.find('"')?;
    let name = &head[..end];
    if !is_plain(name) {
        return None;
    }
    let body = head[end + 1..].strip_prefix(',')?;
    if body.trim_matches(ws).is_empty() {
        return None;
    }
    Some((name, body, sn))
}

/// A message frame `["<plain name>",<body>]` split by scanning, without parsing: the name and
/// the unchecked body text. `None` for anything else (an escaped name, a trailing sn, ...),
/// which goes through [`JsonCodec::decode_server_output`]. The body is not validated: only a
/// listener decoding it successfully shows the frame is the one the full parse would read.
pub(crate) fn split_msg_frame(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("[\"")?;
    let end = rest.find('"')?;
    let name = &rest[..end];
    if !is_plain(name) {
        return None;
    }
    let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let body = rest[end + 1..].strip_prefix(',')?;
    let body = body.trim_end_matches(ws).strip_suffix(']')?;
    if body.trim_matches(ws).is_empty() || trailing_sn(text).is_some() {
        return None;
    }
    Some((name, body))
}

/// Decodes an API return object (`{"isSucc":true,"res":..}` or `{"isSucc":false,"err":..}`),
/// the body of an HTTP answer and the middle of a WebSocket one. `Err` when it is not one.
pub(crate) fn decode_api_return(text: &str) -> serde_json::Result<Result<&RawValue, TsrpcError>> {
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
            out.push_str(&crate::json::to_string(err).unwrap_or_else(|_| "{}".to_owned()));
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
mod tests {
    use super::*;

    #[test]
    fn split_api_success_agrees_with_the_full_parse() {
        let names = ["Add", "room/Join", "a,b", "x]", ""];
        let objects = [
            r#"{"isSucc":true,"res":{"c":3}}"#,
            r#"{"isSucc":true,"res":{}}"#,
            r#"{"isSucc":true,"res":[1,{"a":"},1]"}]}"#,
            r#"{"isSucc":true,"res":5}"#,
            r#"{"isSucc":true,"res":null}"#,
            r#"{"isSucc":true,"res":{"c":3},"err":null}"#,
            r#"{"isSucc":true,"res":{"c":3}},{"x":1}"#,
            r#"{"isSucc":true,"res":{"c":3}}}"#,
            r#"{"isSucc":true,"res":}"#,
            r#"{"isSucc":false,"err":{"message":"m","type":"ApiError"}}"#,
            r#"{"res":{"c":3},"isSucc":true}"#,
        ];
        let sns = [
            "1",
            "0",
            " 7 ",
            "9007199254740992",
            "9007199254740993",
            "01",
            "-1",
        ];
        let mut split = 0;
        for name in names {
            for object in objects {
                for sn in sns {
                    let text = format!("[\"{name}\",{object},{sn}]");
                    let Some((number, res)) = split_api_success(&text) else {
                        continue;
                    };
                    split += 1;
                    match Codec::Json.decode_server_output(&text) {
                        Ok(ServerOutput::ApiReturn { sn, ret: Ok(full) }) => {
                            assert_eq!(sn, number, "{text}");
                            let a: serde_json::Value = serde_json::from_str(res).unwrap();
                            let b: serde_json::Value = serde_json::from_str(full.get()).unwrap();
                            assert_eq!(a, b, "{text}");
                        }
                        _ => panic!("the scan split {text:?}, the full parse did not"),
                    }
                }
            }
        }
        assert!(split >= 40, "only {split} frames split");
        // The usual frame is split.
        assert_eq!(
            split_api_success(r#"["Add",{"isSucc":true,"res":{"c":3}},7]"#),
            Some((7, r#"{"c":3}"#))
        );
    }

    #[test]
    fn split_api_frame_agrees_with_the_full_parse() {
        // Whenever the scan splits a frame and its body is one JSON value (what a handler's
        // decode shows), the full parse reads the same call.
        let names = ["Add", "room/Join", "a,b", "é", "x]", "", " "];
        let bodies = [
            "{}",
            " {} ",
            r#"{"a":1}"#,
            "[1,2]",
            "5",
            "null",
            r#""s""#,
            r#"{"a":"],1"}"#,
            r#"{},"x""#,
            "{",
            "}",
            r#"{"a":1}}"#,
            "1 2",
            "",
        ];
        let sns = [
            "1",
            "0",
            " 7 ",
            "9007199254740992",
            "9007199254740993",
            "01",
            "1e3",
        ];
        let mut split = 0;
        for name in names {
            for body in bodies {
                for sn in sns {
                    for end in ["]", " ]\n"] {
                        let text = format!("[\"{name}\",{body},{sn}{end}");
                        let Some((n, b, number)) = split_api_frame(&text) else {
                            continue;
                        };
                        let Ok(value) = serde_json::from_str::<serde_json::Value>(b) else {
                            continue;
                        };
                        split += 1;
                        match Codec::Json.decode_server_input(&text) {
                            Ok(ServerInput::Api { name, body, sn }) => {
                                assert_eq!((&*name, sn), (n, number), "{text}");
                                let full: serde_json::Value =
                                    serde_json::from_str(body.get()).unwrap();
                                assert_eq!(full, value, "{text}");
                            }
                            _ => panic!("the scan split {text:?}, the full parse did not"),
                        }
                    }
                }
            }
        }
        assert!(split > 100, "only {split} frames split");
    }

    #[test]
    fn split_api_frame_only_plain_calls() {
        assert_eq!(
            split_api_frame(r#"["Add",{"a":1,"b":2},7]"#),
            Some(("Add", r#"{"a":1,"b":2}"#, 7))
        );
        assert_eq!(
            split_api_frame("[\"room/Join\", [1,2] , 12 ]\n"),
            Some(("room/Join", " [1,2] ", 12))
        );
        assert_eq!(split_api_frame(r#"["a",{},0]"#), Some(("a", "{}", 0)));
        // The body may hold anything; only its decode tells whether it is one value.
        assert_eq!(
            split_api_frame(r#"["a",{},"x",3]"#),
            Some(("a", r#"{},"x""#, 3))
        );
        for text in [
            r#"["a",{}]"#,
            r#"["a",5]"#,
            r#"["a",{},01]"#,
            r#"["a",{},-1]"#,
            r#"["a",{},1.5]"#,
            r#"["a",{},9007199254740993]"#,
            r#"["a\"b",{},1]"#,
            r#"["a\u0062",{},1]"#,
            r#"[ "a",{},1]"#,
            r#"["a" ,{},1]"#,
            r#"["a", ,1]"#,
            r#"["a",1]"#,
            r#"{"a":1}"#,
            "",
        ] {
            assert_eq!(split_api_frame(text), None, "{text}");
        }
    }

    #[test]
    fn split_msg_frame_only_plain_messages() {
        assert_eq!(
            split_msg_frame(r#"["game/Frame",{"frame":1}]"#),
            Some(("game/Frame", r#"{"frame":1}"#))
        );
        assert_eq!(split_msg_frame("[\"a\", [1,2] ]\n"), Some(("a", " [1,2] ")));
        assert_eq!(split_msg_frame(r#"["a",{},0]"#), None);
        assert_eq!(split_msg_frame(r#"["a",{},12]"#), None);
        assert_eq!(split_msg_frame(r#"["a\"b",{}]"#), None);
        assert_eq!(split_msg_frame(r#"["a\u0062",{}]"#), None);
        assert_eq!(split_msg_frame(r#"[ "a",{}]"#), None);
        assert_eq!(split_msg_frame(r#"["a"]"#), None);
        assert_eq!(split_msg_frame(r#"["a", ]"#), None);
        assert_eq!(split_msg_frame(r#"["a",{}] x"#), None);
        assert_eq!(split_msg_frame(r#"{"a":1}"#), None);
    }

    #[test]
    fn decodes_api_and_msg() {
        let c = Codec::Json;
        match c.decode_server_input(r#"["Add",{"a":1,"b":2},2]"#).unwrap() {
            ServerInput::Api { name, body, sn } => {
                assert_eq!(name, "Add");
                assert_eq!(body.get(), r#"{"a":1,"b":2}"#);
                assert_eq!(sn, 2);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            c.decode_server_input(r#"["room/UserLeave",{"roomId":"r1"}]"#)
                .unwrap(),
            ServerInput::Msg { .. }
        ));
    }

    #[test]
    fn bad_input_reasons() {
        let c = Codec::Json;
        assert_eq!(
            c.decode_server_input(r#"{"a":1}"#).unwrap_err(),
            UNRESOLVED_NAME
        );
        assert_eq!(
            c.decode_server_input(r#"[1,2]"#).unwrap_err(),
            UNRESOLVED_NAME
        );
        assert_eq!(c.decode_server_input(r#"[]"#).unwrap_err(), UNRESOLVED_NAME);
        assert!(c
            .decode_server_input("not json")
            .unwrap_err()
            .starts_with("Input is not a valid JSON string: "));
        for sn in [
            "-1",
            "1.5",
            "-0.5",
            r#""7""#,
            "null",
            "{}",
            "1e16",
            "9007199254740994",
        ] {
            let frame = format!(r#"["Add",{{}},{sn}]"#);
            assert_eq!(
                c.decode_server_input(&frame).unwrap_err(),
                format!("Invalid request format: invalid sn {sn}."),
            );
        }
    }

    /// An sn JavaScript reads as an integer is that integer (TSRPC echoes it so).
    #[test]
    fn sn_as_javascript_reads_it() {
        for (text, want) in [
            ("7", 7),
            ("7.0", 7),
            ("7e0", 7),
            ("0.7e1", 7),
            ("-0", 0),
            ("9007199254740992", 1 << 53),
            ("9007199254740993", 1 << 53),
            ("9007199254740992.0", 1 << 53),
        ] {
            let frame = format!(r#"["Add",{{}},{text}]"#);
            match Codec::Json.decode_server_input(&frame) {
                Ok(ServerInput::Api { sn, .. }) => assert_eq!(sn, want, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn encodes_like_the_captures() {
        let c = Codec::Json;
        for (name, sn) in [
            ("Add", 2),
            ("a/b", 0),
            ("q\"uote", 9007199254740992),
            ("", u64::MAX),
        ] {
            let body = r#"{"a":1}"#;
            let want = format!("[{},{body},{sn}]", serde_json::to_string(name).unwrap());
            assert_eq!(c.encode_api_req(name, body, sn), want);
            assert_eq!(c.wrap_api_req(name, body.to_owned(), sn), want);
        }
        assert_eq!(
            c.encode_api_req("Add", r#"{"a":1,"b":2}"#, 2),
            r#"["Add",{"a":1,"b":2},2]"#
        );
        assert_eq!(
            c.encode_api_return("Add", 2, &Ok(r#"{"c":3}"#.into())),
            r#"["Add",{"isSucc":true,"res":{"c":3}},2]"#
        );
        for (name, sn) in [("Add", 2), ("q\"uote", 1)] {
            let ok = Ok(r#"{"c":3}"#.to_owned());
            assert_eq!(
                c.wrap_api_return(name, sn, ok.clone()),
                c.encode_api_return(name, sn, &ok)
            );
        }
        let err = TsrpcError::api("Failed with a numeric code").with_code(42);
        assert_eq!(
            c.wrap_api_return("Fail", 4, Err(err.clone())),
            c.encode_api_return("Fail", 4, &Err(err.clone()))
        );
        assert_eq!(
            c.encode_api_return("Fail", 4, &Err(err)),
            r#"["Fail",{"isSucc":false,"err":{"message":"Failed with a numeric code","type":"ApiError","code":42}},4]"#
        );
        match c
            .decode_server_output(r#"["Add",{"isSucc":true,"res":{"c":3}},2]"#)
            .unwrap()
        {
            ServerOutput::ApiReturn { sn, ret } => {
                assert_eq!(sn, 2);
                assert_eq!(ret.unwrap().get(), r#"{"c":3}"#);
            }
            other => panic!("{other:?}"),
        }
    }

    /// The one-pass API return decoder gives what the general path gives, or defers to it.
    #[test]
    fn api_return_fast_path_agrees() {
        let c = Codec::Json;
        let sn_ret = |t: &str| match c.decode_server_output(t) {
            Ok(ServerOutput::ApiReturn { sn, ret }) => {
                Some((sn, ret.map(|r| r.get().to_owned()).map_err(|e| e.message)))
            }
            Ok(ServerOutput::Msg { .. }) => None,
            Err(e) => Some((u64::MAX, Err(e))),
        };
        assert_eq!(
            sn_ret(r#"["Add",{"isSucc":true,"res":{"c":3}},2]"#),
            Some((2, Ok(r#"{"c":3}"#.to_owned())))
        );
        assert_eq!(
            sn_ret(" [\"Add\" , {\"res\":[1], \"isSucc\":true} , 9007199254740992 ] \n"),
            Some((1 << 53, Ok("[1]".to_owned())))
        );
        assert_eq!(
            sn_ret(r#"["A",{"isSucc":false,"err":{"message":"m","type":"ApiError"}},3]"#),
            Some((3, Err("m".to_owned())))
        );
        assert_eq!(
            sn_ret(r#"["A",{"isSucc":true},3]"#),
            Some((3, Ok("null".to_owned())))
        );
        // An sn JavaScript reads as an integer is one (TSRPC's client takes it so).
        assert_eq!(
            sn_ret(r#"["A",{"isSucc":true},1.0]"#),
            Some((1, Ok("null".to_owned())))
        );
        // Not API returns: sn 0, too large, not an integer, a message.
        for t in [
            r#"["A",{"isSucc":true},0]"#,
            r#"["A",{"isSucc":true},9007199254740994]"#,
            r#"["A",{"isSucc":true},1.5]"#,
            r#"["A",{"isSucc":true},-1]"#,
            r#"["A",{"x":1}]"#,
            r#"["A",[1,2]]"#,
        ] {
            assert_eq!(sn_ret(t), None, "{t}");
        }
        // The sn is the third element, not the last.
        assert_eq!(
            sn_ret(r#"["A",{"isSucc":true,"res":1},4,5]"#),
            Some((4, Ok("1".to_owned())))
        );
        // Bad bodies: the general path's error.
        assert!(sn_ret(r#"["A",{"res":1},4]"#).unwrap().1.is_err());
        assert!(sn_ret(r#"["A",7,4]"#).unwrap().1.is_err());
    }
}
