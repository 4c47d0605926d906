//! TSBuffer binary mode against the kitchen-sink corpus (`tests/kitchen-sink`, made by the real
//! tsbuffer 2.2.23): every golden value encodes to the exact bytes tsbuffer wrote and those
//! bytes decode back to the value; the bytes tsbuffer refuses are refused; the malformed bytes
//! it tolerates decode to what it decoded (except a string length that runs past the input,
//! refused on purpose); TSRPC's frame wrappers encode and decode byte for byte.

use std::marker::PhantomData;

use rpc_runtime::__tsbuffer::transport::{self, RawBytes, ServerInputData};
use rpc_runtime::__tsbuffer::{ErrorKind, LazyProto, Proto, SchemaId};
use rpc_runtime::types::{JsMap, JsonValue};
use rpc_runtime::TsrpcError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The kitchen sink, imported (as in `import.rs`).
#[rpc_runtime::service(
    tsrpc_proto = "kitchen-sink/protocols/serviceProto.ts",
    skip_unsupported_optional_fields = true
)]
pub mod kitchen {}

#[path = "tsbuffer/props.rs"]
mod props;

const VECTORS: &str = include_str!("../kitchen-sink/vectors.json");

/// Built once, as a service keeps it.
static KITCHEN: LazyProto = LazyProto::new(kitchen::TSRPC_PROTO);

fn proto() -> &'static Proto {
    KITCHEN.get().unwrap()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// One schema of the corpus with its Rust type.
trait Case {
    /// The bytes of the value whose JSON is `json`.
    fn encode_json(&self, json: &str) -> Result<Vec<u8>, String>;
    /// The JSON (as the runtime writes it) of the value `bytes` decode to.
    fn decode_json(&self, bytes: &[u8]) -> Result<String, rpc_runtime::__tsbuffer::Error>;
}

struct Typed<T>(SchemaId, PhantomData<T>);

impl<T: Serialize + DeserializeOwned> Case for Typed<T> {
    fn encode_json(&self, json: &str) -> Result<Vec<u8>, String> {
        let value: T = serde_json::from_str(json).map_err(|e| format!("from JSON: {e}"))?;
        proto().encode(self.0, &value).map_err(|e| e.to_string())
    }

    fn decode_json(&self, bytes: &[u8]) -> Result<String, rpc_runtime::__tsbuffer::Error> {
        let value: T = proto().decode(self.0, bytes)?;
        Ok(json_text(&value))
    }
}

/// The JSON text of a decoded value as the runtime writes it; where the runtime refuses to
/// (an integer beyond 2^53, which a JavaScript peer would read rounded), as serde_json
/// writes it, which only differs there.
fn json_text<T: Serialize>(value: &T) -> String {
    rpc_runtime::json::to_string(value)
        .or_else(|_| serde_json::to_string(value))
        .unwrap_or_else(|e| format!("<no JSON: {e}>"))
}

fn typed<T: Serialize + DeserializeOwned + 'static>(id: &str) -> Box<dyn Case> {
    let schema = proto()
        .schema(id)
        .unwrap_or_else(|| panic!("no schema `{id}`"));
    Box::new(Typed::<T>(schema, PhantomData))
}

/// The Rust type of each request, response and message schema.
fn case(id: &str) -> Box<dyn Case> {
    use kitchen::*;
    macro_rules! by_id {
        ($($id:literal => $ty:ty,)*) => {
            match id {
                $($id => typed::<$ty>($id),)*
                other => panic!("no Rust type mapped for `{other}`"),
            }
        };
    }
    rpc_tests::kitchen_types!(by_id)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vector<'a> {
    r#type: String,
    name: String,
    #[serde(borrow)]
    json: Option<&'a RawValue>,
    hex: Option<String>,
    hex_from_json: Option<String>,
    #[serde(borrow)]
    decoded_json: Option<&'a RawValue>,
    binary_error: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bad {
    r#type: String,
    name: String,
    hex: String,
    err_msg: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Frame {
    name: String,
    wrapper: String,
    hex: String,
    json_text: String,
    decoded_wrapper: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vectors<'a> {
    #[serde(borrow)]
    vectors: Vec<Vector<'a>>,
    #[serde(borrow)]
    tolerated_binary: Vec<Vector<'a>>,
    invalid_binary: Vec<Bad>,
    frames: Vec<Frame>,
}

fn vectors() -> Vectors<'static> {
    serde_json::from_str(VECTORS).unwrap()
}

#[test]
fn every_golden_vector_encodes_to_tsbuffers_bytes() {
    let vectors = vectors();
    let mut failures = Vec::new();
    let mut checked = 0;
    for v in &vectors.vectors {
        let (Some(json), Some(hex_want)) = (v.json, v.hex_from_json.as_ref().or(v.hex.as_ref()))
        else {
            continue;
        };
        checked += 1;
        match case(&v.r#type).encode_json(json.get()) {
            Ok(bytes) if hex(&bytes) == *hex_want => {}
            Ok(bytes) => failures.push(format!(
                "{} / {}:\n  tsbuffer: {hex_want}\n  ours:     {}",
                v.r#type,
                v.name,
                hex(&bytes)
            )),
            Err(e) => failures.push(format!("{} / {}: {e}", v.r#type, v.name)),
        }
    }
    assert_eq!(checked, 47, "every vector but the bigint one");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_golden_vector_decodes_to_its_value() {
    let vectors = vectors();
    let mut failures = Vec::new();
    let mut checked = 0;
    for v in &vectors.vectors {
        let (Some(json), Some(hex_in)) = (v.json, &v.hex) else {
            continue;
        };
        checked += 1;
        let want = v.decoded_json.unwrap_or(json).get();
        match case(&v.r#type).decode_json(&unhex(hex_in)) {
            Ok(text) if text == want => {}
            Ok(text) => failures.push(format!(
                "{} / {}:\n  tsbuffer: {want}\n  ours:     {text}",
                v.r#type, v.name
            )),
            Err(e) => failures.push(format!("{} / {}: {e}", v.r#type, v.name)),
        }
    }
    assert_eq!(checked, 47);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The one vector without bytes: `bigint` has no binary encoding, and the imported type
/// leaves those fields out.
#[test]
fn the_bigint_vector_has_no_bytes_here_either() {
    let vectors = vectors();
    let v = vectors.vectors.iter().find(|v| v.hex.is_none()).unwrap();
    assert_eq!(
        v.binary_error.as_deref(),
        Some("Scalar type not support : bigint")
    );
    let p =
        Proto::parse(r#"{"types": {"a/B": {"type": "Number", "scalarType": "bigint"}}}"#).unwrap();
    let err = p.encode(p.schema("a/B").unwrap(), &1u64).unwrap_err();
    assert_eq!(err.reason(), v.binary_error.as_deref().unwrap());
}

fn decode_any(ty: &str, bytes: &[u8]) -> Result<String, rpc_runtime::__tsbuffer::Error> {
    match ty {
        "ServerInputData" => transport::decode_input(bytes).map(|f| format!("{f:?}")),
        "ServerOutputData" => transport::decode_output(bytes).map(|f| format!("{f:?}")),
        other => case(other).decode_json(bytes),
    }
}

/// Refusals worded by us: a count or a length checked against the bytes left before
/// anything is read (tsbuffer reads on and runs off the end), and a tuple mask checked
/// against the tuple (tsbuffer fails on `undefined`).
const OUR_WORDS: [(&str, &str); 4] = [
    ("unknown union member id 9", "runs past the input"),
    (
        "array count 5 but one element follows",
        "count 5 but only 1 bytes left",
    ),
    (
        "tuple presence mask selects element 5",
        "selects element 5 of a 3-element tuple",
    ),
    ("block count 2^32", "count 4294967296 but only 2 bytes left"),
];

#[test]
fn what_tsbuffer_refuses_is_refused() {
    let vectors = vectors();
    assert_eq!(vectors.invalid_binary.len(), 15);
    for bad in &vectors.invalid_binary {
        match decode_any(&bad.r#type, &unhex(&bad.hex)) {
            Ok(v) => panic!(
                "{}: accepted ({v}); tsbuffer refuses it: {}",
                bad.name, bad.err_msg
            ),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Decode, "{}", bad.name);
                // tsbuffer's own words, except where we refuse earlier, before reading on.
                match OUR_WORDS
                    .iter()
                    .find(|(name, _)| bad.name.starts_with(name))
                {
                    Some((_, ours)) => assert!(e.reason().contains(ours), "{}: {e}", bad.name),
                    None => assert_eq!(e.reason(), bad.err_msg, "{}", bad.name),
                }
                assert_eq!(
                    e.wire_message(),
                    "Invalid request buffer, please check the version of service proto."
                );
            }
        }
    }
}

/// Where we refuse what tsbuffer reads past the end of (a deliberate difference: see the
/// `decode` module of `rpc_runtime::__tsbuffer`).
const REFUSED_ON_PURPOSE: &str =
    "string length beyond the end: silently truncated (Node Buffer.toString)";

#[test]
fn what_tsbuffer_tolerates_decodes_to_what_it_decoded() {
    let vectors = vectors();
    assert_eq!(vectors.tolerated_binary.len(), 10);
    let mut refused = 0;
    for v in &vectors.tolerated_binary {
        let got = case(&v.r#type).decode_json(&unhex(v.hex.as_deref().unwrap()));
        if v.name == REFUSED_ON_PURPOSE {
            let err = got.unwrap_err();
            assert!(err.reason().contains("runs past the input"), "{err}");
            refused += 1;
            continue;
        }
        let want = v.decoded_json.unwrap().get();
        match got {
            Ok(text) => assert_eq!(text, want, "{}", v.name),
            Err(e) => panic!("{}: refused ({e}); tsbuffer decodes {want}", v.name),
        }
    }
    assert_eq!(refused, 1);
}

/// `TsrpcErrorData` with its extra keys in JavaScript's order (the runtime's `TsrpcError`
/// keeps them in a sorted map).
#[derive(Debug, Serialize, Deserialize)]
struct ErrorData {
    message: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<JsonValue>,
    #[serde(flatten)]
    extra: JsMap<JsonValue>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Output<'a> {
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    buffer: Option<RawBytes<'a>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<ErrorData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sn: Option<u64>,
}

/// `decodedWrapper`'s text for a buffer.
fn shown(b: &[u8]) -> String {
    format!("<{} bytes: {}>", b.len(), hex(b))
}

/// The body inside a frame's JSON-mode text: `[name, body, sn?]`, `[name, {isSucc, res}]`
/// or an HTTP body; with the service name when the text has it.
fn json_body(text: &str) -> (Option<String>, serde_json::Value) {
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    let (name, body) = match v {
        serde_json::Value::Array(mut a) => (a[0].as_str().map(str::to_owned), a.swap_remove(1)),
        other => (None, other),
    };
    match body.get("res") {
        Some(res) => (name, res.clone()),
        None => (name, body),
    }
}

#[test]
fn frames_encode_and_decode_byte_for_byte() {
    let vectors = vectors();
    assert_eq!(vectors.frames.len(), 15);
    let mut inner_checked = 0;
    for f in &vectors.frames {
        let bytes = unhex(&f.hex);
        let w = &f.decoded_wrapper;
        let body = match f.wrapper.as_str() {
            "ServerInputData" => {
                let frame: ServerInputData = transport::decode_input(&bytes).unwrap();
                assert_eq!(
                    Some(frame.service_id),
                    w["serviceId"].as_u64(),
                    "{}",
                    f.name
                );
                assert_eq!(frame.sn, w["sn"].as_u64(), "{}", f.name);
                assert_eq!(shown(&frame.buffer.0), w["buffer"], "{}", f.name);
                let mut again = Vec::new();
                transport::write_input(&mut again, frame.service_id, frame.sn, |out| {
                    out.extend_from_slice(&frame.buffer.0);
                    Ok(())
                })
                .unwrap();
                assert_eq!(hex(&again), f.hex, "{}", f.name);
                let generic = transport::proto()
                    .encode(transport::input_schema(), &frame)
                    .unwrap();
                assert_eq!(hex(&generic), f.hex, "{}", f.name);
                Some((Some(frame.service_id), frame.buffer.0.into_owned(), true))
            }
            _ => {
                let frame: Output = transport::proto()
                    .decode(transport::output_schema(), &bytes)
                    .unwrap();
                assert_eq!(frame.service_id, w["serviceId"].as_u64(), "{}", f.name);
                assert_eq!(frame.sn, w["sn"].as_u64(), "{}", f.name);
                let again = transport::proto()
                    .encode(transport::output_schema(), &frame)
                    .unwrap();
                assert_eq!(hex(&again), f.hex, "{}", f.name);
                if let Some(err) = &frame.error {
                    let ours: serde_json::Value =
                        serde_json::from_str(&rpc_runtime::json::to_string(err).unwrap()).unwrap();
                    assert_eq!(ours, w["error"], "{}", f.name);
                    // The runtime's TsrpcError reads the same frame.
                    let runtime = transport::decode_output(&bytes).unwrap();
                    let e: &TsrpcError = runtime.error.as_ref().unwrap();
                    assert_eq!(serde_json::to_value(e).unwrap(), w["error"], "{}", f.name);
                }
                frame.buffer.map(|b| {
                    assert_eq!(shown(&b.0), w["buffer"], "{}", f.name);
                    let mut direct = Vec::new();
                    transport::write_output(&mut direct, frame.service_id, frame.sn, |out| {
                        out.extend_from_slice(&b.0);
                        Ok(())
                    })
                    .unwrap();
                    assert_eq!(hex(&direct), f.hex, "{}", f.name);
                    (frame.service_id, b.0.into_owned(), false)
                })
            }
        };
        // The body decodes (with the service's schema) to the JSON-mode body.
        let Some((id, inner, input)) = body else {
            continue;
        };
        let (name, want) = json_body(&f.json_text);
        let service = match (id, name) {
            (Some(id), _) => proto().service_by_id(id).map(|(_, s)| s),
            (None, Some(name)) => proto().service(&name),
            (None, None) => None,
        };
        let Some(service) = service else {
            continue;
        };
        let schema = if input || !service.api {
            service.req
        } else {
            service.res.unwrap()
        };
        let id = proto_name(schema);
        let text = case(&id).decode_json(&inner).unwrap();
        let ours: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(ours, want, "{}", f.name);
        inner_checked += 1;
    }
    assert!(inner_checked >= 10, "{inner_checked} bodies checked");
}

/// The schema id of `schema` (the corpus's request, response and message schemas).
fn proto_name(schema: SchemaId) -> String {
    let v: serde_json::Value = serde_json::from_str(kitchen::TSRPC_PROTO).unwrap();
    v["types"]
        .as_object()
        .unwrap()
        .keys()
        .find(|k| proto().schema(k) == Some(schema))
        .cloned()
        .unwrap()
}

#[test]
fn services_resolve_to_their_schemas() {
    let p = proto();
    let login = p.service("Login").unwrap();
    assert_eq!(login.id, 3);
    assert!(login.api);
    assert_eq!(Some(login.req), p.schema("PtlLogin/ReqLogin"));
    assert_eq!(login.res, p.schema("PtlLogin/ResLogin"));
    let (name, msg) = p.service_by_id(6).unwrap();
    assert_eq!(name, "room/RoomState");
    assert_eq!(Some(msg.req), p.schema("room/MsgRoomState/MsgRoomState"));
    assert_eq!(msg.res, None);
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Odd {
    name: String,
    r#type: String,
    hex: Option<String>,
    binary_round_trip: serde_json::Value,
}

/// The deliberate difference on `oddValues`: a date before 1970 comes back as that date
/// (tsbuffer reads the negative varint as a huge positive one: an Invalid Date, `null`).
const PRE_1970: &str = "Date before 1970";

/// tsbuffer's bytes for the corpus's odd values (NaN, -0, uint above 2^53, a lone
/// surrogate, `undefined` in `any[]`, ...) decode to what tsbuffer decoded them to.
#[test]
fn odd_values_decode_as_tsbuffer_decodes_them() {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Odds {
        odd_values: Vec<Odd>,
    }
    let odds: Odds = serde_json::from_str(VECTORS).unwrap();
    assert_eq!(odds.odd_values.len(), 12);
    let mut checked = 0;
    for odd in &odds.odd_values {
        let Some(hex_in) = &odd.hex else { continue };
        let want = odd.binary_round_trip["jsonText"].as_str().unwrap();
        let got = case(&odd.r#type).decode_json(&unhex(hex_in)).unwrap();
        if odd.name == PRE_1970 {
            assert!(want.ends_with(r#""at":null}"#), "{want}");
            assert!(
                got.ends_with(r#""at":"1969-12-31T23:59:59.000Z"}"#),
                "{got}"
            );
        } else {
            assert_eq!(got, want, "{}", odd.name);
        }
        checked += 1;
    }
    assert_eq!(checked, 12);
}

/// The hand-made proto of `import.rs` (ids with gaps, ObjectID, recursion through a newtype,
/// several optional tuple elements, float enums, a union whose member ids are not in order).
#[rpc_runtime::service(tsrpc_proto = "import-fixtures/oddities.json")]
pub mod oddities {}

#[test]
fn the_oddities_round_trip() {
    use oddities::my_room::{GetHttpDataPair, ReqGetHttpData};
    let p = Proto::parse(oddities::TSRPC_PROTO).unwrap();
    let schema = p.service("my-room/GetHTTPData").unwrap().req;
    let text = r#"{"user":{"id":1,"friends":[{"id":2,"friends":[]}],"best":{"id":3,"friends":[]}},"oid":"65a1f0c2e4b0a1b2c3d4e5f6","tree":[[],[[]]],"node":{"next":{"next":{}}},"pair":["a",2],"ratio":1.5,"either":"none","a-b":"x","type":-3,"self":true,"ints":"AQD+/w=="}"#;
    let mut req: ReqGetHttpData = serde_json::from_str(text).unwrap();
    // A literal is never written, and tsbuffer puts every literal property back when it
    // decodes, an optional one included: `half?: 0.5` left out comes back as 0.5.
    assert_eq!(req.half, None);
    let bytes = p.encode(schema, &req).unwrap();
    let back: ReqGetHttpData = p.decode(schema, &bytes).unwrap();
    assert_eq!(back.half, Some(oddities::my_room::GetHttpDataHalf::V0_5));
    req.half = back.half;
    for pair in [
        GetHttpDataPair("a".into(), Some(2), None),
        GetHttpDataPair("b".into(), None, Some(true)),
        GetHttpDataPair("c".into(), None, None),
    ] {
        req.pair = pair;
        let bytes = p.encode(schema, &req).unwrap();
        let back: ReqGetHttpData = p.decode(schema, &bytes).unwrap();
        assert_eq!(back, req);
    }
}
