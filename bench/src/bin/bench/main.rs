//! The benchmark: `bench [--quick] [--reps N] [--only W1,W3]
//! [--contenders raw,ours,ours-bin,node,node-bin] [--no-pin]` runs W1-W5, W7 and the accept
//! rate (`ACCEPT`) of BENCHMARKS.md against each contender (a fresh server process per
//! workload, pinned to CPU 0; the load client in its own process, pinned to CPU 1) and prints
//! the tables: rates, CPU, binary mode against JSON, and the wire bytes per W3/W4 message in
//! both modes (a probe of the real servers' frames). `bench client ...` is the load-client
//! process it starts (`bench w7-client ...` W7's, `w7.rs`).

mod accept;
mod common;
mod ours;
mod raw;
mod report;
mod w7;
mod wire_bytes;

use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use common::{Sampler, Sizes};
use report::{parse_bytes, print_binary, print_bytes, print_machine, print_table, Outcome, Probe};

const WORKLOADS: [&str; 7] = ["W1", "W2", "W3", "W4", "W5", "W7", "ACCEPT"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("client") {
        std::process::exit(client_main(&args[1..]));
    }
    if args.first().map(String::as_str) == Some("w7-client") {
        std::process::exit(w7::client_main(&args[1..]));
    }
    std::process::exit(orchestrate(&args));
}

// ---------------------------------------------------------------- the load-client process

/// `client <ours|ours-bin|raw|probe-json|probe-bin> <W1..W5> <url> <server pid> <reps>
/// <quick 0|1>`: prints `REP ...` lines (`BYTES ...` for a probe), or `FAILED <why>` and exits
/// 1.
fn client_main(args: &[String]) -> i32 {
    let [imp, workload, url, pid, reps, quick] = args else {
        eprintln!(
            "usage: bench client <ours|ours-bin|raw|probe-json|probe-bin> <W1..W5> <url> \
             <server pid> <reps> <quick 0|1>"
        );
        return 2;
    };
    let (Ok(pid), Ok(reps)) = (pid.parse::<u32>(), reps.parse::<usize>()) else {
        eprintln!("bad pid or reps");
        return 2;
    };
    let sizes = Sizes::new(quick == "1");
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
    let s = Sampler::new(pid);
    // Our client in JSON mode (`ours`) or in its default binary mode (`ours-bin`).
    let json = imp != "ours-bin";
    let run = async {
        match (imp.as_str(), workload.as_str()) {
            ("ours" | "ours-bin", "W1") => ours::w1(url, json, sizes, reps, s).await,
            ("ours" | "ours-bin", "W2") => ours::w2(url, json, sizes, reps, s).await,
            ("ours" | "ours-bin", "W3") => ours::w3(url, json, sizes, reps, s).await,
            ("ours" | "ours-bin", "W4") => ours::w4(url, json, sizes, reps, s).await,
            ("raw", "W1") => raw::w1(url, sizes, reps, s).await,
            ("raw", "W2") => raw::w2(url, sizes, reps, s).await,
            ("raw", "W3") => raw::w3(url, sizes, reps, s).await,
            ("raw", "W4") => raw::w4(url, sizes, reps, s).await,
            ("probe-json", w) => wire_bytes::probe(url, true, w, sizes).await,
            ("probe-bin", w) => wire_bytes::probe(url, false, w, sizes).await,
            ("ours-bin", "W5") => raw::w5(url, "buffer", sizes, s).await,
            (_, "ACCEPT") => accept::run(url, sizes, reps, s).await,
            (_, "W5") => raw::w5(url, "text", sizes, s).await,
            _ => Err(format!("unknown client {imp} / workload {workload}")),
        }
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

/// A server and the load client that drives it.
#[derive(Debug, Clone)]
struct Contender {
    key: &'static str,
    title: &'static str,
    server: ServerKind,
    /// `raw`, `ours` (our client, JSON mode) or `ours-bin` (our client, binary mode).
    client: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ServerKind {
    /// `bench-server`, default `ServerOptions` (JSON and binary; a connection's mode follows
    /// its client's sub-protocol).
    Ours,
    Raw,
    /// TSRPC's `WsServer` with `json: true`.
    Node,
    /// TSRPC's `WsServer` with its default `json: false` (binary only).
    NodeBin,
}

const CONTENDERS: [Contender; 7] = [
    Contender {
        key: "raw",
        title: "raw tokio-tungstenite",
        server: ServerKind::Raw,
        client: "raw",
    },
    Contender {
        key: "ours",
        title: "ours JSON (server + client)",
        server: ServerKind::Ours,
        client: "ours",
    },
    Contender {
        key: "ours-bin",
        title: "ours binary (server + client)",
        server: ServerKind::Ours,
        client: "ours-bin",
    },
    Contender {
        key: "node",
        title: "TSRPC 3.4.21 node server (json: true) + our JSON client",
        server: ServerKind::Node,
        client: "ours",
    },
    Contender {
        key: "node-bin",
        title: "TSRPC 3.4.21 node server (binary) + our binary client",
        server: ServerKind::NodeBin,
        client: "ours-bin",
    },
    Contender {
        key: "ours-srv",
        title: "our server + raw client",
        server: ServerKind::Ours,
        client: "raw",
    },
    Contender {
        key: "ours-cli",
        title: "raw server + our client",
        server: ServerKind::Raw,
        client: "ours",
    },
];

/// The raw column of BENCHMARKS.md, to show beside this run's.
const REFERENCE_RAW: [(&str, f64); 8] = [
    ("W1", 16_282.0),
    ("W1p50", 55.8),
    ("W1p99", f64::NAN),
    ("W2", 288_153.0),
    ("W3", 526_112.0),
    ("W4", 1_418_750.0),
    ("W4ms", f64::NAN),
    ("W5", 13.9),
];

struct Opts {
    quick: bool,
    reps: usize,
    /// Rounds over the contenders, interleaved; the figures are their geometric mean.
    runs: usize,
    workloads: Vec<String>,
    contenders: Vec<Contender>,
    pin: bool,
}

fn parse_opts(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        quick: false,
        reps: 5,
        runs: 2,
        workloads: WORKLOADS.iter().map(|w| w.to_string()).collect(),
        contenders: Vec::new(),
        pin: true,
    };
    let mut keys: Vec<String> = ["raw", "ours", "ours-bin", "node", "node-bin"]
        .map(String::from)
        .to_vec();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--no-pin" => o.pin = false,
            "--reps" => {
                o.reps = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&r| r >= 1)
                    .ok_or("--reps N (N >= 1)")?
            }
            "--runs" => {
                o.runs = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&r| r >= 1)
                    .ok_or("--runs N (N >= 1)")?
            }
            "--only" => {
                o.workloads = it
                    .next()
                    .ok_or("--only W1,W2")?
                    .split(',')
                    .map(|w| w.trim().to_uppercase())
                    .collect()
            }
            "--contenders" => {
                keys = it
                    .next()
                    .ok_or("--contenders raw,ours,ours-bin,node,node-bin,ours-srv,ours-cli")?
                    .split(',')
                    .map(|k| k.trim().to_owned())
                    .collect()
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if o.quick && !args.iter().any(|a| a == "--reps") {
        o.reps = 3;
    }
    if o.quick && !args.iter().any(|a| a == "--runs") {
        o.runs = 1;
    }
    for k in &keys {
        let c = CONTENDERS
            .iter()
            .find(|c| c.key == k)
            .ok_or_else(|| format!("unknown contender {k}"))?;
        o.contenders.push(c.clone());
    }
    if let Some(w) = o
        .workloads
        .iter()
        .find(|w| !WORKLOADS.contains(&w.as_str()))
    {
        return Err(format!("unknown workload {w}"));
    }
    Ok(o)
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {cmd} >/dev/null 2>&1"))
        .status()
        .is_ok_and(|s| s.success())
}

fn sh_output(cmd: &str) -> String {
    Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn node_script() -> PathBuf {
    repo_root().join("bench/node/bench-server.js")
}

fn node_ready() -> Result<(), String> {
    if !have("node") {
        return Err("node is not installed".into());
    }
    if !repo_root()
        .join("tests/interop/node_modules/tsrpc")
        .is_dir()
    {
        return Err(
            "tests/interop/node_modules is missing: run `cd tests/interop && npm ci`".into(),
        );
    }
    Ok(())
}

/// A spawned process, killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `sh -c 'ulimit -n <hard>; exec [taskset -c cpu] prog args'`.
fn command(pin: Option<&str>, timeout: bool, prog: &Path, args: &[String]) -> Command {
    let mut line = String::from("ulimit -n \"$(ulimit -Hn)\" 2>/dev/null; exec");
    if timeout && have("timeout") {
        line.push_str(" timeout 180");
    }
    if let Some(cpu) = pin {
        line.push_str(&format!(" taskset -c {cpu}"));
    }
    line.push_str(" \"$0\" \"$@\"");
    let mut c = Command::new("sh");
    c.arg("-c").arg(line).arg(prog).args(args);
    c
}

fn start_server(kind: ServerKind, pin: bool) -> Result<(Proc, String, u32), String> {
    start_server_env(kind, pin, &[])
}

/// [`start_server`] with environment variables for the server process.
fn start_server_env(
    kind: ServerKind,
    pin: bool,
    env: &[(&str, &str)],
) -> Result<(Proc, String, u32), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let cpu = pin.then_some("0");
    let mut cmd = match kind {
        ServerKind::Ours => command(cpu, false, &dir.join("bench-server"), &["0".into()]),
        ServerKind::Raw => command(cpu, false, &dir.join("raw-server"), &["0".into()]),
        ServerKind::Node | ServerKind::NodeBin => {
            let script = node_script().display().to_string();
            let json = if kind == ServerKind::Node {
                "true"
            } else {
                "false"
            };
            command(
                cpu,
                false,
                Path::new("node"),
                &[script, "0".into(), "--json".into(), json.into()],
            )
        }
    };
    cmd.envs(env.iter().copied())
        .env("BENCH_EXIT_ON_STDIN_CLOSE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = Proc(cmd.spawn().map_err(|e| format!("spawn server: {e}"))?);
    let stdout = child.0.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    // READY ws://127.0.0.1:<port> pid=<pid>
    let mut parts = line.split_whitespace();
    let (Some("READY"), Some(url), Some(pid)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("server did not print READY: {line:?}"));
    };
    let pid = pid
        .strip_prefix("pid=")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("bad READY line {line:?}"))?;
    Ok((child, url.to_owned(), pid))
}

/// One measured repetition.
#[derive(Debug, Clone, Default)]
struct Rep {
    rate: f64,
    p50: f64,
    p99: f64,
    ms: f64,
    srv: f64,
    cli: f64,
    other: f64,
    srv_ns: f64,
    cli_ns: f64,
}

impl Rep {
    /// Operations in the repetition (calls, messages or deliveries).
    fn ops(&self) -> f64 {
        self.rate * self.ms / 1e3
    }
    /// Server CPU µs per operation.
    fn srv_us(&self) -> f64 {
        self.srv_ns / 1e3 / self.ops()
    }
    /// Client CPU µs per operation.
    fn cli_us(&self) -> f64 {
        self.cli_ns / 1e3 / self.ops()
    }
}

fn parse_rep(line: &str) -> Option<Rep> {
    let mut r = Rep::default();
    for kv in line.strip_prefix("REP ")?.split_whitespace() {
        let (k, v) = kv.split_once('=')?;
        let v: f64 = v.parse().ok()?;
        match k {
            "rate" => r.rate = v,
            "p50" => r.p50 = v,
            "p99" => r.p99 = v,
            "ms" => r.ms = v,
            "srv" => r.srv = v,
            "cli" => r.cli = v,
            "other" => r.other = v,
            "srvns" => r.srv_ns = v,
            "clins" => r.cli_ns = v,
            _ => {}
        }
    }
    Some(r)
}

/// The median repetition (by rate) and the spread `(max - min) / mean` of the rates.
#[derive(Debug, Clone)]
struct Cell {
    median: Rep,
    spread: f64,
}

fn summarize(mut reps: Vec<Rep>) -> Option<Cell> {
    if reps.is_empty() {
        return None;
    }
    reps.sort_by(|a, b| a.rate.total_cmp(&b.rate));
    let n = reps.len();
    let mean = reps.iter().map(|r| r.rate).sum::<f64>() / n as f64;
    let spread = (reps[n - 1].rate - reps[0].rate) / mean;
    Some(Cell {
        median: reps[n / 2].clone(),
        spread,
    })
}

/// Several runs' cells as one: the geometric mean of their median repetitions' rates and
/// times (their product, the operation count, is kept), the mean of their CPU figures, and the
/// largest spread.
fn combine(cells: &[Cell]) -> Cell {
    let n = cells.len() as f64;
    let geo = |f: fn(&Rep) -> f64| (cells.iter().map(|c| f(&c.median).ln()).sum::<f64>() / n).exp();
    let mean = |f: fn(&Rep) -> f64| cells.iter().map(|c| f(&c.median)).sum::<f64>() / n;
    Cell {
        median: Rep {
            rate: geo(|r| r.rate),
            p50: geo(|r| r.p50),
            p99: geo(|r| r.p99),
            ms: geo(|r| r.ms),
            srv: mean(|r| r.srv),
            cli: mean(|r| r.cli),
            other: mean(|r| r.other),
            srv_ns: mean(|r| r.srv_ns),
            cli_ns: mean(|r| r.cli_ns),
        },
        spread: cells.iter().map(|c| c.spread).fold(0.0, f64::max),
    }
}

fn run_one(c: &Contender, workload: &str, o: &Opts) -> Result<Cell, String> {
    let (server, url, pid) = start_server(c.server, o.pin)?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let args = vec![
        "client".to_owned(),
        c.client.to_owned(),
        workload.to_owned(),
        url,
        pid.to_string(),
        o.reps.to_string(),
        if o.quick { "1" } else { "0" }.to_owned(),
    ];
    let out = command(o.pin.then_some("1"), true, &exe, &args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("spawn client: {e}"))?;
    drop(server);
    let text = String::from_utf8_lossy(&out.stdout);
    if let Some(f) = text.lines().find(|l| l.starts_with("FAILED")) {
        return Err(f.to_owned());
    }
    if !out.status.success() {
        return Err(format!("FAILED client exited with {}", out.status));
    }
    summarize(text.lines().filter_map(parse_rep).collect())
        .ok_or_else(|| "FAILED no figures".into())
}

fn orchestrate(args: &[String]) -> i32 {
    let mut o = match parse_opts(args) {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("bench: {e}");
            }
            eprintln!(
                "usage: bench [--quick] [--reps N] [--runs N] [--only W1,..,W5,W7,ACCEPT] \
                 [--contenders raw,ours,ours-bin,node,node-bin,ours-srv,ours-cli] [--no-pin]"
            );
            return 2;
        }
    };
    let ncpu = std::thread::available_parallelism().map_or(1, |n| n.get());
    if o.pin && (!have("taskset") || ncpu < 2) {
        eprintln!("bench: no taskset or fewer than 2 CPUs: running unpinned");
        o.pin = false;
    }
    let is_node = |c: &Contender| matches!(c.server, ServerKind::Node | ServerKind::NodeBin);
    if o.contenders.iter().any(is_node) {
        if let Err(e) = node_ready() {
            eprintln!("bench: skipping the TSRPC node server: {e}");
            o.contenders.retain(|c| !is_node(c));
        }
    }
    print_machine(&o);
    let started = Instant::now();
    let mut results: Vec<Outcome> = Vec::new();
    let mut w7_rows = Vec::new();
    for w in &o.workloads {
        if w == "W7" {
            w7_rows = w7::run(&o);
            continue;
        }
        // The contenders take turns, run after run, so a slow spell of the machine falls on
        // all of them.
        let mut cells: Vec<(&Contender, Result<Vec<Cell>, String>)> = Vec::new();
        for run in 1..=o.runs {
            let mut w5_done: Vec<ServerKind> = Vec::new();
            for c in &o.contenders {
                if w == "W5" || w == "ACCEPT" {
                    // A server metric: once per server (the accept rate's connections speak
                    // JSON: not to TSRPC's binary-only server).
                    if w5_done.contains(&c.server)
                        || (w == "ACCEPT" && c.server == ServerKind::NodeBin)
                    {
                        continue;
                    }
                    w5_done.push(c.server);
                }
                let i = match cells.iter().position(|(k, _)| k.key == c.key) {
                    Some(i) => i,
                    None => {
                        cells.push((c, Ok(Vec::new())));
                        cells.len() - 1
                    }
                };
                if cells[i].1.is_err() {
                    continue;
                }
                eprint!("{w} {:<10} run {run}/{}  ", c.key, o.runs);
                let _ = std::io::stderr().flush();
                let t = Instant::now();
                match run_one(c, w, &o) {
                    Ok(cell) => {
                        eprintln!(
                            "{:>12.1}  spread {:>4.1}%  ({:.1} s)",
                            cell.median.rate,
                            cell.spread * 100.0,
                            t.elapsed().as_secs_f64()
                        );
                        if let Ok(v) = &mut cells[i].1 {
                            v.push(cell);
                        }
                    }
                    Err(e) => {
                        eprintln!("{e}");
                        cells[i].1 = Err(e);
                    }
                }
            }
        }
        for (c, r) in cells {
            results.push((w.clone(), c.key.to_owned(), r.map(|v| combine(&v))));
        }
    }
    let mut failed = !results.is_empty() && print_table(&o, &results);
    failed |= w7::print(&o, &w7_rows);
    print_binary(&o, &results);
    failed |= print_bytes(&o, &probe_bytes(&o));
    println!(
        "\nTotal time {:.0} s. Load average after: {}",
        started.elapsed().as_secs_f64(),
        sh_output("cut -d' ' -f1-3 /proc/loadavg")
    );
    i32::from(failed)
}

/// The wire probe (`wire_bytes.rs`) against a fresh server of every contender that our client
/// drives on our or TSRPC's server, for W3 and W4, in the contender's mode.
fn probe_bytes(o: &Opts) -> Vec<Probe> {
    let mut out = Vec::new();
    for w in ["W3", "W4"] {
        if !o.workloads.iter().any(|x| x == w) {
            continue;
        }
        for c in &o.contenders {
            if c.server == ServerKind::Raw || !matches!(c.client, "ours" | "ours-bin") {
                continue;
            }
            let imp = if c.client == "ours" {
                "probe-json"
            } else {
                "probe-bin"
            };
            eprint!("{w} {:<10} wire bytes  ", c.key);
            let r = (|| {
                let (server, url, pid) = start_server(c.server, o.pin)?;
                let exe = std::env::current_exe().map_err(|e| e.to_string())?;
                let args = [
                    "client",
                    imp,
                    w,
                    &url,
                    &pid.to_string(),
                    "1",
                    if o.quick { "1" } else { "0" },
                ]
                .map(String::from);
                let res = command(o.pin.then_some("1"), true, &exe, &args)
                    .stdin(Stdio::null())
                    .stderr(Stdio::inherit())
                    .output()
                    .map_err(|e| format!("spawn client: {e}"));
                drop(server);
                let res = res?;
                let text = String::from_utf8_lossy(&res.stdout);
                if let Some(f) = text.lines().find(|l| l.starts_with("FAILED")) {
                    return Err(f.to_owned());
                }
                text.lines()
                    .find_map(parse_bytes)
                    .ok_or_else(|| format!("FAILED no byte counts ({})", res.status))
            })();
            match &r {
                Ok(b) => eprintln!(
                    "{:.1} bytes per message ({} messages)",
                    b.payload / b.msgs,
                    b.msgs
                ),
                Err(e) => eprintln!("{e}"),
            }
            out.push((w, c.key, r));
        }
    }
    out
}
