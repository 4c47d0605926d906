//! The short soak that runs in every CI run (the full one is the `soak` binary; README.md).

use std::path::Path;
use std::time::Duration;

use rpc_tests::soak::{run, SoakConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_soak_loses_nothing_and_memory_is_flat() {
    let cfg = SoakConfig {
        conns: 200,
        msgs: 100,
        broadcasts: 20,
        rounds: 3,
        round_timeout: Duration::from_secs(120),
    };
    let (baseline, reports) = run(Path::new(env!("CARGO_BIN_EXE_chat-server")), cfg)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    println!("server RSS before: {baseline} KiB");
    for r in &reports {
        println!("{r:?}");
        assert_eq!(r.echoes, cfg.conns * cfg.msgs);
        assert_eq!(r.broadcast_deliveries, cfg.conns * cfg.broadcasts);
    }
    let first = reports[0].server_rss_kib;
    let last = reports[reports.len() - 1].server_rss_kib;
    assert!(
        last <= first + first / 5 + 4096,
        "server memory grew from {first} KiB to {last} KiB across rounds"
    );
}
