//! The raw baseline server: plain tokio + tokio-tungstenite speaking the TSRPC JSON wire for the
//! bench service, tuned as BENCHMARKS.md requires (8 KiB read buffer, TCP_NODELAY, a
//! broadcast encoded once, one write per wake-up per connection, a 256-slot send queue, a listen
//! backlog of 1024).
//! `raw-server <port>` prints `READY ws://127.0.0.1:<port> pid=<pid>`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use rpc_bench::wire::ReqAdd;
use rpc_bench::{chat_content, game_frame_json, port_arg, push_js_number, wait_for_end};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

#[derive(Default)]
struct Shared {
    conns: Mutex<HashMap<u64, mpsc::Sender<Message>>>,
    next_id: AtomicU64,
}

#[derive(Deserialize)]
struct ReqN {
    #[serde(alias = "m")]
    n: u64,
}

#[tokio::main]
async fn main() {
    let addr = SocketAddr::from(([127, 0, 0, 1], port_arg()));
    let listener = match listen(addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("raw-server: cannot bind {addr}: {e}");
            std::process::exit(2);
        }
    };
    let local = listener.local_addr().unwrap_or(addr);
    let shared = Arc::new(Shared::default());
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(serve(shared.clone(), stream));
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            }
        }
    });
    println!("READY ws://{local} pid={}", std::process::id());
    wait_for_end().await;
}

/// The listen backlog: `TcpListener::bind` (mio) takes 128, the standard library's value, and
/// a burst of more connects than that overflows the accept queue: the kernel drops the SYNs
/// past it and the clients resend them after 1 s (W7, 256 handshakes in flight: ~445 of 19,000
/// dropped, `nstat TcpExtListenOverflows`). TSRPC's node server listens with 511.
const BACKLOG: u32 = 1024;

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

async fn serve(shared: Arc<Shared>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut config = WebSocketConfig::default();
    config.read_buffer_size = 8 * 1024;
    #[allow(clippy::result_large_err)] // the callback type is tungstenite's
    let callback = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        if let Some(p) = req.headers().get("sec-websocket-protocol") {
            let first = p
                .to_str()
                .unwrap_or("")
                .split(',')
                .next()
                .unwrap_or("")
                .trim();
            if let Ok(v) = HeaderValue::from_str(first) {
                resp.headers_mut().insert("sec-websocket-protocol", v);
            }
        }
        Ok(resp)
    };
    let Ok(ws) =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config)).await
    else {
        return;
    };
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = mpsc::channel::<Message>(256);
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    shared
        .conns
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, tx.clone());
    // The writer: everything queued per wake-up, one flush.
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            if sink.feed(first).await.is_err() {
                return;
            }
            while let Ok(m) = rx.try_recv() {
                if sink.feed(m).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    while let Some(Ok(msg)) = source.next().await {
        match msg {
            Message::Text(text) if !on_text(&shared, &tx, text.as_str()).await => break,
            Message::Binary(b) if b.as_ref() == [0] => {
                let _ = tx.send(Message::binary(vec![0u8])).await;
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    shared
        .conns
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id);
}

fn ret_frame(name: &str, res: &str, sn: u64) -> Message {
    Message::text(format!(
        "[\"{name}\",{{\"isSucc\":true,\"res\":{res}}},{sn}]"
    ))
}

/// Handles one client frame; false ends the connection.
async fn on_text(shared: &Arc<Shared>, tx: &mpsc::Sender<Message>, text: &str) -> bool {
    let Ok((name, body, sn)) = serde_json::from_str::<(Cow<'_, str>, &RawValue, u64)>(text) else {
        return false;
    };
    match &*name {
        "Add" => {
            let Ok(req) = serde_json::from_str::<ReqAdd>(body.get()) else {
                return false;
            };
            let mut res = String::with_capacity(16);
            res.push_str("{\"c\":");
            push_js_number(&mut res, req.a + req.b);
            res.push('}');
            tx.send(ret_frame("Add", &res, sn)).await.is_ok()
        }
        "StartPush" => {
            let Ok(req) = serde_json::from_str::<ReqN>(body.get()) else {
                return false;
            };
            if tx.send(ret_frame("StartPush", "{}", sn)).await.is_err() {
                return false;
            }
            let tx = tx.clone();
            tokio::spawn(async move {
                for i in 0..req.n {
                    let mut s = String::with_capacity(160);
                    s.push_str("[\"GameFrame\",");
                    game_frame_json(&mut s, i);
                    s.push(']');
                    if tx.send(Message::text(s)).await.is_err() {
                        return;
                    }
                }
            });
            true
        }
        "StartFanout" => {
            let Ok(req) = serde_json::from_str::<ReqN>(body.get()) else {
                return false;
            };
            if tx.send(ret_frame("StartFanout", "{}", sn)).await.is_err() {
                return false;
            }
            let shared = shared.clone();
            tokio::spawn(async move {
                for i in 0..req.n {
                    // Encoded once; every connection gets a reference-counted clone.
                    let msg = Message::text(format!(
                        "[\"Chat\",{{\"name\":\"bot\",\"content\":\"{}\"}}]",
                        chat_content(i)
                    ));
                    let conns = shared.conns.lock().unwrap_or_else(|e| e.into_inner());
                    for c in conns.values() {
                        let _ = c.try_send(msg.clone());
                    }
                }
            });
            true
        }
        _ => false,
    }
}
