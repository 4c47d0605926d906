//! The framing on its own, over an in-memory duplex stream: the client's frames written by
//! hand (masked), the server's read back raw.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;

const MAX: usize = 1 << 20;

/// A client frame: `fin`, `opcode`, masked with a fixed key.
fn masked(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    crate::ws_util::masked_client_frame(fin, opcode, payload)
}

fn pair() -> (WsReader<DuplexStream>, WsWriter<DuplexStream>, DuplexStream) {
    let (client, server) = tokio::io::duplex(1 << 20);
    let (reader, writer) = split(server, Vec::new(), MAX, MAX);
    (reader, writer, client)
}

/// Reads one unmasked server frame: (fin and opcode byte, payload).
async fn server_frame(client: &mut DuplexStream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 2];
    client.read_exact(&mut head).await.unwrap();
    assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
    let len = match head[1] & 0x7f {
        126 => client.read_u16().await.unwrap() as usize,
        127 => client.read_u64().await.unwrap() as usize,
        n => n as usize,
    };
    let mut payload = vec![0; len];
    client.read_exact(&mut payload).await.unwrap();
    (head[0], payload)
}

/// The reader's next item, or `None` when it would wait.
fn poll_once<S: AsyncRead + Unpin>(
    reader: &mut WsReader<S>,
) -> Option<Option<Result<WsMessage, WsError>>> {
    let waker = futures_util::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    match Pin::new(reader).poll_next(&mut cx) {
        Poll::Ready(item) => Some(item),
        Poll::Pending => None,
    }
}

#[tokio::test]
async fn an_idle_connection_holds_no_buffer() {
    let (mut reader, mut writer, mut client) = pair();
    assert!(poll_once(&mut reader).is_none());
    assert_eq!(reader.buf.capacity(), 0);
    client.write_all(&masked(true, 1, b"hello")).await.unwrap();
    match reader.next().await {
        Some(Ok(WsMessage::Text(t))) => assert_eq!(t.as_str(), "hello"),
        other => panic!("{other:?}"),
    }
    // Read while bytes were there; nothing left: the buffer is dropped at the next wait.
    assert!(poll_once(&mut reader).is_none());
    assert_eq!(reader.buf.capacity(), 0);

    writer.feed(WsMessage::text("a")).await.unwrap();
    writer
        .feed(WsMessage::binary(vec![7u8; 300]))
        .await
        .unwrap();
    assert!(writer.buf.capacity() > 0);
    writer.flush().await.unwrap();
    assert_eq!(
        writer.buf.capacity(),
        0,
        "flushed: the write buffer is dropped"
    );
    assert_eq!(server_frame(&mut client).await, (0x81, b"a".to_vec()));
    assert_eq!(server_frame(&mut client).await, (0x82, vec![7u8; 300]));
}

#[tokio::test]
async fn frames_split_anywhere_are_read_whole_and_fragments_joined() {
    let (mut reader, _writer, mut client) = pair();
    let big: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let mut bytes = masked(false, 1, "héllo ".as_bytes());
    bytes.extend(masked(true, 9, b"ping!")); // a control frame between fragments
    bytes.extend(masked(false, 0, "wör".as_bytes()));
    bytes.extend(masked(true, 0, b"ld"));
    bytes.extend(masked(true, 2, &big));
    bytes.extend(masked(true, 10, b""));
    let feeder = tokio::spawn(async move {
        // Cut at every size from 1 byte up: headers and payloads split across reads.
        let mut at = 0;
        let mut step = 1;
        while at < bytes.len() {
            let end = (at + step).min(bytes.len());
            client.write_all(&bytes[at..end]).await.unwrap();
            tokio::task::yield_now().await;
            at = end;
            step = step % 97 + 1;
        }
        client
    });
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(reader.next().await.unwrap().unwrap());
    }
    assert_eq!(got[0], WsMessage::Ping(Bytes::from_static(b"ping!")));
    assert_eq!(got[1], WsMessage::text("héllo wörld"));
    assert_eq!(got[2], WsMessage::Binary(Bytes::from(big)));
    assert_eq!(got[3], WsMessage::Pong(Bytes::new()));
    drop(feeder.await.unwrap());
    // The client went away without a close.
    match reader.next().await {
        Some(Err(WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake))) => {}
        other => panic!("{other:?}"),
    }
    assert!(reader.next().await.is_none());
}

#[tokio::test]
async fn the_peers_close_is_answered_once_and_ends_the_stream() {
    let (mut reader, mut writer, mut client) = pair();
    let mut close = 4000u16.to_be_bytes().to_vec();
    close.extend_from_slice(b"bye");
    client.write_all(&masked(true, 8, &close)).await.unwrap();
    match reader.next().await {
        Some(Ok(WsMessage::Close(Some(f)))) => {
            assert_eq!(u16::from(f.code), 4000);
            assert_eq!(f.reason.as_str(), "bye");
        }
        other => panic!("{other:?}"),
    }
    assert!(reader.next().await.is_none());
    // After the peer's close, data and our own close are not sent: its answer is.
    writer.feed(WsMessage::text("late")).await.unwrap();
    writer
        .send(WsMessage::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "ours".into(),
        })))
        .await
        .unwrap();
    writer.close().await.unwrap();
    assert_eq!(server_frame(&mut client).await, (0x88, close));
    drop(writer);
    drop(reader);
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty(), "nothing after the answer: {rest:?}");
}

#[tokio::test]
async fn a_close_code_that_may_not_be_sent_is_answered_1002() {
    let (mut reader, mut writer, mut client) = pair();
    client
        .write_all(&masked(true, 8, &1005u16.to_be_bytes()))
        .await
        .unwrap();
    assert!(matches!(
        reader.next().await,
        Some(Ok(WsMessage::Close(Some(_))))
    ));
    writer.close().await.unwrap();
    let (op, payload) = server_frame(&mut client).await;
    assert_eq!(op, 0x88);
    assert_eq!(payload[..2], 1002u16.to_be_bytes());
    assert_eq!(&payload[2..], b"Protocol violation");
}

#[tokio::test]
async fn our_close_then_the_peers_answer() {
    let (mut reader, mut writer, mut client) = pair();
    writer
        .send(WsMessage::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "done".into(),
        })))
        .await
        .unwrap();
    let (op, payload) = server_frame(&mut client).await;
    assert_eq!((op, &payload[2..]), (0x88, &b"done"[..]));
    client
        .write_all(&masked(true, 8, &1000u16.to_be_bytes()))
        .await
        .unwrap();
    assert!(matches!(
        reader.next().await,
        Some(Ok(WsMessage::Close(Some(_))))
    ));
    writer.close().await.unwrap();
    drop((reader, writer));
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty(), "an answer to an answer: {rest:?}");
}

#[tokio::test]
async fn bad_frames_end_the_stream_with_tungstenites_errors() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            {
                let mut f = masked(true, 1, b"x");
                f[1] &= 0x7f; // unmasked, key bytes read as payload
                f.truncate(2);
                f.push(b'x');
                f
            },
            "unmasked",
        ),
        (
            {
                let mut f = masked(true, 1, b"x");
                f[0] |= 0x40;
                f
            },
            "reserved bits",
        ),
        (masked(false, 9, b""), "fragmented control"),
        (masked(true, 9, &[0; 126]), "control too big"),
        (masked(true, 0, b"x"), "continuation"),
        (masked(true, 3, b"x"), "reserved data opcode"),
        (masked(true, 1, &[0xff, 0xfe]), "utf-8"),
        (masked(true, 8, &[3]), "close of one byte"),
        (masked(true, 2, &vec![0; MAX + 1]), "too long"),
    ];
    for (bytes, what) in cases {
        let (mut reader, writer, mut client) = pair();
        // Written from a task: the oversized frame does not fit the pipe.
        let feeder = tokio::spawn(async move {
            let _ = client.write_all(&bytes).await;
            client
        });
        let got = tokio::time::timeout(Duration::from_secs(5), reader.next())
            .await
            .unwrap();
        let ok = match (what, &got) {
            ("unmasked", Some(Err(WsError::Protocol(ProtocolError::UnmaskedFrameFromClient)))) => {
                true
            }
            ("reserved bits", Some(Err(WsError::Protocol(ProtocolError::NonZeroReservedBits)))) => {
                true
            }
            (
                "fragmented control",
                Some(Err(WsError::Protocol(ProtocolError::FragmentedControlFrame))),
            ) => true,
            (
                "control too big",
                Some(Err(WsError::Protocol(ProtocolError::ControlFrameTooBig))),
            ) => true,
            (
                "continuation",
                Some(Err(WsError::Protocol(ProtocolError::UnexpectedContinueFrame))),
            ) => true,
            // The header codec refuses it, as in tungstenite.
            (
                "reserved data opcode",
                Some(Err(WsError::Protocol(ProtocolError::InvalidOpcode(3)))),
            ) => true,
            ("utf-8", Some(Err(WsError::Utf8(_)))) => true,
            (
                "close of one byte",
                Some(Err(WsError::Protocol(ProtocolError::InvalidCloseSequence))),
            ) => true,
            (
                "too long",
                Some(Err(WsError::Capacity(CapacityError::MessageTooLong { size, max_size }))),
            ) => *size == MAX + 1 && *max_size == MAX,
            _ => false,
        };
        assert!(ok, "{what}: {got:?}");
        assert!(reader.next().await.is_none(), "{what}: the stream ends");
        // The socket closes once both halves are gone, which ends a write still waiting.
        drop((reader, writer));
        drop(feeder.await);
    }
}

#[tokio::test]
async fn the_handshake_gets_the_head_and_the_frames_behind_it_are_kept() {
    let (mut client, server) = tokio::io::duplex(1 << 16);
    let mut bytes =
        b"GET /?x=1 HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
        Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            .to_vec();
    bytes.extend(masked(true, 1, b"first"));
    bytes.extend(masked(true, 2, b"second"));
    // One write: the head and the first frames arrive together.
    client.write_all(&bytes).await.unwrap();
    let ws = tokio_tungstenite::accept_async(HeadOnly::new(server))
        .await
        .unwrap();
    let (io, read) = ws.into_inner().into_parts();
    assert!(read.starts_with(&masked(true, 1, b"first")));
    let (mut reader, _writer) = split(io, read, MAX, MAX);
    assert_eq!(
        reader.next().await.unwrap().unwrap(),
        WsMessage::text("first")
    );
    assert_eq!(
        reader.next().await.unwrap().unwrap(),
        WsMessage::binary(b"second".to_vec())
    );
    let mut answer = vec![0; 12];
    client.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 101");
}
