//! What the WebSocket client does with what it reads: the read loop, API returns, messages
//! (through the codec's scan, or its full parse), and the heartbeat.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::{wait_closed, Heartbeat, Live, WsClient};
use crate::client::flows::{DataEvent, MsgEvent};
use crate::codec::binary::BinOutput;
use crate::codec::{Input, Parse, Payload, ServerOutput};
use crate::error::TsrpcError;
use crate::ws_util::HEARTBEAT;

impl WsClient {
    pub(super) async fn read_loop(
        self,
        mut source: futures_util::stream::SplitStream<
            tokio_tungstenite::WebSocketStream<
                tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
            >,
        >,
        live: Arc<Live>,
    ) {
        let mut reason = String::new();
        // True once the server's close frame (or its answer to ours) came.
        let mut close_frame = false;
        // One waiter for the whole loop, not one registered and dropped per frame.
        let closed = live.link.stopped_reading();
        tokio::pin!(closed);
        // API returns handled since the socket last had nothing to read.
        let mut returns = 0;
        loop {
            // The socket first: the close signal is polled only when there is nothing to read
            // (polling it costs more than a frame's dispatch), and checked by a flag per frame.
            if live.link.must_stop_reading() {
                break;
            }
            let frame = tokio::select! {
                biased;
                f = std::future::poll_fn(|cx| {
                    let next = source.poll_next_unpin(cx);
                    if next.is_pending() {
                        returns = 0;
                    }
                    next
                }) => f,
                _ = &mut closed => break,
            };
            match frame {
                Some(Ok(WsMessage::Text(text))) => {
                    if self.on_text(text.as_str()).await {
                        returns += 1;
                        if returns == RETURNS_PER_YIELD {
                            // Let the callers of these returns run (and send their next calls)
                            // while the rest of what was read waits: the server gets work
                            // sooner, which pipelined calls need (bench/README.md).
                            returns = 0;
                            tokio::task::yield_now().await;
                        }
                    }
                }
                Some(Ok(WsMessage::Binary(b))) => {
                    if b.as_ref() == HEARTBEAT {
                        live.pong.notify_one();
                    } else if self.on_binary(&b).await {
                        returns += 1;
                        if returns == RETURNS_PER_YIELD {
                            returns = 0;
                            tokio::task::yield_now().await;
                        }
                    }
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    // The connection is over now, whether or not the server ends TCP: a server
                    // that keeps it open must not leave calls pending (a close code a peer may
                    // not send arrives as 1002 `Protocol violation`).
                    if let Some(f) = frame {
                        reason = f.reason.to_string();
                    }
                    close_frame = true;
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::debug!("websocket read error: {e}");
                    break;
                }
                None => break,
            }
        }
        // After a close frame from the server this answers it: tungstenite has queued the
        // answer (the server's code), which the writer's close flushes.
        live.link.close(1000, "");
        if close_frame {
            // The server ends the TCP connection (RFC 6455 7.1.1); give it `close_linger`, then
            // drop this half (the writer drops the other once its close is written). Reading
            // also flushes the answer if the writer could not.
            let linger = self.inner.options.close_linger;
            tokio::spawn(async move {
                let drain = async { while let Some(Ok(_)) = source.next().await {} };
                let _ = tokio::time::timeout(linger, drain).await;
            });
        } else {
            drop(source);
        }
        self.on_close(&live, reason).await;
    }

    /// Handles a text frame; true when it was an API return.
    async fn on_text(&self, text: &str) -> bool {
        let flows = &self.inner.flows;
        let owned;
        let mut text = text;
        if !flows.pre_recv_data.is_empty() {
            let ev = DataEvent {
                data: text.to_owned(),
                sn: None,
            };
            match flows.pre_recv_data.exec(ev).await {
                Some(ev) => {
                    owned = ev.data;
                    text = &owned;
                }
                None => return false,
            }
        }
        // The usual frames come split by scanning. A message's body is then unchecked: the
        // first listener's decode is its only parse, and a body it refuses (or any, when
        // message flows need the parsed value) is read again the full way (see `codec`).
        let mut parse = Parse::Scan;
        loop {
            match self.inner.codec.decode_server_output(text, parse) {
                Ok(ServerOutput::ApiReturn { sn, ret }) => {
                    self.inner
                        .core
                        .complete(sn, ret.map(|body| Payload::Json(body.text().to_owned())));
                    return true;
                }
                Ok(ServerOutput::Msg { name, body }) if body.is_split() => {
                    let no_flows = flows.pre_recv_msg.is_empty() && flows.post_recv_msg.is_empty();
                    if no_flows && self.dispatch_unchecked(&name, body.text()) {
                        if self.inner.core.logs_msgs() {
                            let json = body.text();
                            tracing::debug!(target: crate::client::core::LOG_TARGET, "[RecvMsg] {name} {json}");
                        }
                        return false;
                    }
                    parse = Parse::Full;
                }
                Ok(ServerOutput::Msg { name, body }) => {
                    self.dispatch_msg(&name, Input::Json(body)).await;
                    return false;
                }
                Err(e) => {
                    tracing::warn!("bad frame from server: {e}");
                    // A reply whose return cannot be read fails its call now (as TSRPC's HTTP
                    // client does); a frame without a readable sn fails none.
                    if let Some(sn) = reply_sn(text) {
                        self.inner.core.complete(sn, Err(parse_output_error()));
                        return true;
                    }
                    return false;
                }
            }
        }
    }

    /// Handles a binary frame (a binary connection's API return or message); true when it
    /// was an API return. A frame that cannot be read is logged and dropped (a return whose
    /// body cannot be read fails its call with `Parse server output error`).
    async fn on_binary(&self, bytes: &[u8]) -> bool {
        let Some(bin) = self.inner.core.binary() else {
            tracing::warn!("binary frame ignored: the client speaks JSON");
            return false;
        };
        match bin.decode_server_output(bytes) {
            Ok(BinOutput::ApiReturn { sn, ret, .. }) => {
                let ret = ret.map(|body| Payload::Bin(body.into_owned()));
                self.inner.core.complete(sn, ret);
                true
            }
            Ok(BinOutput::Msg { name, schema, body }) => {
                self.dispatch_msg(name, Input::Bin(bin.body(schema, &body)))
                    .await;
                false
            }
            Err(e) => {
                tracing::warn!("bad binary frame from server: {e}");
                // A return whose sn can still be read fails its call now (as in JSON mode).
                match crate::codec::binary::damaged_reply_sn(bytes) {
                    Some(sn) => {
                        self.inner.core.complete(sn, Err(parse_output_error()));
                        true
                    }
                    None => false,
                }
            }
        }
    }

    /// Dispatches a message whose body was not parsed: true when the first listener decoded it
    /// (so it is valid JSON) and every listener got it; false, with no listener run, otherwise.
    fn dispatch_unchecked(&self, name: &str, json: &str) -> bool {
        self.inner.listeners.with_matching(name, |it| {
            let Some(first) = it.next() else {
                return false;
            };
            if !first(name, Input::json(json), false) {
                return false;
            }
            for h in it {
                h(name, Input::json(json), true);
            }
            true
        })
    }

    async fn dispatch_msg(&self, name: &str, body: Input<'_>) {
        if self.inner.core.logs_msgs() {
            let text = body.value().unwrap_or_default();
            tracing::debug!(target: crate::client::core::LOG_TARGET, "[RecvMsg] {name} {text}");
        }
        let flows = &self.inner.flows;
        if flows.pre_recv_msg.is_empty() && flows.post_recv_msg.is_empty() {
            self.inner.listeners.for_each_matching(name, |h| {
                h(name, body, true);
            });
            return;
        }
        let ev = MsgEvent {
            msg_name: name.to_owned(),
            msg: body.value().unwrap_or_default(),
        };
        let Some(ev) = flows.pre_recv_msg.exec(ev).await else {
            return;
        };
        let json = crate::json::to_string_untyped(&ev.msg).unwrap_or_default();
        self.inner.listeners.for_each_matching(&ev.msg_name, |h| {
            h(&ev.msg_name, Input::json(&json), true);
        });
        flows.post_recv_msg.exec(ev).await;
    }

    pub(super) async fn heartbeat_loop(self, live: Arc<Live>, hb: Heartbeat) {
        let mut closed = live.closed.subscribe();
        loop {
            let sent = Instant::now();
            if live
                .queue(WsMessage::binary(HEARTBEAT.to_vec()))
                .await
                .is_err()
            {
                return;
            }
            tokio::select! {
                _ = wait_closed(&mut closed) => return,
                r = tokio::time::timeout(hb.timeout, live.pong.notified()) => {
                    if r.is_err() {
                        live.link.close(3000, "Heartbeat timeout");
                        self.on_close(&live, "Heartbeat timeout".into()).await;
                        return;
                    }
                }
            }
            let us = sent.elapsed().as_micros().min(u64::MAX as u128 - 1) as u64;
            self.inner.latency_us.store(us, Ordering::Relaxed);
            tokio::select! {
                _ = wait_closed(&mut closed) => return,
                _ = tokio::time::sleep(hb.interval) => {}
            }
        }
    }
}

/// The read loop yields after this many API returns read in one go. Fewer yields mean fewer,
/// larger writes (less CPU per call), more mean the server gets the next calls sooner: with
/// many calls in flight, 32 measured as fast as 16 on idle cores and faster when other jobs
/// share them, and 64 slower in both (figures in bench/README.md).
const RETURNS_PER_YIELD: usize = 32;

/// TSRPC's error for a reply the client cannot parse: ServerError, no code.
fn parse_output_error() -> TsrpcError {
    TsrpcError::server("Parse server output error")
}

/// The sn of a frame shaped like an API return, `[name, <anything>, sn, ...]` with `sn` an
/// integer from 1 to 2^53; `None` when there is none (a message, or not such an array).
fn reply_sn(text: &str) -> Option<u64> {
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(text).ok()?;
    let sn: u64 = serde_json::from_str(items.get(2)?.get()).ok()?;
    (sn > 0 && sn <= 1 << 53).then_some(sn)
}

#[cfg(test)]
mod tests {
    use super::reply_sn;

    #[test]
    fn reply_sn_reads_the_third_element() {
        assert_eq!(reply_sn(r#"["Add",{"isSucc":false,"err":5},7]"#), Some(7));
        assert_eq!(reply_sn(r#"["Add",null,1,"extra"]"#), Some(1));
        assert_eq!(reply_sn(r#"[5,{},9007199254740992]"#), Some(1 << 53));
        for none in [
            "not json",
            "[]",
            r#"["Add",{}]"#,
            r#"["Add",{},0]"#,
            r#"["Add",{},"1"]"#,
            r#"["Add",{},1.5]"#,
            r#"["Add",{},9007199254740993]"#,
            r#"{"sn":1}"#,
        ] {
            assert_eq!(reply_sn(none), None, "{none}");
        }
    }
}
