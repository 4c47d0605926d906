//! The accept rate (BENCHMARKS.md, W7's second figure): new connections per second, each one a
//! TCP connect, the WebSocket handshake (`text`), one `Add` call checked, and the close
//! handshake, with a fixed number in flight. The same raw tokio-tungstenite code drives every
//! server, so the figure is the server's (its CPU per connection beside it).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use rpc_bench::wire::{self, ResAdd};
use tokio_tungstenite::tungstenite::Message;

use crate::common::{
    check, loopback_base, quantile, raw_connect_from, report, within, ws_addr, Res, Sampler, Sizes,
};

/// Loopback source addresses the connections take turns on (`127.<base>.255.1` ..): a run
/// opens more connections than one address has ephemeral ports while closed ones wait in
/// TIME_WAIT.
const SOURCES: u32 = 64;

fn source(base: u8, i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, base, 255, 1 + (i as u32 % SOURCES) as u8)
}

/// One connection's life; returns its duration in µs.
async fn one(url: &str, server: SocketAddr, base: u8, i: usize) -> Res<f64> {
    let t = Instant::now();
    let mut ws = within(
        "a connection",
        raw_connect_from(url, server, source(base, i)),
    )
    .await??;
    let (a, b) = (i as u64, i as u64 + 1);
    ws.send(Message::text(format!(
        "[\"Add\",{{\"a\":{a},\"b\":{b}}},1]"
    )))
    .await
    .map_err(|e| format!("send Add: {e}"))?;
    loop {
        match within("the Add reply", ws.next()).await? {
            Some(Ok(Message::Text(t))) => {
                let (res, sn) = wire::decode_ret::<ResAdd>(t.as_str())?;
                check(sn == 1 && res.c == (a + b) as f64, || {
                    format!("connection {i}: Add({a}, {b}) returned {} (sn {sn})", res.c)
                })?;
                break;
            }
            Some(Ok(Message::Close(f))) => return Err(format!("closed by the server: {f:?}")),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(format!("connection {i}: {e}")),
            None => return Err(format!("connection {i} ended before the reply")),
        }
    }
    ws.close(None)
        .await
        .map_err(|e| format!("connection {i}: close: {e}"))?;
    // Until the server's Close frame (tungstenite then ends the stream).
    while let Some(m) = within("the server's close", ws.next()).await? {
        if m.is_err() {
            break;
        }
    }
    Ok(t.elapsed().as_secs_f64() * 1e6)
}

/// `n` connections, `window` in flight; the per-connection durations.
async fn batch(
    url: &str,
    server: SocketAddr,
    base: u8,
    first: usize,
    n: usize,
    window: usize,
) -> Res<Vec<f64>> {
    let results: Vec<Res<f64>> = futures_util::stream::iter(first..first + n)
        .map(|i| one(url, server, base, i))
        .buffer_unordered(window)
        .collect()
        .await;
    results.into_iter().collect()
}

/// A warm-up batch, then `reps` measured ones: `REP` lines with the rate in connections/s and
/// the p50/p99 of one connection's life in µs.
pub(crate) async fn run(url: &str, sizes: Sizes, reps: usize, s: Sampler) -> Res<()> {
    let server = ws_addr(url)?;
    let base = loopback_base();
    let mut next = 0;
    batch(url, server, base, next, sizes.acc_warm, sizes.acc_window).await?;
    next += sizes.acc_warm;
    for _ in 0..reps {
        let a = s.snap();
        let t0 = Instant::now();
        let mut lat = batch(url, server, base, next, sizes.acc_n, sizes.acc_window).await?;
        let secs = t0.elapsed().as_secs_f64();
        let b = s.snap();
        next += sizes.acc_n;
        lat.sort_by(f64::total_cmp);
        report(
            sizes.acc_n as f64 / secs,
            quantile(&lat, 0.5),
            quantile(&lat, 0.99),
            secs * 1e3,
            &s.cpu(&a, &b),
        );
    }
    Ok(())
}
