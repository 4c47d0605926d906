//! The server's WebSocket framing over the socket, holding no buffer while a connection is
//! idle: a reader ([`WsReader`], a `Stream` of messages) and a writer ([`WsWriter`], a `Sink`
//! for the link's writer task) over the two halves of one socket.
//!
//! tokio-tungstenite keeps a read buffer (zero-filled on its first read) and a write buffer for
//! a connection's whole life. Here the reader reads into a buffer only while bytes are there to
//! read, and drops it when the socket has nothing more (the next wake-up allocates it again);
//! a frame's payload gets an allocation of its own size. The writer formats frames into a
//! buffer that it drops once flushed; a large payload is written from the message itself.
//! tungstenite still does the handshake (over [`HeadOnly`], which hands it the request head
//! and keeps what follows), and supplies the frame header codec, the message and error types:
//! the reader gives the same messages and errors as tokio-tungstenite's stream (RFC 6455 as
//! tungstenite applies it: masks, reserved bits, control frame rules, fragments, UTF-8, size
//! limits, the close handshake).

use std::io::{self, Cursor};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{ready, Context, Poll};

use bytes::{Buf, BufMut, Bytes};
use futures_util::{Sink, Stream};
use std::future::Future;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Control, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{FrameHeader, Utf8Bytes};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};

/// What the reader asks of the socket per read (allocated for the read, kept while bytes
/// remain, dropped when the socket has nothing more).
const READ_CHUNK: usize = 8 * 1024;
/// Payloads from this size on are written from the message itself, not copied.
const WRITE_DIRECT: usize = 16 * 1024;
/// The writer writes out its buffer once it holds this much (before the flush).
const WRITE_AT: usize = 64 * 1024;
/// The most a handshake request head may take.
const MAX_HEAD: usize = 64 * 1024;

/// The socket and the close handshake's state, shared by the reader and the writer.
struct Shared<S> {
    io: Mutex<S>,
    close: Mutex<CloseState>,
    /// `close.received`, seen without the lock (the writer checks it per frame).
    peer_closed: AtomicBool,
}

#[derive(Default)]
struct CloseState {
    /// Our close frame is written (or being written).
    sent: bool,
    /// The peer's close came first: the answer the writer owes it (taken when written).
    reply: Option<Option<CloseFrame>>,
    /// The peer's close came.
    received: bool,
}

impl<S> Shared<S> {
    fn io(&self) -> MutexGuard<'_, S> {
        self.io.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn close(&self) -> MutexGuard<'_, CloseState> {
        self.close.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Splits an upgraded socket into its reader and writer; `read` holds bytes read past the
/// handshake (the start of the first frames).
pub(crate) fn split<S>(
    io: S,
    read: Vec<u8>,
    max_frame: usize,
    max_message: usize,
) -> (WsReader<S>, WsWriter<S>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let shared = Arc::new(Shared {
        io: Mutex::new(io),
        close: Mutex::default(),
        peer_closed: AtomicBool::new(false),
    });
    let reader = WsReader {
        shared: shared.clone(),
        buf: read,
        pos: 0,
        frame: None,
        partial: None,
        max_frame,
        max_message,
        done: false,
    };
    let writer = WsWriter {
        shared,
        buf: Vec::new(),
        pos: 0,
        tail: None,
    };
    (reader, writer)
}

/// A frame whose payload is being read.
struct Incoming {
    header: FrameHeader,
    payload: Vec<u8>,
    len: usize,
}

/// The receiving half: yields messages (pings and pongs too; the caller answers pings), ends
/// after the peer's close frame or at the end of the stream.
pub(crate) struct WsReader<S> {
    shared: Arc<Shared<S>>,
    /// Bytes read and not parsed yet: `buf[pos..]`. No allocation while there are none.
    buf: Vec<u8>,
    pos: usize,
    frame: Option<Incoming>,
    /// A fragmented message so far: text or not, and its bytes.
    partial: Option<(bool, Vec<u8>)>,
    max_frame: usize,
    max_message: usize,
    /// The stream has ended (a close, an error, or the end of the socket).
    done: bool,
}

impl<S: AsyncRead + Unpin> WsReader<S> {
    /// Reads from the socket into `dst`; `Ok(0)` at its end.
    fn read_into(
        shared: &Shared<S>,
        cx: &mut Context<'_>,
        dst: &mut Vec<u8>,
        max: usize,
    ) -> Poll<io::Result<usize>> {
        // Into the spare capacity, not zero-filled first (`read_buf` of a `BufMut`).
        let mut io = shared.io();
        let mut limited = BufMut::limit(dst, max);
        let read = tokio::io::AsyncReadExt::read_buf(&mut *io, &mut limited);
        std::pin::pin!(read).poll(cx)
    }

    fn fail(&mut self, e: WsError) -> Poll<Option<Result<WsMessage, WsError>>> {
        self.done = true;
        self.buf = Vec::new();
        self.frame = None;
        self.partial = None;
        Poll::Ready(Some(Err(e)))
    }

    /// The end of the socket: the end of the stream after a close, else an error (as
    /// tungstenite: the peer went away without the closing handshake).
    fn eof(&mut self) -> Poll<Option<Result<WsMessage, WsError>>> {
        if self.shared.close().received {
            self.done = true;
            return Poll::Ready(None);
        }
        self.fail(WsError::Protocol(
            ProtocolError::ResetWithoutClosingHandshake,
        ))
    }

    /// A whole frame: a message, nothing yet (a fragment), or an error.
    fn on_frame(
        &mut self,
        header: FrameHeader,
        mut payload: Vec<u8>,
    ) -> Option<Result<WsMessage, WsError>> {
        if header.rsv1 || header.rsv2 || header.rsv3 {
            return Some(Err(WsError::Protocol(ProtocolError::NonZeroReservedBits)));
        }
        let Some(mask) = header.mask else {
            return Some(Err(WsError::Protocol(
                ProtocolError::UnmaskedFrameFromClient,
            )));
        };
        unmask(&mut payload, mask);
        match header.opcode {
            OpCode::Control(ctl) => {
                if !header.is_final {
                    return Some(Err(WsError::Protocol(
                        ProtocolError::FragmentedControlFrame,
                    )));
                }
                if payload.len() > 125 {
                    return Some(Err(WsError::Protocol(ProtocolError::ControlFrameTooBig)));
                }
                match ctl {
                    Control::Close => Some(self.on_close(payload)),
                    Control::Ping => Some(Ok(WsMessage::Ping(Bytes::from(payload)))),
                    Control::Pong => Some(Ok(WsMessage::Pong(Bytes::from(payload)))),
                    Control::Reserved(i) => Some(Err(WsError::Protocol(
                        ProtocolError::UnknownControlFrameType(i),
                    ))),
                }
            }
            OpCode::Data(data) => {
                let text = match (data, self.partial.as_mut()) {
                    (Data::Continue, None) => {
                        return Some(Err(WsError::Protocol(
                            ProtocolError::UnexpectedContinueFrame,
                        )))
                    }
                    (Data::Continue, Some((_, so_far))) => {
                        let size = so_far.len() + payload.len();
                        if size > self.max_message {
                            return Some(Err(too_long(size, self.max_message)));
                        }
                        so_far.extend_from_slice(&payload);
                        if !header.is_final {
                            return None;
                        }
                        let (text, whole) = self.partial.take()?;
                        payload = whole;
                        text
                    }
                    (_, Some(_)) => {
                        return Some(Err(WsError::Protocol(ProtocolError::ExpectedFragment(
                            data,
                        ))))
                    }
                    (Data::Text, None) => true,
                    (Data::Binary, None) => false,
                    (Data::Reserved(i), None) => {
                        return Some(Err(WsError::Protocol(ProtocolError::UnknownDataFrameType(
                            i,
                        ))))
                    }
                };
                if payload.len() > self.max_message {
                    return Some(Err(too_long(payload.len(), self.max_message)));
                }
                if !header.is_final {
                    self.partial = Some((text, payload));
                    return None;
                }
                Some(if text {
                    match String::from_utf8(payload) {
                        Ok(s) => Ok(WsMessage::Text(Utf8Bytes::from(s))),
                        Err(e) => Err(WsError::Utf8(e.to_string())),
                    }
                } else {
                    Ok(WsMessage::Binary(Bytes::from(payload)))
                })
            }
        }
    }

    /// The peer's close frame: the last message. When it came first, the writer owes it an
    /// answer (its code, or 1002 for a code that may not be sent).
    fn on_close(&mut self, payload: Vec<u8>) -> Result<WsMessage, WsError> {
        let frame = match payload.len() {
            0 => None,
            1 => return Err(WsError::Protocol(ProtocolError::InvalidCloseSequence)),
            _ => {
                let code = CloseCode::from(u16::from_be_bytes([payload[0], payload[1]]));
                let reason = String::from_utf8(payload[2..].to_vec())
                    .map_err(|e| WsError::Utf8(e.to_string()))?;
                Some(CloseFrame {
                    code,
                    reason: Utf8Bytes::from(reason),
                })
            }
        };
        self.done = true;
        self.buf = Vec::new();
        let mut close = self.shared.close();
        close.received = true;
        self.shared.peer_closed.store(true, Ordering::Release);
        if !close.sent {
            let answer = frame.clone().map(|f| {
                if f.code.is_allowed() {
                    f
                } else {
                    CloseFrame {
                        code: CloseCode::Protocol,
                        reason: Utf8Bytes::from_static("Protocol violation"),
                    }
                }
            });
            close.reply = Some(answer);
        }
        Ok(WsMessage::Close(frame))
    }
}

fn too_long(size: usize, max_size: usize) -> WsError {
    WsError::Capacity(CapacityError::MessageTooLong { size, max_size })
}

/// Unmasks a client's payload in place.
fn unmask(buf: &mut [u8], mask: [u8; 4]) {
    let word = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let v = u64::from_ne_bytes((&*chunk).try_into().unwrap_or([0; 8])) ^ word;
        chunk.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

impl<S: AsyncRead + Unpin> Stream for WsReader<S> {
    type Item = Result<WsMessage, WsError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            // A frame's payload: from the buffer, then straight from the socket.
            if let Some(f) = &mut this.frame {
                let want = f.len - f.payload.len();
                let have = (this.buf.len() - this.pos).min(want);
                f.payload
                    .extend_from_slice(&this.buf[this.pos..this.pos + have]);
                this.pos += have;
                if have < want {
                    let n = match WsReader::read_into(&this.shared, cx, &mut f.payload, want - have)
                    {
                        Poll::Pending => {
                            this.buf = Vec::new();
                            this.pos = 0;
                            return Poll::Pending;
                        }
                        Poll::Ready(Err(e)) => return this.fail(WsError::Io(e)),
                        Poll::Ready(Ok(n)) => n,
                    };
                    if n == 0 {
                        return this.eof();
                    }
                    continue;
                }
                let Some(Incoming {
                    header, payload, ..
                }) = this.frame.take()
                else {
                    continue;
                };
                match this.on_frame(header, payload) {
                    None => continue,
                    Some(Ok(msg)) => return Poll::Ready(Some(Ok(msg))),
                    Some(Err(e)) => return this.fail(e),
                }
            }
            // The next frame's header.
            if this.buf.len() - this.pos >= 2 {
                let mut cursor = Cursor::new(&this.buf[this.pos..]);
                match FrameHeader::parse(&mut cursor) {
                    Ok(Some((header, len))) => {
                        this.pos += cursor.position() as usize;
                        if len > this.max_frame as u64 {
                            return this.fail(too_long(
                                usize::try_from(len).unwrap_or(usize::MAX),
                                this.max_frame,
                            ));
                        }
                        let len = len as usize;
                        this.frame = Some(Incoming {
                            header,
                            payload: Vec::with_capacity(len),
                            len,
                        });
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => return this.fail(e),
                }
            }
            // More bytes: what is left of the buffer moves to its front.
            if this.pos > 0 {
                this.buf.drain(..this.pos);
                this.pos = 0;
            }
            if this.buf.capacity() - this.buf.len() < READ_CHUNK / 2 {
                this.buf
                    .reserve(READ_CHUNK - this.buf.len().min(READ_CHUNK / 2));
            }
            let room = this.buf.capacity() - this.buf.len();
            match WsReader::read_into(&this.shared, cx, &mut this.buf, room) {
                Poll::Pending => {
                    if this.buf.is_empty() {
                        // Idle: no buffer kept.
                        this.buf = Vec::new();
                    }
                    return Poll::Pending;
                }
                Poll::Ready(Err(e)) => return this.fail(WsError::Io(e)),
                Poll::Ready(Ok(0)) => return this.eof(),
                Poll::Ready(Ok(_)) => {}
            }
        }
    }
}

/// The sending half: formats frames into a buffer that lives until flushed.
pub(crate) struct WsWriter<S> {
    shared: Arc<Shared<S>>,
    buf: Vec<u8>,
    /// Bytes of `buf` written so far.
    pos: usize,
    /// A large payload, written after `buf`.
    tail: Option<Bytes>,
}

impl<S: AsyncWrite + Unpin> WsWriter<S> {
    fn push_header(&mut self, opcode: OpCode, len: usize) {
        let header = FrameHeader {
            opcode,
            ..FrameHeader::default()
        };
        if self.buf.capacity() == 0 {
            // Room for a few frames: the first of a batch allocates the buffer.
            self.buf.reserve((len + 14).clamp(1024, WRITE_DIRECT + 14));
        }
        let _ = header.format(len as u64, &mut self.buf);
    }

    fn push(&mut self, opcode: OpCode, payload: &[u8]) {
        self.push_header(opcode, payload.len());
        self.buf.extend_from_slice(payload);
    }

    fn push_close(&mut self, frame: Option<CloseFrame>) {
        let mut payload = Vec::new();
        if let Some(f) = frame {
            payload.extend_from_slice(&u16::from(f.code).to_be_bytes());
            payload.extend_from_slice(f.reason.as_bytes());
        }
        self.push(OpCode::Control(Control::Close), &payload);
    }

    /// Queues the answer to the peer's close, if one is owed. True once the peer has closed.
    fn answer_close(&mut self) -> bool {
        if !self.shared.peer_closed.load(Ordering::Acquire) {
            return false;
        }
        let mut close = self.shared.close();
        let reply = close.reply.take();
        let received = close.received;
        drop(close);
        if let Some(frame) = reply {
            self.push_close(frame);
        }
        received
    }

    /// Writes out the buffer and the tail; drops the buffer once written.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        loop {
            let chunk: &[u8] = if self.pos < self.buf.len() {
                &self.buf[self.pos..]
            } else if let Some(tail) = self.tail.as_ref().filter(|t| !t.is_empty()) {
                tail
            } else {
                break;
            };
            let n = ready!(Pin::new(&mut *self.shared.io()).poll_write(cx, chunk))?;
            if n == 0 {
                return Poll::Ready(Err(WsError::Io(io::ErrorKind::WriteZero.into())));
            }
            if self.pos < self.buf.len() {
                self.pos += n;
            } else if let Some(tail) = &mut self.tail {
                tail.advance(n);
            }
        }
        self.buf = Vec::new();
        self.pos = 0;
        self.tail = None;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> Sink<WsMessage> for WsWriter<S> {
    type Error = WsError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        if self.tail.is_some() || self.buf.len() >= WRITE_AT {
            ready!(self.poll_write_out(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    fn start_send(mut self: Pin<&mut Self>, msg: WsMessage) -> Result<(), WsError> {
        let this = &mut *self;
        // After the peer's close only the answer goes out (tungstenite refuses to send then).
        if this.answer_close() {
            return Ok(());
        }
        let (opcode, payload) = match msg {
            WsMessage::Text(t) => (OpCode::Data(Data::Text), Bytes::from(t)),
            WsMessage::Binary(b) => (OpCode::Data(Data::Binary), b),
            WsMessage::Ping(b) => (OpCode::Control(Control::Ping), b),
            WsMessage::Pong(b) => (OpCode::Control(Control::Pong), b),
            WsMessage::Close(frame) => {
                let mut close = this.shared.close();
                if close.sent {
                    return Ok(());
                }
                close.sent = true;
                drop(close);
                this.push_close(frame);
                return Ok(());
            }
            WsMessage::Frame(frame) => {
                let _ = frame.format(&mut this.buf);
                return Ok(());
            }
        };
        if payload.len() >= WRITE_DIRECT {
            this.push_header(opcode, payload.len());
            this.tail = Some(payload);
        } else {
            this.push(opcode, &payload);
        }
        Ok(())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        self.answer_close();
        ready!(self.poll_write_out(cx))?;
        ready!(Pin::new(&mut *self.shared.io()).poll_flush(cx))?;
        Poll::Ready(Ok(()))
    }

    /// Answers the peer's close, or (neither side closed yet) sends an empty close frame, as
    /// tokio-tungstenite's `close`; then flushes.
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        if !self.answer_close() {
            let mut close = self.shared.close();
            if !close.sent {
                close.sent = true;
                drop(close);
                self.push_close(None);
            }
        }
        self.poll_flush(cx)
    }
}

/// The socket during the WebSocket handshake: hands tungstenite the request head and nothing
/// past it, and keeps what follows (the start of the first frames) for [`split`].
pub(crate) struct HeadOnly<S> {
    io: S,
    buf: Vec<u8>,
    /// Bytes of `buf` handed to tungstenite.
    given: usize,
    /// Where the head ends in `buf`, once seen.
    head_end: Option<usize>,
}

impl<S> HeadOnly<S> {
    pub(crate) fn new(io: S) -> Self {
        HeadOnly {
            io,
            buf: Vec::new(),
            given: 0,
            head_end: None,
        }
    }

    /// The socket, and the bytes read past the head.
    pub(crate) fn into_parts(mut self) -> (S, Vec<u8>) {
        let rest = match self.head_end {
            Some(end) if end < self.buf.len() => self.buf.split_off(end),
            _ => Vec::new(),
        };
        (self.io, rest)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for HeadOnly<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if let Some(end) = this.head_end {
                let n = (end - this.given).min(out.remaining());
                out.put_slice(&this.buf[this.given..this.given + n]);
                this.given += n;
                return Poll::Ready(Ok(()));
            }
            if this.buf.len() >= MAX_HEAD {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "request head too large",
                )));
            }
            let old = this.buf.len();
            this.buf.reserve(4096);
            let read = tokio::io::AsyncReadExt::read_buf(&mut this.io, &mut this.buf);
            let n = ready!(std::pin::pin!(read).poll(cx))?;
            if n == 0 {
                // The end of the socket: tungstenite gets what there is, then the end.
                this.head_end = Some(old);
                continue;
            }
            let from = old.saturating_sub(3);
            if let Some(i) = this.buf[from..].windows(4).position(|w| w == b"\r\n\r\n") {
                this.head_end = Some(from + i + 4);
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for HeadOnly<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests;
