//! The node side of the interop tests: spawns the real TypeScript TSRPC (`tests/interop`, see
//! its README.md) — the reference server `server.js`, the real clients of `client.js`, and the
//! raw probes `rawws.js` / `rawhttp.js` — and reads their JSON-line outputs.
//!
//! Every process is spawned with `kill_on_drop(true)`, so a failing test leaves nothing behind.
//! When `node` or the npm packages are missing the helpers panic with a message that says how
//! to get them: the interop tests fail, they are never skipped.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// How long a node process may take to start and print `READY`.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// The harness folder, `tests/interop`.
pub fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// Checks once that `node` runs and that the npm packages are installed; panics (failing the
/// test) with instructions otherwise.
pub fn require_node() {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    let res = CHECK.get_or_init(|| {
        let version = std::process::Command::new("node")
            .arg("--version")
            .stdin(Stdio::null())
            .output();
        match version {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                return Err(format!(
                    "`node --version` failed ({}). The interop tests run the real TSRPC on \
                     Node.js: install Node.js 18 or newer (e.g. `apt-get install nodejs npm`), \
                     then run `scripts/test`.",
                    out.status
                ))
            }
            Err(e) => {
                return Err(format!(
                    "`node` was not found ({e}). The interop tests run the real TSRPC on \
                     Node.js: install Node.js 18 or newer (e.g. `apt-get install nodejs npm`), \
                     then run `scripts/test`, which installs the npm packages."
                ))
            }
        }
        let tsrpc = interop_dir().join("node_modules/tsrpc/package.json");
        if !tsrpc.is_file() {
            return Err(format!(
                "the npm packages of the interop tests are not installed ({} is missing). \
                 Run `scripts/test` (it runs `npm ci` in tests/interop), or \
                 `cd tests/interop && npm ci`.",
                tsrpc.display()
            ));
        }
        Ok(())
    });
    if let Err(e) = res {
        panic!("{e}");
    }
}

fn node(script: &str) -> Command {
    require_node();
    let dir = interop_dir();
    let mut cmd = Command::new("node");
    cmd.arg(dir.join(script))
        .current_dir(dir)
        .env_remove("TSRPC_INTEROP_LOG")
        .kill_on_drop(true);
    cmd
}

/// Text collected from a child's stderr in the background (for failure messages).
#[derive(Debug, Clone, Default)]
pub struct Stderr(Arc<Mutex<String>>);

impl Stderr {
    fn collect(mut pipe: tokio::process::ChildStderr) -> Self {
        let text = Stderr::default();
        let sink = text.0.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                let mut s = sink.lock().unwrap_or_else(|e| e.into_inner());
                s.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        text
    }

    /// Everything read so far.
    pub fn text(&self) -> String {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Transport of a TSRPC reference server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `WsServer`.
    Ws,
    /// `HttpServer`.
    Http,
}

/// The real TSRPC reference server (`server.js`) on `127.0.0.1` and a free port.
///
/// It lives while its stdin is open: dropping this value (or [`stop`](Self::stop)) ends it.
#[derive(Debug)]
pub struct TsrpcServer {
    child: Child,
    stdin: Option<ChildStdin>,
    url: String,
    stderr: Stderr,
}

impl TsrpcServer {
    /// Starts `node server.js ws|http <args>` (e.g. `["--heartbeat-wait", "300"]`) and waits
    /// for its `READY <url>` line.
    pub async fn start(kind: Kind, args: &[&str]) -> Self {
        let kind_arg = match kind {
            Kind::Ws => "ws",
            Kind::Http => "http",
        };
        let mut child = node("server.js")
            .arg(kind_arg)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning node server.js: {e}"));
        let stdin = child.stdin.take();
        let stderr = Stderr::collect(child.stderr.take().expect("stderr is piped"));
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let line = match tokio::time::timeout(READY_TIMEOUT, lines.next_line()).await {
            Ok(Ok(Some(line))) => line,
            other => panic!(
                "node server.js {kind_arg} {args:?} did not print READY within {READY_TIMEOUT:?} \
                 ({other:?}); stderr: {}",
                stderr.text()
            ),
        };
        let url = line
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("unexpected first line of server.js: {line:?}"))
            .to_owned();
        // server.js prints nothing else; keep draining stdout so it can never block.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        TsrpcServer {
            child,
            stdin,
            url,
            stderr,
        }
    }

    /// `ws://127.0.0.1:<port>` or `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What the server wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.text()
    }

    /// Closes its stdin (server.js then exits) and waits for the exit; kills it after 5 s.
    pub async fn stop(mut self) {
        drop(self.stdin.take());
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// What a short-lived node script printed.
#[derive(Debug)]
pub struct ScriptOutput {
    /// Exit status.
    pub status: ExitStatus,
    /// Every stdout line, parsed as JSON.
    pub lines: Vec<Value>,
    /// stderr text.
    pub stderr: String,
}

/// Runs `node <script> <args>` to the end (at most `timeout`), with stdin closed.
pub async fn run_script(script: &str, args: &[String], timeout: Duration) -> ScriptOutput {
    run_script_with_input(script, args, None, timeout).await
}

/// Longest argument passed on a node command line: Linux refuses one over 128 KiB, so
/// longer frames and bodies go through stdin.
const MAX_ARG: usize = 64 * 1024;

/// Runs `node <script> <args>` to the end (at most `timeout`); stdin gets `input` then ends
/// (closed at once when `None`).
pub async fn run_script_with_input(
    script: &str,
    args: &[String],
    input: Option<Vec<u8>>,
    timeout: Duration,
) -> ScriptOutput {
    let mut child = node(script)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning node {script}: {e}"));
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        // Written while the child runs (it reads stdin to the end before anything else); a
        // child that died early shows in its output.
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let _ = stdin.write_all(&input).await;
        });
    }
    collect(child, script, timeout).await
}

/// Waits for a node process to end; its stdout lines are JSON.
async fn collect(child: Child, script: &str, timeout: Duration) -> ScriptOutput {
    let out = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(out) => out.unwrap_or_else(|e| panic!("node {script}: {e}")),
        Err(_) => panic!("node {script} did not finish within {timeout:?}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("node {script}: line {l:?} is not JSON: {e}"))
        })
        .collect();
    ScriptOutput {
        status: out.status,
        lines,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs JavaScript code with `node -e` in the harness folder (so `require('tsrpc')` works),
/// to the end (at most `timeout`); `args` are in `process.argv.slice(1)`.
pub async fn run_js(code: &str, args: &[String], timeout: Duration) -> ScriptOutput {
    require_node();
    let child = Command::new("node")
        .arg("-e")
        .arg(code)
        .args(args)
        .current_dir(interop_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("spawning node -e: {e}"));
    collect(child, "-e", timeout).await
}

/// Runs a `client.js` scenario (the real `WsClient` / `HttpClient`, `json: true`) against
/// `url`; checks it ran to `{"step":"done"}` with exit code 0, and returns its lines without
/// that last one.
pub async fn tsrpc_client(url: &str, scenario: &str) -> Vec<Value> {
    tsrpc_client_in(url, scenario, true).await
}

/// [`tsrpc_client`] with the client in JSON mode (`json`) or in binary mode (TSRPC's default).
pub async fn tsrpc_client_in(url: &str, scenario: &str, json: bool) -> Vec<Value> {
    let args = [
        url.to_owned(),
        scenario.to_owned(),
        "--json".to_owned(),
        json.to_string(),
    ];
    let out = run_script("client.js", &args, Duration::from_secs(30)).await;
    let done = out.lines.last() == Some(&serde_json::json!({"step": "done"}));
    assert!(
        out.status.success() && done,
        "client.js {scenario} against {url} failed ({}):\n{}\nstderr: {}",
        out.status,
        lines_text(&out.lines),
        out.stderr
    );
    let mut lines = out.lines;
    lines.pop();
    lines
}

/// Runs `rawws.js`: connects offering `protocol` (`"text"`, `"buffer"` or `"none"`), sends
/// `frames` (`t:<text>` / `b:<hex>`), and returns its event lines (open, recv..., close or
/// timeout after `timeout_ms`).
pub async fn raw_ws(url: &str, protocol: &str, timeout_ms: u64, frames: &[String]) -> Vec<Value> {
    let mut args = vec![
        "--protocol".to_owned(),
        protocol.to_owned(),
        "--timeout".to_owned(),
        timeout_ms.to_string(),
        url.to_owned(),
    ];
    let mut input = None;
    if frames.iter().map(String::len).sum::<usize>() > MAX_ARG {
        args.push("--stdin".to_owned());
        let lines: Vec<String> = frames
            .iter()
            .map(|f| Value::from(f.as_str()).to_string())
            .collect();
        input = Some((lines.join("\n") + "\n").into_bytes());
    } else {
        args.extend(frames.iter().cloned());
    }
    let out = run_script_with_input(
        "rawws.js",
        &args,
        input,
        Duration::from_millis(timeout_ms) + Duration::from_secs(15),
    )
    .await;
    assert!(
        out.status.success(),
        "rawws.js {} failed ({}):\n{}\nstderr: {}",
        short(&args.join(" ")),
        out.status,
        lines_text(&out.lines),
        out.stderr
    );
    out.lines
}

/// At most the first 300 bytes of `text` (for failure messages about huge inputs).
fn short(text: &str) -> String {
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}... ({} bytes)", &text[..i], text.len()),
        None => text.to_owned(),
    }
}

/// Runs `rawhttp.js`: one request, `body` as `t:<text>` / `b:<hex>`, `content_type` `""` for
/// none. Returns `{status, headers, body, bodyHex}`.
pub async fn raw_http(
    method: &str,
    base: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> Value {
    let (arg, input) = if body.len() > MAX_ARG {
        ("-", Some(body.as_bytes().to_vec()))
    } else {
        (body, None)
    };
    let args = [
        "--method".to_owned(),
        method.to_owned(),
        base.to_owned(),
        path.to_owned(),
        content_type.to_owned(),
        arg.to_owned(),
    ];
    let out = run_script_with_input("rawhttp.js", &args, input, Duration::from_secs(20)).await;
    assert!(
        out.status.success() && out.lines.len() == 1,
        "rawhttp.js {} failed ({}):\n{}\nstderr: {}",
        short(&format!("{args:?}")),
        out.status,
        lines_text(&out.lines),
        out.stderr
    );
    out.lines.into_iter().next().unwrap_or_default()
}

/// JSON lines, one per line, for failure messages.
pub fn lines_text(lines: &[Value]) -> String {
    lines
        .iter()
        .map(|l| l.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}
