//! The accept loop: every TCP connection takes one of `max_connections` slots for as long as
//! its socket lives (through TLS, HTTP keep-alive and a WebSocket upgrade); a connection past
//! the limit is answered 503 in a bounded time without taking a slot. Each accepted socket is
//! handed to the WebSocket or HTTP side by the server's [`Transports`].

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::core::{ServerCore, SocketGuard};
use super::{http, ws};

/// Which transports a server speaks on its port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transports {
    /// WebSocket only.
    Ws,
    /// HTTP only.
    Http,
    /// Both on one port: a request asking for a WebSocket upgrade is WebSocket, the rest HTTP.
    Both,
}

/// Sockets past `max_connections` answered 503 at the same time, at most; more are closed at
/// accept without an answer (a flood cannot pin more tasks than this).
const MAX_REFUSING: usize = 256;

/// A refusal (TLS handshake, reading the request head, writing the 503, waiting for the client
/// to close) takes at most this long, or `handshake_timeout` when that is shorter.
const REFUSE_TIMEOUT: Duration = Duration::from_secs(2);

pub(super) async fn accept_loop(
    core: Arc<ServerCore>,
    listener: TcpListener,
    transports: Transports,
    shutdown: Arc<Notify>,
) {
    let refusing = Arc::new(AtomicUsize::new(0));
    let full_answer = http::server_full_response(&core);
    loop {
        let accepted = tokio::select! {
            _ = shutdown.notified() => return,
            a = listener.accept() => a,
        };
        let (stream, remote) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of descriptors and the like: back off a little, keep serving.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Some(slot) = core.open_socket() else {
            refuse(&core, stream, remote, &refusing, &full_answer);
            continue;
        };
        // The slot goes with the socket, whatever it becomes.
        let stream = Counted {
            io: stream,
            _slot: slot,
        };
        #[cfg(feature = "tls")]
        if let Some(config) = &core.options.tls {
            let acceptor = tokio_rustls::TlsAcceptor::from(config.clone());
            let core = core.clone();
            tokio::spawn(async move {
                let handshake = acceptor.accept(stream);
                match tokio::time::timeout(core.options.handshake_timeout, handshake).await {
                    Ok(Ok(tls)) => serve_stream(core, tls, remote, transports).await,
                    Ok(Err(e)) => tracing::debug!("TLS handshake from {remote} failed: {e}"),
                    Err(_) => tracing::debug!("TLS handshake from {remote} timed out"),
                }
            });
            continue;
        }
        let core = core.clone();
        // A task sized for its transport: a WebSocket connection's task holds no HTTP state.
        match transports {
            Transports::Ws => tokio::spawn(ws::accept(core, stream, remote)),
            t => tokio::spawn(serve_stream(core, stream, remote, t)),
        };
    }
}

/// Answers a socket past `max_connections` with 503 (after the TLS handshake on a TLS server),
/// in a bounded time and outside the limit; closes it at once when [`MAX_REFUSING`] sockets
/// are being refused already.
fn refuse(
    core: &Arc<ServerCore>,
    stream: TcpStream,
    remote: SocketAddr,
    refusing: &Arc<AtomicUsize>,
    answer: &Bytes,
) {
    let reserved = refusing.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
        (n < MAX_REFUSING).then_some(n + 1)
    });
    if reserved.is_err() {
        tracing::warn!("connection from {remote} closed: max_connections reached");
        return;
    }
    tracing::warn!("connection from {remote} refused (503): max_connections reached");
    let refusing = RefusingGuard(refusing.clone());
    let limit = match core.options.handshake_timeout {
        t if t.is_zero() => REFUSE_TIMEOUT,
        t => t.min(REFUSE_TIMEOUT),
    };
    let deadline = tokio::time::Instant::now() + limit;
    let answer = answer.clone();
    #[cfg(feature = "tls")]
    if let Some(config) = &core.options.tls {
        let acceptor = tokio_rustls::TlsAcceptor::from(config.clone());
        tokio::spawn(async move {
            let _refusing = refusing;
            if let Ok(Ok(tls)) = tokio::time::timeout_at(deadline, acceptor.accept(stream)).await {
                refuse_exchange(tls, &answer, deadline).await;
            }
        });
        return;
    }
    tokio::spawn(async move {
        let _refusing = refusing;
        refuse_exchange(stream, &answer, deadline).await;
    });
}

/// Counts a refusal in progress until dropped.
struct RefusingGuard(Arc<AtomicUsize>);

impl Drop for RefusingGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An accepted socket holding one of the `max_connections` slots for as long as it lives:
/// through a TLS session, an HTTP keep-alive connection, and a WebSocket upgraded from HTTP
/// (hyper hands the socket itself to the upgrade), up to the moment the socket is closed.
struct Counted<S> {
    io: S,
    _slot: SocketGuard,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

async fn serve_stream<S>(core: Arc<ServerCore>, stream: S, remote: SocketAddr, t: Transports)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    match t {
        Transports::Ws => ws::accept(core, stream, remote).await,
        Transports::Http => http::serve_conn(core, stream, remote, false).await,
        Transports::Both => http::serve_conn(core, stream, remote, true).await,
    }
}

/// The most a refused connection's request head may take before the 503 is written anyway.
const REFUSE_HEAD_MAX: usize = 16 * 1024;

/// Refuses a connection past `max_connections`, all by `deadline`: reads the request head
/// (HTTP or WebSocket upgrade, the client speaks first), writes `answer` (the 503), ends the
/// write side and reads until the client closes, so the close does not reset the answer away
/// before the client has read it. A client that sends nothing gets no answer.
async fn refuse_exchange<S>(mut stream: S, answer: &[u8], deadline: Instant)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let exchange = async {
        let mut buf = [0u8; 1024];
        // Bytes of "\r\n\r\n" matched so far, across reads.
        let mut matched = 0;
        let mut read = 0;
        'head: while read < REFUSE_HEAD_MAX {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            read += n;
            for &b in &buf[..n] {
                matched = match (matched, b) {
                    (0 | 2, b'\r') => matched + 1,
                    (1 | 3, b'\n') => matched + 1,
                    (_, b'\r') => 1,
                    _ => 0,
                };
                if matched == 4 {
                    break 'head;
                }
            }
        }
        stream.write_all(answer).await?;
        stream.shutdown().await?;
        while stream.read(&mut buf).await? != 0 {}
        Ok::<(), std::io::Error>(())
    };
    let _ = tokio::time::timeout_at(deadline, exchange).await;
}
