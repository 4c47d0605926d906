//! `tsbuffer-codec`: the TSBuffer codec against serde_json on the same values, in one process,
//! no sockets: W3's `GameFrame` (`{frame: uint, inputs: {player: uint, x, y}[4]}`) and W4's
//! `Chat` (`{name, content}` with 100 bytes of content), encoded and decoded in a loop.
//!
//! ```text
//! cargo run --release -p rpc-bench --bin tsbuffer-codec [iterations]
//! cargo run --release -p rpc-bench --bin tsbuffer-codec <iterations> <w3|w4>-<bin|json>-<enc|dec>
//! ```
//!
//! The second form runs one loop once (for `perf stat -e instructions:u` or `perf record`:
//! instruction counts do not move with the machine's load).
//!
//! For each message: ns per encode and per decode (best of 5 runs), and bytes, for the body
//! alone and for the whole frame as the server pushes it (JSON text `["GameFrame",{..}]`,
//! binary `ServerOutputData{buffer, serviceId}`).

use std::hint::black_box;
use std::time::Instant;

use protocols::bench::MsgChat;
use rpc_bench::game_frame;
use rpc_runtime::__tsbuffer::{transport, Proto, SchemaId};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The bench service's two pushed messages, as tsrpc-cli writes their schemas (BENCHMARKS.md:
/// `frame` and `player` are `uint`).
const PROTO: &str = r#"{
  "services": [
    {"id": 0, "name": "Chat", "type": "msg"},
    {"id": 1, "name": "GameFrame", "type": "msg"}
  ],
  "types": {
    "MsgChat/MsgChat": {"type": "Interface", "properties": [
      {"id": 0, "name": "name", "type": {"type": "String"}},
      {"id": 1, "name": "content", "type": {"type": "String"}}
    ]},
    "MsgGameFrame/MsgGameFrame": {"type": "Interface", "properties": [
      {"id": 0, "name": "frame", "type": {"type": "Number", "scalarType": "uint"}},
      {"id": 1, "name": "inputs", "type": {"type": "Array", "elementType":
        {"type": "Reference", "target": "MsgGameFrame/PlayerInput"}}}
    ]},
    "MsgGameFrame/PlayerInput": {"type": "Interface", "properties": [
      {"id": 0, "name": "player", "type": {"type": "Number", "scalarType": "uint"}},
      {"id": 1, "name": "x", "type": {"type": "Number"}},
      {"id": 2, "name": "y", "type": {"type": "Number"}}
    ]}
  }
}"#;

fn chat(i: u64) -> MsgChat {
    let mut content = format!("message {i} ");
    while content.len() < 100 {
        content.push('x');
    }
    MsgChat {
        name: "bot".into(),
        content,
    }
}

/// The best of 5 runs of `n` calls of `f`, in ns per call.
fn time(n: u64, mut f: impl FnMut(u64)) -> f64 {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            for i in 0..n {
                f(i);
            }
            t.elapsed().as_nanos() as f64 / n as f64
        })
        .fold(f64::INFINITY, f64::min)
}

struct Row {
    name: &'static str,
    json_enc: f64,
    bin_enc: f64,
    json_dec: f64,
    bin_dec: f64,
    json_bytes: usize,
    bin_bytes: usize,
    json_frame: usize,
    bin_frame: usize,
}

fn measure<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    name: &'static str,
    service: &str,
    proto: &Proto,
    schema: SchemaId,
    n: u64,
    make: impl Fn(u64) -> T,
) -> Row {
    let values: Vec<T> = (0..1024).map(&make).collect();
    let pick = |i: u64| &values[(i % 1024) as usize];
    let mut buf = Vec::with_capacity(256);

    // Both encodings agree on the value.
    let sample = pick(7);
    let json = rpc_runtime::json::to_string(sample).unwrap();
    let bin = proto.encode(schema, sample).unwrap();
    assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), sample);
    assert_eq!(&proto.decode::<T>(schema, &bin).unwrap(), sample);
    let json_frame = format!("[\"{service}\",{json}]").len();
    let id = proto.service(service).unwrap().id;
    let mut frame = Vec::new();
    transport::write_output(&mut frame, Some(id), None, |out| {
        proto.encode_into(schema, sample, out)
    })
    .unwrap();

    let json_enc = time(n, |i| {
        buf.clear();
        rpc_runtime::json::to_writer(&mut buf, black_box(pick(i))).unwrap();
        black_box(&buf);
    });
    let bin_enc = time(n, |i| {
        buf.clear();
        proto
            .encode_into(schema, black_box(pick(i)), &mut buf)
            .unwrap();
        black_box(&buf);
    });
    let jsons: Vec<Vec<u8>> = values
        .iter()
        .map(|v| rpc_runtime::json::to_string(v).unwrap().into_bytes())
        .collect();
    let bins: Vec<Vec<u8>> = values
        .iter()
        .map(|v| proto.encode(schema, v).unwrap())
        .collect();
    let json_dec = time(n, |i| {
        let v: T = serde_json::from_slice(black_box(&jsons[(i % 1024) as usize])).unwrap();
        black_box(v);
    });
    let bin_dec = time(n, |i| {
        let v: T = proto
            .decode(schema, black_box(&bins[(i % 1024) as usize]))
            .unwrap();
        black_box(v);
    });
    Row {
        name,
        json_enc,
        bin_enc,
        json_dec,
        bin_dec,
        json_bytes: json.len(),
        bin_bytes: bin.len(),
        json_frame,
        bin_frame: frame.len(),
    }
}

/// Runs one loop `n` times: `what` is `<w3|w4>-<bin|json>-<enc|dec>`.
fn only(proto: &Proto, n: u64, what: &str) {
    fn run<T: Serialize + DeserializeOwned>(
        proto: &Proto,
        schema: SchemaId,
        n: u64,
        codec: &str,
        make: impl Fn(u64) -> T,
    ) {
        let values: Vec<T> = (0..1024).map(make).collect();
        let mut buf = Vec::with_capacity(256);
        let encoded: Vec<Vec<u8>> = values
            .iter()
            .map(|v| match codec {
                "json-dec" => rpc_runtime::json::to_string(v).unwrap().into_bytes(),
                _ => proto.encode(schema, v).unwrap(),
            })
            .collect();
        for i in 0..n {
            let k = (i % 1024) as usize;
            match codec {
                "bin-enc" => {
                    buf.clear();
                    proto
                        .encode_into(schema, black_box(&values[k]), &mut buf)
                        .unwrap();
                }
                "json-enc" => {
                    buf.clear();
                    rpc_runtime::json::to_writer(&mut buf, black_box(&values[k])).unwrap();
                }
                "bin-dec" => {
                    black_box(proto.decode::<T>(schema, black_box(&encoded[k])).unwrap());
                }
                "json-dec" => {
                    black_box(serde_json::from_slice::<T>(black_box(&encoded[k])).unwrap());
                }
                other => panic!("unknown codec `{other}`"),
            }
            black_box(&buf);
        }
    }
    let (message, codec) = what.split_once('-').expect("<w3|w4>-<bin|json>-<enc|dec>");
    match message {
        "w3" => run(
            proto,
            proto.schema("MsgGameFrame/MsgGameFrame").unwrap(),
            n,
            codec,
            game_frame,
        ),
        "w4" => run(
            proto,
            proto.schema("MsgChat/MsgChat").unwrap(),
            n,
            codec,
            chat,
        ),
        other => panic!("unknown message `{other}`"),
    }
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let proto = Proto::parse(PROTO).unwrap();
    if let Some(what) = std::env::args().nth(2) {
        return only(&proto, n, &what);
    }
    let rows = [
        measure(
            "W3 GameFrame",
            "GameFrame",
            &proto,
            proto.schema("MsgGameFrame/MsgGameFrame").unwrap(),
            n,
            game_frame,
        ),
        measure(
            "W4 Chat",
            "Chat",
            &proto,
            proto.schema("MsgChat/MsgChat").unwrap(),
            n,
            chat,
        ),
    ];
    println!("tsbuffer-codec: {n} iterations, best of 5, ns per message (binary / JSON)");
    println!(
        "{:<14} {:>24} {:>24} {:>18} {:>18}",
        "message", "encode ns", "decode ns", "body bytes", "frame bytes"
    );
    for r in &rows {
        println!(
            "{:<14} {:>8.0} / {:>5.0} = {:.2}x {:>8.0} / {:>5.0} = {:.2}x {:>4} / {:>3} = {:.2}x {:>4} / {:>3} = {:.2}x",
            r.name,
            r.bin_enc,
            r.json_enc,
            r.bin_enc / r.json_enc,
            r.bin_dec,
            r.json_dec,
            r.bin_dec / r.json_dec,
            r.bin_bytes,
            r.json_bytes,
            r.bin_bytes as f64 / r.json_bytes as f64,
            r.bin_frame,
            r.json_frame,
            r.bin_frame as f64 / r.json_frame as f64,
        );
    }
}
