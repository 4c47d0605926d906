//! The full soak: `cargo run --release -p rpc-tests --bin soak -- [conns] [msgs] [broadcasts] [rounds]`
//! (default 2000 connections x 1000 messages, 100 broadcasts, 3 rounds). It starts the
//! `chat-server` binary next to it (build it first: `cargo build --release -p rpc-tests`), and
//! exits non-zero if anything was lost or reordered, or the server's live heap grew from round
//! to round.

use std::time::Duration;

use rpc_tests::soak::{check_memory, run, SoakConfig};

#[tokio::main]
async fn main() {
    let arg = |i: usize, default: usize| {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let cfg = SoakConfig {
        conns: arg(1, 2000),
        msgs: arg(2, 1000),
        broadcasts: arg(3, 100),
        rounds: arg(4, 3),
        round_timeout: Duration::from_secs(600),
    };
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("chat-server")))
        .filter(|p| p.exists())
        .unwrap_or_else(|| {
            eprintln!("chat-server not found next to soak: run `cargo build --release -p rpc-tests` first");
            std::process::exit(2)
        });
    println!("soak: {cfg:?}");
    match run(&exe, cfg).await {
        Ok(((rss, heap), reports)) => {
            println!(
                "server before: RSS {rss} KiB, live heap {} KiB",
                heap / 1024
            );
            let mut failed = false;
            for (i, r) in reports.iter().enumerate() {
                if let Err(e) = r.check(&cfg) {
                    eprintln!("round {}: {e}", i + 1);
                    failed = true;
                    continue;
                }
                let rate = r.echoes as f64 / r.elapsed.as_secs_f64();
                println!(
                    "round {}: {} echoes and {} broadcast deliveries in {:.2?} ({rate:.0} echoes/s), zero lost, order kept; server after: live heap {} KiB, RSS {} KiB",
                    i + 1,
                    r.echoes,
                    r.broadcast_deliveries,
                    r.elapsed,
                    r.server_heap / 1024,
                    r.server_rss_kib
                );
            }
            if failed {
                std::process::exit(1);
            }
            if let Err(e) = check_memory(&reports) {
                eprintln!("{e}");
                std::process::exit(1);
            }
            let (first, last) = (&reports[0], &reports[reports.len() - 1]);
            println!(
                "server memory flat across rounds: live heap {} KiB -> {} KiB (RSS {} KiB -> {} KiB, what the allocator keeps)",
                first.server_heap / 1024,
                last.server_heap / 1024,
                first.server_rss_kib,
                last.server_rss_kib
            );
        }
        Err(e) => {
            eprintln!("soak failed: {e}");
            std::process::exit(1);
        }
    }
}
