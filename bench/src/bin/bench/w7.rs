//! W7 `many-conns` (BENCHMARKS.md): 19,000 idle WebSocket connections to one server process,
//! its RSS per connection at 1k, 5k, 10k and 19k, the time to establish them, then one
//! broadcast (`StartFanout {m: 1}` on one connection) and the time until every connection got
//! its `Chat`.
//!
//! The hard descriptor limit (20,000 here) binds each process, so the server gets its own
//! (pinned to CPU 0) and the client side is spread over `w7_procs` processes
//! (`bench w7-client ...`, all pinned to CPU 1), each on 16 loopback source addresses of its
//! own (`127.<base>.<session>.<16k + 1 + j % 16>`, `base` from the clock: see
//! [`loopback_base`]), so no address runs short of ephemeral ports, TIME_WAIT of earlier
//! sessions and runs included. The orchestrator drives them over stdin/stdout:
//!
//! - `OPEN n`: open `n` more connections (64 handshakes in flight), answer `OPENED <total>`;
//! - `WAIT`: answer `GOT <unix ns of the last Chat> <count> <CPU ns spent>` once every
//!   connection of the process got its `Chat`;
//! - `FIRE` (to the first process only): send the trigger on its first connection, answer
//!   `SENT <unix ns>`, then as `WAIT`.
//!
//! Timestamps cross processes, so they are the system clock's (one clock on one machine). The
//! connections are raw tokio-tungstenite ones with the `text` sub-protocol (8 KiB read buffer),
//! the same client for every server.

use std::io::{BufRead, BufReader, Write as _};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{ChildStdin, ChildStdout, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use rpc_bench::procfs;
use rpc_bench::wire::{self, Chat};
use serde::de::IgnoredAny;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::common::{check, loopback_base, raw_connect_from, within, ws_addr, Res, Sizes};
use crate::{command, start_server_env, Contender, Opts, Proc, ServerKind};

// ---------------------------------------------------------------- the client process

/// What the connections of one client process share.
#[derive(Default)]
struct State {
    /// Connections that got their `Chat`.
    got: AtomicUsize,
    /// Unix ns of the latest `Chat`.
    last_ns: AtomicU64,
    /// The first failure of any connection.
    failed: Mutex<Option<String>>,
    /// Signalled when a `Chat` or a failure arrives.
    changed: Notify,
    /// Signalled by `FIRE`: the first connection sends the trigger.
    fire: Notify,
}

impl State {
    fn fail(&self, e: String) {
        self.failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(e);
        self.changed.notify_one();
    }
    fn failure(&self) -> Option<String> {
        self.failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// One idle connection: waits for the broadcast's `Chat` (and, on the trigger connection, for
/// `FIRE`). Any other end is a failure.
async fn conn_task(mut ws: WebSocketStream<TcpStream>, state: Arc<State>, trigger: bool) {
    let run = async {
        let mut seen = false;
        loop {
            tokio::select! {
                _ = state.fire.notified(), if trigger => {
                    ws.send(Message::text("[\"StartFanout\",{\"m\":1},1]"))
                        .await
                        .map_err(|e| format!("send the trigger: {e}"))?;
                }
                m = ws.next() => {
                    let text = match m {
                        Some(Ok(Message::Text(t))) => t,
                        Some(Ok(Message::Close(f))) => {
                            return Err(format!("closed by the server: {f:?}"))
                        }
                        Some(Ok(_)) => continue,
                        Some(Err(e)) => return Err(e.to_string()),
                        None => return Err("a connection ended".to_owned()),
                    };
                    if wire::is_return(&text) {
                        wire::decode_ret::<IgnoredAny>(&text)?;
                        continue;
                    }
                    let (name, chat) = wire::decode_msg::<Chat<'_>>(&text)?;
                    check(
                        name == "Chat" && chat.name == "bot" && chat.content.len() == 100 && !seen,
                        || format!("unexpected message {text}"),
                    )?;
                    seen = true;
                    state.last_ns.fetch_max(now_ns(), Ordering::AcqRel);
                    state.got.fetch_add(1, Ordering::AcqRel);
                    state.changed.notify_one();
                }
            }
        }
    };
    let r: Res<()> = run.await;
    if let Err(e) = r {
        state.fail(e);
    }
}

/// Until all `total` connections got their `Chat`: `GOT <last ns> <count> <CPU ns>`, the CPU
/// time this process spent since `cpu0`.
async fn wait_all(state: &State, total: usize, cpu0: u64) -> Res<String> {
    let deadline = Instant::now() + crate::common::WAIT;
    loop {
        if let Some(e) = state.failure() {
            return Err(e);
        }
        let got = state.got.load(Ordering::Acquire);
        if got >= total {
            let cpu = procfs::cpu_ns(std::process::id()).unwrap_or(0);
            return Ok(format!(
                "GOT {} {got} {}",
                state.last_ns.load(Ordering::Acquire),
                cpu.saturating_sub(cpu0)
            ));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left, state.changed.notified())
            .await
            .is_err()
        {
            return Err(format!(
                "timed out: {got} of {total} connections got the Chat"
            ));
        }
    }
}

/// Loopback source addresses per client process: its connections take turns on `src`,
/// `src + 1`, .. (the last octet).
const ADDRS: usize = 16;

/// `w7-client <url> <source address>`: the commands above on stdin, answers on stdout.
pub(crate) fn client_main(args: &[String]) -> i32 {
    let [url, src] = args else {
        eprintln!("usage: bench w7-client <url> <source address>");
        return 2;
    };
    let Ok(src) = src.parse::<Ipv4Addr>() else {
        eprintln!("bad source address {src}");
        return 2;
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            println!("FAILED runtime: {e}");
            return 1;
        }
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let run = async {
        let server = ws_addr(url)?;
        let state = Arc::new(State::default());
        let mut total = 0usize;
        while let Some(line) = rx.recv().await {
            let mut words = line.split_whitespace();
            match (words.next(), words.next().map(str::parse::<usize>)) {
                (Some("OPEN"), Some(Ok(n))) => {
                    let mut opened = futures_util::stream::iter(0..n)
                        .map(|i| {
                            let o = src.octets();
                            let src = Ipv4Addr::new(o[0], o[1], o[2], o[3] + (i % ADDRS) as u8);
                            within("a connection", raw_connect_from(url, server, src))
                        })
                        .buffer_unordered(64);
                    while let Some(ws) = opened.next().await {
                        let ws = ws??;
                        tokio::spawn(conn_task(ws, state.clone(), total == 0));
                        total += 1;
                    }
                    if let Some(e) = state.failure() {
                        return Err(e);
                    }
                    println!("OPENED {total}");
                }
                (Some("WAIT"), None) => {
                    let cpu0 = procfs::cpu_ns(std::process::id()).unwrap_or(0);
                    println!("{}", wait_all(&state, total, cpu0).await?);
                }
                (Some("FIRE"), None) => {
                    let cpu0 = procfs::cpu_ns(std::process::id()).unwrap_or(0);
                    let t0 = now_ns();
                    state.fire.notify_one();
                    println!("SENT {t0}");
                    println!("{}", wait_all(&state, total, cpu0).await?);
                }
                _ => return Err(format!("unknown command {line:?}")),
            }
        }
        Res::Ok(())
    };
    match rt.block_on(run) {
        Ok(()) => 0,
        Err(e) => {
            println!("FAILED {e}");
            1
        }
    }
}

// ---------------------------------------------------------------- the orchestrator

/// One W7 session against one server.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    key: &'static str,
    title: &'static str,
    run: usize,
    result: Result<Figures, String>,
}

#[derive(Debug, Clone)]
struct Figures {
    rss_idle: u64,
    /// (connections, VmRSS KiB, seconds the step's opening took) after each step.
    steps: Vec<(usize, u64, f64)>,
    /// Seconds spent opening connections (the steps' opening phases, not the settling waits).
    establish_s: f64,
    /// Server CPU µs per connection while they were opened (schedstat).
    srv_us_per_conn: f64,
    /// Connects the kernel dropped while they were opened, the server's accept queue full
    /// (machine-wide `ListenOverflows`; nothing else here listens under load).
    syn_drops: u64,
    /// From the trigger to the last connection's `Chat`.
    broadcast_ms: f64,
    /// Server CPU µs per delivery over the broadcast.
    srv_us_per_delivery: f64,
    /// The client processes' CPU µs per delivery over the broadcast (all on one core: with
    /// 19,000 wake-ups they, not the server, may set the broadcast's time).
    cli_us_per_delivery: f64,
}

impl Figures {
    fn kib_per_conn(&self, i: usize) -> f64 {
        let (n, rss, _) = self.steps[i];
        (rss as f64 - self.rss_idle as f64) / n as f64
    }
    /// Connections per second of each step's opening phase, `a/b/c/d`.
    fn step_rates(&self) -> String {
        let mut prev = 0;
        let rates: Vec<String> = self
            .steps
            .iter()
            .map(|&(n, _, secs)| {
                let r = (n - prev) as f64 / secs.max(1e-9);
                prev = n;
                format!("{r:.0}")
            })
            .collect();
        rates.join("/")
    }
}

/// Connections the server may hold beyond its default `max_connections` (10,000): above the
/// descriptor limit, so that limit is the one that binds. Printed with the table.
pub(crate) const OUR_MAX_CONNECTIONS: usize = 20_000;

/// W7 against the server of each contender (once per server; TSRPC's binary-only server is
/// left out: the connections speak JSON), `o.runs` times, the servers taking turns.
pub(crate) fn run(o: &Opts) -> Vec<Row> {
    let mut servers: Vec<&Contender> = Vec::new();
    for c in &o.contenders {
        if c.server != ServerKind::NodeBin && !servers.iter().any(|s| s.server == c.server) {
            servers.push(c);
        }
    }
    let mut rows = Vec::new();
    let mut session = 0;
    let base = loopback_base();
    for run in 1..=o.runs {
        for c in &servers {
            session += 1;
            eprint!("W7 {:<10} run {run}/{}  ", c.key, o.runs);
            let _ = std::io::stderr().flush();
            let t = Instant::now();
            let result = one(c.server, o, base, session % 250);
            match &result {
                Ok(f) => eprintln!(
                    "{:.2} KiB/conn at {}, established in {:.2} s (conn/s by step {}), \
                     broadcast {:.1} ms ({:.1} s)",
                    f.kib_per_conn(f.steps.len() - 1),
                    f.steps.last().map_or(0, |s| s.0),
                    f.establish_s,
                    f.step_rates(),
                    f.broadcast_ms,
                    t.elapsed().as_secs_f64()
                ),
                Err(e) => eprintln!("{e}"),
            }
            rows.push(Row {
                key: c.key,
                title: c.title,
                run,
                result,
            });
        }
    }
    rows
}

/// A client process and its pipes.
struct Client {
    _proc: Proc,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Client {
    fn send(&mut self, line: &str) -> Res<()> {
        writeln!(self.stdin, "{line}").map_err(|e| format!("FAILED client stdin: {e}"))
    }
    fn recv(&mut self) -> Res<String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) => Err("FAILED a client process ended".into()),
            Ok(_) if line.starts_with("FAILED") => Err(line.trim().to_owned()),
            Ok(_) => Ok(line.trim().to_owned()),
            Err(e) => Err(format!("FAILED client stdout: {e}")),
        }
    }
    /// The number after `word` in the next line.
    fn expect(&mut self, word: &str) -> Res<u64> {
        let line = self.recv()?;
        line.strip_prefix(word)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("FAILED expected {word}, got {line:?}"))
    }
}

fn one(kind: ServerKind, o: &Opts, base: u8, session: usize) -> Result<Figures, String> {
    let sizes = Sizes::new(o.quick);
    let max = OUR_MAX_CONNECTIONS.to_string();
    let (server, url, pid) =
        start_server_env(kind, o.pin, &[("BENCH_MAX_CONNECTIONS", max.as_str())])?;
    let settle = Duration::from_millis(if o.quick { 500 } else { 2_000 });
    std::thread::sleep(Duration::from_millis(500));
    let rss_idle = procfs::rss_kib(pid).ok_or("FAILED no VmRSS")?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut clients = Vec::with_capacity(sizes.w7_procs);
    for k in 0..sizes.w7_procs {
        let src = Ipv4Addr::new(127, base, session as u8, 1 + (k * ADDRS) as u8);
        let args = ["w7-client".to_owned(), url.clone(), src.to_string()];
        let mut child = command(o.pin.then_some("1"), true, Path::new(&exe), &args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("FAILED spawn client: {e}"))?;
        let stdin = child.stdin.take().ok_or("FAILED no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("FAILED no stdout")?);
        clients.push(Client {
            _proc: Proc(child),
            stdin,
            stdout,
        });
    }
    let p = clients.len();
    let mut steps = Vec::new();
    let overflows0 = procfs::listen_overflows().unwrap_or(0);
    let (mut establish_s, mut srv_ns, mut have) = (0.0, 0u64, 0usize);
    for &target in &sizes.w7_steps {
        let delta = target - have;
        let cpu0 = procfs::cpu_ns(pid).unwrap_or(0);
        let t = Instant::now();
        for (k, c) in clients.iter_mut().enumerate() {
            // The first processes take the remainder.
            let n = delta / p + usize::from(k < delta % p);
            c.send(&format!("OPEN {n}"))?;
        }
        let mut total = 0;
        for c in &mut clients {
            total += c.expect("OPENED")? as usize;
        }
        let took = t.elapsed().as_secs_f64();
        establish_s += took;
        srv_ns += procfs::cpu_ns(pid).unwrap_or(0).saturating_sub(cpu0);
        check(total == target, || {
            format!("FAILED {total} connections open, expected {target}")
        })?;
        have = target;
        std::thread::sleep(settle);
        steps.push((target, procfs::rss_kib(pid).ok_or("FAILED no VmRSS")?, took));
    }
    let syn_drops = procfs::listen_overflows()
        .unwrap_or(0)
        .saturating_sub(overflows0);
    // The broadcast: the others wait first, then the first process fires.
    let cpu0 = procfs::cpu_ns(pid).unwrap_or(0);
    for c in clients.iter_mut().skip(1) {
        c.send("WAIT")?;
    }
    clients[0].send("FIRE")?;
    let t0 = clients[0].expect("SENT")?;
    let (mut last, mut got, mut cli_ns) = (0u64, 0u64, 0u64);
    for c in &mut clients {
        let line = c.recv()?;
        let v: Vec<u64> = match line.strip_prefix("GOT ") {
            Some(rest) => rest
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect(),
            None => Vec::new(),
        };
        let [l, n, cpu] = v[..] else {
            return Err(format!("FAILED expected GOT, got {line:?}"));
        };
        last = last.max(l);
        got += n;
        cli_ns += cpu;
    }
    let srv_bcast_ns = procfs::cpu_ns(pid).unwrap_or(0).saturating_sub(cpu0);
    check(got as usize == have, || {
        format!("FAILED {got} of {have} connections got the broadcast")
    })?;
    drop(clients);
    drop(server);
    Ok(Figures {
        rss_idle,
        steps,
        establish_s,
        srv_us_per_conn: srv_ns as f64 / 1e3 / have as f64,
        syn_drops,
        broadcast_ms: last.saturating_sub(t0) as f64 / 1e6,
        srv_us_per_delivery: srv_bcast_ns as f64 / 1e3 / have as f64,
        cli_us_per_delivery: cli_ns as f64 / 1e3 / have as f64,
    })
}

/// Prints the W7 table and the targets; true when a session failed.
pub(crate) fn print(o: &Opts, rows: &[Row]) -> bool {
    if rows.is_empty() {
        return false;
    }
    let sizes = Sizes::new(o.quick);
    let steps = sizes.w7_steps;
    let total = steps[3];
    println!(
        "\nW7 many-conns: {total} idle connections to one server process, spread over {} client \
         processes (16 loopback source addresses each), 64 handshakes in flight per process; \
         server RSS per connection = (VmRSS - idle VmRSS) / connections, read {} ms after each \
         step; establish = the opening phases' wall time (settling waits excluded); SYNs dropped = \
         the kernel's ListenOverflows over them (the server's accept queue full: each such connect \
         waits 1 s for its resent SYN); broadcast = \
         `StartFanout {{m: 1}}` on one connection until the last connection's `Chat`. Our server: \
         `max_connections({OUR_MAX_CONNECTIONS})` (default 10,000), otherwise default options.\n",
        sizes.w7_procs,
        if o.quick { 500 } else { 2_000 }
    );
    print!("| server | run | idle RSS MiB |");
    for n in steps {
        print!(" KiB/conn at {n} |");
    }
    println!(
        " KiB/conn {}→{} | establish {total} s (conn/s) | conn/s by step | SYNs dropped | \
         server µs/conn | broadcast ms | server + clients µs/delivery |",
        steps[2], steps[3]
    );
    println!(
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    let mut failed = false;
    for r in rows {
        match &r.result {
            Ok(f) => {
                print!(
                    "| {} | {} | {:.1} |",
                    r.title,
                    r.run,
                    f.rss_idle as f64 / 1024.0
                );
                for i in 0..f.steps.len() {
                    print!(" {:.2} |", f.kib_per_conn(i));
                }
                let (n2, r2, _) = f.steps[2];
                let (n3, r3, _) = f.steps[3];
                println!(
                    " {:.2} | {:.2} ({:.0}) | {} | {} | {:.1} | {:.1} | {:.2} + {:.2} |",
                    (r3 as f64 - r2 as f64) / (n3 - n2) as f64,
                    f.establish_s,
                    total as f64 / f.establish_s,
                    f.step_rates(),
                    f.syn_drops,
                    f.srv_us_per_conn,
                    f.broadcast_ms,
                    f.srv_us_per_delivery,
                    f.cli_us_per_delivery
                );
            }
            Err(e) => {
                failed = true;
                println!("| {} | {} | FAILED: {e} |", r.title, r.run);
            }
        }
    }
    // Ratios to raw and the targets (issue 18), over the runs' means.
    let mean = |key: &str, f: fn(&Figures) -> f64| {
        let v: Vec<f64> = rows
            .iter()
            .filter(|r| r.key == key)
            .filter_map(|r| r.result.as_ref().ok().map(f))
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let mut keys: Vec<&str> = Vec::new();
    for r in rows {
        if !keys.contains(&r.key) {
            keys.push(r.key);
        }
    }
    println!(
        "\nW7 means over the runs, x raw in brackets; targets: at most 6 KiB/conn at {total}, \
         established in under 10 s, broadcast to all within 1 s\n"
    );
    println!("| server | KiB/conn at {total} | establish s | broadcast ms | verdict |");
    println!("| --- | --- | --- | --- | --- |");
    let figures: [fn(&Figures) -> f64; 3] =
        [|f| f.kib_per_conn(3), |f| f.establish_s, |f| f.broadcast_ms];
    for key in keys {
        let title = rows.iter().find(|r| r.key == key).map_or("", |r| r.title);
        print!("| {title} |");
        let mut met = Vec::new();
        for (i, f) in figures.iter().enumerate() {
            match (mean(key, *f), mean("raw", *f)) {
                (Some(v), raw) => {
                    print!(" {v:.2}");
                    if let (Some(r), true) = (raw, key != "raw") {
                        print!(" ({:.2}x)", v / r);
                    }
                    print!(" |");
                    met.push(v < [6.0, 10.0, 1_000.0][i] || (i == 0 && v <= 6.0));
                }
                (None, _) => print!(" FAILED |"),
            }
        }
        let verdict = if met.len() < 3 {
            "-".to_owned()
        } else {
            ["memory", "establish", "broadcast"]
                .iter()
                .zip(&met)
                .map(|(n, ok)| format!("{n} {}", if *ok { "met" } else { "MISSED" }))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(" {verdict} |");
    }
    failed
}
