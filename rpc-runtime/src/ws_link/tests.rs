//! The link on its own: a writer over an in-memory duplex stream, a peer reading (or not) at the
//! other end.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::DuplexStream;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

use super::*;

type Ws = WebSocketStream<DuplexStream>;

fn limits() -> Limits {
    Limits {
        window: 4,
        window_bytes: 1 << 20,
        max_frames: 8,
        max_bytes: 2 << 20,
        full_timeout: None,
    }
}

const TIMING: Timing = Timing {
    close_timeout: Duration::from_millis(100),
    linger: Duration::from_millis(100),
};

/// A link whose writer writes into a duplex stream of `buffer` bytes; the peer's end.
async fn start(
    limits: Limits,
    buffer: usize,
) -> (Arc<Link>, Ws, futures_util::stream::SplitStream<Ws>) {
    let (ours, theirs) = tokio::io::duplex(buffer);
    let ours = WebSocketStream::from_raw_socket(ours, Role::Server, None).await;
    let peer = WebSocketStream::from_raw_socket(theirs, Role::Client, None).await;
    let (sink, source) = ours.split();
    let link = Link::new(limits);
    spawn_writer(link.clone(), sink, TIMING);
    (link, peer, source)
}

fn text(n: usize, len: usize) -> WsMessage {
    let mut s = n.to_string();
    s.push_str(&"x".repeat(len.saturating_sub(s.len())));
    WsMessage::text(s)
}

/// True when `f` is still pending after a short while.
async fn blocks<F: std::future::Future>(f: F) -> bool {
    tokio::time::timeout(Duration::from_millis(50), f)
        .await
        .is_err()
}

#[tokio::test]
async fn frames_arrive_in_order_and_the_budget_comes_back() {
    let (link, mut peer, _source) = start(limits(), 64 * 1024).await;
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        while got.len() < 1000 {
            match peer.next().await {
                Some(Ok(WsMessage::Text(t))) => got.push(t.to_string()),
                other => panic!("{other:?}"),
            }
        }
        got
    });
    for i in 0..1000 {
        link.send(text(i, 10)).await.unwrap();
    }
    let got = reader.await.unwrap();
    for (i, t) in got.iter().enumerate() {
        assert!(t.starts_with(&i.to_string()), "frame {i}: {t}");
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(link.progress().0, 0, "every frame written is counted out");
}

#[tokio::test]
async fn the_frame_window_holds_senders_while_the_peer_does_not_read() {
    // A 64-byte stream: the first frame already fills it, nothing is given back.
    let (link, peer, _source) = start(limits(), 64).await;
    for i in 0..4 {
        link.send(text(i, 100)).await.unwrap();
    }
    assert!(blocks(link.send(text(4, 100))).await, "a fifth frame waits");
    drop(peer);

    // The same without a byte budget (as clients run): the window alone holds senders.
    let limits = Limits {
        window_bytes: usize::MAX,
        ..limits()
    };
    let (link, peer, _source) = start(limits, 64).await;
    for i in 0..4 {
        link.send(text(i, 100_000)).await.unwrap();
    }
    assert!(blocks(link.send(text(4, 100))).await, "a fifth frame waits");
    drop(peer);
}

#[tokio::test]
async fn the_byte_budget_holds_senders_and_admits_a_long_frame_alone() {
    let limits = Limits {
        window: 100,
        window_bytes: 1000,
        ..limits()
    };
    let (link, peer, _source) = start(limits, 64).await;
    link.send(text(0, 400)).await.unwrap();
    link.send(text(1, 400)).await.unwrap();
    assert!(blocks(link.send(text(2, 400))).await, "1,200 bytes > 1,000");
    drop(peer);

    // With a reading peer, a frame longer than the budget goes through, alone.
    let (link, mut peer, _source) = start(limits, 64 * 1024).await;
    let reader = tokio::spawn(async move {
        let mut lens = Vec::new();
        while lens.len() < 3 {
            if let Some(Ok(WsMessage::Text(t))) = peer.next().await {
                lens.push(t.len());
            }
        }
        lens
    });
    link.send(text(0, 10)).await.unwrap();
    link.send(text(1, 5000)).await.unwrap();
    link.send(text(2, 10)).await.unwrap();
    assert_eq!(reader.await.unwrap(), [10, 5000, 10]);
}

#[tokio::test]
async fn a_sender_that_waits_too_long_times_out() {
    let limits = Limits {
        window: 1,
        full_timeout: Some(Duration::from_millis(50)),
        ..limits()
    };
    let (link, _peer, _source) = start(limits, 64).await;
    link.send(text(0, 100)).await.unwrap();
    assert_eq!(link.send(text(1, 100)).await, Err(SendError::TimedOut));
}

#[tokio::test]
async fn frames_that_must_not_wait_are_refused_when_the_queue_is_full() {
    let limits = Limits {
        max_frames: 3,
        ..limits()
    };
    let (link, _peer, _source) = start(limits, 64).await;
    for i in 0..3 {
        link.try_send(text(i, 100)).unwrap();
    }
    assert_eq!(link.try_send(text(3, 100)), Err(SendError::Full));

    let limits = Limits {
        max_bytes: 250,
        ..self::limits()
    };
    let (link, _peer, _source) = start(limits, 64).await;
    link.try_send(text(0, 300)).unwrap(); // into an empty queue: admitted
    assert_eq!(link.try_send(text(1, 10)), Err(SendError::Full));
}

#[tokio::test]
async fn frames_queued_before_a_close_go_first() {
    let (link, mut peer, _source) = start(limits(), 64 * 1024).await;
    for i in 0..3 {
        link.send(text(i, 5)).await.unwrap();
    }
    assert!(link.close(4000, "bye"));
    assert!(!link.close(1000, "again"), "only the first close counts");
    assert!(link.is_closing());
    let mut got = Vec::new();
    while let Some(Ok(m)) = peer.next().await {
        let close = matches!(m, WsMessage::Close(_));
        got.push(m);
        if close {
            break;
        }
    }
    assert_eq!(got.len(), 4, "{got:?}");
    for (i, m) in got[..3].iter().enumerate() {
        assert!(m.to_text().unwrap().starts_with(&i.to_string()));
    }
    match &got[3] {
        WsMessage::Close(Some(f)) => {
            assert_eq!(u16::from(f.code), 4000);
            assert_eq!(f.reason.as_str(), "bye");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(link.close_reason().as_deref(), Some("bye"));
    // The peer answered (its stream replies to the close when read): the reader would now be
    // done; without that, the writer gives up after the close timeout.
    let gave_up = tokio::time::timeout(Duration::from_secs(2), link.stopped_reading()).await;
    assert!(
        gave_up.is_ok(),
        "the writer stops the reader after the close timeout"
    );
    assert_eq!(link.send(text(9, 5)).await, Err(SendError::Closed));
}

#[tokio::test]
async fn a_close_is_bounded_when_the_peer_does_not_read() {
    let (link, _peer, _source) = start(limits(), 64).await;
    link.send(text(0, 1000)).await.unwrap();
    let start = tokio::time::Instant::now();
    link.close(1000, "bye");
    tokio::time::timeout(Duration::from_secs(2), link.stopped_reading())
        .await
        .expect("the writer gives up on the socket");
    assert!(link.must_stop_reading());
    assert!(start.elapsed() >= TIMING.close_timeout);
    assert_eq!(link.send(text(1, 5)).await, Err(SendError::Closed));
}

#[tokio::test]
async fn when_the_reader_is_done_senders_fail() {
    let (link, _peer, _source) = start(limits(), 64).await;
    for i in 0..4 {
        link.send(text(i, 100)).await.unwrap();
    }
    let waiting = tokio::spawn({
        let link = link.clone();
        async move { link.send(text(4, 100)).await }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    link.reader_done();
    assert!(link.is_closing());
    assert!(
        !link.close(1000, "late"),
        "no close once the connection is over"
    );
    let res = tokio::time::timeout(Duration::from_secs(2), waiting)
        .await
        .expect("the waiting sender wakes")
        .unwrap();
    assert_eq!(res, Err(SendError::Closed));
    assert!(!link.must_stop_reading(), "the reader ended by itself");
}

#[tokio::test]
async fn abort_stops_the_reader_and_the_writer() {
    let (link, _peer, _source) = start(limits(), 64).await;
    link.abort();
    assert!(link.must_stop_reading());
    tokio::time::timeout(Duration::from_secs(1), link.stopped_reading())
        .await
        .unwrap();
    tokio::time::sleep(TIMING.linger + Duration::from_millis(50)).await;
    assert_eq!(link.send(text(0, 5)).await, Err(SendError::Closed));
}
