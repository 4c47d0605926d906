//! `RunningServer::stop`: it waits for every connection to go (up to the close timeout, plus
//! a margin), and returns as soon as the last one is gone.

use std::time::{Duration, Instant};

use rpc_runtime::server::ServerOptions;
use rpc_tests::{connected, raw_connect, start_hand_server, within};

#[tokio::test]
async fn stop_without_connections_returns_at_once() {
    let server = start_hand_server(ServerOptions::default()).await;
    let t0 = Instant::now();
    within(5, "stop", server.stop()).await;
    // Nothing to wait for: far less than the close timeout (3 s).
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
}

#[tokio::test]
async fn stop_returns_once_clients_that_answer_the_close_are_gone() {
    let server = start_hand_server(ServerOptions::default()).await;
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(connected(&server.url()).await);
    }
    assert_eq!(server.connections().len(), 3);
    let t0 = Instant::now();
    within(5, "stop", server.stop()).await;
    let took = t0.elapsed();
    assert!(server.connections().is_empty());
    // The clients answer the close frame at once: far less than the close timeout (3 s).
    assert!(took < Duration::from_secs(1), "{took:?}");
    println!("stop() with 3 clients that answer the close: {took:?}");
}

#[tokio::test]
async fn stop_waits_for_a_silent_peer_until_it_goes() {
    let server = start_hand_server(ServerOptions::default()).await;
    let _client = connected(&server.url()).await;
    // A peer that neither reads nor answers the close frame; it drops its socket 300 ms after
    // stop() begins, long before the close timeout (3 s).
    let raw = raw_connect(&server.url()).await;
    within(5, "registered", async {
        while server.connections().len() < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let t0 = Instant::now();
    let dropper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(raw);
        Instant::now()
    });
    within(10, "stop", server.stop()).await;
    let took = t0.elapsed();
    let dropped = dropper.await.unwrap();
    assert!(server.connections().is_empty());
    assert!(
        took >= Duration::from_millis(300),
        "stop() returned after {took:?}, before the silent peer went"
    );
    // It went at 300 ms: stop() returns then, not at the close timeout.
    assert!(took < Duration::from_millis(2000), "{took:?}");
    println!(
        "stop() returned {:?} after the silent peer dropped its socket",
        dropped.elapsed()
    );
}

#[tokio::test]
async fn stop_gives_up_on_a_silent_peer_after_the_close_timeout() {
    let options = ServerOptions::default().close_timeout(Duration::from_millis(300));
    let server = start_hand_server(options).await;
    // Held open (never read, never closed) until the end of the test.
    let _raw = raw_connect(&server.url()).await;
    within(5, "registered", async {
        while server.connections().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let t0 = Instant::now();
    within(10, "stop", server.stop()).await;
    let took = t0.elapsed();
    // The close timeout (300 ms), plus at most the 500 ms margin stop() allows.
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_millis(2000), "{took:?}");
    println!("stop() with a peer that never answers (close timeout 300 ms): {took:?}");
}
