//! `idle-rss <ws-url> <server-pid> [steps] [protocol]`: opens idle WebSocket connections to a
//! server (handshake only, sub-protocol `text` unless given, 64 handshakes in flight) up to
//! each of `steps` (default `1000,5000,10000`), and after each step (2 s to settle) prints the
//! server's RSS and its growth per connection since before the first. Each connection reads
//! what the server sends (pings are answered), so none is dropped as half-open. Raise the
//! descriptor limit first (`ulimit -n 20000`); one source address gives ~28,000 ports.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use rpc_bench::procfs;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(url), Some(pid)) = (
        args.first(),
        args.get(1).and_then(|p| p.parse::<u32>().ok()),
    ) else {
        eprintln!("usage: idle-rss <ws-url> <server-pid> [steps, e.g. 1000,5000,10000] [protocol]");
        std::process::exit(2);
    };
    let steps: Vec<usize> = args
        .get(2)
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1000, 5000, 10000]);
    let protocol = args.get(3).cloned().unwrap_or_else(|| "text".into());
    let Some(before) = procfs::rss_kib(pid) else {
        eprintln!("no VmRSS for pid {pid}");
        std::process::exit(1);
    };
    println!("server pid {pid}: RSS before {before} KiB");
    let mut open = 0usize;
    let t0 = Instant::now();
    for k in steps {
        let started = Instant::now();
        let opened: Vec<Result<(), String>> = futures_util::stream::iter(open..k)
            .map(|_| connect(url, &protocol))
            .buffer_unordered(64)
            .collect()
            .await;
        let failed = opened.iter().filter(|r| r.is_err()).count();
        if let Some(Err(e)) = opened.iter().find(|r| r.is_err()) {
            eprintln!("{failed} connections failed, first: {e}");
        }
        open = k - failed;
        let took = started.elapsed();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let Some(rss) = procfs::rss_kib(pid) else {
            eprintln!("the server is gone");
            std::process::exit(1);
        };
        let per = (rss as f64 - before as f64) / open.max(1) as f64;
        println!(
            "{open} connections: RSS {rss} KiB, {per:.2} KiB per connection (this step opened in {:.2} s; {:.1} s in all)",
            took.as_secs_f64(),
            t0.elapsed().as_secs_f64()
        );
    }
}

/// Opens one connection and leaves a task reading it.
async fn connect(url: &str, protocol: &str) -> Result<(), String> {
    let mut req = url.into_client_request().map_err(|e| e.to_string())?;
    let value = HeaderValue::from_str(protocol).map_err(|e| e.to_string())?;
    req.headers_mut().insert("sec-websocket-protocol", value);
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} });
    Ok(())
}
