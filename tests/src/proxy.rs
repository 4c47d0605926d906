//! A TCP proxy on loopback that can go silent: it stops forwarding in both directions without
//! closing anything, as a peer that vanished (a pulled cable) looks from both ends.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running proxy.
#[derive(Debug)]
pub struct Proxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    silent: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy to `upstream` on `127.0.0.1:0`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind(crate::any_port()).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let silent = Arc::new(AtomicBool::new(false));
        let s = silent.clone();
        let task = tokio::spawn(async move {
            let mut pipes = Vec::new();
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                pipes.push(tokio::spawn(pipe(cr, sw, s.clone())));
                pipes.push(tokio::spawn(pipe(sr, cw, s.clone())));
            }
        });
        Proxy { addr, silent, task }
    }

    /// From now on, bytes are swallowed in both directions; no socket is closed.
    pub fn go_silent(&self) {
        self.silent.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    silent: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => {
                if silent.load(Ordering::SeqCst) {
                    // A vanished peer sends no FIN: keep the other side open.
                    std::future::pending::<()>().await;
                }
                return;
            }
            Ok(n) => n,
        };
        if silent.load(Ordering::SeqCst) {
            continue;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
