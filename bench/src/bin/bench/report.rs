//! The report: the machine, the rates and CPU table against raw, binary mode against JSON,
//! and the wire bytes per message.

use crate::common::Sizes;
use crate::{have, sh_output, Cell, Opts, Rep, ServerKind, CONTENDERS, REFERENCE_RAW};

pub(crate) fn print_machine(o: &Opts) {
    println!("# rpc-bench (BENCHMARKS.md W1-W5, W7, accept rate)\n");
    println!("- date: {}", sh_output("date -u '+%Y-%m-%d %H:%M UTC'"));
    println!(
        "- machine: {} CPUs ({}), {}, kernel {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        sh_output("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"),
        sh_output("free -g | awk '/Mem:/ {print $2 \" GiB RAM\"}'"),
        sh_output("uname -r")
    );
    println!(
        "- {}; node {}",
        sh_output("rustc --version"),
        if have("node") {
            sh_output("node --version")
        } else {
            "absent".into()
        }
    );
    println!(
        "- load average before: {}",
        sh_output("cut -d' ' -f1-3 /proc/loadavg")
    );
    println!(
        "- placement: {}",
        if o.pin {
            "server pinned to CPU 0, client to CPU 1 (taskset)"
        } else {
            "unpinned"
        }
    );
    println!(
        "- sizes: {}; median of {} repetitions after one warm-up, geometric mean of {} interleaved \
         run(s); spread = (max-min)/mean of a run's repetitions (the largest of the runs)",
        if o.quick {
            "--quick (smaller N, C, K: a smoke run, not figures)"
        } else {
            "BENCHMARKS.md"
        },
        o.reps,
        o.runs
    );
    println!(
        "- options: our server: default ServerOptions (`json: true`: it takes JSON and binary, \
         each connection in the mode its client's sub-protocol asks for); our client: \
         `WsClientOptions::default().json(true)` in the JSON rows (`ours`, `node`, `ours-cli`), \
         `WsClientOptions::default()` (binary, `json: false`) in the binary rows (`ours-bin`, \
         `node-bin`); TSRPC's node server: `json: true` (`node`), `json: false` (`node-bin`, \
         its default: binary only); raw tokio-tungstenite: JSON"
    );
    println!();
}

fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if v >= 1000.0 {
        let s = format!("{:.0}", v);
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        out
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The results of contender `key` on workload `w`.
fn find<'a>(results: &'a [Outcome], w: &str, key: &str) -> Option<&'a Result<Cell, String>> {
    // W5 and ACCEPT are measured once per server: a contender sharing the server shares the
    // figure.
    let server = CONTENDERS.iter().find(|c| c.key == key).map(|c| c.server);
    results
        .iter()
        .find(|(rw, rk, _)| rw == w && rk == key)
        .or_else(|| {
            (w == "W5" || w == "ACCEPT").then(|| {
                results.iter().find(|(rw, rk, _)| {
                    rw == w
                        && CONTENDERS
                            .iter()
                            .any(|c| c.key == rk && Some(c.server) == server)
                })
            })?
        })
        .map(|(_, _, r)| r)
}

/// (workload, contender key, its combined cell or the failure).
pub(crate) type Outcome = (String, String, Result<Cell, String>);

/// Prints the table; true when a cell failed.
pub(crate) fn print_table(o: &Opts, results: &[Outcome]) -> bool {
    // (row key, label, workload, field, higher is better)
    type Row = (
        &'static str,
        &'static str,
        &'static str,
        fn(&Rep) -> f64,
        bool,
    );
    let rows: [Row; 10] = [
        ("W1", "W1 api-seq calls/s", "W1", |r| r.rate, true),
        ("W1p50", "W1 p50 latency µs", "W1", |r| r.p50, false),
        ("W1p99", "W1 p99 latency µs", "W1", |r| r.p99, false),
        ("W2", "W2 api-pipelined calls/s", "W2", |r| r.rate, true),
        ("W3", "W3 msg-push msgs/s", "W3", |r| r.rate, true),
        ("W4", "W4 fanout deliveries/s", "W4", |r| r.rate, true),
        ("W4ms", "W4 time to last delivery ms", "W4", |r| r.ms, false),
        (
            "W5",
            "W5 idle server memory KiB/conn",
            "W5",
            |r| r.rate,
            false,
        ),
        (
            "ACCEPT",
            "accept: new connections/s (connect, handshake, Add, close; 32 in flight)",
            "ACCEPT",
            |r| r.rate,
            true,
        ),
        (
            "ACCEPTp50",
            "accept: p50 of one connection's life µs",
            "ACCEPT",
            |r| r.p50,
            false,
        ),
    ];
    let find = |w: &str, key: &str| find(results, w, key);
    let mut failed = false;
    print!("| workload | raw in BENCHMARKS.md |");
    for c in &o.contenders {
        print!(" {} |", c.title);
    }
    println!();
    print!("| --- | --- |");
    for _ in &o.contenders {
        print!(" --- |");
    }
    println!();
    for (key, label, w, field, higher) in rows {
        if !o.workloads.iter().any(|x| x == w) {
            continue;
        }
        let reference = REFERENCE_RAW
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(f64::NAN, |r| r.1);
        print!("| {label} | {} |", fmt_num(reference));
        let raw = match find(w, "raw") {
            Some(Ok(cell)) => Some(field(&cell.median)),
            _ => None,
        };
        for c in &o.contenders {
            match find(w, c.key) {
                Some(Ok(cell)) => {
                    let v = field(&cell.median);
                    let mut s = fmt_num(v);
                    if matches!(key, "W1" | "W2" | "W3" | "W4" | "ACCEPT") {
                        s.push_str(&format!(" ±{:.0}%", cell.spread * 100.0));
                    }
                    if c.key != "raw" {
                        if let Some(r) = raw {
                            let ratio = if higher { r / v } else { v / r };
                            s.push_str(&format!(" ({ratio:.2}x)"));
                        }
                    }
                    print!(" {s} |");
                }
                Some(Err(_)) => {
                    failed = true;
                    print!(" FAILED |");
                }
                None => print!(" - |"),
            }
        }
        println!();
    }
    println!(
        "\nIn brackets: times worse than raw in this run (raw/x for rates, x/raw for latency, \
         time and memory). ±: the spread (max-min)/mean of the repetitions' rates."
    );
    println!(
        "\nCPU over the median repetition: server / client / other in % of one core (ticks of \
         /proc/<pid>/stat and /proc/stat), then server + client CPU µs per operation \
         (schedstat, not skewed by other load)"
    );
    print!("\n| workload |");
    for c in &o.contenders {
        print!(" {} |", c.title);
    }
    println!();
    print!("| --- |");
    for _ in &o.contenders {
        print!(" --- |");
    }
    println!();
    for w in ["W1", "W2", "W3", "W4", "ACCEPT"] {
        if !o.workloads.iter().any(|x| x == w) {
            continue;
        }
        print!("| {w} |");
        for c in &o.contenders {
            match find(w, c.key) {
                Some(Ok(cell)) => print!(
                    " {:.0} / {:.0} / {:.0}; {:.2} + {:.2} µs |",
                    cell.median.srv,
                    cell.median.cli,
                    cell.median.other,
                    cell.median.srv_us(),
                    cell.median.cli_us()
                ),
                Some(Err(_)) => print!(" FAILED |"),
                None => print!(" - |"),
            }
        }
        println!();
    }
    print_server_cpu(o, results);
    for (w, k, r) in results {
        if let Err(e) = r {
            println!("\n{w} {k}: {e}");
        }
    }
    failed
}

/// Server CPU µs per operation (schedstat) and its ratio to raw's in the same run: the
/// figure issue 18's targets read (W3 and W4 at most 1.1x; BENCHMARKS.md: W1-W4 at most 1.1x).
fn print_server_cpu(o: &Opts, results: &[Outcome]) {
    let raw_present = o.contenders.iter().any(|c| c.key == "raw");
    let others: Vec<_> = o.contenders.iter().filter(|c| c.key != "raw").collect();
    let workloads: Vec<&str> = ["W1", "W2", "W3", "W4", "ACCEPT"]
        .into_iter()
        .filter(|w| o.workloads.iter().any(|x| x == w))
        .collect();
    if !raw_present || others.is_empty() || workloads.is_empty() {
        return;
    }
    println!(
        "\nServer CPU µs per operation (schedstat; per call, message, delivery, connection), \
         x raw's in this run; target (issue 18, BENCHMARKS.md): at most 1.1x on W1-W4\n"
    );
    print!("| workload | raw |");
    for c in &others {
        print!(" {} |", c.title);
    }
    println!();
    print!("| --- | --- |");
    for _ in &others {
        print!(" --- |");
    }
    println!();
    // None: not run; Some(None): failed.
    let us = |w: &str, k: &str| match find(results, w, k) {
        Some(Ok(cell)) => Some(Some(cell.median.srv_us())),
        Some(Err(_)) => Some(None),
        None => None,
    };
    for w in workloads {
        let raw = us(w, "raw").flatten();
        print!(
            "| {w} | {} |",
            raw.map_or("FAILED".into(), |r| format!("{r:.2}"))
        );
        for c in &others {
            let Some(v) = us(w, c.key) else {
                print!(" - |");
                continue;
            };
            match (v, raw) {
                (Some(v), Some(r)) => {
                    let x = v / r;
                    let verdict = if w == "ACCEPT" || c.server != ServerKind::Ours {
                        ""
                    } else if x <= 1.1 {
                        " met"
                    } else {
                        " MISSED"
                    };
                    print!(" {v:.2} (**{x:.2}x**{verdict}) |");
                }
                (Some(v), None) => print!(" {v:.2} |"),
                (None, _) => print!(" FAILED |"),
            }
        }
        println!();
    }
}

/// The binary rows against the JSON rows of the same server: our server and client
/// (`ours-bin` / `ours`), and TSRPC's node server with our client (`node-bin` / `node`).
const BINARY_PAIRS: [(&str, &str); 2] = [("ours", "ours-bin"), ("node", "node-bin")];

/// Prints binary mode against JSON mode: rates, CPU µs per operation and their ratios.
pub(crate) fn print_binary(o: &Opts, results: &[Outcome]) {
    let has = |k: &str| o.contenders.iter().any(|c| c.key == k);
    let pairs: Vec<(&str, &str)> = BINARY_PAIRS
        .into_iter()
        .filter(|(j, b)| has(j) && has(b))
        .collect();
    let workloads: Vec<&str> = ["W1", "W2", "W3", "W4"]
        .into_iter()
        .filter(|w| o.workloads.iter().any(|x| x == w))
        .collect();
    if pairs.is_empty() || workloads.is_empty() {
        return;
    }
    println!(
        "\nBinary mode (TSBuffer) against JSON mode, same server program: rate, then server + \
         client CPU µs per operation (schedstat); ratio = binary / JSON of the CPU per operation \
         (server, client, both; target for ours: both at most 1.00x)\n"
    );
    print!("| workload |");
    for (j, b) in &pairs {
        print!(" {j}: JSON | {b}: binary | CPU/op binary/JSON: server, client, both |");
    }
    println!();
    print!("| --- |");
    for _ in &pairs {
        print!(" --- | --- | --- |");
    }
    println!();
    for w in workloads {
        print!("| {w} |");
        for (j, b) in &pairs {
            let cell = |k: &str| match find(results, w, k) {
                Some(Ok(c)) => Some(c.median.clone()),
                _ => None,
            };
            let (cj, cb) = (cell(j), cell(b));
            for c in [&cj, &cb] {
                match c {
                    Some(r) => print!(
                        " {} ({:.2} + {:.2} µs) |",
                        fmt_num(r.rate),
                        r.srv_us(),
                        r.cli_us()
                    ),
                    None => print!(" FAILED |"),
                }
            }
            match (cj, cb) {
                (Some(rj), Some(rb)) => {
                    let both = (rb.srv_us() + rb.cli_us()) / (rj.srv_us() + rj.cli_us());
                    let verdict = if *j == "ours" {
                        if both <= 1.0 {
                            " met"
                        } else {
                            " MISSED"
                        }
                    } else {
                        ""
                    };
                    print!(
                        " {:.2}x, {:.2}x, **{both:.2}x**{verdict} |",
                        rb.srv_us() / rj.srv_us(),
                        rb.cli_us() / rj.cli_us()
                    );
                }
                _ => print!(" - |"),
            }
        }
        println!();
    }
}

/// Byte counts of one wire probe.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Bytes {
    pub(crate) msgs: f64,
    pub(crate) payload: f64,
    pub(crate) wire: f64,
    pub(crate) body: f64,
}

pub(crate) fn parse_bytes(line: &str) -> Option<Bytes> {
    let mut b = Bytes::default();
    for kv in line.strip_prefix("BYTES ")?.split_whitespace() {
        let (k, v) = kv.split_once('=')?;
        let v: f64 = v.parse().ok()?;
        match k {
            "msgs" => b.msgs = v,
            "payload" => b.payload = v,
            "wire" => b.wire = v,
            "body" => b.body = v,
            _ => {}
        }
    }
    (b.msgs > 0.0).then_some(b)
}

/// (workload, contender key, the probe's counts or the failure).
pub(crate) type Probe = (&'static str, &'static str, Result<Bytes, String>);

/// Prints the wire bytes per message; true when a probe failed.
pub(crate) fn print_bytes(o: &Opts, probes: &[Probe]) -> bool {
    if probes.is_empty() {
        return false;
    }
    let mut failed = false;
    println!(
        "\nWire bytes per message, counted in the frames each server sent to a raw probe \
         connection (every message decoded and checked; W3: the {} `GameFrame`s of one push, \
         W4: the {} `Chat`s of one round), mean per message: WebSocket payload, with the frame \
         header (what goes on the wire), and the body alone (JSON `{{..}}`, TSBuffer `buffer`); \
         ratio = binary / JSON of the same server\n",
        Sizes::new(o.quick).w3_n,
        Sizes::new(o.quick).w4_m
    );
    println!("| message | contender | payload bytes | with WS header | body bytes | payload x JSON | with header x JSON | body x JSON |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    let get = |w: &str, k: &str| {
        probes
            .iter()
            .find(|(pw, pk, _)| *pw == w && *pk == k)
            .and_then(|(_, _, r)| r.as_ref().ok())
    };
    for (w, key, r) in probes {
        let msg = if *w == "W3" {
            "W3 GameFrame"
        } else {
            "W4 Chat"
        };
        let b = match r {
            Ok(b) => b,
            Err(e) => {
                failed = true;
                println!("| {msg} | {key} | FAILED: {e} | | | | | |");
                continue;
            }
        };
        let per = |v: f64| v / b.msgs;
        let twin = BINARY_PAIRS
            .iter()
            .find(|(_, bin)| bin == key)
            .and_then(|(json, _)| get(w, json));
        let ratio = |f: fn(&Bytes) -> f64| match twin {
            Some(j) => format!("{:.3}x", per(f(b)) / (f(j) / j.msgs)),
            None => "-".into(),
        };
        println!(
            "| {msg} | {key} | {:.1} | {:.1} | {:.1} | {} | {} | {} |",
            per(b.payload),
            per(b.wire),
            per(b.body),
            ratio(|b| b.payload),
            ratio(|b| b.wire),
            ratio(|b| b.body)
        );
    }
    // Targets (BENCHMARKS.md): W3 at most 0.6x JSON; W4 reported (about 0.83x).
    for (w, target) in [("W3", Some(0.6)), ("W4", None)] {
        if let (Some(j), Some(b)) = (get(w, "ours"), get(w, "ours-bin")) {
            let r = (b.payload / b.msgs) / (j.payload / j.msgs);
            let rw = (b.wire / b.msgs) / (j.wire / j.msgs);
            let verdict = match target {
                Some(t) if r <= t && rw <= t => format!("target at most {t}x: met"),
                Some(t) => format!("target at most {t}x: MISSED"),
                None => "reported (BENCHMARKS.md: about 0.83x)".into(),
            };
            println!(
                "\n{w} binary / JSON bytes, ours: payload {r:.3}x, with header {rw:.3}x; {verdict}"
            );
        }
    }
    // Do our server and TSRPC's send the same bytes in the same mode?
    for w in ["W3", "W4"] {
        for (ours, node) in [("ours", "node"), ("ours-bin", "node-bin")] {
            if let (Some(a), Some(b)) = (get(w, ours), get(w, node)) {
                let same = a.payload == b.payload && a.msgs == b.msgs;
                println!(
                    "{w} {ours} vs {node}: {} payload bytes in total ({} vs {})",
                    if same { "the same" } else { "DIFFERENT" },
                    a.payload,
                    b.payload
                );
            }
        }
    }
    failed
}
