//! The soak: many connections, each sending messages and receiving their echoes, with
//! broadcasts to all at the same time; nothing may be lost or reordered, and the server's
//! memory must come back to the same level round after round.
//!
//! The server is the chat server in a process of its own (`chat-server`), so its memory can be
//! read from `/proc`. Used by `tests/soak.rs` (a short version, in every CI run) and by the
//! `soak` binary (the full one: `cargo run --release -p rpc-tests --bin soak`).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocols::chat::room::{MsgUserJoin, RoomUser};
use protocols::chat::{self, MsgChat};
use rpc_runtime::client::WsClientOptions;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::task::JoinSet;

/// How big a soak is.
#[derive(Debug, Clone, Copy)]
pub struct SoakConfig {
    /// Connections.
    pub conns: usize,
    /// Messages each connection sends (and gets back echoed).
    pub msgs: usize,
    /// Broadcasts to every connection during the round.
    pub broadcasts: usize,
    /// Rounds (connect, exchange, disconnect); memory is compared between rounds.
    pub rounds: usize,
    /// Longest a round may take.
    pub round_timeout: Duration,
}

/// What one round measured, as counted by the clients: the caller judges it
/// ([`RoundReport::check`]), so a loss shows as a count, not as a round that gave up.
#[derive(Debug, Clone)]
pub struct RoundReport {
    /// Time from the first send to the last message received (or to the round's timeout).
    pub elapsed: Duration,
    /// Echoes received in all.
    pub echoes: usize,
    /// Broadcast deliveries in all.
    pub broadcast_deliveries: usize,
    /// Echoes and broadcasts that arrived out of order or with the wrong content.
    pub out_of_order: usize,
    /// Connections the server closed during the round.
    pub disconnects: usize,
    /// The server's resident memory after the round's connections closed (for information:
    /// it depends on what the allocator keeps for reuse).
    pub server_rss_kib: u64,
    /// The server's live heap after the round's connections closed: what the memory checks
    /// compare.
    pub server_heap: i64,
}

impl RoundReport {
    /// `Err` with what went wrong unless every echo and broadcast arrived once, in order, and
    /// no connection was closed.
    pub fn check(&self, cfg: &SoakConfig) -> Result<(), String> {
        let (want_echoes, want_broadcasts) = (cfg.conns * cfg.msgs, cfg.conns * cfg.broadcasts);
        if self.echoes == want_echoes
            && self.broadcast_deliveries == want_broadcasts
            && self.out_of_order == 0
            && self.disconnects == 0
        {
            return Ok(());
        }
        Err(format!(
            "{}/{want_echoes} echoes, {}/{want_broadcasts} broadcast deliveries, {} out of order, \
             {} connections closed",
            self.echoes, self.broadcast_deliveries, self.out_of_order, self.disconnects
        ))
    }
}

/// The chat server process.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    /// Its address.
    pub addr: SocketAddr,
    /// Its pid.
    pub pid: u32,
}

impl ServerProcess {
    /// Starts `exe` (the `chat-server` binary) on a free port.
    pub async fn start(exe: &Path) -> Result<ServerProcess, String> {
        let mut child = Command::new(exe)
            .arg("0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
        let line = tokio::time::timeout(Duration::from_secs(20), stdout.next_line())
            .await
            .map_err(|_| "no READY line within 20 s")?
            .map_err(|e| e.to_string())?
            .ok_or("the server exited")?;
        // READY ws://127.0.0.1:<port> pid=<pid>
        let mut parts = line.split_whitespace().skip(1);
        let addr = parts
            .next()
            .and_then(|u| u.strip_prefix("ws://"))
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("bad READY line {line:?}"))?;
        let pid = parts
            .next()
            .and_then(|p| p.strip_prefix("pid="))
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| format!("bad READY line {line:?}"))?;
        Ok(ServerProcess {
            child,
            stdin,
            stdout,
            addr,
            pid,
        })
    }

    /// The server's live heap in bytes (allocated and not freed), from its counting allocator.
    pub async fn live_heap(&mut self) -> Result<i64, String> {
        self.stdin
            .write_all(b"heap\n")
            .await
            .map_err(|e| format!("asking the server for its heap: {e}"))?;
        let line = tokio::time::timeout(Duration::from_secs(10), self.stdout.next_line())
            .await
            .map_err(|_| "no HEAP line within 10 s")?
            .map_err(|e| e.to_string())?
            .ok_or("the server exited")?;
        line.strip_prefix("HEAP ")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("bad HEAP line {line:?}"))
    }

    /// Resident memory in KiB; an error when `/proc` cannot tell (a memory check must not
    /// pass on a reading of 0).
    pub fn rss_kib(&self) -> Result<u64, String> {
        let path = format!("/proc/{}/status", self.pid);
        let status = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .filter(|&kib: &u64| kib > 0)
            .ok_or_else(|| format!("{path}: no VmRSS line"))
    }

    /// Stops it.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

#[derive(Default)]
struct Counters {
    echoes: AtomicUsize,
    broadcasts: AtomicUsize,
    errors: AtomicUsize,
    disconnects: AtomicUsize,
}

/// One round against the server at `addr`: the report's counts say what arrived (`Err` only
/// when the round could not be run: a connect or a send failed). The memory fields are 0.
pub async fn round(addr: SocketAddr, cfg: SoakConfig) -> Result<RoundReport, String> {
    let counters = Arc::new(Counters::default());
    // Connect everyone, 64 handshakes at a time.
    let mut clients = Vec::with_capacity(cfg.conns);
    let gate = Arc::new(tokio::sync::Semaphore::new(64));
    let mut set = JoinSet::new();
    for id in 0..cfg.conns {
        let gate = gate.clone();
        let counters = counters.clone();
        set.spawn(async move {
            let _permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
            let client = chat::Client::ws(format!("ws://{addr}"), WsClientOptions::default());
            let next_echo = Arc::new(AtomicUsize::new(0));
            let c = counters.clone();
            client.listen_msg_chat(move |m: MsgChat| {
                let i = next_echo.fetch_add(1, Ordering::SeqCst);
                if m.content != format!("echo: {i}") {
                    c.errors.fetch_add(1, Ordering::SeqCst);
                }
                c.echoes.fetch_add(1, Ordering::SeqCst);
            });
            let next_broadcast = Arc::new(AtomicUsize::new(0));
            let c = counters.clone();
            client.listen_msg_room_user_join(move |m: MsgUserJoin| {
                let i = next_broadcast.fetch_add(1, Ordering::SeqCst);
                if m.room_id != format!("b{i}") {
                    c.errors.fetch_add(1, Ordering::SeqCst);
                }
                c.broadcasts.fetch_add(1, Ordering::SeqCst);
            });
            let c = counters.clone();
            client.flows().post_disconnect.push(move |ev| {
                if !ev.is_manual {
                    c.disconnects.fetch_add(1, Ordering::SeqCst);
                }
                Some(ev)
            });
            client
                .connect()
                .await
                .map_err(|e| format!("connect {id}: {e}"))?;
            Ok::<_, String>((id, client))
        });
    }
    while let Some(r) = set.join_next().await {
        clients.push(r.map_err(|e| e.to_string())??);
    }
    clients.sort_by_key(|(id, _)| *id);
    let clients: Vec<chat::Client> = clients.into_iter().map(|(_, c)| c).collect();

    let start = Instant::now();
    let mut senders = JoinSet::new();
    for (id, client) in clients.iter().enumerate() {
        let client = client.clone();
        let msgs = cfg.msgs;
        senders.spawn(async move {
            for i in 0..msgs {
                let msg = MsgChat {
                    name: id.to_string(),
                    content: i.to_string(),
                };
                client
                    .send_msg_chat(&msg)
                    .await
                    .map_err(|e| format!("send {id}/{i}: {e}"))?;
            }
            Ok::<_, String>(())
        });
    }
    if let Some(first) = clients.first() {
        let driver = first.clone();
        let broadcasts = cfg.broadcasts;
        senders.spawn(async move {
            for i in 0..broadcasts {
                let msg = MsgUserJoin {
                    room_id: format!("b{i}"),
                    user: RoomUser {
                        id: i as f64,
                        name: "soak".into(),
                    },
                    tags: Vec::new(),
                };
                driver
                    .send_msg_room_user_join(&msg)
                    .await
                    .map_err(|e| format!("broadcast {i}: {e}"))?;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Ok(())
        });
    }
    let want_echoes = cfg.conns * cfg.msgs;
    let want_broadcasts = cfg.conns * cfg.broadcasts;
    let done = async {
        while let Some(r) = senders.join_next().await {
            r.map_err(|e| e.to_string())??;
        }
        while counters.echoes.load(Ordering::SeqCst) < want_echoes
            || counters.broadcasts.load(Ordering::SeqCst) < want_broadcasts
        {
            if counters.disconnects.load(Ordering::SeqCst) > 0 {
                break; // counted in the report
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok::<_, String>(())
    };
    // A round that times out reports what arrived by then.
    if let Ok(sent) = tokio::time::timeout(cfg.round_timeout, done).await {
        sent?;
    }
    let elapsed = start.elapsed();
    // Anything extra would show up now.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let report = RoundReport {
        elapsed,
        echoes: counters.echoes.load(Ordering::SeqCst),
        broadcast_deliveries: counters.broadcasts.load(Ordering::SeqCst),
        out_of_order: counters.errors.load(Ordering::SeqCst),
        disconnects: counters.disconnects.load(Ordering::SeqCst),
        server_rss_kib: 0,
        server_heap: 0,
    };
    for c in &clients {
        c.disconnect().await;
    }
    Ok(report)
}

/// Runs every round against a fresh server process; returns the server's memory before the
/// first round (resident KiB, live heap bytes) and one report per round.
pub async fn run(
    server_exe: &Path,
    cfg: SoakConfig,
) -> Result<((u64, i64), Vec<RoundReport>), String> {
    let mut server = ServerProcess::start(server_exe).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let baseline = (server.rss_kib()?, server.live_heap().await?);
    let mut reports = Vec::new();
    for _ in 0..cfg.rounds {
        let mut report = round(server.addr, cfg).await?;
        // Let the server see every close.
        tokio::time::sleep(Duration::from_millis(1000)).await;
        report.server_rss_kib = server.rss_kib()?;
        report.server_heap = server.live_heap().await?;
        reports.push(report);
    }
    server.stop().await;
    Ok((baseline, reports))
}

/// The live heap a later round may hold beyond the first round's: the first round grows what
/// is kept for reuse (the connection table's capacity, compiled schemas); a leak of a byte
/// per message or a KiB per connection of a soak this size exceeds it.
pub const HEAP_SLACK: i64 = 1 << 20;

/// `Err` unless every round after the first left the server's live heap within
/// [`HEAP_SLACK`] of the first's.
pub fn check_memory(reports: &[RoundReport]) -> Result<(), String> {
    let Some(first) = reports.first() else {
        return Err("no round ran".into());
    };
    for (i, r) in reports.iter().enumerate().skip(1) {
        if r.server_heap > first.server_heap + HEAP_SLACK {
            return Err(format!(
                "the server's live heap grew from {} B after round 1 to {} B after round {}",
                first.server_heap,
                r.server_heap,
                i + 1
            ));
        }
    }
    Ok(())
}
