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
use super::wire::{patch_varint, put_varint, reserve_varint, Reader};
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
    match split_input(bytes) {
        Some(frame) => Ok(frame),
        None => proto().decode(input_schema(), bytes),
    }
}

/// Decodes a `ServerOutputData` frame.
pub fn decode_output(bytes: &[u8]) -> Result<ServerOutputData<'_>, Error> {
    match split_output(bytes) {
        Some(frame) => Ok(frame),
        None => proto().decode(output_schema(), bytes),
    }
}

/// The usual `ServerInputData`, read without the schema-driven decoder: its blocks
/// `serviceId`, `buffer` and `sn`, each at most once, in any order, every one in bounds. `None`
/// for anything else (a block given twice, an unknown id, bad input): [`decode_input`] then
/// decodes it the full way, which gives the same value or the error (a test below proves it).
fn split_input(bytes: &[u8]) -> Option<ServerInputData<'_>> {
    let mut r = Reader::new(bytes);
    let (mut id, mut buffer, mut sn) = (None, None, None);
    for _ in 0..r.count("block").ok()? {
        let slot = match r.varint().ok()? {
            0x29 => &mut id,
            0x2c => {
                if buffer.replace(r.bytes().ok()?).is_some() {
                    return None;
                }
                continue;
            }
            0x31 => &mut sn,
            _ => return None,
        };
        if slot.replace(r.varint().ok()?).is_some() {
            return None;
        }
    }
    Some(ServerInputData {
        service_id: id?,
        buffer: RawBytes(Cow::Borrowed(buffer?)),
        sn,
    })
}

/// The usual `ServerOutputData` (a return or a message, without `error`), read as
/// [`split_input`] reads its frame. `None`: decode it the full way.
fn split_output(bytes: &[u8]) -> Option<ServerOutputData<'_>> {
    let mut r = Reader::new(bytes);
    let (mut buffer, mut id, mut sn) = (None, None, None);
    for _ in 0..r.count("block").ok()? {
        let slot = match r.varint().ok()? {
            0x28 => {
                if buffer.replace(r.bytes().ok()?).is_some() {
                    return None;
                }
                continue;
            }
            0x31 => &mut id,
            0x35 => &mut sn,
            _ => return None,
        };
        if slot.replace(r.varint().ok()?).is_some() {
            return None;
        }
    }
    Some(ServerOutputData {
        buffer: buffer.map(|b| RawBytes(Cow::Borrowed(b))),
        error: None,
        service_id: id,
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

    /// Every frame of TSRPC's binary captures (TSRPC-WIRE a.10), cut short at every length,
    /// each byte replaced by a few values, a byte inserted anywhere: whenever the split reads
    /// a frame, the full decode reads the same value.
    #[test]
    fn the_split_agrees_with_the_full_decode() {
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let inputs = [
            "0329082c10022805616c6963652c067365637265743101",
            "0329042c13022a3ff00000000000002e40000000000000003102",
            "0229032c0c022805616c6963652c026869",
            "0329072c1101280e6b69636b65642d62792d746573743107",
        ];
        let outputs = [
            "03280a012a400800000000000031043502",
            "0228130228067365727665722c086563686f3a2068693103",
            "032f03281a4661696c656420776974682061206e756d6572696320636f64652d033301055431053504",
            "0328010031073507",
            "01280a012a4008000000000000",
        ];
        let variants = |frames: &[&str]| {
            let mut all = Vec::new();
            for f in frames {
                let f = hex(f);
                for n in 0..=f.len() {
                    all.push(f[..n].to_vec());
                }
                for i in 0..f.len() {
                    for v in [
                        0x00, 0x01, 0x28, 0x29, 0x2c, 0x2f, 0x31, 0x35, 0x7f, 0x80, 0xff,
                    ] {
                        let mut m = f.clone();
                        m[i] = v;
                        all.push(m.clone());
                        m.insert(i, v);
                        all.push(m);
                    }
                }
            }
            all
        };
        let (mut split_in, mut split_out) = (0, 0);
        for frame in variants(&inputs) {
            if let Some(fast) = split_input(&frame) {
                split_in += 1;
                let full: ServerInputData<'_> = proto().decode(input_schema(), &frame).unwrap();
                assert_eq!(fast, full, "{frame:02x?}");
            }
        }
        for frame in variants(&outputs) {
            if let Some(fast) = split_output(&frame) {
                split_out += 1;
                let full: ServerOutputData<'_> = proto().decode(output_schema(), &frame).unwrap();
                assert_eq!(fast, full, "{frame:02x?}");
            }
        }
        assert!(split_in > 100 && split_out > 100, "{split_in} {split_out}");
        // The usual frames are split; an error return is not.
        assert!(split_input(&hex(inputs[1])).is_some());
        assert!(split_output(&hex(outputs[0])).is_some());
        assert!(split_output(&hex(outputs[2])).is_none());
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
