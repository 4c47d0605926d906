//! The load client on our framework: the generated `protocols::bench::Client`, default options
//! but the mode: `WsClientOptions::default().json(true)` for JSON (the client's default is
//! binary, as TSRPC's), `WsClientOptions::default()` for binary.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use protocols::bench::{self, ReqAdd, ReqStartFanout, ReqStartPush};
use rpc_runtime::client::WsClientOptions;
use tokio::sync::Notify;

use crate::common::{check, quantile, report, within, Res, Sampler, Sizes};

type Client = bench::Client;

async fn connect(url: &str, json: bool) -> Res<Client> {
    let options = if json {
        WsClientOptions::default().json(true)
    } else {
        WsClientOptions::default()
    };
    let client = bench::Client::ws(url, options);
    client
        .connect()
        .await
        .map_err(|e| format!("connect: {e}"))?;
    Ok(client)
}

async fn add(client: &Client, i: u64) -> Res<()> {
    let res = client
        .call_add(ReqAdd {
            a: i as f64,
            b: (i + 1) as f64,
        })
        .await
        .map_err(|e| format!("Add #{i}: {e}"))?;
    check(res.c == (2 * i + 1) as f64, || {
        format!("Add #{i}: c = {}", res.c)
    })
}

pub(crate) async fn w1(url: &str, json: bool, sizes: Sizes, reps: usize, s: Sampler) -> Res<()> {
    let client = connect(url, json).await?;
    for i in 0..sizes.w1_warm {
        add(&client, i).await?;
    }
    for _ in 0..reps {
        let mut lat = Vec::with_capacity(sizes.w1_n as usize);
        let a = s.snap();
        let t0 = Instant::now();
        for i in 0..sizes.w1_n {
            let t = Instant::now();
            add(&client, i).await?;
            lat.push(t.elapsed().as_secs_f64() * 1e6);
        }
        let secs = t0.elapsed().as_secs_f64();
        let b = s.snap();
        lat.sort_by(f64::total_cmp);
        report(
            sizes.w1_n as f64 / secs,
            quantile(&lat, 0.5),
            quantile(&lat, 0.99),
            secs * 1e3,
            &s.cpu(&a, &b),
        );
    }
    client.disconnect().await;
    Ok(())
}

async fn pipelined(client: &Client, n: u64, window: usize) -> Res<()> {
    let call = |i: u64| add(client, i).map(move |r| (i, r));
    let mut inflight = FuturesUnordered::new();
    let mut next = 0;
    while next < n && inflight.len() < window {
        inflight.push(call(next));
        next += 1;
    }
    while let Some((_, r)) = inflight.next().await {
        r?;
        if next < n {
            inflight.push(call(next));
            next += 1;
        }
    }
    Ok(())
}

pub(crate) async fn w2(url: &str, json: bool, sizes: Sizes, reps: usize, s: Sampler) -> Res<()> {
    let client = connect(url, json).await?;
    pipelined(&client, sizes.w2_warm, sizes.w2_window).await?;
    for _ in 0..reps {
        let a = s.snap();
        let t0 = Instant::now();
        pipelined(&client, sizes.w2_n, sizes.w2_window).await?;
        let secs = t0.elapsed().as_secs_f64();
        let b = s.snap();
        report(
            sizes.w2_n as f64 / secs,
            0.0,
            0.0,
            secs * 1e3,
            &s.cpu(&a, &b),
        );
    }
    client.disconnect().await;
    Ok(())
}

/// Progress of a push or a fan-out round, updated by the listeners.
#[derive(Default)]
struct Progress {
    next: AtomicU64,
    target: AtomicU64,
    done: Notify,
    end: Mutex<Option<Instant>>,
    failed: AtomicBool,
    error: Mutex<Option<String>>,
}

impl Progress {
    fn fail(&self, e: String) {
        if !self.failed.swap(true, Ordering::AcqRel) {
            *self.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
            self.done.notify_one();
        }
    }
    fn result(&self) -> Res<Instant> {
        if let Some(e) = self.error.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return Err(e);
        }
        self.end
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .ok_or_else(|| "no end time".to_owned())
    }
}

async fn push(client: &Client, p: &Progress, n: u64) -> Res<(Instant, Instant)> {
    p.next.store(0, Ordering::Release);
    p.target.store(n, Ordering::Release);
    let t0 = Instant::now();
    client
        .call_start_push(ReqStartPush { n })
        .await
        .map_err(|e| format!("StartPush: {e}"))?;
    within("the pushed frames", p.done.notified()).await?;
    Ok((t0, p.result()?))
}

pub(crate) async fn w3(url: &str, json: bool, sizes: Sizes, reps: usize, s: Sampler) -> Res<()> {
    let client = connect(url, json).await?;
    let p = Arc::new(Progress::default());
    let pl = p.clone();
    client.listen_msg_game_frame(move |m| {
        let k = pl.next.load(Ordering::Acquire);
        if m.frame != k || m.inputs.len() != 4 {
            pl.fail(format!(
                "GameFrame {} (expected {k}), {} inputs",
                m.frame,
                m.inputs.len()
            ));
            return;
        }
        pl.next.store(k + 1, Ordering::Release);
        if k + 1 == pl.target.load(Ordering::Acquire) {
            *pl.end.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
            pl.done.notify_one();
        }
    });
    push(&client, &p, sizes.w3_warm).await?;
    for _ in 0..reps {
        let a = s.snap();
        let (t0, end) = push(&client, &p, sizes.w3_n).await?;
        let b = s.snap();
        let secs = (end - t0).as_secs_f64();
        report(
            sizes.w3_n as f64 / secs,
            0.0,
            0.0,
            secs * 1e3,
            &s.cpu(&a, &b),
        );
    }
    client.disconnect().await;
    Ok(())
}

/// Fan-out bookkeeping: per-connection counts, connections still short of the target.
struct Fan {
    counts: Vec<AtomicU64>,
    remaining: AtomicUsize,
    p: Progress,
}

pub(crate) async fn w4(url: &str, json: bool, sizes: Sizes, reps: usize, s: Sampler) -> Res<()> {
    let c = sizes.w4_conns;
    let fan = Arc::new(Fan {
        counts: (0..c).map(|_| AtomicU64::new(0)).collect(),
        remaining: AtomicUsize::new(0),
        p: Progress::default(),
    });
    let mut clients = Vec::with_capacity(c);
    for j in 0..c {
        let client = connect(url, json).await?;
        add(&client, j as u64).await?;
        let f = fan.clone();
        client.listen_msg_chat(move |m| {
            if m.content.len() != 100 || m.name != "bot" {
                f.p.fail(format!("conn {j}: bad Chat {m:?}"));
                return;
            }
            let got = f.counts[j].fetch_add(1, Ordering::AcqRel) + 1;
            if got == f.p.target.load(Ordering::Acquire) {
                let now = Instant::now();
                let mut end = f.p.end.lock().unwrap_or_else(|e| e.into_inner());
                if end.is_none_or(|e| e < now) {
                    *end = Some(now);
                }
                drop(end);
                if f.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
                    f.p.done.notify_one();
                }
            }
        });
        clients.push(client);
    }
    let round = |m: u64| {
        let fan = fan.clone();
        let first = clients[0].clone();
        async move {
            for n in &fan.counts {
                n.store(0, Ordering::Release);
            }
            *fan.p.end.lock().unwrap_or_else(|e| e.into_inner()) = None;
            fan.p.target.store(m, Ordering::Release);
            fan.remaining.store(c, Ordering::Release);
            let t0 = Instant::now();
            first
                .call_start_fanout(ReqStartFanout { m })
                .await
                .map_err(|e| format!("StartFanout: {e}"))?;
            within("the fan-out round", fan.p.done.notified()).await?;
            let end = fan.p.result()?;
            Res::Ok(end - t0)
        }
    };
    round(sizes.w4_m / 10).await?;
    for _ in 0..reps {
        let a = s.snap();
        let took = round(sizes.w4_m).await?;
        let b = s.snap();
        let secs = took.as_secs_f64();
        report(
            (c as u64 * sizes.w4_m) as f64 / secs,
            0.0,
            0.0,
            secs * 1e3,
            &s.cpu(&a, &b),
        );
    }
    for client in &clients {
        client.disconnect().await;
    }
    Ok(())
}
