//! What both load clients share: sizes, the CPU sampler, the report line, raw connects.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use rpc_bench::procfs;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;
pub(crate) type Res<T> = Result<T, String>;

/// How long one wait (a reply, a push, a fan-out round) may take before the run fails.
pub(crate) const WAIT: Duration = Duration::from_secs(60);

/// Sizes of the workloads (BENCHMARKS.md, or the smaller `--quick` ones).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    pub(crate) w1_warm: u64,
    pub(crate) w1_n: u64,
    pub(crate) w2_warm: u64,
    pub(crate) w2_n: u64,
    pub(crate) w2_window: usize,
    pub(crate) w3_warm: u64,
    pub(crate) w3_n: u64,
    pub(crate) w4_conns: usize,
    pub(crate) w4_m: u64,
    pub(crate) w5_k: usize,
    /// W7: the connection counts at which the server's RSS is read (the last is the total).
    pub(crate) w7_steps: [usize; 4],
    /// W7: the client processes the connections are spread over.
    pub(crate) w7_procs: usize,
    /// Accept rate: connections per repetition, after a warm-up of `acc_warm`.
    pub(crate) acc_warm: usize,
    pub(crate) acc_n: usize,
    /// Accept rate: connections in flight.
    pub(crate) acc_window: usize,
}

impl Sizes {
    pub(crate) fn new(quick: bool) -> Sizes {
        if quick {
            Sizes {
                w1_warm: 200,
                w1_n: 2_000,
                w2_warm: 1_000,
                w2_n: 10_000,
                w2_window: 64,
                w3_warm: 2_000,
                w3_n: 20_000,
                w4_conns: 50,
                w4_m: 200,
                w5_k: 500,
                w7_steps: [250, 500, 1_000, 2_000],
                w7_procs: 2,
                acc_warm: 100,
                acc_n: 1_000,
                acc_window: 32,
            }
        } else {
            Sizes {
                w1_warm: 2_000,
                w1_n: 10_000,
                w2_warm: 10_000,
                w2_n: 50_000,
                w2_window: 64,
                w3_warm: 10_000,
                w3_n: 100_000,
                w4_conns: 500,
                w4_m: 200,
                w5_k: 5_000,
                w7_steps: [1_000, 5_000, 10_000, 19_000],
                w7_procs: 4,
                acc_warm: 500,
                acc_n: 5_000,
                acc_window: 32,
            }
        }
    }
}

/// CPU counters at one instant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snap {
    t: Instant,
    srv: u64,
    cli: u64,
    busy: u64,
    srv_ns: u64,
    cli_ns: u64,
}

/// Reads the counters of the server process, this process and the machine.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sampler {
    pub(crate) server_pid: u32,
    tck: f64,
}

impl Sampler {
    pub(crate) fn new(server_pid: u32) -> Self {
        Sampler {
            server_pid,
            tck: procfs::clk_tck() as f64,
        }
    }
    pub(crate) fn snap(&self) -> Snap {
        Snap {
            t: Instant::now(),
            srv: procfs::cpu_ticks(self.server_pid).unwrap_or(0),
            cli: procfs::cpu_ticks(std::process::id()).unwrap_or(0),
            busy: procfs::busy_ticks().unwrap_or(0),
            srv_ns: procfs::cpu_ns(self.server_pid).unwrap_or(0),
            cli_ns: procfs::cpu_ns(std::process::id()).unwrap_or(0),
        }
    }
    /// `srv=.. cli=.. other=..` in percent of one core (ticks), then `srvns=.. clins=..`,
    /// the CPU nanoseconds of server and client (schedstat).
    pub(crate) fn cpu(&self, a: &Snap, b: &Snap) -> String {
        let secs = (b.t - a.t).as_secs_f64().max(1e-9);
        let pct = |ticks: u64| ticks as f64 / self.tck / secs * 100.0;
        let srv = b.srv.saturating_sub(a.srv);
        let cli = b.cli.saturating_sub(a.cli);
        let other = b.busy.saturating_sub(a.busy).saturating_sub(srv + cli);
        format!(
            "srv={:.0} cli={:.0} other={:.0} srvns={} clins={}",
            pct(srv),
            pct(cli),
            pct(other),
            b.srv_ns.saturating_sub(a.srv_ns),
            b.cli_ns.saturating_sub(a.cli_ns)
        )
    }
}

/// One measured repetition, as the orchestrator reads it.
pub(crate) fn report(rate: f64, p50_us: f64, p99_us: f64, ms: f64, cpu: &str) {
    println!("REP rate={rate:.3} p50={p50_us:.2} p99={p99_us:.2} ms={ms:.3} {cpu}");
}

/// The value at quantile `q` of sorted `v`.
pub(crate) fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((v.len() as f64 - 1.0) * q).round() as usize;
    v[i.min(v.len() - 1)]
}

/// A raw tokio-tungstenite connection with the `text` sub-protocol, TCP_NODELAY and an 8 KiB
/// read buffer.
pub(crate) async fn raw_connect(url: &str) -> Res<Ws> {
    raw_connect_as(url, "text").await
}

/// [`raw_connect`] asking for `protocol`: TSRPC's `text` (JSON) or `buffer` (binary).
pub(crate) async fn raw_connect_as(url: &str, protocol: &'static str) -> Res<Ws> {
    let mut req = url.into_client_request().map_err(|e| e.to_string())?;
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(protocol));
    let mut config = WebSocketConfig::default();
    config.read_buffer_size = 8 * 1024;
    let (ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(config), true)
        .await
        .map_err(|e| format!("connect {url}: {e}"))?;
    Ok(ws)
}

/// A raw tokio-tungstenite connection with the `text` sub-protocol, TCP_NODELAY and an 8 KiB
/// read buffer, from the loopback source address `src` (port chosen by the kernel): one source
/// address has only `ip_local_port_range` ports (about 28k), and W7 and the accept rate need
/// more connections than that over a run.
pub(crate) async fn raw_connect_from(
    url: &str,
    server: SocketAddr,
    src: Ipv4Addr,
) -> Res<WebSocketStream<TcpStream>> {
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    socket
        .bind(SocketAddr::from((src, 0)))
        .map_err(|e| format!("bind {src}: {e}"))?;
    let stream = socket
        .connect(server)
        .await
        .map_err(|e| format!("connect {server} from {src}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut req = url.into_client_request().map_err(|e| e.to_string())?;
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("text"));
    let mut config = WebSocketConfig::default();
    config.read_buffer_size = 8 * 1024;
    let (ws, _) = tokio_tungstenite::client_async_with_config(req, stream, Some(config))
        .await
        .map_err(|e| format!("handshake {url} from {src}: {e}"))?;
    Ok(ws)
}

/// The second octet of the loopback source addresses a run binds (`127.<base>.x.y`), from the
/// clock (1-250, one a second): closed connections keep their source port in TIME_WAIT for
/// 60 s, and a run that reused the addresses of the run before found the kernel hunting for
/// free ports (W7 slowed from 2 s to 12-18 s to establish 19,000 connections).
pub(crate) fn loopback_base() -> u8 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    (secs % 250) as u8 + 1
}

/// The socket address of a `ws://host:port[/]` URL.
pub(crate) fn ws_addr(url: &str) -> Res<SocketAddr> {
    url.trim_start_matches("ws://")
        .trim_end_matches('/')
        .parse()
        .map_err(|e| format!("bad url {url}: {e}"))
}

/// Awaits `fut` for at most [`WAIT`].
pub(crate) async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> Res<T> {
    tokio::time::timeout(WAIT, fut)
        .await
        .map_err(|_| format!("timed out waiting for {what}"))
}

/// Fails unless `ok`.
pub(crate) fn check(ok: bool, what: impl FnOnce() -> String) -> Res<()> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}
