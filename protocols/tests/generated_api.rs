//! The generated glue works over a real loopback connection: a server built from the generated
//! service trait, a typed WebSocket client, typed listeners (by name and by regex), server
//! pushes through `ConnectionExt`, and broadcasts. (The full behaviour is tested in `tests/`.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use protocols::chat::{self, game, room, ChatService, ConnectionExt};
use regex::Regex;
use rpc_runtime::server::ServerOptions;
use rpc_runtime::{ApiCall, HandlerResult, MsgCall, TsrpcError};

#[derive(Default)]
struct Impl {
    next_id: AtomicU64,
}

impl ChatService for Impl {
    async fn add(&self, call: ApiCall<chat::ReqAdd>) -> HandlerResult<chat::ResAdd> {
        Ok(chat::ResAdd {
            c: call.req.a + call.req.b,
        })
    }
    async fn fail(&self, _call: ApiCall<chat::ReqFail>) -> HandlerResult<chat::ResFail> {
        Err(TsrpcError::api("Failed on purpose").into())
    }
    async fn game_burst(
        &self,
        call: ApiCall<chat::ReqGameBurst>,
    ) -> HandlerResult<chat::ResGameBurst> {
        let start = game::MsgGameStart {
            game_id: "g-1".into(),
            seed: 123456789,
            players: vec![],
        };
        call.conn.send_msg_game_game_start(&start).await?;
        for frame in 0..call.req.frames {
            let f = game::MsgGameFrame {
                frame,
                inputs: vec![],
                checksum: None,
            };
            call.conn.send_msg_game_game_frame(&f).await?;
        }
        Ok(chat::ResGameBurst {
            sent: call.req.frames + 1,
        })
    }
    async fn kick(&self, call: ApiCall<chat::ReqKick>) -> HandlerResult<chat::ResKick> {
        call.conn.close(call.req.reason);
        Ok(chat::ResKick {})
    }
    async fn login(&self, call: ApiCall<chat::ReqLogin>) -> HandlerResult<chat::ResLogin> {
        let id = 1000 + self.next_id.fetch_add(1, Ordering::Relaxed);
        Ok(chat::ResLogin {
            token: format!("token-{}-{id}", call.req.username),
            user: chat::LoginUser {
                id: id as f64,
                name: call.req.username,
            },
        })
    }
    async fn slow(&self, call: ApiCall<chat::ReqSlow>) -> HandlerResult<chat::ResSlow> {
        Ok(chat::ResSlow {
            slept_ms: call.req.ms,
        })
    }
    async fn stats(&self, _call: ApiCall<chat::ReqStats>) -> HandlerResult<chat::ResStats> {
        Ok(chat::ResStats {
            chat_count: 0,
            last_chat: None,
        })
    }
    async fn who_am_i(&self, _call: ApiCall<chat::ReqWhoAmI>) -> HandlerResult<chat::ResWhoAmI> {
        Err(TsrpcError::api("Need login").with_code("NEED_LOGIN").into())
    }
}

async fn wait_for(mut cond: impl FnMut() -> bool) {
    for _ in 0..200 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out");
}

#[tokio::test]
async fn typed_client_and_server_over_loopback() {
    let server = chat::Server::ws("127.0.0.1:0".parse().unwrap(), ServerOptions::default())
        .serve(Arc::new(Impl::default()))
        .listen_msg_chat(|call: MsgCall<chat::MsgChat>| async move {
            let reply = chat::MsgChat {
                name: "server".into(),
                content: format!("echo: {}", call.msg.content),
            };
            call.conn.send_msg_chat(&reply).await.unwrap();
        })
        .start()
        .await
        .unwrap();
    let url = format!("ws://{}", server.local_addr());

    let client = chat::Client::ws(url, Default::default());
    client.connect().await.unwrap();

    let res = client
        .call_add(chat::ReqAdd { a: 1.0, b: 2.0 })
        .await
        .unwrap();
    assert_eq!(res.c, 3.0);
    let res = client
        .call_login(chat::ReqLogin {
            username: "alice".into(),
            password: "secret".into(),
        })
        .await
        .unwrap();
    assert_eq!(res.token, "token-alice-1000");
    let err = client
        .call_fail(chat::ReqFail::default())
        .await
        .unwrap_err();
    assert_eq!(err.message, "Failed on purpose");

    // Listen by name, then send.
    let echoes = Arc::new(Mutex::new(Vec::new()));
    let sink = echoes.clone();
    let h = client.listen_msg_chat(move |m: chat::MsgChat| sink.lock().unwrap().push(m.content));
    client
        .send_msg_chat(&chat::MsgChat {
            name: "alice".into(),
            content: "hi".into(),
        })
        .await
        .unwrap();
    wait_for(|| echoes.lock().unwrap().len() == 1).await;
    assert_eq!(echoes.lock().unwrap()[0], "echo: hi");
    assert!(client.unlisten_msg(h));

    // Listen by regex: typed values of the generated `Msg` enum.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    client.listen_msg_matching(
        Regex::new("^game/").unwrap(),
        move |m: chat::Msg, name: &str| {
            let frame = match &m {
                chat::Msg::GameGameFrame(f) => Some(f.frame),
                _ => None,
            };
            sink.lock().unwrap().push((name.to_owned(), frame));
        },
    );
    let res = client
        .call_game_burst(chat::ReqGameBurst { frames: 2 })
        .await
        .unwrap();
    assert_eq!(res.sent, 3);
    wait_for(|| seen.lock().unwrap().len() == 3).await;
    assert_eq!(
        *seen.lock().unwrap(),
        [
            ("game/GameStart".to_owned(), None),
            ("game/GameFrame".to_owned(), Some(0)),
            ("game/GameFrame".to_owned(), Some(1)),
        ]
    );

    // Broadcast through the running server's typed method.
    let joins = Arc::new(Mutex::new(Vec::new()));
    let sink = joins.clone();
    client.listen_msg_room_user_join(move |m: room::MsgUserJoin| {
        sink.lock().unwrap().push(m.room_id)
    });
    let join = room::MsgUserJoin {
        room_id: "r1".into(),
        user: room::RoomUser {
            id: 7.0,
            name: "bob".into(),
        },
        tags: vec![],
    };
    server.broadcast_msg_room_user_join(&join).await.unwrap();
    wait_for(|| joins.lock().unwrap().len() == 1).await;

    client.disconnect().await;
    server.stop().await;
}

#[tokio::test]
async fn start_lists_unimplemented_apis() {
    let err = chat::Server::ws("127.0.0.1:0".parse().unwrap(), ServerOptions::default())
        .implement_api_add(|call: ApiCall<chat::ReqAdd>| async move {
            Ok(chat::ResAdd {
                c: call.req.a + call.req.b,
            })
        })
        .start()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("Login") && !text.contains("Add"), "{text}");
}

/// Calls and sends exist on the HTTP client too (compile-time check only).
#[allow(dead_code)]
async fn http_client_has_calls_and_sends(client: chat::Client<rpc_runtime::HttpClient>) {
    let _ = client.call_add(chat::ReqAdd { a: 1.0, b: 2.0 }).await;
    let _ = client
        .send_msg_chat(&chat::MsgChat {
            name: String::new(),
            content: String::new(),
        })
        .await;
    // The futures are Send, so they can be spawned.
    let c = client.clone();
    drop(tokio::spawn(async move {
        c.call_stats(chat::ReqStats {}).await
    }));
}
