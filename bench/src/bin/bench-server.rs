//! Our bench server: `bench-server <port>` (0 picks a free port) serves the bench service of
//! BENCHMARKS.md over the TSRPC JSON wire with default options, then prints
//! `READY ws://127.0.0.1:<port> pid=<pid>`. It runs until killed (or SIGINT); with
//! `BENCH_EXIT_ON_STDIN_CLOSE=1` (set by the `bench` orchestrator) also when its stdin closes.
//! `BENCH_MAX_CONNECTIONS=<n>` sets `ServerOptions::max_connections` (W7).

use std::net::SocketAddr;

use protocols::bench::{self, ConnectionExt as _, ResAdd, ResStartFanout, ResStartPush};
use rpc_bench::{chat, game_frame, port_arg, wait_for_end};
use rpc_runtime::server::ServerOptions;

#[tokio::main]
async fn main() {
    let addr = SocketAddr::from(([127, 0, 0, 1], port_arg()));
    // W7 (19,000 connections) raises `max_connections` above its default (10,000) through
    // `BENCH_MAX_CONNECTIONS`; the bench prints it. Every other workload: default options.
    let mut options = ServerOptions::default();
    if let Some(n) = std::env::var("BENCH_MAX_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        options = options.max_connections(n);
    }
    let server = bench::Server::ws(addr, options)
        .implement_api_add(|call| async move {
            Ok(ResAdd {
                c: call.req.a + call.req.b,
            })
        })
        .implement_api_start_push(|call| async move {
            // The reply is queued when the handler returns; the pushes follow from a task
            // (each `send_msg` waits for queue space: the server's backpressure).
            let conn = call.conn.clone();
            let n = call.req.n;
            tokio::spawn(async move {
                for i in 0..n {
                    if conn.send_msg_game_frame(&game_frame(i)).await.is_err() {
                        break;
                    }
                }
            });
            Ok(ResStartPush {})
        })
        .implement_api_start_fanout(|call| async move {
            let server = call.conn.server();
            let m = call.req.m;
            tokio::spawn(async move {
                for i in 0..m {
                    let _ = server.broadcast_msg(&chat(i)).await;
                }
            });
            Ok(ResStartFanout {})
        })
        .start()
        .await;
    let server = match server {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench-server: {e}");
            std::process::exit(2);
        }
    };
    println!(
        "READY ws://{} pid={}",
        server.local_addr(),
        std::process::id()
    );
    wait_for_end().await;
}
