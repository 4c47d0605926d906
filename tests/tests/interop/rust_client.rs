//! Our typed client (`protocols::chat::Client`) against TSRPC's `WsServer` and `HttpServer`,
//! run by `server.js`: each scenario in JSON mode, in binary mode, and in binary mode against a
//! binary-only server (`Modes`).
//!
//! Compiled twice by interop.rs: on `protocols::chat` and on the service imported from
//! its TypeScript proto (`imported`); `chat` and `chat_server` are the parent's.

use super::*;
use chat::game::{FrameInput, GameResult, MsgGameFrame, MsgGameOver, MsgGameStart, Player};
use chat::room::{MsgUserJoin, MsgUserLeave, RoomUser};
use chat::{LastChat, LoginUser, MsgChat, ReqAdd, ReqFail, ReqGameBurst, ReqKick, ReqLogin};
use regex::Regex;
use rpc_runtime::client::WsStatus;
use rpc_runtime::{codes, ErrorCode, ErrorType};

/// A connected typed WebSocket client.
async fn connected(url: &str, options: WsClientOptions) -> chat::Client {
    let client = chat::Client::ws(url, options);
    within(EVENT_SECS, "connect", client.connect())
        .await
        .expect("connects to TSRPC's WsServer");
    client
}

/// Calls every API of the reference service once and checks each return, typed and as
/// JSON. Expects a fresh server (ids from 1000, no chat yet).
async fn check_every_api<T: RpcClient>(client: &chat::Client<T>) {
    let login = client
        .call_login(ReqLogin {
            username: "alice".into(),
            password: "secret".into(),
        })
        .await
        .expect("Login");
    assert_eq!(login.token, "token-alice-1000");
    assert_eq!(
        login.user,
        LoginUser {
            id: 1000.0,
            name: "alice".into()
        }
    );

    let err = client
        .call_login(ReqLogin {
            username: "alice".into(),
            password: "wrong".into(),
        })
        .await
        .expect_err("Login with a wrong password");
    assert_eq!(err.kind, ErrorType::ApiError);
    assert_eq!(err.message, "Wrong password");
    assert!(err.is_code("BAD_PASSWORD"), "{err:?}");

    let sum = client
        .call_add(ReqAdd { a: 1.0, b: 2.0 })
        .await
        .expect("Add");
    assert_eq!(sum.c, 3.0);

    // ApiError with a string code and an extra field.
    let err = client
        .call_fail(ReqFail { mode: None })
        .await
        .expect_err("Fail");
    assert_eq!(err.kind, ErrorType::ApiError);
    assert_eq!(err.code, Some(ErrorCode::Str("E_FAIL".into())));
    assert_eq!(err.extra.get("detail"), Some(&json!("extra field")));
    assert_eq!(
        to_json(&err),
        json!({"message": "Failed on purpose", "type": "ApiError", "code": "E_FAIL",
               "detail": "extra field"})
    );

    // ApiError with a numeric code.
    let err = client
        .call_fail(ReqFail {
            mode: Some(chat::FailMode::Number),
        })
        .await
        .expect_err("Fail number");
    assert_eq!(err.code, Some(ErrorCode::Int(42)));
    assert_eq!(
        to_json(&err),
        json!({"message": "Failed with a numeric code", "type": "ApiError", "code": 42})
    );

    // A thrown plain error: ServerError INTERNAL_ERR with innerErr.
    let err = client
        .call_fail(ReqFail {
            mode: Some(chat::FailMode::Throw),
        })
        .await
        .expect_err("Fail throw");
    assert_eq!(err.kind, ErrorType::ServerError);
    assert!(err.is_code(codes::INTERNAL_ERR), "{err:?}");
    assert_eq!(
        to_json(&err),
        json!({"message": "Internal Server Error", "type": "ServerError",
               "code": "INTERNAL_ERR", "innerErr": "Intentional exception from PtlFail"})
    );

    let slow = client
        .call_slow(chat::ReqSlow { ms: 50 })
        .await
        .expect("Slow");
    assert_eq!(slow.slept_ms, 50);

    let stats = client.call_stats(chat::ReqStats {}).await.expect("Stats");
    assert_eq!(stats.chat_count, 0);
    assert_eq!(stats.last_chat, None);
}

async fn every_api_over_ws(m: Modes) {
    let server = TsrpcServer::start(Kind::Ws, &m.server_args()).await;
    let client = connected(server.url(), m.ws()).await;
    check_every_api(&client).await;
    client.disconnect().await;
    server.stop().await;
}
in_modes!(every_api_over_ws);

async fn every_api_over_http(m: Modes) {
    let server = TsrpcServer::start(Kind::Http, &m.server_args()).await;
    let client = chat::Client::http(server.url(), m.http());
    check_every_api(&client).await;
    server.stop().await;
}
in_modes!(every_api_over_http);

async fn http_msg_reaches_the_server_and_game_burst_needs_ws(m: Modes) {
    let server = TsrpcServer::start(Kind::Http, &m.server_args()).await;
    let client = chat::Client::http(server.url(), m.http());
    let chat = MsgChat {
        name: "alice".into(),
        content: "hi".into(),
    };
    client
        .send_msg_chat(&chat)
        .await
        .expect("sendMsg over HTTP");
    // TSRPC answers a message before its listeners run: wait for the count.
    let deadline = Instant::now() + Duration::from_secs(EVENT_SECS);
    let stats = loop {
        let stats = client.call_stats(chat::ReqStats {}).await.expect("Stats");
        if stats.chat_count > 0 || Instant::now() > deadline {
            break stats;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(stats.chat_count, 1);
    assert_eq!(
        stats.last_chat,
        Some(LastChat {
            name: "alice".into(),
            content: "hi".into()
        })
    );

    let err = client
        .call_game_burst(ReqGameBurst { frames: 2 })
        .await
        .expect_err("GameBurst over HTTP");
    assert_eq!(
        to_json(&err),
        json!({"message": "GameBurst needs a WebSocket connection", "type": "ApiError",
               "code": "NEED_WS"})
    );
    // Kick over HTTP just returns.
    let kick = client.call_kick(ReqKick {
        reason: "no effect".into(),
    });
    kick.await.expect("Kick over HTTP");
    server.stop().await;
}
in_modes!(http_msg_reaches_the_server_and_game_burst_needs_ws);

/// Chat echo, a broadcast reaching two of our clients, and a `^game/` regex listener that
/// gets the whole GameBurst, typed and in order, and none of the `room/*` messages.
async fn messages_both_ways_regex_listener_and_broadcast(m: Modes) {
    let server = TsrpcServer::start(Kind::Ws, &m.server_args()).await;
    let alice = connected(server.url(), m.ws()).await;
    let bob = connected(server.url(), m.ws()).await;

    let mut alice_chat = Events::new();
    alice.listen_msg_chat(alice_chat.sink());
    let mut bob_chat = Events::new();
    bob.listen_msg_chat(bob_chat.sink());
    let mut alice_join = Events::new();
    alice.listen_msg_room_user_join(alice_join.sink());
    let mut bob_join = Events::new();
    bob.listen_msg_room_user_join(bob_join.sink());
    let mut alice_leave = Events::new();
    alice.listen_msg_room_user_leave(alice_leave.sink());
    let mut game = Events::new();
    let game_sink = game.sink();
    alice.listen_msg_matching(Regex::new("^game/").unwrap(), move |msg, name| {
        game_sink((name.to_owned(), msg))
    });

    // Client -> server -> client: the echo goes to the sender only.
    alice
        .send_msg_chat(&MsgChat {
            name: "alice".into(),
            content: "hi".into(),
        })
        .await
        .expect("send Chat");
    assert_eq!(
        alice_chat.next("Chat echo").await,
        MsgChat {
            name: "server".into(),
            content: "echo: hi".into()
        }
    );

    // A broadcast: both clients get it.
    let join = MsgUserJoin {
        room_id: "r1".into(),
        user: RoomUser {
            id: 7.0,
            name: "bob".into(),
        },
        tags: vec!["x".into()],
    };
    alice
        .send_msg_room_user_join(&join)
        .await
        .expect("send UserJoin");
    assert_eq!(alice_join.next("UserJoin to alice").await, join);
    assert_eq!(bob_join.next("UserJoin to bob").await, join);

    // GameBurst: the regex listener gets every game/* message, typed, in order.
    let res = alice
        .call_game_burst(ReqGameBurst { frames: 3 })
        .await
        .expect("GameBurst");
    assert_eq!(res.sent, 5);
    let mut got = Vec::new();
    for i in 0..5 {
        got.push(game.next(&format!("game message #{i}")).await);
    }
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "game/GameStart",
            "game/GameFrame",
            "game/GameFrame",
            "game/GameFrame",
            "game/GameOver"
        ]
    );
    let game_id = match &got[0].1 {
        chat::Msg::GameGameStart(MsgGameStart {
            game_id,
            seed,
            players,
        }) => {
            assert_eq!(*seed, 123_456_789);
            assert_eq!(
                players,
                &[
                    Player {
                        id: 1.0,
                        name: "alice".into()
                    },
                    Player {
                        id: 2.0,
                        name: "bob".into()
                    }
                ]
            );
            assert!(game_id.starts_with("g-"), "{game_id}");
            game_id.clone()
        }
        other => panic!("expected GameStart, got {other:?}"),
    };
    for (i, (_, msg)) in got[1..4].iter().enumerate() {
        let i = i as u64;
        let expected = MsgGameFrame {
            frame: i,
            inputs: vec![
                FrameInput {
                    player_id: 1.0,
                    dx: i as i64,
                    dy: -(i as i64),
                },
                FrameInput {
                    player_id: 2.0,
                    dx: -1,
                    dy: 1,
                },
            ],
            checksum: i.is_multiple_of(2).then(|| format!("ck{i}")),
        };
        match msg {
            chat::Msg::GameGameFrame(frame) => assert_eq!(frame, &expected),
            other => panic!("expected GameFrame {i}, got {other:?}"),
        }
    }
    match &got[4].1 {
        chat::Msg::GameGameOver(over) => assert_eq!(
            over,
            &MsgGameOver {
                game_id,
                winner: Some(1.0),
                result: GameResult::Win,
                draw: false,
                scores: vec![10.5, -3.0],
            }
        ),
        other => panic!("expected GameOver, got {other:?}"),
    }

    // room/* after the burst: heard by its own listener, never by the ^game/ one.
    let leave = MsgUserLeave {
        room_id: "r1".into(),
        user_id: 7.0,
        reason: None,
    };
    alice
        .send_msg_room_user_leave(&leave)
        .await
        .expect("send UserLeave");
    assert_eq!(alice_leave.next("UserLeave").await, leave);
    let stray = game.drain();
    assert!(stray.is_empty(), "^game/ heard {stray:?}");
    assert!(
        bob_chat.drain().is_empty(),
        "the echo went to the sender only"
    );

    alice.disconnect().await;
    bob.disconnect().await;
    server.stop().await;
}
in_modes!(messages_both_ways_regex_listener_and_broadcast);

/// A TSRPC `WsServer` in binary-only mode (`json: false`) refuses our JSON frames (a client
/// in JSON mode), with TSRPC's reason.
#[tokio::test]
async fn binary_only_tsrpc_server_refuses_json() {
    let server = TsrpcServer::start(Kind::Ws, &["--json", "false"]).await;
    let client = connected(server.url(), WsClientOptions::default().json(true)).await;
    let err = client
        .call_add(ReqAdd { a: 1.0, b: 2.0 })
        .await
        .expect_err("JSON to a binary-only server");
    assert_eq!(err.kind, ErrorType::NetworkError);
    assert!(err.is_code(codes::LOST_CONN), "{err:?}");
    assert_eq!(
        err.message,
        "JSON mode is not enabled, please use binary instead."
    );
    server.stop().await;
}

async fn kick_reason_reaches_post_disconnect(m: Modes) {
    let server = TsrpcServer::start(Kind::Ws, &m.server_args()).await;
    let client = connected(server.url(), m.ws()).await;
    let mut disconnects = record_disconnects(&client);
    client
        .call_kick(ReqKick {
            reason: "kicked-by-test".into(),
        })
        .await
        .expect("Kick");
    assert_eq!(
        disconnects.next("post_disconnect").await,
        (Some("kicked-by-test".to_owned()), false)
    );
    assert_eq!(client.status(), WsStatus::Closed);
    let err = client
        .call_add(ReqAdd { a: 1.0, b: 1.0 })
        .await
        .expect_err("a call after the kick");
    assert!(err.is_code(codes::WS_NOT_OPEN), "{err:?}");
    server.stop().await;
}
in_modes!(kick_reason_reaches_post_disconnect);

/// The reconnect recipe of the seed (TSRPC's docs): a `post_disconnect` node that calls
/// `connect()` again a little later when the disconnect was not manual.
async fn reconnect_recipe(m: Modes) {
    let server = TsrpcServer::start(Kind::Ws, &m.server_args()).await;
    let client = connected(server.url(), m.ws()).await;
    let mut disconnects = record_disconnects(&client);
    let mut reconnects = Events::new();
    let reconnected = Arc::new(reconnects.sink());
    client.flows().post_disconnect.push(move |ev| {
        if !ev.is_manual {
            let client = ev.client.clone();
            let reconnected = reconnected.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                reconnected(client.connect().await);
            });
        }
        Some(ev)
    });

    client
        .call_kick(ReqKick {
            reason: "kicked-by-test".into(),
        })
        .await
        .expect("Kick");
    assert_eq!(
        disconnects.next("kick").await,
        (Some("kicked-by-test".to_owned()), false)
    );
    reconnects
        .next("reconnect")
        .await
        .expect("the recipe reconnects");
    assert_eq!(client.status(), WsStatus::Opened);
    let sum = client.call_add(ReqAdd { a: 1.0, b: 2.0 }).await;
    assert_eq!(sum.expect("Add after reconnecting").c, 3.0);
    let login = client.call_login(ReqLogin {
        username: "bob".into(),
        password: "pw".into(),
    });
    assert_eq!(login.await.expect("Login").token, "token-bob-1000");

    // A manual disconnect does not reconnect.
    client.disconnect().await;
    assert_eq!(disconnects.next("manual").await, (None, true));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        reconnects.drain().is_empty(),
        "no reconnect after a manual disconnect"
    );
    assert_eq!(client.status(), WsStatus::Closed);
    server.stop().await;
}
in_modes!(reconnect_recipe);

/// TSRPC's server with `heartbeatWaitTime` 300 ms: our client with a heartbeat stays
/// connected; one without is closed with `Receive heartbeat timeout`.
async fn heartbeat_against_heartbeat_wait_time(m: Modes) {
    let server =
        TsrpcServer::start(Kind::Ws, &m.server_args_with(&["--heartbeat-wait", "300"])).await;
    let beating = connected(
        server.url(),
        m.ws()
            .heartbeat(Duration::from_millis(100), Duration::from_millis(1000)),
    )
    .await;
    let mut beating_disconnects = record_disconnects(&beating);
    let silent = connected(server.url(), m.ws()).await;
    let start = Instant::now();
    let mut silent_disconnects = record_disconnects(&silent);

    assert_eq!(
        silent_disconnects.next("heartbeat timeout").await,
        (Some("Receive heartbeat timeout".to_owned()), false)
    );
    // The server checks every 300 ms: the close comes within two periods (plus slack).
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );

    tokio::time::sleep(Duration::from_millis(1200).saturating_sub(start.elapsed())).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(start.elapsed() > Duration::from_secs(1));
    assert!(
        beating_disconnects.drain().is_empty(),
        "the beating client was closed"
    );
    assert_eq!(beating.status(), WsStatus::Opened);
    assert!(beating.last_heartbeat_latency().is_some());
    let sum = beating.call_add(ReqAdd { a: 2.0, b: 2.0 }).await;
    assert_eq!(sum.expect("Add").c, 4.0);
    beating.disconnect().await;
    server.stop().await;
}
in_modes!(heartbeat_against_heartbeat_wait_time);
