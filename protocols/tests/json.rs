//! The chat service's types write exactly the JSON of the TSRPC captures
//! (`tsrpc-captures/ws-json.txt`, `http-json.txt`) and read it back.

use protocols::chat::{self, game, room};
use rpc_runtime::{Api, Message, MsgEnum};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Writes `value` as the runtime does and checks it against the captured text, then reads the
/// captured text back and checks it gives the same value.
fn same<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: T, captured: &str) {
    assert_eq!(rpc_runtime::json::to_string(&value).unwrap(), captured);
    let back: T = serde_json::from_str(captured).unwrap();
    assert_eq!(back, value);
}

#[test]
fn apis_match_the_captures() {
    same(
        chat::ReqLogin {
            username: "alice".into(),
            password: "secret".into(),
        },
        r#"{"username":"alice","password":"secret"}"#,
    );
    same(
        chat::ResLogin {
            token: "token-alice-1000".into(),
            user: chat::LoginUser {
                id: 1000.0,
                name: "alice".into(),
            },
        },
        r#"{"token":"token-alice-1000","user":{"id":1000,"name":"alice"}}"#,
    );
    same(chat::ReqAdd { a: 1.0, b: 2.0 }, r#"{"a":1,"b":2}"#);
    same(chat::ResAdd { c: 3.0 }, r#"{"c":3}"#);
    same(chat::ReqFail { mode: None }, "{}");
    same(
        chat::ReqFail {
            mode: Some(chat::FailMode::Number),
        },
        r#"{"mode":"number"}"#,
    );
    same(
        chat::ReqFail {
            mode: Some(chat::FailMode::Throw),
        },
        r#"{"mode":"throw"}"#,
    );
    same(chat::ReqGameBurst { frames: 2 }, r#"{"frames":2}"#);
    same(chat::ResGameBurst { sent: 4 }, r#"{"sent":4}"#);
    same(
        chat::ReqKick {
            reason: "kicked-by-test".into(),
        },
        r#"{"reason":"kicked-by-test"}"#,
    );
    same(chat::ResKick {}, "{}");
    same(chat::ReqStats {}, "{}");
    same(
        chat::ResStats {
            chat_count: 1,
            last_chat: Some(chat::LastChat {
                name: "alice".into(),
                content: "hi".into(),
            }),
        },
        r#"{"chatCount":1,"lastChat":{"name":"alice","content":"hi"}}"#,
    );
    same(chat::ReqSlow { ms: 50 }, r#"{"ms":50}"#);
    same(chat::ResSlow { slept_ms: 50 }, r#"{"sleptMs":50}"#);
}

#[test]
fn messages_match_the_captures() {
    same(
        chat::MsgChat {
            name: "alice".into(),
            content: "hi".into(),
        },
        r#"{"name":"alice","content":"hi"}"#,
    );
    same(
        room::MsgUserJoin {
            room_id: "r1".into(),
            user: room::RoomUser {
                id: 7.0,
                name: "bob".into(),
            },
            tags: vec!["x".into()],
        },
        r#"{"roomId":"r1","user":{"id":7,"name":"bob"},"tags":["x"]}"#,
    );
    same(
        room::MsgUserLeave {
            room_id: "r1".into(),
            user_id: 7.0,
            reason: None,
        },
        r#"{"roomId":"r1","userId":7}"#,
    );
    same(
        game::MsgGameStart {
            game_id: "g-1795774636189".into(),
            seed: 123456789,
            players: vec![
                game::Player {
                    id: 1.0,
                    name: "alice".into(),
                },
                game::Player {
                    id: 2.0,
                    name: "bob".into(),
                },
            ],
        },
        r#"{"gameId":"g-1795774636189","seed":123456789,"players":[{"id":1,"name":"alice"},{"id":2,"name":"bob"}]}"#,
    );
    let input = |player_id: f64, dx, dy| game::FrameInput { player_id, dx, dy };
    same(
        game::MsgGameFrame {
            frame: 0,
            inputs: vec![input(1.0, 0, 0), input(2.0, -1, 1)],
            checksum: Some("ck0".into()),
        },
        r#"{"frame":0,"inputs":[{"playerId":1,"dx":0,"dy":0},{"playerId":2,"dx":-1,"dy":1}],"checksum":"ck0"}"#,
    );
    same(
        game::MsgGameFrame {
            frame: 1,
            inputs: vec![input(1.0, 1, -1), input(2.0, -1, 1)],
            checksum: None,
        },
        r#"{"frame":1,"inputs":[{"playerId":1,"dx":1,"dy":-1},{"playerId":2,"dx":-1,"dy":1}]}"#,
    );
    same(
        game::MsgGameOver {
            game_id: "g-1795774636189".into(),
            winner: Some(1.0),
            result: game::GameResult::Win,
            draw: false,
            scores: vec![10.5, -3.0],
        },
        r#"{"gameId":"g-1795774636189","winner":1,"result":"win","draw":false,"scores":[10.5,-3]}"#,
    );
}

#[test]
fn null_is_accepted_for_an_absent_field() {
    let m: room::MsgUserLeave =
        serde_json::from_str(r#"{"roomId":"r1","userId":7,"reason":null}"#).unwrap();
    assert_eq!(m.reason, None);
}

#[test]
fn names_and_the_service_proto() {
    assert_eq!(<chat::MsgChat as Message>::NAME, "Chat");
    assert_eq!(<room::MsgUserJoin as Message>::NAME, "room/UserJoin");
    assert_eq!(<game::MsgGameFrame as Message>::NAME, "game/GameFrame");
    assert_eq!(<chat::ReqGameBurst as Api>::NAME, "GameBurst");
    let proto = chat::service_proto();
    assert_eq!(proto.name, "chat");
    let mut apis: Vec<_> = proto.api_names().collect();
    apis.sort_unstable();
    assert_eq!(
        apis,
        [
            "Add",
            "Fail",
            "GameBurst",
            "Kick",
            "Login",
            "Slow",
            "Stats",
            "WhoAmI"
        ]
    );
    let who = proto
        .find("WhoAmI", rpc_runtime::proto::ServiceKind::Api)
        .unwrap();
    assert_eq!(who.conf(), Some(&serde_json::json!({"needLogin": true})));
    let mut msgs: Vec<_> = proto.msg_names().collect();
    msgs.sort_unstable();
    assert_eq!(
        msgs,
        [
            "Chat",
            "game/GameFrame",
            "game/GameOver",
            "game/GameStart",
            "room/UserJoin",
            "room/UserLeave"
        ]
    );
    assert!(proto.services.iter().all(|s| s.req_schema.is_some()));

    let bench = protocols::bench::service_proto();
    let mut names: Vec<_> = bench.services.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["Add", "Chat", "GameFrame", "StartFanout", "StartPush"]
    );
}

#[test]
fn msg_enum_decodes_by_name() {
    let m = chat::Msg::decode("room/UserLeave", r#"{"roomId":"r1","userId":7}"#)
        .unwrap()
        .unwrap();
    assert_eq!(m.name(), "room/UserLeave");
    assert!(matches!(&m, chat::Msg::RoomUserLeave(l) if l.room_id == "r1"));
    assert!(format!("{m:?}").starts_with(r#"RoomUserLeave({"roomId":"r1","userId":7"#));
    assert!(chat::Msg::decode("Nope", "{}").unwrap().is_none());
    assert!(chat::Msg::decode("Chat", r#"{"name":1}"#).is_err());
}

#[test]
fn bench_game_frame_3() {
    use protocols::bench;
    let i = 3u64;
    let frame = bench::MsgGameFrame {
        frame: i,
        inputs: (0..4u32)
            .map(|p| bench::PlayerInput {
                player: p,
                x: (i % 1000) as f64 + 0.25 * f64::from(p),
                y: 0.5 * (i % 500) as f64 + f64::from(p),
            })
            .collect(),
    };
    assert_eq!(
        rpc_runtime::json::to_string(&frame).unwrap(),
        r#"{"frame":3,"inputs":[{"player":0,"x":3,"y":1.5},{"player":1,"x":3.25,"y":2.5},{"player":2,"x":3.5,"y":3.5},{"player":3,"x":3.75,"y":4.5}]}"#
    );
}
