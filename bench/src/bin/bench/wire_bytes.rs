//! The wire-bytes probe: what a server really sends for W3's `GameFrame`s and W4's `Chat`s, in
//! JSON or binary mode. A raw tokio-tungstenite connection asks for the sub-protocol (`text` or
//! `buffer`), makes the workload's trigger call (`StartPush {n: N}` or `StartFanout {m: M}`, the
//! only connection), and counts the payload bytes of the frames that come back; every message
//! is decoded and checked against the payload BENCHMARKS.md defines, so the bytes counted are
//! those of the right values. Nothing here is hard-coded: the counts come from the server's
//! frames (ours, or TSRPC's node server).

use futures_util::{SinkExt, StreamExt};
use protocols::bench::{MsgChat, MsgGameFrame, PlayerInput, ReqStartFanout, ReqStartPush};
use rpc_bench::wire::{self, Chat, GameFrame};
use rpc_runtime::__tsbuffer::{transport, Proto};
use serde::de::IgnoredAny;
use tokio_tungstenite::tungstenite::Message;

use crate::common::{check, raw_connect_as, within, Res, Sizes, Ws};

/// The bench service's TSRPC proto: the proto lock our server and client use, which equals
/// `bench/node/protocols/serviceProto.json` (test `node_proto_is_the_lock` in rpc-bench).
fn proto() -> Res<Proto> {
    let text = protocols::bench::service_proto()
        .tsrpc_proto
        .ok_or("the bench service has no TSRPC proto")?;
    Proto::parse(text).map_err(|e| format!("bench proto: {e}"))
}

/// `GameFrame(i)` of BENCHMARKS.md.
fn game_frame(i: u64) -> MsgGameFrame {
    MsgGameFrame {
        frame: i,
        inputs: (0..4)
            .map(|p| {
                let (player, x, y) = rpc_bench::game_input(i, p);
                PlayerInput { player, x, y }
            })
            .collect(),
    }
}

/// `Chat(i)` of BENCHMARKS.md.
fn chat(i: u64) -> MsgChat {
    MsgChat {
        name: "bot".into(),
        content: rpc_bench::chat_content(i),
    }
}

/// Sums over the messages of one probe.
#[derive(Debug, Default)]
struct Count {
    msgs: u64,
    /// WebSocket payload bytes.
    payload: u64,
    /// Payload plus the frame header (a server's frames are not masked).
    wire: u64,
    /// The message body alone: JSON `{..}` or the TSBuffer `buffer`.
    body: u64,
}

impl Count {
    fn add(&mut self, payload: usize, body: usize) {
        let header = match payload {
            0..=125 => 2,
            126..=65_535 => 4,
            _ => 10,
        };
        self.msgs += 1;
        self.payload += payload as u64;
        self.wire += (payload + header) as u64;
        self.body += body as u64;
    }
}

/// The next data frame's bytes, and whether it was binary.
async fn next_frame(ws: &mut Ws) -> Res<(Vec<u8>, bool)> {
    loop {
        match within("a frame", ws.next()).await? {
            Some(Ok(Message::Text(t))) => return Ok((t.as_bytes().to_vec(), false)),
            Some(Ok(Message::Binary(b))) => return Ok((b.to_vec(), true)),
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Ok(Message::Close(c))) => return Err(format!("closed by the server: {c:?}")),
            Some(Err(e)) => return Err(format!("read: {e}")),
            None => return Err("connection ended".into()),
        }
    }
}

/// `probe <json|bin> <W3|W4>`: prints `BYTES msgs=.. payload=.. wire=.. body=..` (sums over
/// the workload's `N` frames or `M` chats).
pub(crate) async fn probe(url: &str, json: bool, workload: &str, sizes: Sizes) -> Res<()> {
    let proto = proto()?;
    let mut ws = raw_connect_as(url, if json { "text" } else { "buffer" }).await?;
    let (service, n) = match workload {
        "W3" => ("StartPush", sizes.w3_n),
        "W4" => ("StartFanout", sizes.w4_m),
        other => return Err(format!("no wire probe for {other}")),
    };
    let msg = if workload == "W3" {
        "GameFrame"
    } else {
        "Chat"
    };
    if json {
        let field = if workload == "W3" { "n" } else { "m" };
        ws.send(Message::text(format!(
            "[\"{service}\",{{\"{field}\":{n}}},1]"
        )))
        .await
        .map_err(|e| format!("send: {e}"))?;
    } else {
        let s = proto
            .service(service)
            .ok_or_else(|| format!("no {service} in the proto"))?;
        let mut frame = Vec::new();
        let r = if workload == "W3" {
            transport::write_input(&mut frame, s.id, Some(1), |o| {
                proto.encode_into(s.req, &ReqStartPush { n }, o)
            })
        } else {
            transport::write_input(&mut frame, s.id, Some(1), |o| {
                proto.encode_into(s.req, &ReqStartFanout { m: n }, o)
            })
        };
        r.map_err(|e| format!("encode {service}: {e}"))?;
        ws.send(Message::binary(frame))
            .await
            .map_err(|e| format!("send: {e}"))?;
    }
    let msg_service = proto
        .service(msg)
        .ok_or_else(|| format!("no {msg} in the proto"))?;
    let mut count = Count::default();
    let mut returned = false;
    while count.msgs < n || !returned {
        let (bytes, binary) = next_frame(&mut ws).await?;
        check(binary != json, || {
            format!(
                "a {} frame on a {} connection",
                if binary { "binary" } else { "text" },
                if json { "text" } else { "buffer" }
            )
        })?;
        let k = count.msgs;
        if json {
            let text = std::str::from_utf8(&bytes).map_err(|e| e.to_string())?;
            if wire::is_return(text) {
                wire::decode_ret::<IgnoredAny>(text)?;
                returned = true;
                continue;
            }
            // `["<name>",<body>]`
            let body = bytes.len() - msg.len() - 5;
            if workload == "W3" {
                let (name, f) = wire::decode_msg::<GameFrame>(text)?;
                let want = game_frame(k);
                let same = f.frame == want.frame
                    && f.inputs.len() == 4
                    && f.inputs
                        .iter()
                        .zip(&want.inputs)
                        .all(|(a, b)| a.player == b.player && a.x == b.x && a.y == b.y);
                check(name == msg && same, || format!("GameFrame {k}: got {text}"))?;
            } else {
                let (name, c) = wire::decode_msg::<Chat<'_>>(text)?;
                let want = chat(k);
                check(
                    name == msg && c.name == want.name && c.content == want.content,
                    || format!("Chat {k}: got {text}"),
                )?;
            }
            count.add(bytes.len(), body);
        } else {
            let out = transport::decode_output(&bytes)
                .map_err(|e| format!("bad ServerOutputData {bytes:02x?}: {e}"))?;
            if out.sn.is_some() {
                check(out.error.is_none() && out.buffer.is_some(), || {
                    format!("{service} failed: {out:?}")
                })?;
                returned = true;
                continue;
            }
            check(out.service_id == Some(msg_service.id), || {
                format!("expected {msg}, got {out:?}")
            })?;
            let body = out.buffer.ok_or("a message without a buffer")?.0;
            let same = if workload == "W3" {
                let v: MsgGameFrame = proto
                    .decode(msg_service.req, &body)
                    .map_err(|e| format!("GameFrame {k}: {e}"))?;
                v == game_frame(k)
            } else {
                let v: MsgChat = proto
                    .decode(msg_service.req, &body)
                    .map_err(|e| format!("Chat {k}: {e}"))?;
                v == chat(k)
            };
            check(same, || format!("{msg} {k}: not the expected value"))?;
            count.add(bytes.len(), body.len());
        }
    }
    println!(
        "BYTES msgs={} payload={} wire={} body={}",
        count.msgs, count.payload, count.wire, count.body
    );
    let _ = ws.close(None).await;
    Ok(())
}
