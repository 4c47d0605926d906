//! TSRPC's binary frames: every binary WebSocket message and HTTP body is one TSBuffer-encoded
//! wrapper (tsrpc-proto's `TransportDataProto`):
//!
//! | wrapper | fields (property id) |
//! | --- | --- |
//! | `ServerInputData` (client -> server) | `serviceId: uint` (0), `buffer: Uint8Array` (1), `sn?: uint` (2) |
//! | `ServerOutputData` (server -> client) | `buffer?: Uint8Array` (0), `error?: TsrpcErrorData` (1), `serviceId?: uint` (2), `sn?: uint` (3) |
//! | `TsrpcErrorData` | `message: string` (0), `type: TsrpcErrorType` (1), `code?: string \| int` (2), any other key: `any` |
//!
//! `buffer` is the request, response or message, encoded on its own. [`write_input`] and
//! [`write_output`] write a frame around a body encoded in place (no copy);
//! [`ServerInputData`] and [`ServerOutputData`] are the frames as serde values.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use super::error::Error;
use super::schema::{Proto, SchemaId};
use super::wire::{patch_varint, put_varint, reserve_varint};
use crate::error::TsrpcError;

/// The wrappers' schemas, as tsrpc-proto 1.4.3 declares them.
const PROTO: &str = r#"{
  "types": {
    "ServerInputData": {"type": "Interface", "properties": [
      {"id": 0, "name": "serviceId", "type": {"type": "Number", "scalarType": "uint"}},
      {"id": 1, "name": "buffer", "type": {"type": "Buffer", "arrayType": "Uint8Array"}},
      {"id": 2, "name": "sn", "type": {"type": "Number", "scalarType": "uint"}, "optional": true}
    ]},
    "ServerOutputData": {"type": "Interface", "properties": [
      {"id": 0, "name": "buffer", "type": {"type": "Buffer", "arrayType": "Uint8Array"}, "optional": true},
      {"id": 1, "name": "error", "type": {"type": "Reference", "target": "TsrpcErrorData"}, "optional": true},
      {"id": 2, "name": "serviceId", "type": {"type": "Number", "scalarType": "uint"}, "optional": true},
      {"id": 3, "name": "sn", "type": {"type": "Number", "scalarType": "uint"}, "optional": true}
    ]},
    "TsrpcErrorData": {"type": "Interface", "properties": [
      {"id": 0, "name": "message", "type": {"type": "String"}},
      {"id": 1, "name": "type", "type": {"type": "Reference", "target": "TsrpcErrorType"}},
      {"id": 2, "name": "code", "type": {"type": "Union", "members": [
        {"id": 0, "type": {"type": "String"}},
        {"id": 1, "type": {"type": "Number", "scalarType": "int"}}
      ]}, "optional": true}
    ], "indexSignature": {"keyType": "String", "type": {"type": "Any"}}},
    "TsrpcErrorType": {"type": "Enum", "members": [
      {"id": 0, "value": "NetworkError"},
      {"id": 1, "value": "ServerError"},
      {"id": 2, "value": "ClientError"},
      {"id": 3, "value": "ApiError"}
    ]}
  }
}"#;

/// The wrappers' proto, read once. (It is a constant of this file, read by a unit test: it
/// cannot fail at run time.)
pub fn proto() -> &'static Proto {
    static PROTO_CELL: OnceLock<Proto> = OnceLock::new();
    PROTO_CELL.get_or_init(|| {
        Proto::parse(PROTO).unwrap_or_else(|e| panic!("the built-in transport proto: {e}"))
    })
}

fn schema(id: &str) -> SchemaId {
    proto()
        .schema(id)
        .unwrap_or_else(|| panic!("the built-in transport proto lacks `{id}`"))
}

/// `ServerInputData`'s schema.
pub fn input_schema() -> SchemaId {
    schema("ServerInputData")
}

/// `ServerOutputData`'s schema.
pub fn output_schema() -> SchemaId {
    schema("ServerOutputData")
}

/// Bytes, borrowed from the input where possible (a `Uint8Array` on the wire).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct RawBytes<'a>(pub Cow<'a, [u8]>);

impl fmt::Debug for RawBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes: ", self.0.len())?;
        for b in self.0.iter() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(">")
    }
}

impl Serialize for RawBytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawBytes<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawBytes<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
                Ok(RawBytes(Cow::Borrowed(v)))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                Ok(RawBytes(Cow::Owned(v.to_vec())))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
                Ok(RawBytes(Cow::Owned(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(RawBytes(Cow::Owned(out)))
            }
        }
        d.deserialize_bytes(V)
    }
}

/// A frame from a client: a call (`sn` set) or a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInputData<'a> {
    pub service_id: u64,
    #[serde(borrow)]
    pub buffer: RawBytes<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sn: Option<u64>,
}

/// A frame from a server: an API return (`buffer` or `error`, with `sn`; over HTTP neither
/// `serviceId` nor `sn`), or a message (`buffer` and `serviceId`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerOutputData<'a> {
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub buffer: Option<RawBytes<'a>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<TsrpcError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sn: Option<u64>,
}

/// Writes a `buffer` block whose body `body` encodes in place.
fn buffer_block(
    out: &mut Vec<u8>,
    header: u8,
    body: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
) -> Result<(), Error> {
    out.push(header);
    let len_at = reserve_varint(out);
    body(out)?;
    let n = out.len() - len_at - 1;
    patch_varint(out, len_at, n as u64);
    Ok(())
}

/// Appends a `ServerInputData` frame: `serviceId`, the body `body` appends (the encoded
/// request or message), and `sn` for a call.
///
/// ```
/// use rpc_runtime::__tsbuffer::transport::write_input;
/// let mut frame = Vec::new();
/// write_input(&mut frame, 5, None, |out| Ok(out.push(0)))?;
/// assert_eq!(frame, [0x02, 0x29, 0x05, 0x2c, 0x01, 0x00]);
/// # Ok::<(), rpc_runtime::__tsbuffer::Error>(())
/// ```
pub fn write_input(
    out: &mut Vec<u8>,
    service_id: u64,
    sn: Option<u64>,
    body: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
) -> Result<(), Error> {
    let start = out.len();
    out.push(if sn.is_some() { 3 } else { 2 });
    out.push(0x29);
    put_varint(out, service_id);
    if let Err(e) = buffer_block(out, 0x2c, body) {
        out.truncate(start);
        return Err(e);
    }
    if let Some(sn) = sn {
        out.push(0x31);
        put_varint(out, sn);
    }
    Ok(())
}

/// Appends a `ServerOutputData` frame carrying a body (a response or a message) that `body`
/// appends, then `serviceId` and `sn` when given.
///
/// ```
/// use rpc_runtime::__tsbuffer::transport::write_output;
/// let mut frame = Vec::new();
/// write_output(&mut frame, Some(7), Some(7), |out| Ok(out.push(0)))?;
/// assert_eq!(frame, [0x03, 0x28, 0x01, 0x00, 0x31, 0x07, 0x35, 0x07]);
/// # Ok::<(), rpc_runtime::__tsbuffer::Error>(())
/// ```
pub fn write_output(
    out: &mut Vec<u8>,
    service_id: Option<u64>,
    sn: Option<u64>,
    body: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
) -> Result<(), Error> {
    let start = out.len();
    out.push(1 + u8::from(service_id.is_some()) + u8::from(sn.is_some()));
    if let Err(e) = buffer_block(out, 0x28, body) {
        out.truncate(start);
        return Err(e);
    }
    if let Some(id) = service_id {
        out.push(0x31);
        put_varint(out, id);
    }
    if let Some(sn) = sn {
        out.push(0x35);
        put_varint(out, sn);
    }
    Ok(())
}

/// Encodes a whole `ServerOutputData` (an error frame, say).
pub fn encode_output(frame: &ServerOutputData<'_>) -> Result<Vec<u8>, Error> {
    proto().encode(output_schema(), frame)
}

/// Decodes a `ServerInputData` frame (its `buffer` borrowed from `bytes`).
pub fn decode_input(bytes: &[u8]) -> Result<ServerInputData<'_>, Error> {
    match fast_input(bytes) {
        Some(frame) => Ok(frame),
        None => proto().decode(input_schema(), bytes),
    }
}

/// Decodes a `ServerOutputData` frame.
pub fn decode_output(bytes: &[u8]) -> Result<ServerOutputData<'_>, Error> {
    match fast_output(bytes) {
        Some(frame) => Ok(frame),
        None => proto().decode(output_schema(), bytes),
    }
}

/// A varint of at most 3 bytes (below 2^21), the rest of the input after it. Read as the
/// schema-driven decoder reads it (which, for a varint ending within 3 bytes, is plain LEB128).
#[inline]
fn small_varint(b: &[u8]) -> Option<(u64, &[u8])> {
    let mut v = 0;
    for (i, &byte) in b.iter().take(3).enumerate() {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Some((v, &b[i + 1..]));
        }
    }
    None
}

/// A `buffer` block's bytes (length, then bytes) and the rest; `None` past the end.
#[inline]
fn small_block(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = small_varint(b)?;
    let len = usize::try_from(len).ok()?;
    (len <= rest.len()).then(|| rest.split_at(len))
}

/// `rest` after a `header` byte and a small varint, when it starts with that header.
#[inline]
fn field(rest: &[u8], header: u8) -> Option<(Option<u64>, &[u8])> {
    match rest.split_first() {
        Some((&h, after)) if h == header => {
            let (v, rest) = small_varint(after)?;
            Some((Some(v), rest))
        }
        _ => Some((None, rest)),
    }
}

/// The frames [`write_input`] writes (TSRPC's encoder writes the same layout): count, then
/// `serviceId`, `buffer` and `sn` in id order, small varints, nothing after. Read without the
/// schema-driven decoder; `None` for anything else, which [`decode_input`] hands to it, so
/// both paths give the same answer for every input (test `the_fast_paths_agree`).
#[inline]
fn fast_input(b: &[u8]) -> Option<ServerInputData<'_>> {
    let (&count, rest) = b.split_first()?;
    let rest = rest.strip_prefix(&[0x29])?;
    let (service_id, rest) = small_varint(rest)?;
    let rest = rest.strip_prefix(&[0x2c])?;
    let (buffer, rest) = small_block(rest)?;
    let (sn, rest) = field(rest, 0x31)?;
    (rest.is_empty() && usize::from(count) == 2 + usize::from(sn.is_some())).then_some(
        ServerInputData {
            service_id,
            buffer: RawBytes(Cow::Borrowed(buffer)),
            sn,
        },
    )
}

/// The frames [`write_output`] writes with a body (responses and messages; TSRPC's encoder
/// writes the same layout): count, `buffer`, then `serviceId` and `sn` when present, small
/// varints, nothing after. `None` for anything else (errors among them), which
/// [`decode_output`] hands to the schema-driven decoder.
#[inline]
fn fast_output(b: &[u8]) -> Option<ServerOutputData<'_>> {
    let (&count, rest) = b.split_first()?;
    let rest = rest.strip_prefix(&[0x28])?;
    let (buffer, rest) = small_block(rest)?;
    let (service_id, rest) = field(rest, 0x31)?;
    let (sn, rest) = field(rest, 0x35)?;
    let fields = 1 + usize::from(service_id.is_some()) + usize::from(sn.is_some());
    (rest.is_empty() && usize::from(count) == fields).then_some(ServerOutputData {
        buffer: Some(RawBytes(Cow::Borrowed(buffer))),
        error: None,
        service_id,
        sn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrappers_round_trip() {
        let frame = ServerInputData {
            service_id: 8,
            buffer: RawBytes(Cow::Borrowed(&[0x01, 0x28, 0x01, b'x'])),
            sn: Some(300),
        };
        let bytes = proto().encode(input_schema(), &frame).unwrap();
        assert_eq!(
            bytes,
            [0x03, 0x29, 0x08, 0x2c, 0x04, 0x01, 0x28, 0x01, b'x', 0x31, 0xac, 0x02]
        );
        let mut direct = Vec::new();
        write_input(&mut direct, 8, Some(300), |out| {
            out.extend_from_slice(&[0x01, 0x28, 0x01, b'x']);
            Ok(())
        })
        .unwrap();
        assert_eq!(direct, bytes);
        let back = decode_input(&bytes).unwrap();
        assert_eq!(back, frame);
        assert!(matches!(back.buffer.0, Cow::Borrowed(_)));
    }

    /// Every input the fast paths read, the schema-driven decoder reads to the same frame:
    /// frames as `write_input` / `write_output` write them (ids, sns and lengths across the
    /// 1-, 2- and 3-byte varints, with and without the optional fields), then every
    /// truncation, every byte of them changed (to a few values), and an extra byte at the end.
    #[test]
    fn the_fast_paths_agree() {
        let mut frames: Vec<(bool, Vec<u8>)> = Vec::new();
        for v in [0u64, 1, 127, 128, 300, 16_383, 16_384, 2_097_151, 2_097_152] {
            for len in [0usize, 1, 5, 127, 128, 300] {
                let body = vec![0xa5u8; len];
                for sn in [None, Some(v)] {
                    let mut f = Vec::new();
                    write_input(&mut f, v, sn, |o| {
                        o.extend_from_slice(&body);
                        Ok(())
                    })
                    .unwrap();
                    frames.push((true, f));
                }
                for (id, sn) in [
                    (None, None),
                    (Some(v), None),
                    (None, Some(v)),
                    (Some(v), Some(1)),
                ] {
                    let mut f = Vec::new();
                    write_output(&mut f, id, sn, |o| {
                        o.extend_from_slice(&body);
                        Ok(())
                    })
                    .unwrap();
                    frames.push((false, f));
                }
            }
        }
        let mut fast_hits = 0;
        let mut check = |input: bool, bytes: &[u8]| {
            if input {
                let general = proto().decode::<ServerInputData<'_>>(input_schema(), bytes);
                if let Some(fast) = fast_input(bytes) {
                    fast_hits += 1;
                    assert_eq!(general.as_ref().ok(), Some(&fast), "{bytes:02x?}");
                }
                assert_eq!(decode_input(bytes).ok(), general.ok(), "{bytes:02x?}");
            } else {
                let general = proto().decode::<ServerOutputData<'_>>(output_schema(), bytes);
                if let Some(fast) = fast_output(bytes) {
                    fast_hits += 1;
                    assert_eq!(general.as_ref().ok(), Some(&fast), "{bytes:02x?}");
                }
                assert_eq!(decode_output(bytes).ok(), general.ok(), "{bytes:02x?}");
            }
        };
        for (input, f) in &frames {
            check(*input, f);
            let mut longer = f.clone();
            longer.push(0);
            check(*input, &longer);
            // Mutations near the front, where the headers, varints and lengths are.
            for i in 0..f.len().min(12) {
                check(*input, &f[..i]);
                for x in [
                    0x00, 0x01, 0x02, 0x03, 0x04, 0x28, 0x29, 0x2c, 0x2f, 0x31, 0x35, 0x7f, 0x80,
                    0xff,
                ] {
                    let mut m = f.clone();
                    m[i] = x;
                    check(*input, &m);
                }
            }
            // ... and at the end (sn / serviceId).
            for i in f.len().saturating_sub(4)..f.len() {
                check(*input, &f[..i]);
                for x in [0x00, 0x31, 0x35, 0x7f, 0x80, 0xff] {
                    let mut m = f.clone();
                    m[i] = x;
                    check(*input, &m);
                }
            }
        }
        // The written frames themselves all take the fast path but those with 4-byte varints.
        assert!(
            fast_hits > frames.len() / 2,
            "{fast_hits} of {}",
            frames.len()
        );
    }

    #[test]
    fn a_failing_body_leaves_the_output_as_it_was() {
        let mut out = vec![9];
        let r = write_output(&mut out, None, Some(1), |out| {
            out.push(1);
            Err(Error::encode("no"))
        });
        assert!(r.is_err());
        assert_eq!(out, [9]);
    }
}
