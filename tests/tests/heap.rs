//! The live heap does not grow across repeats of each bad-input case, nor across many calls and
//! messages on connections that stay open.
//!
//! A counting global allocator (stats_alloc) tracks live bytes; the server and the raw clients run on one
//! current-thread runtime in this binary of its own (one test, so nothing else allocates
//! meanwhile). Each case runs a few times to warm up (schemas are compiled once per type,
//! tokio's timer wheel grows once), then `REPEATS` times; the live heap before and after must
//! differ by less than `SLACK`.

use std::alloc::System;
use std::time::Duration;

use protocols::chat::{self, MsgChat, ReqAdd, ReqFail};
use rpc_runtime::client::WsClientOptions;
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
/// Growth allowed per case over all repeats (a leak of 400 B per repeat fails; measured: 0 B).
const SLACK: isize = 4 * 1024;
/// Calls and messages on the connections that stay open, and the growth allowed over all of
/// them (a leak of 8 B per exchange fails).
const EXCHANGES: usize = 1_000;
const OPEN_SLACK: isize = 8 * 1024;

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

        // Connections that stay open: a WebSocket client and an HTTP client (keep-alive) make
        // calls (a success and an ApiError), send messages and get their echoes, heartbeats on.
        let ws = chat::Client::ws(
            format!("ws://{addr}"),
            WsClientOptions::default().heartbeat(Duration::from_millis(20), Duration::from_secs(5)),
        );
        ws.connect().await.unwrap();
        let http = chat::Client::http(format!("http://{addr}"), Default::default());
        let (tx, mut echoes) = tokio::sync::mpsc::unbounded_channel();
        ws.listen_msg_chat(move |m: MsgChat| {
            let _ = tx.send(m.content.len());
        });
        let exchange = |i: usize| {
            let (ws, http) = (&ws, &http);
            async move {
                let a = (i % 100) as f64;
                assert_eq!(ws.call_add(ReqAdd { a, b: 1.0 }).await.unwrap().c, a + 1.0);
                assert_eq!(
                    http.call_add(ReqAdd { a, b: 2.0 }).await.unwrap().c,
                    a + 2.0
                );
                let err = ws.call_fail(ReqFail { mode: None }).await.unwrap_err();
                assert_eq!(err.message, "Failed on purpose");
                ws.send_msg_chat(&MsgChat {
                    name: "heap".into(),
                    content: "x".repeat(i % 7),
                })
                .await
                .unwrap();
            }
        };
        for i in 0..100 {
            exchange(i).await;
            assert_eq!(echoes.recv().await.unwrap(), "echo: ".len() + i % 7);
        }
        let region = Region::new(GLOBAL);
        for i in 0..EXCHANGES {
            exchange(i).await;
            assert_eq!(echoes.recv().await.unwrap(), "echo: ".len() + i % 7);
        }
        let growth = live(&region);
        println!(
            "live heap growth over {EXCHANGES} exchanges on connections that stay open: {growth} B"
        );
        if growth > OPEN_SLACK {
            over.push(format!(
                "open connections grew {growth} B over {EXCHANGES} exchanges"
            ));
        }
        ws.disconnect().await;
        server.stop().await;
        assert!(over.is_empty(), "heap grows:\n{}", over.join("\n"));
    });
}
