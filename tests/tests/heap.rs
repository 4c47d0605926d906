//! The live heap does not grow across repeats of each bad-input case.
//!
//! A counting global allocator (stats_alloc) tracks live bytes; the server and the raw clients run on one
//! current-thread runtime in this binary of its own (one test, so nothing else allocates
//! meanwhile). Each case runs a few times to warm up (schemas are compiled once per type,
//! tokio's timer wheel grows once), then `REPEATS` times; the live heap before and after must
//! differ by less than `SLACK`.

use std::alloc::System;
use std::time::Duration;

use rpc_tests::any_port;
use rpc_tests::bad_input::{cases, server_options};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes allocated and not freed since `region` started.
fn live(region: &Region<'_, System>) -> isize {
    let c = region.change();
    c.bytes_allocated as isize - c.bytes_deallocated as isize
}

const WARMUP: usize = 3;
const REPEATS: usize = 10;
/// Growth allowed per case over all repeats.
const SLACK: isize = 32 * 1024;

#[test]
fn live_heap_is_flat_across_repeats_of_every_bad_input() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = rpc_examples::chat_server::start_ws_and_http(any_port(), server_options())
            .await
            .unwrap();
        let addr = server.local_addr();
        // Lets every connection of the case close and its tasks end.
        let settle = || async {
            for _ in 0..400 {
                if server.connections().is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        };
        let mut report = Vec::new();
        let mut over = Vec::new();
        for case in cases() {
            for _ in 0..WARMUP {
                (case.run)(addr)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            }
            settle().await;
            let region = Region::new(GLOBAL);
            for _ in 0..REPEATS {
                (case.run)(addr)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            }
            settle().await;
            let growth = live(&region);
            report.push(format!("{:>8} B  {}", growth, case.name));
            if growth > SLACK {
                over.push(format!(
                    "{} grew {growth} B over {REPEATS} repeats",
                    case.name
                ));
            }
        }
        println!(
            "live heap growth over {REPEATS} repeats per case:\n{}",
            report.join("\n")
        );
        server.stop().await;
        assert!(over.is_empty(), "heap grows:\n{}", over.join("\n"));
    });
}
