//! Closing a connection right after the reply (issue 12, docs/SERVER.md): a close asked for
//! inside an API call lets the call's reply go first, whichever way the call closes (before
//! returning, after awaiting, from a task it spawned, from a return flow, with an error
//! reply), with a real client over a real socket and with a raw one that shows the frames in
//! order. A close from anywhere else is not held back, and over HTTP the reply always goes
//! with the reason in `X-TSRPC-Close-Reason`. Also the bytes of the errors docs/SERVER.md shows
//! (its examples themselves run as this crate's doc tests).
//!
//! Each way is repeated (`ROUNDS`) so that a race between the reply and the close would show.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use protocols::chat::{self, ConnectionExt, MsgChat, ReqKick, ReqSlow, ResKick, ResSlow};
use rpc_runtime::server::{ConnType, ServerOptions};
use rpc_runtime::{codes, ApiReturn, Connection, ErrorType, TsrpcError};
use rpc_tests::raw::{http_request, Frame, RawWsClient};
use rpc_tests::{any_port, within};
use tokio::sync::mpsc;

/// How often each way of closing is tried, per client kind.
const ROUNDS: usize = 40;

/// What the `Kick` handler of [`kick_server`] does with the connection, by `reason`:
/// - `now`: closes, then returns `{}` (the handler finishes on its first poll);
/// - `after-await`: closes, waits a little, then returns (the call runs in a task of its own);
/// - `spawned`: spawns a task that closes at once, then returns (a race the reply must win);
/// - `error`: closes, then returns ApiError `KICKED`;
/// - anything else: returns without closing, keeping the call's handle in `kept`.
const MODES: [&str; 4] = ["now", "after-await", "spawned", "error"];

/// Handles kept by `Kick` calls that did not close.
type Kept = Arc<Mutex<Vec<Connection>>>;

async fn kick_server(server: chat::Server, kept: Kept) -> chat::RunningServer {
    server
        .implement_api_kick(move |call| {
            let kept = kept.clone();
            async move {
                let reason = call.req.reason.clone();
                match reason.as_str() {
                    "now" => call.conn.close(reason),
                    "after-await" => {
                        call.conn.close(reason);
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    "spawned" => {
                        let conn = call.conn.clone();
                        tokio::spawn(async move { conn.close(reason) });
                    }
                    "error" => {
                        call.conn.close(reason);
                        return Err(TsrpcError::api("kicked").with_code("KICKED").into());
                    }
                    _ => kept.lock().unwrap().push(call.conn.clone()),
                }
                Ok(ResKick {})
            }
        })
        .allow_unimplemented()
        .start()
        .await
        .unwrap()
}

/// A WebSocket client whose `post_disconnect` reasons arrive on the receiver.
async fn client_watching_close(
    url: &str,
) -> (chat::Client, mpsc::UnboundedReceiver<Option<String>>) {
    let client = chat::Client::ws(url, Default::default());
    let (tx, rx) = mpsc::unbounded_channel();
    client.flows().post_disconnect.push(move |ev| {
        assert!(!ev.is_manual, "the server closed, not the client");
        let _ = tx.send(ev.reason.clone());
        Some(ev)
    });
    within(5, "connect", client.connect()).await.unwrap();
    (client, rx)
}

/// The frame a `Kick` call with sn 1 gets over WebSocket, in `mode`.
fn kick_reply(mode: &str) -> String {
    if mode == "error" {
        r#"["Kick",{"isSucc":false,"err":{"message":"kicked","type":"ApiError","code":"KICKED"}},1]"#
            .to_owned()
    } else {
        r#"["Kick",{"isSucc":true,"res":{}},1]"#.to_owned()
    }
}

/// Checks what the real client got: the call's own return, then the close with its reason.
fn assert_reply(mode: &str, ret: ApiReturn<ResKick>) {
    match (mode, ret) {
        ("error", Err(e)) => {
            assert_eq!(e.kind, ErrorType::ApiError, "{e:?}");
            assert!(e.is_code("KICKED"), "{e:?}");
        }
        ("error", Ok(res)) => panic!("mode error: got {res:?}"),
        (_, Ok(res)) => assert_eq!(res, ResKick {}),
        (_, Err(e)) => panic!("mode {mode}: the reply was lost: {e:?}"),
    }
}

#[tokio::test]
async fn a_close_inside_the_handler_comes_after_the_reply() {
    let kept = Kept::default();
    let server = kick_server(chat::Server::ws(any_port(), ServerOptions::default()), kept).await;
    let url = server.url();
    for mode in MODES {
        for round in 0..ROUNDS {
            let (client, mut closes) = client_watching_close(&url).await;
            let ret = within(
                5,
                "the Kick call",
                client.call_kick(ReqKick {
                    reason: mode.into(),
                }),
            )
            .await;
            assert_reply(mode, ret);
            let reason = within(5, "the close", closes.recv()).await.unwrap();
            assert_eq!(reason.as_deref(), Some(mode), "mode {mode}, round {round}");
        }
        // The same on the wire: the reply frame, then the close frame.
        for round in 0..ROUNDS {
            let mut raw = RawWsClient::connect(server.local_addr()).await.unwrap();
            let call = format!(r#"["Kick",{{"reason":"{mode}"}},1]"#);
            raw.send_text(call.as_bytes()).await.unwrap();
            let frames = raw.until_close(Duration::from_secs(5)).await;
            assert_eq!(
                frames,
                [
                    Frame::Text(kick_reply(mode)),
                    Frame::Close(1000, mode.into())
                ],
                "mode {mode}, round {round}"
            );
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn a_close_in_a_return_flow_comes_after_the_reply() {
    // The call's flow events carry the call's handle too: a close from `pre_api_return` (which
    // runs after the handler, before the reply is queued) waits for the reply.
    let server = chat::Server::ws(any_port(), ServerOptions::default());
    server.flows().pre_api_return.push(|ev| {
        if ev.api_name == "Kick" {
            ev.conn.close("flow");
        }
        Some(ev)
    });
    let server = kick_server(server, Kept::default()).await;
    for round in 0..ROUNDS {
        let (client, mut closes) = client_watching_close(&server.url()).await;
        let ret = client
            .call_kick(ReqKick {
                reason: "stay".into(),
            })
            .await;
        assert_eq!(ret.unwrap(), ResKick {}, "round {round}");
        let reason = within(5, "the close", closes.recv()).await.unwrap();
        assert_eq!(reason.as_deref(), Some("flow"), "round {round}");
    }
    server.stop().await;
}

#[tokio::test]
async fn after_the_close_the_handler_cannot_send() {
    // Once a handler closed, the connection counts as closed though the close waits for the
    // reply: its own send_msg fails, as on a closing TSRPC connection.
    let (tx, mut seen) = mpsc::unbounded_channel();
    let server = chat::Server::ws(any_port(), ServerOptions::default())
        .implement_api_kick(move |call| {
            let tx = tx.clone();
            async move {
                call.conn.close(call.req.reason.clone());
                let msg = MsgChat {
                    name: "server".into(),
                    content: "too late".into(),
                };
                let sent = call.conn.send_msg_chat(&msg).await;
                let _ = tx.send((call.conn.is_closed(), sent));
                Ok(ResKick {})
            }
        })
        .allow_unimplemented()
        .start()
        .await
        .unwrap();
    let mut raw = RawWsClient::connect(server.local_addr()).await.unwrap();
    raw.send_text(br#"["Kick",{"reason":"bye"},1]"#)
        .await
        .unwrap();
    let frames = raw.until_close(Duration::from_secs(5)).await;
    assert_eq!(
        frames,
        [
            Frame::Text(kick_reply("now")),
            Frame::Close(1000, "bye".into())
        ]
    );
    let (closed, sent) = within(5, "the handler's report", seen.recv())
        .await
        .unwrap();
    assert!(closed, "is_closed() right after close()");
    let err = sent.expect_err("send_msg after close() must fail");
    assert!(err.is_code(codes::LOST_CONN), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_close_from_outside_the_call_is_not_held_back() {
    let kept = Kept::default();
    let server = kick_server(
        chat::Server::ws(any_port(), ServerOptions::default()),
        kept.clone(),
    )
    .await;

    // Through a handle a call kept, once its reply has gone: at once.
    let (client, mut closes) = client_watching_close(&server.url()).await;
    client
        .call_kick(ReqKick {
            reason: "stay".into(),
        })
        .await
        .unwrap();
    let conn = kept
        .lock()
        .unwrap()
        .pop()
        .expect("the call kept its handle");
    conn.close("later");
    let reason = within(5, "the close after the reply", closes.recv())
        .await
        .unwrap();
    assert_eq!(reason.as_deref(), Some("later"));

    // Through the server's own handle while a call runs on the connection: at once too, and
    // the running call fails (it gets no reply) instead of holding the close.
    let server = chat::Server::ws(any_port(), ServerOptions::default())
        .implement_api_slow(|call| async move {
            tokio::time::sleep(Duration::from_millis(call.req.ms)).await;
            Ok(ResSlow {
                slept_ms: call.req.ms,
            })
        })
        .allow_unimplemented()
        .start()
        .await
        .unwrap();
    let (client, mut closes) = client_watching_close(&server.url()).await;
    let slow = tokio::spawn({
        let client = client.clone();
        async move { client.call_slow(ReqSlow { ms: 60_000 }).await }
    });
    within(5, "the call to start", async {
        while server.pending_calls() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let conns = server.connections();
    assert_eq!(conns.len(), 1);
    conns[0].close("kicked");
    let reason = within(5, "the close during a call", closes.recv())
        .await
        .unwrap();
    assert_eq!(reason.as_deref(), Some("kicked"));
    let err = within(5, "the slow call", slow).await.unwrap().unwrap_err();
    assert!(err.is_code(codes::LOST_CONN), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn over_http_the_reply_goes_with_the_close_reason() {
    // Over HTTP a call is its own short connection: close() names a reason for the
    // `X-TSRPC-Close-Reason` header, the body is still the reply, and the keep-alive socket
    // stays open for the next request (as TSRPC's does).
    let server = chat::Server::http(any_port(), ServerOptions::default());
    let (tx, mut sockets) = mpsc::unbounded_channel();
    server.flows().post_connect.push(move |conn| {
        assert_eq!(conn.conn_type(), ConnType::Http);
        let _ = tx.send(conn.remote_addr());
        Some(conn)
    });
    let server = kick_server(server, Kept::default()).await;

    let client = chat::Client::http(server.url(), Default::default());
    for round in 0..ROUNDS {
        let ret = client
            .call_kick(ReqKick {
                reason: "now".into(),
            })
            .await;
        assert_eq!(ret.unwrap(), ResKick {}, "round {round}");
    }
    let first = sockets.recv().await.unwrap();
    for round in 1..ROUNDS {
        let next = sockets.recv().await.unwrap();
        assert_eq!(next, first, "round {round}: the socket was not kept");
    }

    for mode in ["now", "error"] {
        let body = format!(r#"{{"reason":"{mode}"}}"#);
        let resp = http_request(
            server.local_addr(),
            "POST",
            "/Kick",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .await
        .unwrap();
        assert_eq!(resp.header("x-tsrpc-close-reason"), Some(mode));
        let expected = if mode == "error" {
            r#"{"isSucc":false,"err":{"message":"kicked","type":"ApiError","code":"KICKED"}}"#
        } else {
            r#"{"isSucc":true,"res":{}}"#
        };
        assert_eq!(resp.body, expected);
        assert_eq!(resp.status, 200);
    }
    server.stop().await;
}

/// The errors of docs/SERVER.md, as the bytes of an HTTP answer: an ApiError with its code and
/// extra field (200), and an error of any other type (500), with and without `innerErr`.
#[tokio::test]
async fn errors_on_the_wire() {
    for show_inner in [true, false] {
        let options = ServerOptions::default().return_inner_error(show_inner);
        let server = chat::Server::http(any_port(), options)
            .implement_api_login(|call| async move {
                Err(TsrpcError::api("Wrong password")
                    .with_code("BAD_PASSWORD")
                    .with_extra("attemptsLeft", 2)
                    .with_extra("user", call.req.username)
                    .into())
            })
            .implement_api_add(|_call| async move {
                let text = std::fs::read_to_string("/no/such/bonus.txt")?;
                Ok(chat::ResAdd {
                    c: text.len() as f64,
                })
            })
            .allow_unimplemented()
            .start()
            .await
            .unwrap();
        let post = |path: &'static str, body: &'static str| {
            http_request(
                server.local_addr(),
                "POST",
                path,
                &[("Content-Type", "application/json")],
                body.as_bytes(),
            )
        };
        let resp = post("/Login", r#"{"username":"ann","password":"x"}"#)
            .await
            .unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(
            resp.body,
            r#"{"isSucc":false,"err":{"message":"Wrong password","type":"ApiError","code":"BAD_PASSWORD","attemptsLeft":2,"user":"ann"}}"#
        );
        let resp = post("/Add", r#"{"a":1,"b":2}"#).await.unwrap();
        assert_eq!(resp.status, 500);
        let inner = std::fs::read_to_string("/no/such/bonus.txt").unwrap_err();
        let expected = if show_inner {
            format!(
                r#"{{"isSucc":false,"err":{{"message":"Internal Server Error","type":"ServerError","code":"INTERNAL_ERR","innerErr":"{inner}"}}}}"#
            )
        } else {
            r#"{"isSucc":false,"err":{"message":"Internal Server Error","type":"ServerError","code":"INTERNAL_ERR"}}"#.to_owned()
        };
        assert_eq!(resp.body, expected);
        server.stop().await;
    }
}
