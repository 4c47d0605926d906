//! Entry points for fuzzing the whole input path of a server, without a socket: bytes go in
//! through an in-memory pipe exactly as a peer's bytes would (WebSocket frames -> envelope ->
//! name -> typed decode -> dispatch -> handler -> reply, or an HTTP request), and the server's
//! answer comes back as bytes.
//!
//! Used by the cargo-fuzz targets in `fuzz/` and the property tests in `tests/`. Not public API:
//! it may change at any time.
//!
//! Every call runs on one current-thread runtime made once per process, with calls serialized.
//! A call panics when the server panicked anywhere while it ran (also in a spawned task, whose
//! panic tokio would otherwise swallow) or did not finish within [`DEADLINE`]: both are bugs.

use std::cell::Cell;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

use crate::server::{Server, ServerHandle};

/// The longest a call may take before it counts as a hang.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// The peer address the server sees.
const REMOTE: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 1);

/// Bytes buffered in each direction of the in-memory pipe.
const PIPE: usize = 64 * 1024;

/// How many times the client side yields to the server after writing its input and before
/// closing its side, so that calls are answered (more while calls are pending).
const SETTLE_YIELDS: usize = 32;
const SETTLE_PENDING_YIELDS: usize = 256;

static PANICS: AtomicUsize = AtomicUsize::new(0);
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);
static SERIAL: Mutex<()> = Mutex::new(());

thread_local! {
    static IN_CALL: Cell<bool> = const { Cell::new(false) };
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The runtime of every call, and the panic hook that counts panics raised during a call.
fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_CALL.with(Cell::get) {
                PANICS.fetch_add(1, Ordering::SeqCst);
                *lock(&LAST_PANIC) = Some(info.to_string());
            }
            previous(info);
        }));
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap_or_else(|e| panic!("cannot build the fuzz runtime: {e}"))
    })
}

/// Clears `IN_CALL` however the call ends.
struct InCall;

impl InCall {
    fn enter() -> Self {
        IN_CALL.with(|c| c.set(true));
        InCall
    }
}

impl Drop for InCall {
    fn drop(&mut self) {
        IN_CALL.with(|c| c.set(false));
    }
}

/// Runs `f` to completion (bounded by [`DEADLINE`]); panics if the server panicked or hung.
fn run<F: Future>(f: F) -> F::Output {
    let _serial = lock(&SERIAL);
    let rt = runtime();
    let before = PANICS.load(Ordering::SeqCst);
    let out = {
        let _in = InCall::enter();
        rt.block_on(async { tokio::time::timeout(DEADLINE, f).await })
    };
    if PANICS.load(Ordering::SeqCst) != before {
        let what = lock(&LAST_PANIC).take().unwrap_or_default();
        panic!("the server panicked while serving fuzz input: {what}");
    }
    match out {
        Ok(v) => v,
        Err(_) => panic!("the server did not finish serving fuzz input within {DEADLINE:?}"),
    }
}

/// A server under test: built from a not-started [`Server`], never bound to a socket. Each
/// call is one fresh connection.
#[derive(Debug, Clone)]
pub struct FuzzServer {
    handle: ServerHandle,
}

impl FuzzServer {
    /// Takes the server as [`Server::start`] would, without binding anything.
    pub fn new(server: Server) -> Self {
        FuzzServer {
            handle: ServerHandle {
                core: server.into_core(),
            },
        }
    }

    /// The server's handle (connections, pending calls).
    pub fn handle(&self) -> &ServerHandle {
        &self.handle
    }

    /// Opens a WebSocket connection (past the handshake), writes `input` as the raw bytes a
    /// client sends (frames must be masked to be read), closes the client's side, and returns
    /// the frames the server sent.
    pub fn ws_frames(&self, input: &[u8]) -> WsExchange {
        let core = self.handle.core.clone();
        let input = input.to_vec();
        let raw = run(async move {
            let (client, server) = tokio::io::duplex(PIPE);
            // The first frame decides the data type.
            let opened = crate::server::ws::Opened::new(&core, REMOTE, None, 0);
            let serve = tokio::spawn(crate::server::ws::serve(
                core.clone(),
                opened,
                server,
                Vec::new(),
            ));
            let out = exchange(&self.handle, client, &input).await;
            let _ = serve.await;
            out
        });
        WsExchange::parse(&raw)
    }

    /// [`ws_frames`](Self::ws_frames) with `text` as the payload of one valid masked text
    /// frame (`text` need not be UTF-8).
    pub fn ws_text(&self, text: &[u8]) -> WsExchange {
        self.ws_frames(&masked_frame(OP_TEXT, text))
    }

    /// [`ws_frames`](Self::ws_frames) with each of `texts` in a valid masked text frame, in
    /// order, on one connection.
    pub fn ws_texts<T: AsRef<[u8]>>(&self, texts: &[T]) -> WsExchange {
        let input: Vec<u8> = texts
            .iter()
            .flat_map(|t| masked_frame(OP_TEXT, t.as_ref()))
            .collect();
        self.ws_frames(&input)
    }

    /// Serves one HTTP connection (WebSocket upgrades allowed) on which `input` is the raw
    /// bytes the client sends, then closes the client's side; returns the raw bytes the server
    /// answered.
    pub fn http_request(&self, input: &[u8]) -> Vec<u8> {
        let core = self.handle.core.clone();
        let input = input.to_vec();
        run(async move {
            let (client, server) = tokio::io::duplex(PIPE);
            let serve = tokio::spawn(crate::server::http::serve_conn(core, server, REMOTE, true));
            let out = exchange(&self.handle, client, &input).await;
            let _ = serve.await;
            out
        })
    }
}

/// Writes `input`, lets the server work, closes the client's write side, and reads until the
/// server closes its side.
async fn exchange(handle: &ServerHandle, client: tokio::io::DuplexStream, input: &[u8]) -> Vec<u8> {
    let (mut rd, mut wr) = tokio::io::split(client);
    let read = async {
        let mut out = Vec::new();
        let _ = rd.read_to_end(&mut out).await;
        out
    };
    let write = async {
        // The server may close first: then the rest of the input is not read.
        let _ = wr.write_all(input).await;
        let _ = wr.flush().await;
        settle(handle).await;
        let _ = wr.shutdown().await;
    };
    let (out, ()) = tokio::join!(read, write);
    out
}

/// Yields to the server's tasks so that what the input asked for gets done.
async fn settle(handle: &ServerHandle) {
    for _ in 0..SETTLE_YIELDS {
        tokio::task::yield_now().await;
    }
    for _ in 0..SETTLE_PENDING_YIELDS {
        if handle.pending_calls() == 0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    for _ in 0..SETTLE_YIELDS / 4 {
        tokio::task::yield_now().await;
    }
}

/// WebSocket opcode of a text frame.
pub const OP_TEXT: u8 = 0x1;
/// WebSocket opcode of a binary frame.
pub const OP_BINARY: u8 = 0x2;
/// WebSocket opcode of a close frame.
pub const OP_CLOSE: u8 = 0x8;
/// WebSocket opcode of a ping frame.
pub const OP_PING: u8 = 0x9;
/// WebSocket opcode of a pong frame.
pub const OP_PONG: u8 = 0xA;

/// One final frame with `opcode` and `payload`, masked as a client must send it.
pub fn masked_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    crate::ws_util::masked_client_frame(true, opcode, payload)
}

/// A frame the server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsFrame {
    /// The FIN bit.
    pub fin: bool,
    /// The opcode (see [`OP_TEXT`] and the others).
    pub opcode: u8,
    /// The payload (unmasked).
    pub payload: Vec<u8>,
}

/// What the server sent on one WebSocket connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WsExchange {
    /// The frames, in order.
    pub frames: Vec<WsFrame>,
    /// Bytes after the last whole frame (none from a correct server).
    pub trailing: Vec<u8>,
}

impl WsExchange {
    fn parse(mut raw: &[u8]) -> Self {
        let mut frames = Vec::new();
        while let Some((frame, rest)) = parse_frame(raw) {
            frames.push(frame);
            raw = rest;
        }
        WsExchange {
            frames,
            trailing: raw.to_vec(),
        }
    }

    /// The text frames, as text.
    pub fn texts(&self) -> Vec<String> {
        self.frames
            .iter()
            .filter(|f| f.opcode == OP_TEXT)
            .map(|f| String::from_utf8_lossy(&f.payload).into_owned())
            .collect()
    }

    /// The close frame's code and reason, if the server sent one.
    pub fn close(&self) -> Option<(u16, String)> {
        let f = self.frames.iter().find(|f| f.opcode == OP_CLOSE)?;
        match f.payload.as_slice() {
            [] => Some((1005, String::new())),
            [a, b, reason @ ..] => Some((
                u16::from_be_bytes([*a, *b]),
                String::from_utf8_lossy(reason).into_owned(),
            )),
            [_] => Some((1002, String::new())),
        }
    }
}

/// An unmasked (server) frame from the front of `raw`, and what follows it.
fn parse_frame(raw: &[u8]) -> Option<(WsFrame, &[u8])> {
    let [b0, b1, rest @ ..] = raw else {
        return None;
    };
    let (len, rest) = match b1 & 0x7f {
        126 => {
            let (l, r) = rest.split_first_chunk::<2>()?;
            (u64::from(u16::from_be_bytes(*l)), r)
        }
        127 => {
            let (l, r) = rest.split_first_chunk::<8>()?;
            (u64::from_be_bytes(*l), r)
        }
        n => (u64::from(n), rest),
    };
    let (mask, rest) = if b1 & 0x80 != 0 {
        let (m, r) = rest.split_first_chunk::<4>()?;
        (Some(*m), r)
    } else {
        (None, rest)
    };
    let len = usize::try_from(len).ok().filter(|l| *l <= rest.len())?;
    let (payload, rest) = rest.split_at(len);
    let payload = match mask {
        Some(m) => payload
            .iter()
            .zip(m.iter().cycle())
            .map(|(b, k)| b ^ k)
            .collect(),
        None => payload.to_vec(),
    };
    let frame = WsFrame {
        fin: b0 & 0x80 != 0,
        opcode: b0 & 0x0f,
        payload,
    };
    Some((frame, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        for len in [0usize, 5, 125, 126, 300, 70_000] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let raw = masked_frame(OP_BINARY, &payload);
            let (f, rest) = parse_frame(&raw).unwrap();
            assert!(rest.is_empty());
            assert!(f.fin);
            assert_eq!(f.opcode, OP_BINARY);
            assert_eq!(f.payload, payload);
        }
        assert!(parse_frame(&[0x81, 5, b'a']).is_none());
    }
}
