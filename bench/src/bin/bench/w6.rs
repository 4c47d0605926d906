//! W6, scale-out: `bench w6 [--quick] [--reps N] [--json]`. Broadcasts from one server
//! instance reach the connections of two instances through Redis (`RedisCluster`, a
//! redis-server this starts on a free port, without persistence); the same run measures W4 on
//! one instance (no cluster) with as many connections, for the ratio. Servers and clients
//! share this process (one tokio runtime on every core), so both setups pay the same client
//! cost; Redis is a process of its own. A round: instance A broadcasts `m` Chat messages
//! (`rpc_bench::chat(i)`); it ends when every connection has all `m`. Deliveries per second:
//! connections x m / round time. Latency: from the `broadcast_msg` call to a client's
//! listener, for clients of A ("local") and of B (through Redis, "remote").

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use protocols::bench::{self, ResAdd, ResStartFanout, ResStartPush};
use rpc_bench::{chat, procfs};
use rpc_runtime::client::WsClientOptions;
use rpc_runtime::cluster::{RedisCluster, RedisClusterOptions};
use rpc_runtime::server::ServerOptions;
use tokio::sync::Notify;

use crate::common::{quantile, Res};

struct Args {
    conns: usize,
    m: u64,
    reps: usize,
    json: bool,
}

/// The entry point: prints the W6 table; 1 on failure.
pub(crate) fn main(args: &[String]) -> i32 {
    let quick = args.iter().any(|a| a == "--quick");
    let reps = args
        .iter()
        .position(|a| a == "--reps")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(if quick { 2 } else { 5 });
    let a = Args {
        conns: if quick { 100 } else { 500 },
        m: 200,
        reps,
        json: args.iter().any(|a| a == "--json"),
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("w6: runtime: {e}");
            return 1;
        }
    };
    match rt.block_on(run(&a)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("w6 FAILED: {e}");
            1
        }
    }
}

/// A redis-server of the bench's own, killed when dropped.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start() -> Res<Redis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("free port: {e}"))?
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("redis-server ({e}): apt-get install -y redis-server"))?;
        let r = Redis { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("redis-server did not listen within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(r)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the clients of one setup record.
struct Fan {
    counts: Vec<AtomicU64>,
    /// Connections that have not got the whole round yet.
    remaining: AtomicUsize,
    target: AtomicU64,
    done: Notify,
    /// When message `i` was handed to `broadcast_msg`, in ns after `base`.
    sent_at: Vec<AtomicU64>,
    base: Instant,
    /// Latencies (µs) of the round, by whether the client is on the publishing instance.
    lat: [Mutex<Vec<f64>>; 2],
    last: Mutex<Option<Instant>>,
}

struct Round {
    rate: f64,
    lat_local: (f64, f64),
    lat_remote: (f64, f64),
    /// Latencies of the paced round (one broadcast every 2 ms).
    paced_local: (f64, f64),
    paced_remote: (f64, f64),
    redis_cpu_ms: f64,
}

async fn start_instance(cluster: Option<Arc<RedisCluster>>) -> Res<rpc_runtime::RunningServer> {
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut server = bench::Server::ws(addr, ServerOptions::default())
        .implement_api_add(|call| async move {
            Ok(ResAdd {
                c: call.req.a + call.req.b,
            })
        })
        .implement_api_start_push(|_| async move { Ok(ResStartPush {}) })
        .implement_api_start_fanout(|_| async move { Ok(ResStartFanout {}) });
    if let Some(c) = cluster {
        server = server.map(|s| s.cluster(c));
    }
    Ok(server
        .start()
        .await
        .map_err(|e| format!("start: {e}"))?
        .into_inner())
}

/// One setup: `servers[0]` broadcasts; `per` connections on each server.
async fn measure(
    servers: &[rpc_runtime::RunningServer],
    per: usize,
    a: &Args,
    redis_pid: Option<u32>,
) -> Res<Vec<Round>> {
    let total = per * servers.len();
    let fan = Arc::new(Fan {
        counts: (0..total).map(|_| AtomicU64::new(0)).collect(),
        remaining: AtomicUsize::new(0),
        target: AtomicU64::new(0),
        done: Notify::new(),
        sent_at: (0..a.m).map(|_| AtomicU64::new(0)).collect(),
        base: Instant::now(),
        lat: [Mutex::new(Vec::new()), Mutex::new(Vec::new())],
        last: Mutex::new(None),
    });
    let mut clients = Vec::with_capacity(total);
    for (k, server) in servers.iter().enumerate() {
        for j in 0..per {
            let idx = k * per + j;
            let options = WsClientOptions::default().json(a.json);
            let client = bench::Client::ws(format!("ws://{}", server.local_addr()), options);
            client
                .connect()
                .await
                .map_err(|e| format!("connect: {e}"))?;
            let f = fan.clone();
            let remote = usize::from(k > 0);
            client.listen_msg_chat(move |m| {
                let now = Instant::now();
                let i: usize = m.content[..8].parse().unwrap_or(usize::MAX);
                if let Some(t) = f.sent_at.get(i) {
                    let sent = t.load(Ordering::Acquire) as f64;
                    let lat = (now - f.base).as_nanos() as f64 - sent;
                    f.lat[remote]
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(lat / 1e3);
                }
                let got = f.counts[idx].fetch_add(1, Ordering::AcqRel) + 1;
                if got == f.target.load(Ordering::Acquire) {
                    let mut last = f.last.lock().unwrap_or_else(|e| e.into_inner());
                    if last.is_none_or(|l| l < now) {
                        *last = Some(now);
                    }
                    drop(last);
                    if f.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
                        f.done.notify_one();
                    }
                }
            });
            clients.push(client);
        }
    }
    // A client's connect returns with the handshake; its server registers the connection just
    // after: wait for every one, so that no round starts without one of them.
    let deadline = Instant::now() + Duration::from_secs(10);
    while servers.iter().any(|s| s.connections().len() < per) {
        if Instant::now() > deadline {
            return Err("the servers did not register every client".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // `pace`: a wait between broadcasts (latency rounds), or none (throughput rounds).
    let round = |m: u64, pace: Option<Duration>| {
        let fan = fan.clone();
        let server = servers[0].handle();
        async move {
            for c in &fan.counts {
                c.store(0, Ordering::Release);
            }
            for l in &fan.lat {
                l.lock().unwrap_or_else(|e| e.into_inner()).clear();
            }
            *fan.last.lock().unwrap_or_else(|e| e.into_inner()) = None;
            fan.target.store(m, Ordering::Release);
            fan.remaining.store(total, Ordering::Release);
            let done = fan.done.notified();
            let cpu0 = redis_pid.and_then(procfs::cpu_ns);
            let t0 = Instant::now();
            let f = fan.clone();
            tokio::spawn(async move {
                for i in 0..m {
                    let at = (Instant::now() - f.base).as_nanos() as u64;
                    f.sent_at[i as usize].store(at, Ordering::Release);
                    let _ = server.broadcast_msg(&chat(i)).await;
                    if let Some(p) = pace {
                        tokio::time::sleep(p).await;
                    }
                }
            });
            tokio::time::timeout(Duration::from_secs(60), done)
                .await
                .map_err(|_| "a round took over 60 s (messages lost?)".to_owned())?;
            let end = fan
                .last
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(Instant::now);
            let secs = (end - t0).as_secs_f64();
            let cpu1 = redis_pid.and_then(procfs::cpu_ns);
            let q = |v: usize| {
                let mut l =
                    std::mem::take(&mut *fan.lat[v].lock().unwrap_or_else(|e| e.into_inner()));
                l.sort_by(f64::total_cmp);
                (quantile(&l, 0.5), quantile(&l, 0.99))
            };
            Res::Ok(Round {
                rate: (total as u64 * m) as f64 / secs,
                lat_local: q(0),
                lat_remote: q(1),
                paced_local: (f64::NAN, f64::NAN),
                paced_remote: (f64::NAN, f64::NAN),
                redis_cpu_ms: match (cpu0, cpu1) {
                    (Some(a), Some(b)) => (b - a) as f64 / 1e6,
                    _ => f64::NAN,
                },
            })
        }
    };
    round(a.m / 10, None).await?;
    let mut rounds = Vec::with_capacity(a.reps);
    for _ in 0..a.reps {
        rounds.push(round(a.m, None).await?);
    }
    // Latency alone: one broadcast every 2 ms, so nothing queues behind another.
    let paced = round(a.m / 2, Some(Duration::from_millis(2))).await?;
    for r in &mut rounds {
        r.paced_local = paced.lat_local;
        r.paced_remote = paced.lat_remote;
    }
    for c in &clients {
        c.disconnect().await;
    }
    Ok(rounds)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    quantile(&v, 0.5)
}

async fn run(a: &Args) -> Res<()> {
    let mode = if a.json { "JSON" } else { "binary" };
    println!(
        "W6: {} connections, {} broadcasts of Chat(i) a round, {} rounds (median), {mode} clients",
        a.conns, a.m, a.reps
    );
    // W4 on one instance, no cluster.
    let single = start_instance(None).await?;
    let w4 = measure(std::slice::from_ref(&single), a.conns, a, None).await?;
    single.stop().await;

    // W6: two instances with their adapters, on a Redis of their own.
    let redis = Redis::start()?;
    let url = format!("redis://127.0.0.1:{}/", redis.port);
    let mut servers = Vec::new();
    let mut clusters = Vec::new();
    for id in [1, 2] {
        let c = RedisCluster::new(RedisClusterOptions::new(&url).instance_id(id))
            .map_err(|e| e.to_string())?;
        servers.push(start_instance(Some(c.clone())).await?);
        clusters.push(c);
    }
    for c in &clusters {
        if !c.wait_for_instances(1, Duration::from_secs(5)).await {
            return Err("the instances did not meet through Redis".into());
        }
    }
    let w6 = measure(&servers, a.conns / 2, a, Some(redis.child.id())).await?;
    let stats = clusters[0].stats();
    for s in &servers {
        s.stop().await;
    }
    drop(redis);

    let rate = |r: &[Round]| median(r.iter().map(|x| x.rate).collect());
    let (r4, r6) = (rate(&w4), rate(&w6));
    let us = |v: (f64, f64)| {
        if v.0.is_nan() {
            "-".to_owned()
        } else {
            format!("{:.0} / {:.0}", v.0, v.1)
        }
    };
    println!();
    println!(
        "| setup | deliveries/s | vs W4 | burst p50 / p99 local | burst p50 / p99 via Redis \
         | paced p50 / p99 local | paced p50 / p99 via Redis | Redis CPU a round |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, r, ratio) in [
        (
            format!("W4: one instance, {} connections", a.conns),
            &w4,
            1.0,
        ),
        (
            format!(
                "W6: two instances + Redis, {} + {}",
                a.conns / 2,
                a.conns / 2
            ),
            &w6,
            r6 / r4,
        ),
    ] {
        let m = |f: fn(&Round) -> (f64, f64)| {
            (
                median(r.iter().map(|x| f(x).0).collect()),
                median(r.iter().map(|x| f(x).1).collect()),
            )
        };
        let cpu = median(r.iter().map(|x| x.redis_cpu_ms).collect());
        println!(
            "| {name} | {:.0} | {ratio:.2}x | {} | {} | {} | {} | {} |",
            rate(r),
            us(m(|x| x.lat_local)),
            us(m(|x| x.lat_remote)),
            us(m(|x| x.paced_local)),
            us(m(|x| x.paced_remote)),
            if cpu.is_nan() {
                "-".to_owned()
            } else {
                format!("{cpu:.1} ms")
            },
        );
    }
    println!("(latencies in µs, from the broadcast_msg call to the client's listener)");
    println!();
    println!(
        "publisher: {} published to Redis, {} dropped, {} failed writes",
        stats.published,
        stats.dropped_unavailable + stats.dropped_queue_full,
        stats.failed_writes
    );
    Ok(())
}
