//! The short soak that runs in every CI run (the full one is the `soak` binary; README.md).

use std::path::Path;
use std::time::Duration;

use rpc_tests::soak::{run, SoakConfig, HEAP_SLACK};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_soak_loses_nothing_and_memory_is_flat() {
    let cfg = SoakConfig {
        conns: 200,
        msgs: 100,
        broadcasts: 20,
        rounds: 3,
        round_timeout: Duration::from_secs(120),
    };
    let ((rss, heap), reports) = run(Path::new(env!("CARGO_BIN_EXE_chat-server")), cfg)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    println!("server before: RSS {rss} KiB, live heap {heap} B");
    assert_eq!(reports.len(), cfg.rounds);
    for (i, r) in reports.iter().enumerate() {
        println!("{r:?}");
        // The round only counts; these are the checks.
        assert_eq!(r.echoes, cfg.conns * cfg.msgs, "echoes lost in round {i}");
        assert_eq!(
            r.broadcast_deliveries,
            cfg.conns * cfg.broadcasts,
            "broadcast deliveries lost in round {i}"
        );
        assert_eq!(r.out_of_order, 0, "messages out of order in round {i}");
        assert_eq!(r.disconnects, 0, "connections closed in round {i}");
        assert!(r.server_rss_kib > 0 && r.server_heap > 0);
    }
    let first = reports[0].server_heap;
    for (i, r) in reports.iter().enumerate().skip(1) {
        assert!(
            r.server_heap <= first + HEAP_SLACK,
            "the server's live heap grew from {first} B after round 1 to {} B after round {}",
            r.server_heap,
            i + 1
        );
    }
}
