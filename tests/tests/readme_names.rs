//! The table of generated names in README.md ("Use it in your crate") is the truth: every name
//! it shows is used below, in code that compiles against the service generated from the
//! folder the table describes (`ui/fixtures/readme-app`) and runs over a real socket, and a
//! test reads the table back and finds each of its names in that code. Renaming anything in
//! the generator breaks this file's build; editing the table without the code fails the test.

use std::sync::Arc;
use std::time::Duration;

use rpc_runtime::proto::{Api, Message};
use rpc_runtime::server::ServerOptions;
use rpc_runtime::{ApiCall, HandlerResult, MsgCall};
use rpc_tests::{any_port, within};
use tokio::sync::mpsc;

// A fixture folder no build script watches (it is read once, as it stands): the macro's
// "not watched" warning is allowed here, as `-D warnings` would refuse it.
#[allow(deprecated)]
#[rpc_runtime::service(protocols = "ui/fixtures/readme-app")]
pub mod app {}

/// The fixture folder, relative to this package.
const FOLDER: &str = "ui/fixtures/readme-app";

// names:begin (every name of the README table must appear between these two lines)

use app::{game, room, AppService, ConnectionExt, Msg, MsgChat, ReqLogin, ResLogin};

/// The service trait: its name is the module's in UpperCamelCase plus `Service`.
struct Impl;

impl AppService for Impl {
    async fn login(&self, call: ApiCall<ReqLogin>) -> HandlerResult<ResLogin> {
        Ok(ResLogin {
            token: format!("token-{}", call.req.username),
        })
    }

    async fn room_join(&self, call: ApiCall<room::ReqJoin>) -> HandlerResult<room::ResJoin> {
        // `ConnectionExt`: send_msg_* on a server-side connection.
        let who = room::lobby::MsgUserJoin {
            name: call.req.room.clone(),
        };
        call.conn.send_msg_room_lobby_user_join(&who).await?;
        let welcome = MsgChat {
            content: "welcome".into(),
        };
        call.conn.send_msg_chat(&welcome).await?;
        let frame = game::MsgGameFrame { frame: 1 };
        call.conn.send_msg_game_game_frame(&frame).await?;
        Ok(room::ResJoin { members: 1 })
    }
}

/// Wire names, from the `Api` and `Message` impls the attribute writes.
fn wire_names() -> [&'static str; 5] {
    [
        <ReqLogin as Api>::NAME,
        <room::ReqJoin as Api>::NAME,
        <MsgChat as Message>::NAME,
        <game::MsgGameFrame as Message>::NAME,
        <room::lobby::MsgUserJoin as Message>::NAME,
    ]
}

const EXPECTED_WIRE_NAMES: [&str; 5] = [
    "Login",
    "room/Join",
    "Chat",
    "game/GameFrame",
    "room/lobby/UserJoin",
];

/// The message as the `Msg` enum names it.
fn variant(msg: &Msg) -> String {
    match msg {
        Msg::Chat(m) => format!("Chat {}", m.content),
        Msg::GameGameFrame(m) => format!("GameFrame {}", m.frame),
        Msg::RoomLobbyUserJoin(m) => format!("UserJoin {}", m.name),
    }
}

/// Every generated method, used once, over a real socket; returns what the client heard.
async fn use_every_name() -> Vec<String> {
    let (srv_tx, mut srv_rx) = mpsc::unbounded_channel();
    let (tx1, tx2, tx3) = (srv_tx.clone(), srv_tx.clone(), srv_tx);
    let server = app::Server::ws(any_port(), ServerOptions::default())
        .serve(Arc::new(Impl))
        .listen_msg_chat(move |call: MsgCall<MsgChat>| {
            let tx = tx1.clone();
            async move {
                let _ = tx.send(format!("server Chat {}", call.msg.content));
            }
        })
        .listen_msg_game_game_frame(move |call: MsgCall<game::MsgGameFrame>| {
            let tx = tx2.clone();
            async move {
                let _ = tx.send(format!("server GameFrame {}", call.msg.frame));
            }
        })
        .listen_msg_room_lobby_user_join(move |call: MsgCall<room::lobby::MsgUserJoin>| {
            let tx = tx3.clone();
            async move {
                let _ = tx.send(format!("server UserJoin {}", call.msg.name));
            }
        });
    let server: app::RunningServer = server.start().await.unwrap();
    let _proto = app::service_proto();

    let client = app::Client::ws(server.url(), Default::default());
    let (tx, mut heard) = mpsc::unbounded_channel();
    let (t1, t2, t3, t4) = (tx.clone(), tx.clone(), tx.clone(), tx);
    client.listen_msg_chat(move |m: MsgChat| drop(t1.send(format!("Chat {}", m.content))));
    client.listen_msg_game_game_frame(move |m: game::MsgGameFrame| {
        drop(t2.send(format!("GameFrame {}", m.frame)))
    });
    client.listen_msg_room_lobby_user_join(move |m: room::lobby::MsgUserJoin| {
        drop(t3.send(format!("UserJoin {}", m.name)))
    });
    let pattern = regex::Regex::new("^game/").unwrap();
    client.listen_msg_matching(pattern, move |m: Msg, _name: &str| {
        drop(t4.send(format!("matching {}", variant(&m))))
    });
    client.connect().await.unwrap();

    let login = client.call_login(ReqLogin {
        username: "ann".into(),
    });
    assert_eq!(login.await.unwrap().token, "token-ann");
    let options = Default::default();
    let join = client.call_room_join_with(room::ReqJoin { room: "r".into() }, options);
    assert_eq!(join.await.unwrap().members, 1);
    let login = client.call_login_with(
        ReqLogin {
            username: "b".into(),
        },
        Default::default(),
    );
    assert_eq!(login.await.unwrap().token, "token-b");
    let join = client.call_room_join(room::ReqJoin { room: "s".into() });
    assert_eq!(join.await.unwrap().members, 1);

    client
        .send_msg_chat(&MsgChat {
            content: "hi".into(),
        })
        .await
        .unwrap();
    client
        .send_msg_game_game_frame(&game::MsgGameFrame { frame: 7 })
        .await
        .unwrap();
    let who = room::lobby::MsgUserJoin { name: "cy".into() };
    client.send_msg_room_lobby_user_join(&who).await.unwrap();
    let mut server_heard = Vec::new();
    for _ in 0..3 {
        server_heard.push(within(5, "server listeners", srv_rx.recv()).await.unwrap());
    }

    let all = server.connections();
    let chat = MsgChat {
        content: "all".into(),
    };
    server.broadcast_msg_chat(&chat).await.unwrap();
    let frame = game::MsgGameFrame { frame: 9 };
    server.broadcast_msg_game_game_frame(&frame).await.unwrap();
    let who = room::lobby::MsgUserJoin { name: "dee".into() };
    server
        .broadcast_msg_room_lobby_user_join(&who)
        .await
        .unwrap();
    server.broadcast_msg_chat_to(&chat, &all).await.unwrap();
    server
        .broadcast_msg_game_game_frame_to(&frame, &all)
        .await
        .unwrap();
    server
        .broadcast_msg_room_lobby_user_join_to(&who, &all)
        .await
        .unwrap();

    // 2 joins x 3 messages (+1 matching each), then 2 x 3 broadcasts (+1 matching each).
    let mut client_heard = Vec::new();
    for _ in 0..16 {
        client_heard.push(within(5, "client listeners", heard.recv()).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        heard.try_recv().is_err(),
        "the client heard more than was sent"
    );
    server.stop().await;
    server_heard.sort();
    client_heard.sort();
    server_heard.into_iter().chain(client_heard).collect()
}

/// The APIs one closure each (`implement_api_*`), over HTTP.
async fn implement_each_api() {
    let server = app::Server::http(any_port(), ServerOptions::default())
        .implement_api_login(|call| async move { Impl.login(call).await })
        .implement_api_room_join(|call| async move {
            Ok(room::ResJoin {
                members: call.req.room.len() as u32,
            })
        })
        .start()
        .await
        .unwrap();
    let client = app::Client::http(server.url(), Default::default());
    let res = client.call_login(ReqLogin {
        username: "h".into(),
    });
    assert_eq!(res.await.unwrap().token, "token-h");
    let res = client.call_room_join(room::ReqJoin {
        room: "four".into(),
    });
    assert_eq!(res.await.unwrap().members, 4);
    server.stop().await;
}

// names:end

#[tokio::test]
async fn every_generated_name_works_end_to_end() {
    assert_eq!(wire_names(), EXPECTED_WIRE_NAMES);
    implement_each_api().await;
    let heard = use_every_name().await;
    assert_eq!(
        heard,
        [
            "server Chat hi",
            "server GameFrame 7",
            "server UserJoin cy",
            "Chat all",
            "Chat all",
            "Chat welcome",
            "Chat welcome",
            "GameFrame 1",
            "GameFrame 1",
            "GameFrame 9",
            "GameFrame 9",
            "UserJoin dee",
            "UserJoin dee",
            "UserJoin r",
            "UserJoin s",
            "matching GameFrame 1",
            "matching GameFrame 1",
            "matching GameFrame 9",
            "matching GameFrame 9",
        ]
    );
}

/// The rows of the README's generated-names table: (file, every other backticked name).
fn readme_rows() -> Vec<(String, Vec<String>)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md at the workspace root");
    let table: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| file |"))
        .skip(2) // the header and the separator
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert!(!table.is_empty(), "README.md has no `| file |` table");
    table
        .iter()
        .map(|row| {
            let mut cells = row.split('|').skip(1);
            let file = backticked(cells.next().unwrap_or_default());
            assert_eq!(file.len(), 1, "one file per row: {row}");
            let names = cells.flat_map(backticked).collect();
            (file[0].clone(), names)
        })
        .collect()
}

/// The `code` spans of a Markdown cell.
fn backticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The code between the `names:` markers of this file, comments removed.
fn code_using_the_names() -> String {
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/readme_names.rs"
    ))
    .expect("this file");
    let begin = source.find("// names:begin").expect("begin marker");
    let end = source.find("// names:end").expect("end marker");
    source[begin..end]
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// True when `name` occurs in `code` as a whole (not inside a longer identifier or path).
fn occurs(code: &str, name: &str) -> bool {
    let part_of_name = |c: char| c.is_alphanumeric() || c == '_' || c == '/' || c == ':';
    code.match_indices(name).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + name.len()..].chars().next();
        !before.is_some_and(part_of_name) && !after.is_some_and(part_of_name)
    })
}

#[test]
fn the_readme_table_shows_only_names_that_exist() {
    let code = code_using_the_names();
    let rows = readme_rows();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FOLDER);
    let mut files: Vec<String> = Vec::new();
    for (file, names) in &rows {
        assert!(
            root.join(file).is_file(),
            "README row for a file not in {FOLDER}: {file}"
        );
        files.push(file.clone());
        assert!(names.len() >= 4, "{file}: too few names in its row");
        for name in names {
            assert!(
                occurs(&code, name),
                "README names `{name}` for {file}, which the code using the generated service \
                 does not use (a renamed method, or a table edit without the code?)"
            );
        }
    }
    // Every file of the folder has its row.
    let mut on_disk = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let rel = path.strip_prefix(&root).unwrap();
                on_disk.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    files.sort();
    on_disk.sort();
    assert_eq!(
        files, on_disk,
        "README's table and {FOLDER} list different files"
    );
}

#[test]
fn the_name_check_can_fail() {
    let code = "client.call_room_join(x); \"room/Join\"; Msg::GameGameFrame(m)";
    assert!(occurs(code, "call_room_join"));
    assert!(occurs(code, "room/Join"));
    assert!(occurs(code, "Msg::GameGameFrame"));
    assert!(!occurs(code, "room_join"), "inside a longer name");
    assert!(!occurs(code, "Join"), "inside a wire path");
    assert!(!occurs(code, "GameGameFrame"), "inside a path");
    assert!(!occurs(code, "call_room_leave"));
}
