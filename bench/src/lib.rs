//! Shared pieces of the benchmark binaries (see `bench/README.md` and BENCHMARKS.md):
//! the deterministic payloads, the hand-written TSRPC JSON wire of the raw baseline, and the
//! `/proc` readings of the CPU and memory accounting.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::Deserialize;

/// The text `Chat(i).content` repeats: the first 91 bytes of it, repeated, after the index.
const FOX: &str = "The quick brown fox jumps over the lazy dog. ";

/// `Chat(i).content`: `i` zero-padded to 8 digits, a space, then 91 bytes of the fox sentence
/// repeated (exactly 100 ASCII bytes).
pub fn chat_content(i: u64) -> String {
    let mut s = String::with_capacity(100);
    let _ = write!(s, "{i:08} ");
    let mut fox = FOX.bytes().cycle();
    while s.len() < 100 {
        s.push(char::from(fox.next().unwrap_or(b' ')));
    }
    s
}

/// `GameFrame(i).inputs[p]`: `(player, x, y)`.
pub fn game_input(i: u64, p: u32) -> (u32, f64, f64) {
    let x = (i % 1000) as f64 + 0.25 * p as f64;
    let y = 0.5 * (i % 500) as f64 + p as f64;
    (p, x, y)
}

/// `GameFrame(i)` of BENCHMARKS.md, typed.
pub fn game_frame(i: u64) -> protocols::bench::MsgGameFrame {
    protocols::bench::MsgGameFrame {
        frame: i,
        inputs: (0..4)
            .map(|p| {
                let (player, x, y) = game_input(i, p);
                protocols::bench::PlayerInput { player, x, y }
            })
            .collect(),
    }
}

/// `Chat(i)` of BENCHMARKS.md, typed.
pub fn chat(i: u64) -> protocols::bench::MsgChat {
    protocols::bench::MsgChat {
        name: "bot".into(),
        content: chat_content(i),
    }
}

/// Appends `v` as JavaScript's `JSON.stringify` writes it, for the values of the payloads
/// (integral values without `.0`).
pub fn push_js_number(out: &mut String, v: f64) {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let _ = write!(out, "{}", v as i64);
    } else {
        out.push_str(ryu::Buffer::new().format(v));
    }
}

/// The JSON body of `GameFrame(i)`, written by hand (the raw baseline's encoder).
pub fn game_frame_json(out: &mut String, i: u64) {
    let _ = write!(out, "{{\"frame\":{i},\"inputs\":[");
    for p in 0..4 {
        let (player, x, y) = game_input(i, p);
        if p > 0 {
            out.push(',');
        }
        let _ = write!(out, "{{\"player\":{player},\"x\":");
        push_js_number(out, x);
        out.push_str(",\"y\":");
        push_js_number(out, y);
        out.push('}');
    }
    out.push_str("]}");
}

/// Typed forms the raw client decodes into (the framework's client uses the generated types).
pub mod wire {
    use super::*;

    /// `{c}` of `Add`.
    #[derive(Debug, Deserialize)]
    pub struct ResAdd {
        /// `a + b`.
        pub c: f64,
    }

    /// `{a, b}` of `Add`.
    #[derive(Debug, Deserialize)]
    pub struct ReqAdd {
        /// First operand.
        pub a: f64,
        /// Second operand.
        pub b: f64,
    }

    /// One input of a game frame.
    #[derive(Debug, Deserialize)]
    pub struct Input {
        /// Player number.
        pub player: u32,
        /// X.
        pub x: f64,
        /// Y.
        pub y: f64,
    }

    /// `GameFrame`.
    #[derive(Debug, Deserialize)]
    pub struct GameFrame {
        /// Frame number.
        pub frame: u64,
        /// Four inputs.
        pub inputs: Vec<Input>,
    }

    /// `Chat`.
    #[derive(Debug, Deserialize)]
    pub struct Chat<'a> {
        /// `bot`.
        #[serde(borrow)]
        pub name: Cow<'a, str>,
        /// 100 bytes.
        #[serde(borrow)]
        pub content: Cow<'a, str>,
    }

    /// The body of an API return.
    #[derive(Debug, Deserialize)]
    pub struct Ret<T> {
        /// Success flag.
        #[serde(rename = "isSucc")]
        pub is_succ: bool,
        /// The response when it succeeded.
        pub res: Option<T>,
    }

    /// `[name, body]`: a message.
    pub fn decode_msg<'a, T: Deserialize<'a>>(text: &'a str) -> Result<(Cow<'a, str>, T), String> {
        serde_json::from_str::<(Cow<'a, str>, T)>(text).map_err(|e| format!("bad msg {text}: {e}"))
    }

    /// `[name, {isSucc, res}, sn]`: an API return; `Err` unless it succeeded.
    pub fn decode_ret<'a, T: Deserialize<'a>>(text: &'a str) -> Result<(T, u64), String> {
        let (_, ret, sn) = serde_json::from_str::<(Cow<'a, str>, Ret<T>, u64)>(text)
            .map_err(|e| format!("bad return {text}: {e}"))?;
        match (ret.is_succ, ret.res) {
            (true, Some(res)) => Ok((res, sn)),
            _ => Err(format!("call failed: {text}")),
        }
    }

    /// True when the frame is an API return (three elements) rather than a message.
    pub fn is_return(text: &str) -> bool {
        // A message ends with `}]`, a return with `<sn>]`.
        let t = text.trim_end().trim_end_matches(']').trim_end();
        t.ends_with(|c: char| c.is_ascii_digit())
    }
}

/// `/proc` readings for the CPU and memory accounting.
pub mod procfs {
    /// utime + stime of a process, in clock ticks.
    pub fn cpu_ticks(pid: u32) -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name (which may hold spaces) start after the last ')'.
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        // rest[0] is field 3 (state): utime is field 14, stime field 15.
        let utime: u64 = f.get(11)?.parse().ok()?;
        let stime: u64 = f.get(12)?.parse().ok()?;
        Some(utime + stime)
    }

    /// CPU time of a process in nanoseconds (the sum of its threads' `schedstat`): precise
    /// where the tick counters are coarse.
    pub fn cpu_ns(pid: u32) -> Option<u64> {
        let mut total = 0;
        for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
            let path = task.ok()?.path().join("schedstat");
            if let Ok(s) = std::fs::read_to_string(path) {
                total += s.split_whitespace().next()?.parse::<u64>().ok()?;
            }
        }
        Some(total)
    }

    /// Machine-wide busy ticks (every field of the `cpu` line but idle and iowait; steal
    /// included).
    pub fn busy_ticks() -> Option<u64> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let line = stat.lines().next()?;
        let v: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal guest guest_nice
        let busy = v.iter().take(8).sum::<u64>() - v.get(3)? - v.get(4)?;
        Some(busy)
    }

    /// VmRSS of a process, in KiB.
    pub fn rss_kib(pid: u32) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// The machine's `TcpExt ListenOverflows` (`/proc/net/netstat`): connects dropped because a
    /// listener's accept queue was full (the client resends its SYN after 1 s).
    pub fn listen_overflows() -> Option<u64> {
        let text = std::fs::read_to_string("/proc/net/netstat").ok()?;
        let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
        let (names, values) = (lines.next()?, lines.next()?);
        let i = names
            .split_whitespace()
            .position(|n| n == "ListenOverflows")?;
        values.split_whitespace().nth(i)?.parse().ok()
    }

    /// Clock ticks per second (`getconf CLK_TCK`, else 100).
    pub fn clk_tck() -> u64 {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    }
}

/// `<bin> <port>`: the port a bench server binds (0: any free one).
pub fn port_arg() -> u16 {
    std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

/// Until SIGINT, or stdin closes when `BENCH_EXIT_ON_STDIN_CLOSE=1`.
pub async fn wait_for_end() {
    let watch_stdin = std::env::var_os("BENCH_EXIT_ON_STDIN_CLOSE").is_some_and(|v| v == "1");
    let stdin_closed = async {
        if !watch_stdin {
            return std::future::pending().await;
        }
        use tokio::io::AsyncReadExt;
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 64];
        while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
    };
    tokio::select! {
        _ = stdin_closed => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_match_benchmarks_md() {
        let mut s = String::new();
        game_frame_json(&mut s, 3);
        assert_eq!(
            s,
            r#"{"frame":3,"inputs":[{"player":0,"x":3,"y":1.5},{"player":1,"x":3.25,"y":2.5},{"player":2,"x":3.5,"y":3.5},{"player":3,"x":3.75,"y":4.5}]}"#
        );
        let c = chat_content(42);
        assert_eq!(c.len(), 100);
        assert!(c.starts_with("00000042 The quick brown fox jumps over the lazy dog. The quick"));
        assert!(wire::is_return(
            r#"["Add",{"isSucc":true,"res":{"c":3}},7]"#
        ));
        assert!(!wire::is_return(r#"["Chat",{"name":"bot","content":"x"}]"#));
    }

    /// The TSRPC node contender's proto (tsrpc-cli's output for `bench/node/protocols`) is our
    /// bench service's proto lock: the same ids and the same schemas (`uint` for `frame`,
    /// `player`, `n` and `m`), so both sides put the same bytes on the binary wire.
    #[test]
    fn node_proto_is_the_lock() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let read = |p: &str| -> serde_json::Value {
            let text = std::fs::read_to_string(root.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{p}: {e}"))
        };
        let node = read("node/protocols/serviceProto.json");
        let lock = read("../protocols/src/bench.proto.json");
        assert_eq!(node, lock);
        let uints: Vec<&str> = ["frame", "player", "n", "m"]
            .into_iter()
            .filter(|name| {
                node["types"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .any(|(_, t)| {
                        t["properties"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .any(|p| p["name"] == *name && p["type"]["scalarType"] == "uint")
                    })
            })
            .collect();
        assert_eq!(uints, ["frame", "player", "n", "m"]);
    }
}
