//! TSRPC's binary mode (TSBuffer): a service's binary tables and the binary frames
//! (`ServerInputData` / `ServerOutputData`).
//!
//! The tables of a service (service id <-> name and kind, name -> request, response and
//! message schemas) come from its TSRPC proto JSON ([`ServiceProto::tsrpc_proto`]), read the
//! first time binary mode needs them and then shared by every server and client of that proto
//! (a JSON-only program never reads it). A request or message is decoded straight into the
//! handler's type; a response or message is encoded straight from it (no JSON value between).
//!
//! [`ServiceProto::tsrpc_proto`]: crate::proto::ServiceProto::tsrpc_proto

use std::borrow::Cow;
use std::sync::{Mutex, OnceLock};

use rustc_hash::FxHashMap;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::body::{Out, Payload};
use crate::error::TsrpcError;
use crate::tsbuffer::transport::{self, ServerOutputData};
use crate::tsbuffer::{Proto, SchemaId, ServiceSchemas, INVALID_BUFFER};

/// The reason a binary frame cannot be read: TSRPC's generic text (the detail is logged).
pub(crate) fn invalid_buffer(detail: impl std::fmt::Display) -> String {
    tracing::debug!("binary input refused: {detail}");
    INVALID_BUFFER.to_owned()
}

/// A service's binary tables, built once per proto text.
#[derive(Debug)]
pub(crate) struct Binary {
    proto: Proto,
    apis: FxHashMap<Box<str>, ServiceSchemas>,
    msgs: FxHashMap<Box<str>, ServiceSchemas>,
    by_id: FxHashMap<u64, (Box<str>, ServiceSchemas)>,
}

/// The tables of the proto `json`, built the first time they are asked for and kept for the
/// life of the program (one per distinct proto text: these are `'static` strings of the
/// program). `Err`: why the proto cannot be read (the same answer every time).
pub(crate) fn tables(json: &'static str) -> Result<&'static Binary, String> {
    type Cache = Mutex<FxHashMap<(usize, usize), &'static Result<Binary, String>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (json.as_ptr() as usize, json.len());
    let cache = CACHE.get_or_init(Default::default);
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    let entry = *map
        .entry(key)
        .or_insert_with(|| Box::leak(Box::new(Binary::parse(json))));
    drop(map);
    entry.as_ref().map_err(Clone::clone)
}

impl Binary {
    fn parse(json: &str) -> Result<Binary, String> {
        let proto = Proto::parse(json).map_err(|e| format!("the TSRPC proto: {e}"))?;
        let mut apis = FxHashMap::default();
        let mut msgs = FxHashMap::default();
        let mut by_id = FxHashMap::default();
        for s in &proto.services {
            let Some(schemas) = proto.service_by_id(s.id).map(|(_, s)| s) else {
                continue; // a service whose types the proto lacks: unusable in binary
            };
            let table = if s.api { &mut apis } else { &mut msgs };
            table.insert(s.name.clone(), schemas);
            by_id.insert(s.id, (s.name.clone(), schemas));
        }
        Ok(Binary {
            proto,
            apis,
            msgs,
            by_id,
        })
    }

    /// The API called `name`.
    pub(crate) fn api(&self, name: &str) -> Option<ServiceSchemas> {
        self.apis.get(name).copied()
    }

    /// The message called `name`.
    pub(crate) fn msg(&self, name: &str) -> Option<ServiceSchemas> {
        self.msgs.get(name).copied()
    }

    /// The service with this id: its name and schemas.
    pub(crate) fn by_id(&self, id: u64) -> Option<(&str, ServiceSchemas)> {
        self.by_id.get(&id).map(|(n, s)| (&**n, *s))
    }

    /// The body of a request or a message `bytes`, of `schema`.
    pub(crate) fn body<'a>(&'static self, schema: SchemaId, bytes: &'a [u8]) -> BinBody<'a> {
        BinBody {
            bin: self,
            schema,
            bytes,
        }
    }

    /// How a response of `schema` (or a message of it) is written.
    pub(crate) fn out(&'static self, schema: SchemaId) -> Out {
        Out::Bin(self, schema)
    }

    /// Decodes a client's frame (server side). `Err`: the close reason (always TSRPC's
    /// generic text).
    pub(crate) fn decode_server_input<'a>(
        &'static self,
        bytes: &'a [u8],
    ) -> Result<BinInput<'a>, String> {
        let frame = transport::decode_input(bytes).map_err(invalid_buffer)?;
        let Some((name, s)) = self.by_id(frame.service_id) else {
            return Err(invalid_buffer(format!(
                "unknown service id {}",
                frame.service_id
            )));
        };
        // Borrowed from `bytes` (the decoder borrows what it can; an owned copy would be a
        // decoder change, refused rather than copied).
        let Cow::Borrowed(body) = frame.buffer.0 else {
            return Err(invalid_buffer("the buffer is not borrowed"));
        };
        let body = self.body(s.req, body);
        // The kind comes from the proto (an HTTP call has no sn).
        Ok(match s.api {
            true => BinInput::Api {
                name,
                service: s,
                body,
                sn: frame.sn,
            },
            false => BinInput::Msg { name, body },
        })
    }

    /// An API return frame: `ServerOutputData {buffer | error, serviceId, sn}` (WebSocket), or
    /// `{buffer | error}` alone (HTTP, `ids` false).
    pub(crate) fn encode_api_return(
        &self,
        service_id: u64,
        sn: u64,
        ret: &Result<Payload, TsrpcError>,
        ids: bool,
    ) -> Vec<u8> {
        let (id, sn) = if ids {
            (Some(service_id), Some(sn))
        } else {
            (None, None)
        };
        match ret {
            Ok(Payload::Bin(res)) => {
                let mut out = Vec::with_capacity(res.len() + 16);
                let _ = transport::write_output(&mut out, id, sn, |o| {
                    o.extend_from_slice(res);
                    Ok(())
                });
                out
            }
            Ok(Payload::Json(_)) => encode_error(
                &TsrpcError::internal(Some("a JSON response on a binary connection".into())),
                id,
                sn,
            ),
            Err(e) => encode_error(e, id, sn),
        }
    }

    /// Encodes a message `msg` of service `name` as a whole frame (server to client).
    pub(crate) fn encode_msg_value<T: Serialize + ?Sized>(
        &self,
        name: &str,
        msg: &T,
    ) -> Result<Vec<u8>, String> {
        let s = self
            .msg(name)
            .ok_or_else(|| format!("no message {name} in the TSRPC proto"))?;
        let mut out = Vec::with_capacity(64);
        transport::write_output(&mut out, Some(s.id), None, |o| {
            self.proto.encode_into(s.req, msg, o)
        })
        .map_err(|e| e.to_string())?;
        Ok(out)
    }

    /// A request or a message frame (client to server): `ServerInputData`, `sn` for a call.
    pub(crate) fn encode_input(&self, service_id: u64, sn: Option<u64>, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len() + 12);
        let _ = transport::write_input(&mut out, service_id, sn, |o| {
            o.extend_from_slice(body);
            Ok(())
        });
        out
    }

    /// Encodes `value` as a `schema` value.
    pub(crate) fn encode<T: Serialize + ?Sized>(
        &self,
        schema: SchemaId,
        value: &T,
    ) -> Result<Vec<u8>, String> {
        self.proto.encode(schema, value).map_err(|e| e.to_string())
    }

    /// Decodes a `schema` value.
    pub(crate) fn decode<T: DeserializeOwned>(
        &self,
        schema: SchemaId,
        bytes: &[u8],
    ) -> Result<T, String> {
        self.proto.decode(schema, bytes).map_err(|e| e.to_string())
    }

    /// Decodes an HTTP answer's body, `ServerOutputData {buffer | error}` (client side).
    /// `Err`: it is not one.
    pub(crate) fn decode_http_return(
        &self,
        bytes: &[u8],
    ) -> Result<Result<Vec<u8>, TsrpcError>, String> {
        let frame = transport::decode_output(bytes).map_err(|e| e.to_string())?;
        match (frame.buffer, frame.error) {
            (_, Some(e)) => Ok(Err(e)),
            (Some(b), None) => Ok(Ok(b.0.into_owned())),
            (None, None) => Err("neither buffer nor error".into()),
        }
    }

    /// Decodes a `schema` value as a JSON value, numbers as JavaScript prints them (an
    /// integral double is an integer, as in JSON mode).
    pub(crate) fn decode_value(&self, schema: SchemaId, bytes: &[u8]) -> Result<Value, String> {
        let mut v: Value = self.decode(schema, bytes)?;
        crate::validate::integral_floats_as_integers(&mut v);
        Ok(v)
    }

    /// Decodes a server's frame (client side).
    pub(crate) fn decode_server_output<'a>(
        &'static self,
        bytes: &'a [u8],
    ) -> Result<BinOutput<'a>, String> {
        let frame: ServerOutputData<'a> =
            transport::decode_output(bytes).map_err(|e| e.to_string())?;
        decode_output_frame(self, frame)
    }
}

fn decode_output_frame<'a>(
    bin: &'static Binary,
    frame: ServerOutputData<'a>,
) -> Result<BinOutput<'a>, String> {
    if let Some(sn) = frame.sn.filter(|&sn| sn > 0) {
        let ret = match (frame.buffer, frame.error) {
            (_, Some(e)) => Err(e),
            (Some(b), None) => Ok(b.0),
            (None, None) => Err(TsrpcError::server("Parse server output error")),
        };
        return Ok(BinOutput::ApiReturn { sn, ret });
    }
    let id = frame.service_id.ok_or("a message without a service id")?;
    let (name, s) = bin
        .by_id(id)
        .ok_or_else(|| format!("unknown service id {id}"))?;
    if s.api {
        return Err(format!("service {id} is an API, not a message"));
    }
    let body = frame.buffer.ok_or("a message without a buffer")?.0;
    Ok(BinOutput::Msg {
        name,
        schema: s.req,
        body,
    })
}

/// The sn of a server frame that cannot be decoded, when it ends as TSRPC writes a return:
/// with its `sn` block (header `35`, a varint from 1 to 2^53) last. `None` otherwise.
pub(crate) fn damaged_reply_sn(bytes: &[u8]) -> Option<u64> {
    // The varint's bytes: the last one ends it, the ones before continue it (at most 8).
    let last = bytes.len().checked_sub(1)?;
    if bytes[last] & 0x80 != 0 {
        return None;
    }
    let mut start = last;
    while start > 0 && bytes[start - 1] & 0x80 != 0 && last - start < 8 {
        start -= 1;
    }
    if start == 0 || bytes[start - 1] != 0x35 {
        return None;
    }
    let sn = bytes[start..=last]
        .iter()
        .rev()
        .fold(0u64, |n, b| (n << 7) | u64::from(b & 0x7f));
    (1..=1 << 53).contains(&sn).then_some(sn)
}

/// `ServerOutputData {error, serviceId?, sn?}`.
pub(crate) fn encode_error(err: &TsrpcError, service_id: Option<u64>, sn: Option<u64>) -> Vec<u8> {
    let frame = ServerOutputData {
        buffer: None,
        error: Some(err.clone()),
        service_id,
        sn,
    };
    transport::encode_output(&frame).unwrap_or_else(|e| {
        // An error whose extra fields cannot be written: its message, type and code alone.
        tracing::warn!("error return not encodable ({e}): sent without its extra fields");
        let mut plain = err.clone();
        plain.extra.clear();
        let frame = ServerOutputData {
            error: Some(plain),
            ..frame
        };
        transport::encode_output(&frame).unwrap_or_default()
    })
}

/// A binary frame from a client, decoded.
#[derive(Debug)]
pub(crate) enum BinInput<'a> {
    Api {
        name: &'static str,
        service: ServiceSchemas,
        body: BinBody<'a>,
        /// `None` over HTTP.
        sn: Option<u64>,
    },
    Msg {
        name: &'static str,
        body: BinBody<'a>,
    },
}

/// A binary frame from a server, decoded.
#[derive(Debug)]
pub(crate) enum BinOutput<'a> {
    ApiReturn {
        sn: u64,
        ret: Result<Cow<'a, [u8]>, TsrpcError>,
    },
    Msg {
        name: &'a str,
        schema: SchemaId,
        body: Cow<'a, [u8]>,
    },
}

/// A binary body: its bytes and the schema they are of.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BinBody<'a> {
    pub(super) bin: &'static Binary,
    pub(super) schema: SchemaId,
    pub(super) bytes: &'a [u8],
}

impl BinBody<'_> {
    /// Decodes the body into `T`. `Err`: TSRPC's generic text (the detail is logged).
    pub(crate) fn decode<T: DeserializeOwned>(&self) -> Result<T, String> {
        self.bin
            .proto
            .decode::<T>(self.schema, self.bytes)
            .map_err(invalid_buffer)
    }

    /// The body as a JSON value (see [`Binary::decode_value`]).
    pub(crate) fn value(&self) -> Result<Value, String> {
        self.bin
            .decode_value(self.schema, self.bytes)
            .map_err(invalid_buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::damaged_reply_sn;

    #[test]
    fn the_sn_of_a_damaged_reply_is_its_last_block() {
        // The Kick return of TSRPC-WIRE a.10, its sn 7 last.
        assert_eq!(
            damaged_reply_sn(&[0x03, 0x28, 0x01, 0x00, 0x31, 0x07, 0x35, 0x07]),
            Some(7)
        );
        assert_eq!(damaged_reply_sn(&[0xff, 0x35, 0xac, 0x02]), Some(300));
        for none in [
            &[][..],
            &[0x35],
            &[0x35, 0x00],
            &[0x31, 0x07],
            &[0x35, 0x80],
            &[0x02, 0x28, 0x01, 0x00, 0x31, 0x03],
        ] {
            assert_eq!(damaged_reply_sn(none), None, "{none:02x?}");
        }
    }
}
