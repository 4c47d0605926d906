//! A client that sends large messages and never reads their echoes cannot make the server hold
//! more than its byte budget: the live heap (a counting allocator) stays under
//! `max_queued_bytes + 2 x the largest frame + 1 MiB` (plus the one message the chat service
//! itself keeps) while the client stalls, other clients
//! keep being served, and once the queue has stayed full for `queue_full_timeout` the
//! connection is closed and its buffers are freed.
//!
//! A binary of its own with one test: the server and the clients run on one current-thread
//! runtime, so nothing else allocates meanwhile. The stalling client writes one frame built
//! before measuring, again and again, so it allocates nothing itself.

use std::alloc::System;
use std::time::{Duration, Instant};

use protocols::chat::{self, MsgChat, ReqAdd};
use rpc_runtime::client::WsClientOptions;
use rpc_runtime::server::ServerOptions;
use rpc_tests::any_port;
use rpc_tests::raw::{client_frame, RawWsClient};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes allocated and not freed since `region` started.
fn live(region: &Region<'_, System>) -> isize {
    let c = region.change();
    c.bytes_allocated as isize - c.bytes_deallocated as isize
}

const MIB: usize = 1 << 20;
/// The size of each message's content, and how many the stalling client sends.
const CONTENT: usize = MIB;
const MESSAGES: usize = 300;

#[test]
fn a_client_that_does_not_read_cannot_make_the_server_hold_its_echoes() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let queue_full_timeout = Duration::from_secs(3);
        let options = ServerOptions::default()
            .queue_full_timeout(queue_full_timeout)
            .close_timeout(Duration::from_millis(500));
        let budget = options.max_queued_bytes;
        let server = rpc_examples::chat_server::start_ws(any_port(), options)
            .await
            .unwrap();
        let addr = server.local_addr();

        // A well-behaved client, warmed up (schemas compiled, buffers grown) before measuring.
        let good = chat::Client::ws(server.url(), WsClientOptions::default());
        good.connect().await.unwrap();
        let (echo_tx, mut echoes) = tokio::sync::mpsc::unbounded_channel();
        good.listen_msg_chat(move |m: MsgChat| {
            let _ = echo_tx.send(m.content);
        });
        let serve_good = |round: usize| {
            let good = &good;
            async move {
                let res = good
                    .call_add(ReqAdd {
                        a: round as f64,
                        b: 1.0,
                    })
                    .await
                    .unwrap_or_else(|e| panic!("Add in round {round}: {e}"));
                assert_eq!(res.c, round as f64 + 1.0);
                good.send_msg_chat(&MsgChat {
                    name: "good".into(),
                    content: format!("hi {round}"),
                })
                .await
                .unwrap();
            }
        };
        for round in 0..3 {
            serve_good(round).await;
            assert_eq!(echoes.recv().await.unwrap(), format!("echo: hi {round}"));
        }

        // The stalling client's frame: a 1 MiB `Chat`, built once.
        let body = format!(
            r#"["Chat",{{"name":"hog","content":"{}"}}]"#,
            "x".repeat(CONTENT)
        );
        let frame = std::sync::Arc::new(client_frame(0x1, body.as_bytes()));
        drop(body);
        let largest_frame = format!(
            r#"["Chat",{{"name":"server","content":"echo: {}"}}]"#,
            "x".repeat(CONTENT)
        )
        .len();
        // What the application keeps is not the server's to bound: the chat service keeps the
        // last chat it heard (as TSRPC's reference does), one message's content.
        let app_state = CONTENT;
        let bound = (budget + 2 * largest_frame + MIB + app_state) as isize;

        let region = Region::new(GLOBAL);
        let mut hog = RawWsClient::connect(addr).await.unwrap();
        let hog_end = hog.local_addr();
        let hog_frame = frame.clone();
        let writer = tokio::spawn(async move {
            let mut written = 0;
            for _ in 0..MESSAGES {
                if hog.write_raw(&hog_frame).await.is_err() {
                    break;
                }
                written += 1;
            }
            (written, hog)
        });

        // The hog stalls the server's sends to it; meanwhile the live heap is sampled and the
        // good client keeps being served.
        let started = Instant::now();
        let mut peak = 0isize;
        let mut round = 3;
        while started.elapsed() < queue_full_timeout - Duration::from_millis(500) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            peak = peak.max(live(&region));
            if round % 10 == 0 {
                serve_good(round).await;
                let echo = tokio::time::timeout(Duration::from_secs(5), echoes.recv())
                    .await
                    .expect("the good client's echo")
                    .unwrap();
                assert_eq!(echo, format!("echo: hi {round}"));
            }
            round += 1;
        }
        println!(
            "live heap with a client that does not read {MESSAGES} x 1 MiB echoes: peak {:.2} MiB \
             (bound {:.2} MiB = budget {:.0} + 2 x frame + 1 MiB + the last chat the service keeps)",
            peak as f64 / MIB as f64,
            bound as f64 / MIB as f64,
            budget as f64 / MIB as f64
        );
        assert!(
            peak > (budget / 2) as isize,
            "the hog's echoes did not fill the queue (peak {peak} B): the test saw nothing"
        );
        assert!(
            peak < bound,
            "the server held {peak} B for a client that does not read (bound {bound} B)"
        );

        // The queue stayed full: the connection is closed, its socket dropped, its memory
        // freed (the last chat the server keeps is replaced by a small one).
        let deadline = Instant::now() + queue_full_timeout + Duration::from_secs(10);
        while rpc_tests::socket_held(addr, hog_end) || server.connections().len() > 1 {
            assert!(
                Instant::now() < deadline,
                "the stalled connection was not dropped (socket held: {}, connections: {})", rpc_tests::socket_held(addr, hog_end), server.connections().len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        println!(
            "stalled connection dropped {:?} after the hog started",
            started.elapsed()
        );
        // Once closed, the server reads and ignores what comes until the socket is dropped.
        let (written, hog) = writer.await.unwrap();
        println!("the hog wrote {written} of its {MESSAGES} messages");
        drop(hog);
        serve_good(round).await;
        assert_eq!(echoes.recv().await.unwrap(), format!("echo: hi {round}"));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let after = live(&region);
        println!(
            "live heap after the stalled connection was dropped: {:.1} KiB",
            after as f64 / 1024.0
        );
        assert!(
            after < (256 * 1024) as isize,
            "{after} B still held after the stalled connection was dropped"
        );
        good.disconnect().await;
        server.stop().await;
    });
}
