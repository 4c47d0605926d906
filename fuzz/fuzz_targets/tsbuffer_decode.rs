//! The TSBuffer binary decoder on arbitrary bytes: TSRPC's frame wrappers
//! (`ServerInputData`, `ServerOutputData`) and the kitchen-sink service's request, response and
//! message types (tests/kitchen-sink, imported with the `service` attribute).
//!
//! The first byte picks what the rest is decoded as ([`KINDS`]: 0 an input frame, 1 an output
//! frame, then one schema each); a frame's `buffer` is then decoded as the body its service id
//! names. Checked: no panic and no hang (libFuzzer's `-timeout`) on any input, and a round
//! trip wherever a decode succeeds: the value encodes (unless it holds an integer beyond
//! JavaScript's safe range, which the encoder refuses by design), those bytes decode, and the second value
//! encodes to the same bytes and (when comparable: no NaN, no number inside JSON text) equals the
//! first. The codec's deliberate differences from tsbuffer are all refusals or normalisations
//! on decode (see `rpc_runtime::__tsbuffer`'s `decode`), so a value it returns must survive
//! encode -> decode unchanged.
#![no_main]

use std::fmt::Debug;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rpc_runtime::__tsbuffer::transport::{self, ServerInputData, ServerOutputData};
use rpc_runtime::__tsbuffer::{Error, LazyProto, Proto, SchemaId};
use rpc_runtime::json::MAX_SAFE_INTEGER;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The kitchen sink, imported as tests/tests/tsbuffer.rs imports it.
#[rpc_runtime::service(
    tsrpc_proto = "../tests/kitchen-sink/protocols/serviceProto.ts",
    skip_unsupported_optional_fields = true
)]
pub mod kitchen {}

static KITCHEN: LazyProto = LazyProto::new(kitchen::TSRPC_PROTO);

/// Decodes bytes as one schema's Rust type and checks the round trip.
type Check = fn(&Proto, SchemaId, &[u8]);

/// The schemas the first byte selects from `2` on, in this order (`gen_seeds.py` writes its
/// seeds with the same numbering: keep the two lists equal).
const KINDS: [(&str, Check); 19] = {
    use kitchen::*;
    [
        ("MsgChat/MsgChat", check::<MsgChat>),
        ("MsgServerNotice/MsgServerNotice", check::<MsgServerNotice>),
        ("PtlGetProfile/ReqGetProfile", check::<ReqGetProfile>),
        ("PtlGetProfile/ResGetProfile", check::<ResGetProfile>),
        ("PtlLogin/ReqLogin", check::<ReqLogin>),
        ("PtlLogin/ResLogin", check::<ResLogin>),
        (
            "PtlUpdateProfile/ReqUpdateProfile",
            check::<ReqUpdateProfile>,
        ),
        (
            "PtlUpdateProfile/ResUpdateProfile",
            check::<ResUpdateProfile>,
        ),
        (
            "room/MsgPlayerMove/MsgPlayerMove",
            check::<room::MsgPlayerMove>,
        ),
        (
            "room/MsgRoomState/MsgRoomState",
            check::<room::MsgRoomState>,
        ),
        (
            "room/PtlCreateRoom/ReqCreateRoom",
            check::<room::ReqCreateRoom>,
        ),
        (
            "room/PtlCreateRoom/ResCreateRoom",
            check::<room::ResCreateRoom>,
        ),
        ("room/PtlJoinRoom/ReqJoinRoom", check::<room::ReqJoinRoom>),
        ("room/PtlJoinRoom/ResJoinRoom", check::<room::ResJoinRoom>),
        (
            "shop/MsgPriceChanged/MsgPriceChanged",
            check::<shop::MsgPriceChanged>,
        ),
        ("shop/PtlBuy/ReqBuy", check::<shop::ReqBuy>),
        ("shop/PtlBuy/ResBuy", check::<shop::ResBuy>),
        (
            "shop/PtlListItems/ReqListItems",
            check::<shop::ReqListItems>,
        ),
        (
            "shop/PtlListItems/ResListItems",
            check::<shop::ResListItems>,
        ),
    ]
};

/// The proto and each kind's schema id, resolved once per process.
fn kinds() -> &'static (&'static Proto, Vec<(SchemaId, Check)>) {
    static CELL: OnceLock<(&'static Proto, Vec<(SchemaId, Check)>)> = OnceLock::new();
    CELL.get_or_init(|| {
        let proto = KITCHEN.get().expect("the kitchen-sink proto reads");
        let kinds = KINDS
            .iter()
            .map(|&(id, check)| {
                let schema = proto
                    .schema(id)
                    .unwrap_or_else(|| panic!("no schema `{id}`"));
                (schema, check)
            })
            .collect();
        (proto, kinds)
    })
}

/// Whether `v` can be compared with what it becomes after a round trip: it equals itself (a NaN
/// anywhere inside makes it not, and then `==` says nothing), and it holds no number inside JSON
/// text (`any`, `object`, an error's extra fields), which is written as JavaScript writes it and
/// so may come back as another `serde_json::Number` of the same value (`3.0` as `3`, `-0` as
/// `0`). Its bytes are compared either way.
fn comparable<T: PartialEq + Debug>(v: &T) -> bool {
    let same = v;
    v == same && !format!("{v:?}").contains("Number(")
}

/// Whether a frame's service id or sn is one the generic encoder writes: within JavaScript's
/// safe range, which the encoder checks (as for every integer) and the decoder does not.
fn safe(n: Option<u64>) -> bool {
    n.is_none_or(|n| n <= MAX_SAFE_INTEGER)
}

/// Decodes `bytes` as a `T` of `schema`; if that succeeds, asserts the round trip.
fn check<T: Serialize + DeserializeOwned + PartialEq + Debug>(
    proto: &Proto,
    schema: SchemaId,
    bytes: &[u8],
) {
    let Ok(first) = proto.decode::<T>(schema, bytes) else {
        return;
    };
    round_trip(proto, schema, &first);
}

/// An encoding, `None` where the encoder refuses by design: reading does not check JavaScript's
/// safe range (a TypeScript peer cannot write beyond it exactly anyway), writing does. Such a
/// value can also appear after one round trip: a double of 2^53 or more inside JSON text
/// (`any`, error extras) is written as JavaScript writes it, `1111111111111111200`, which reads
/// back as an integer. Any other error fails the run.
fn encoded(r: Result<Vec<u8>, Error>, what: &str, value: &dyn Debug) -> Option<Vec<u8>> {
    match r {
        Ok(bytes) => Some(bytes),
        Err(e) if e.to_string().contains("beyond JavaScript's safe range") => None,
        Err(e) => panic!("{what} does not encode: {e}\n{value:?}"),
    }
}

/// encode -> decode -> encode gives the same bytes, and the same value when comparable.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(
    proto: &Proto,
    schema: SchemaId,
    first: &T,
) {
    let Some(bytes) = encoded(proto.encode(schema, first), "a decoded value", first) else {
        return;
    };
    let second: T = proto
        .decode(schema, &bytes)
        .unwrap_or_else(|e| panic!("our own bytes do not decode: {e}\n{first:?}\n{bytes:02x?}"));
    let Some(again) = encoded(proto.encode(schema, &second), "the second value", &second) else {
        return;
    };
    assert_eq!(bytes, again, "encode -> decode -> encode changed the bytes");
    if comparable(first) {
        assert_eq!(first, &second, "encode -> decode changed the value");
    }
}

/// Decodes a frame's body with the schema its service id names (`req` for a request or a
/// message, `res` for an API's return), when the id is the kitchen sink's.
fn body(service_id: Option<u64>, input: bool, buffer: &[u8]) {
    let (proto, kinds) = kinds();
    let Some((_, service)) = service_id.and_then(|id| proto.service_by_id(id)) else {
        return;
    };
    let schema = match service.res {
        Some(res) if !input => res,
        _ => service.req,
    };
    if let Some(&(_, check)) = kinds.iter().find(|(s, _)| *s == schema) {
        check(proto, schema, buffer);
    }
}

/// A `ServerInputData` frame: decodes, round-trips (through the frame writer the server
/// uses and through the generic encoder), then its body.
fn input_frame(bytes: &[u8]) {
    let Ok(frame) = transport::decode_input(bytes) else {
        return;
    };
    if !safe(Some(frame.service_id)) || !safe(frame.sn) {
        return;
    }
    let mut written = Vec::new();
    transport::write_input(&mut written, frame.service_id, frame.sn, |out| {
        out.extend_from_slice(&frame.buffer.0);
        Ok(())
    })
    .unwrap_or_else(|e| panic!("a decoded input frame does not write: {e}\n{frame:?}"));
    let generic = transport::proto()
        .encode(transport::input_schema(), &frame)
        .unwrap_or_else(|e| panic!("a decoded input frame does not encode: {e}\n{frame:?}"));
    assert_eq!(written, generic, "write_input and the encoder disagree");
    let second: ServerInputData = transport::decode_input(&written)
        .unwrap_or_else(|e| panic!("our own input frame does not decode: {e}\n{frame:?}"));
    assert_eq!(frame, second, "encode -> decode changed the input frame");
    body(Some(frame.service_id), true, &frame.buffer.0);
}

/// A `ServerOutputData` frame: decodes, round-trips, then its body.
fn output_frame(bytes: &[u8]) {
    let Ok(frame) = transport::decode_output(bytes) else {
        return;
    };
    if !safe(frame.service_id) || !safe(frame.sn) {
        return;
    }
    let Some(written) = encoded(
        transport::encode_output(&frame),
        "a decoded output frame",
        &frame,
    ) else {
        return;
    };
    let second: ServerOutputData = transport::decode_output(&written)
        .unwrap_or_else(|e| panic!("our own output frame does not decode: {e}\n{frame:?}"));
    let Some(again) = encoded(
        transport::encode_output(&second),
        "the second output frame",
        &second,
    ) else {
        return;
    };
    assert_eq!(
        written, again,
        "encode -> decode -> encode changed the output frame"
    );
    if comparable(&frame) {
        assert_eq!(frame, second, "encode -> decode changed the output frame");
    }
    if let Some(buffer) = &frame.buffer {
        body(frame.service_id, false, &buffer.0);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    match kind as usize % (KINDS.len() + 2) {
        0 => input_frame(rest),
        1 => output_frame(rest),
        k => {
            let (proto, kinds) = kinds();
            let (schema, check) = kinds[k - 2];
            check(proto, schema, rest);
        }
    }
});
