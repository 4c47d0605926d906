//! The demo: a chat server and typed clients, on loopback, exiting by itself.
//!
//! Run it with `cargo run -p rpc-examples --bin demo`. It starts the chat service (the TSRPC
//! reference service, see `rpc_examples::chat_server`) on `127.0.0.1:0`, then two clients
//! call APIs, send messages, listen by name and by regex, receive a broadcast, get kicked and
//! come back through the built-in reconnect policy (printing the status stream), and use the
//! HTTP transport too. The clients
//! speak TSRPC's binary mode (TSBuffer, TSRPC's default), except bob, who speaks JSON: one
//! server serves both. The server's TSRPC-style log lines (`[Connected]`, `[ApiReq]`,
//! `[ApiRes]`, `[RecvMsg]`, ...) are printed through `tracing-subscriber` (set `RUST_LOG`-free:
//! `DEMO_LOGS=0` hides them); `WhoAmI` is guarded by its `conf` (`needLogin`).

use std::time::Duration;

use protocols::chat::room::{MsgUserJoin, RoomUser};
use protocols::chat::{
    self, FailMode, Msg, MsgChat, ReqAdd, ReqFail, ReqGameBurst, ReqKick, ReqLogin, ReqStats,
    ReqWhoAmI,
};
use regex::Regex;
use rpc_runtime::client::{ConnectionStatus, ReconnectPolicy, WsClientOptions};
use rpc_runtime::server::ServerOptions;
use rpc_runtime::RpcClient;
use tokio::sync::mpsc;

fn mode(json: bool) -> &'static str {
    if json {
        "JSON"
    } else {
        "binary (TSBuffer)"
    }
}

fn step(title: &str) {
    println!("\n== {title}");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var("DEMO_LOGS").as_deref() != Ok("0") {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_target(false)
            .init();
    }
    let server = rpc_examples::chat_server::start_ws_and_http(
        "127.0.0.1:0".parse()?,
        ServerOptions::default().return_inner_error(true),
    )
    .await?;
    let addr = server.local_addr();
    println!(
        "chat server listening on {addr} (WebSocket and HTTP on one port, binary and JSON mode)"
    );

    step("alice connects and calls APIs");
    let alice = chat::Client::ws(format!("ws://{addr}"), WsClientOptions::default());
    alice.connect().await?;
    println!("alice speaks {} mode", mode(alice.is_json()));
    let err = alice.call_who_am_i(ReqWhoAmI {}).await.unwrap_err();
    println!("WhoAmI before login -> {} ({:?})", err.message, err.code);
    let login = alice
        .call_login(ReqLogin {
            username: "alice".into(),
            password: "secret".into(),
        })
        .await?;
    println!("Login -> token {}, user id {}", login.token, login.user.id);
    let me = alice.call_who_am_i(ReqWhoAmI {}).await?;
    println!("WhoAmI after login -> {} (id {})", me.name, me.id);
    let sum = alice.call_add(ReqAdd { a: 1.0, b: 2.0 }).await?;
    println!("Add 1 + 2 -> {}", sum.c);
    let err = alice.call_fail(ReqFail { mode: None }).await.unwrap_err();
    let code = err
        .code
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    println!(
        "Fail -> {err} (code {code}, detail {})",
        err.extra["detail"]
    );
    let err = alice
        .call_fail(ReqFail {
            mode: Some(FailMode::Throw),
        })
        .await
        .unwrap_err();
    println!("Fail throw -> {err} (innerErr {})", err.extra["innerErr"]);

    step("listen by name and by regex");
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let t = tx.clone();
    alice.listen_msg_chat(move |m: MsgChat| {
        let _ = t.send(format!("alice got Chat from {}: {}", m.name, m.content));
    });
    let t = tx.clone();
    alice.listen_msg_matching(Regex::new("^game/")?, move |m: Msg, name: &str| {
        let what = match m {
            Msg::GameGameStart(s) => {
                format!("start of {} with {} players", s.game_id, s.players.len())
            }
            Msg::GameGameFrame(f) => format!("frame {} ({} inputs)", f.frame, f.inputs.len()),
            Msg::GameGameOver(o) => format!("over: {:?}, scores {:?}", o.result, o.scores),
            other => format!("{other:?}"),
        };
        let _ = t.send(format!("alice got {name}: {what}"));
    });
    alice
        .send_msg_chat(&MsgChat {
            name: "alice".into(),
            content: "hello".into(),
        })
        .await?;
    println!("{}", rx.recv().await.unwrap_or_default());
    let burst = alice.call_game_burst(ReqGameBurst { frames: 2 }).await?;
    for _ in 0..burst.sent {
        println!("{}", rx.recv().await.unwrap_or_default());
    }
    println!("GameBurst -> sent {}", burst.sent);

    step("bob joins a room: the server broadcasts it to everyone");
    // Bob reconnects by himself after a loss: first attempt after up to 300 ms (jittered),
    // doubling up to 30 s, forever (ReconnectPolicy's defaults but the first delay).
    let bob = chat::Client::ws(
        format!("ws://{addr}"),
        WsClientOptions::default()
            .json(true)
            .reconnect(ReconnectPolicy::default().initial_delay(Duration::from_millis(300))),
    );
    bob.connect().await?;
    println!("bob speaks {} mode", mode(bob.is_json()));
    for (who, client) in [("alice", &alice), ("bob", &bob)] {
        let t = tx.clone();
        client.listen_msg_room_user_join(move |m: MsgUserJoin| {
            let _ = t.send(format!(
                "{who} got room/UserJoin: {} joined {}",
                m.user.name, m.room_id
            ));
        });
    }
    bob.send_msg_room_user_join(&MsgUserJoin {
        room_id: "r1".into(),
        user: RoomUser {
            id: 7.0,
            name: "bob".into(),
        },
        tags: vec!["new".into()],
    })
    .await?;
    let mut lines = vec![
        rx.recv().await.unwrap_or_default(),
        rx.recv().await.unwrap_or_default(),
    ];
    lines.sort();
    for l in lines {
        println!("{l}");
    }
    server
        .broadcast_msg_chat(&MsgChat {
            name: "server".into(),
            content: "welcome, everyone".into(),
        })
        .await?;
    println!("{}", rx.recv().await.unwrap_or_default());

    step("bob is kicked and comes back through the built-in reconnect");
    let mut status = bob.status_changes();
    println!("bob's status: {:?}", *status.borrow_and_update());
    bob.flows().post_disconnect.push(|ev| {
        println!(
            "bob disconnected: reason {:?}, manual {}",
            ev.reason, ev.is_manual
        );
        Some(ev)
    });
    bob.call_kick(ReqKick {
        reason: "kicked by the demo".into(),
    })
    .await?;
    tokio::time::timeout(Duration::from_secs(5), async {
        while status.changed().await.is_ok() {
            let now = *status.borrow_and_update();
            println!("bob's status: {now:?}");
            if now == ConnectionStatus::Connected {
                break;
            }
        }
    })
    .await?;
    let sum = bob.call_add(ReqAdd { a: 20.0, b: 22.0 }).await?;
    println!("bob calls Add again: 20 + 22 -> {}", sum.c);

    step("the same typed client over HTTP");
    let http = chat::Client::http(format!("http://{addr}"), Default::default());
    println!("the HTTP client speaks {} mode", mode(http.is_json()));
    http.send_msg_chat(&MsgChat {
        name: "carol".into(),
        content: "over http".into(),
    })
    .await?;
    let stats = http.call_stats(ReqStats {}).await?;
    println!(
        "Stats over HTTP -> {} chats, last {:?}",
        stats.chat_count,
        stats.last_chat.map(|c| c.content)
    );

    step("goodbye");
    alice.disconnect().await;
    bob.disconnect().await;
    let m = server.metrics();
    println!(
        "metrics: {} open connections, calls {:?}, messages {:?}, errors {:?}",
        m.open_connections, m.calls, m.msgs, m.errors
    );
    server.stop().await;
    println!("server stopped; demo done");
    Ok(())
}
