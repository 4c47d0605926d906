//! Shared helpers of the integration tests: a small service whose traits are implemented by
//! hand (the typed-generic layer without the macro), raw WebSocket helpers, and timing helpers.

pub mod bad_input;
pub mod imported;
pub mod node;
pub mod proxy;
pub mod raw;
pub mod redis;
pub mod scratch;
pub mod soak;
pub mod tsrpc_cli;

use std::future::Future;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rpc_runtime::proto::ServiceProto;
use rpc_runtime::{Api, Message, MsgEnum};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A hand-written service: the runtime traits implemented without the macro.
pub mod hand {
    use super::*;

    /// `Add`: c = a + b.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct ReqAdd {
        /// Left.
        pub a: f64,
        /// Right.
        pub b: f64,
    }
    /// Result of `Add`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct ResAdd {
        /// The sum.
        pub c: f64,
    }
    impl Api for ReqAdd {
        const NAME: &'static str = "Add";
        type Res = ResAdd;
    }

    /// `Slow`: sleeps `ms`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct ReqSlow {
        /// Milliseconds.
        pub ms: u64,
    }
    /// Result of `Slow`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct ResSlow {
        /// Milliseconds slept.
        pub slept_ms: u64,
    }
    impl Api for ReqSlow {
        const NAME: &'static str = "Slow";
        type Res = ResSlow;
    }

    /// `Kick`: returns, then closes the connection with `reason`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct ReqKick {
        /// The close reason.
        pub reason: String,
    }
    /// Result of `Kick`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct ResKick {}
    impl Api for ReqKick {
        const NAME: &'static str = "Kick";
        type Res = ResKick;
    }

    /// `Burst`: the server sends `n` game frames, a room message and a game over.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct ReqBurst {
        /// How many frames.
        pub n: u32,
    }
    /// Result of `Burst`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct ResBurst {
        /// Messages sent.
        pub sent: u32,
    }
    impl Api for ReqBurst {
        const NAME: &'static str = "Burst";
        type Res = ResBurst;
    }

    /// `Chat`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct MsgChat {
        /// Who.
        pub name: String,
        /// What.
        pub content: String,
    }
    impl Message for MsgChat {
        const NAME: &'static str = "Chat";
    }

    /// `game/GameFrame`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct MsgGameFrame {
        /// Frame number.
        pub frame: u32,
    }
    impl Message for MsgGameFrame {
        const NAME: &'static str = "game/GameFrame";
    }

    /// `game/GameOver`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    pub struct MsgGameOver {
        /// Winner.
        pub winner: u32,
    }
    impl Message for MsgGameOver {
        const NAME: &'static str = "game/GameOver";
    }

    /// `room/UserJoin`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct MsgUserJoin {
        /// Room.
        pub room_id: String,
    }
    impl Message for MsgUserJoin {
        const NAME: &'static str = "room/UserJoin";
    }

    /// Every message of the service.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Msg {
        /// `Chat`.
        Chat(MsgChat),
        /// `game/GameFrame`.
        GameFrame(MsgGameFrame),
        /// `game/GameOver`.
        GameOver(MsgGameOver),
        /// `room/UserJoin`.
        UserJoin(MsgUserJoin),
    }

    impl MsgEnum for Msg {
        fn decode(name: &str, json: &str) -> Result<Option<Self>, String> {
            Ok(Some(match name {
                "Chat" => Msg::Chat(rpc_runtime::proto::decode_json(json)?),
                "game/GameFrame" => Msg::GameFrame(rpc_runtime::proto::decode_json(json)?),
                "game/GameOver" => Msg::GameOver(rpc_runtime::proto::decode_json(json)?),
                "room/UserJoin" => Msg::UserJoin(rpc_runtime::proto::decode_json(json)?),
                _ => return Ok(None),
            }))
        }
        fn name(&self) -> &'static str {
            match self {
                Msg::Chat(_) => MsgChat::NAME,
                Msg::GameFrame(_) => MsgGameFrame::NAME,
                Msg::GameOver(_) => MsgGameOver::NAME,
                Msg::UserJoin(_) => MsgUserJoin::NAME,
            }
        }
    }

    /// TSRPC's service proto of the hand-written service (as tsrpc-cli would write it for its
    /// TypeScript twin), for binary mode.
    pub const TSRPC_PROTO: &str = r#"{
      "version": 1,
      "services": [
        {"id": 0, "name": "Add", "type": "api"},
        {"id": 1, "name": "Slow", "type": "api"},
        {"id": 2, "name": "Kick", "type": "api"},
        {"id": 3, "name": "Burst", "type": "api"},
        {"id": 4, "name": "Chat", "type": "msg"},
        {"id": 5, "name": "game/GameFrame", "type": "msg"},
        {"id": 6, "name": "game/GameOver", "type": "msg"},
        {"id": 7, "name": "room/UserJoin", "type": "msg"}
      ],
      "types": {
        "PtlAdd/ReqAdd": {"type": "Interface", "properties": [
          {"id": 0, "name": "a", "type": {"type": "Number"}},
          {"id": 1, "name": "b", "type": {"type": "Number"}}]},
        "PtlAdd/ResAdd": {"type": "Interface", "properties": [
          {"id": 0, "name": "c", "type": {"type": "Number"}}]},
        "PtlSlow/ReqSlow": {"type": "Interface", "properties": [
          {"id": 0, "name": "ms", "type": {"type": "Number", "scalarType": "uint"}}]},
        "PtlSlow/ResSlow": {"type": "Interface", "properties": [
          {"id": 0, "name": "sleptMs", "type": {"type": "Number", "scalarType": "uint"}}]},
        "PtlKick/ReqKick": {"type": "Interface", "properties": [
          {"id": 0, "name": "reason", "type": {"type": "String"}}]},
        "PtlKick/ResKick": {"type": "Interface"},
        "PtlBurst/ReqBurst": {"type": "Interface", "properties": [
          {"id": 0, "name": "n", "type": {"type": "Number", "scalarType": "uint"}}]},
        "PtlBurst/ResBurst": {"type": "Interface", "properties": [
          {"id": 0, "name": "sent", "type": {"type": "Number", "scalarType": "uint"}}]},
        "MsgChat/MsgChat": {"type": "Interface", "properties": [
          {"id": 0, "name": "name", "type": {"type": "String"}},
          {"id": 1, "name": "content", "type": {"type": "String"}}]},
        "game/MsgGameFrame/MsgGameFrame": {"type": "Interface", "properties": [
          {"id": 0, "name": "frame", "type": {"type": "Number", "scalarType": "uint"}}]},
        "game/MsgGameOver/MsgGameOver": {"type": "Interface", "properties": [
          {"id": 0, "name": "winner", "type": {"type": "Number", "scalarType": "uint"}}]},
        "room/MsgUserJoin/MsgUserJoin": {"type": "Interface", "properties": [
          {"id": 0, "name": "roomId", "type": {"type": "String"}}]}
      }
    }"#;

    /// The service proto (with [`TSRPC_PROTO`], so it serves binary mode too).
    pub fn proto() -> ServiceProto {
        ServiceProto::new("hand")
            .with_tsrpc_proto(TSRPC_PROTO)
            .with_api::<ReqAdd>()
            .with_api::<ReqSlow>()
            .with_api::<ReqKick>()
            .with_api::<ReqBurst>()
            .with_msg::<MsgChat>()
            .with_msg::<MsgGameFrame>()
            .with_msg::<MsgGameOver>()
            .with_msg::<MsgUserJoin>()
    }
}

/// `127.0.0.1:0`.
pub fn any_port() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 0))
}

/// True while a process still holds the TCP socket whose local end is `local` and remote end
/// `remote` (read from `/proc/net/tcp`: a socket no process holds shows inode 0, or is gone).
/// Used to show that a peer's socket was really dropped, not just left idle.
pub fn socket_held(local: std::net::SocketAddr, remote: std::net::SocketAddr) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp is readable");
    let port = |field: &str| {
        field
            .rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok())
    };
    table.lines().skip(1).any(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        cols.len() > 9
            && port(cols[1]) == Some(local.port())
            && port(cols[2]) == Some(remote.port())
            && cols[9] != "0"
    })
}

/// Awaits `f`, failing the test after `secs` seconds instead of hanging.
pub async fn within<T>(secs: u64, what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(secs), f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: not done within {secs} s"),
    }
}

/// A [`rpc_runtime::WsClient`] with default options, connected to `url` (within 5 s).
pub async fn connected(url: &str) -> rpc_runtime::WsClient {
    let client = rpc_runtime::WsClient::new(url, rpc_runtime::client::WsClientOptions::default());
    within(5, "connect", client.connect())
        .await
        .expect("connect");
    client
}

/// Options of a client of the hand-written service ([`hand::TSRPC_PROTO`]) in JSON mode
/// (`json`) or in binary mode.
pub fn hand_options(json: bool) -> rpc_runtime::client::WsClientOptions {
    rpc_runtime::client::WsClientOptions::default()
        .proto(&hand::proto())
        .json(json)
}

/// A client of the hand-written service in JSON or binary mode, connected to `url`.
pub async fn connected_in(url: &str, json: bool) -> rpc_runtime::WsClient {
    let client = rpc_runtime::WsClient::new(url, hand_options(json));
    within(5, "connect", client.connect())
        .await
        .expect("connect");
    assert_eq!(rpc_runtime::RpcClient::is_json(&client), json);
    client
}

/// One `#[tokio::test]` per mode for the scenario `$name(json: bool)`: `$name::json` and
/// `$name::binary`.
#[macro_export]
macro_rules! both_modes {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn json() {
                super::$name(true).await
            }
            #[tokio::test]
            async fn binary() {
                super::$name(false).await
            }
        }
    };
}

/// A raw WebSocket client (tokio-tungstenite), offering sub-protocol `text`.
pub type RawWs =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects a raw WebSocket client.
pub async fn raw_connect(url: &str) -> RawWs {
    let mut req = url.into_client_request().expect("url");
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("text"));
    let (ws, resp) = tokio_tungstenite::connect_async(req)
        .await
        .expect("connect");
    assert_eq!(
        resp.headers()
            .get("sec-websocket-protocol")
            .map(|v| v.to_str().unwrap()),
        Some("text"),
        "the server must echo the sub-protocol"
    );
    ws
}

/// What a raw client saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawEvent {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
    /// The close frame: code and reason.
    Close(u16, String),
    /// The stream ended without a close frame.
    End,
}

/// Sends `frame` and collects everything until the connection closes (or `secs` pass).
pub async fn raw_send_until_close(ws: &mut RawWs, frame: WsMessage, secs: u64) -> Vec<RawEvent> {
    ws.send(frame).await.expect("send");
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let next = tokio::time::timeout_at(deadline, ws.next()).await;
        match next {
            Err(_) => break,
            Ok(None) | Ok(Some(Err(_))) => {
                out.push(RawEvent::End);
                break;
            }
            Ok(Some(Ok(m))) => match m {
                WsMessage::Text(t) => out.push(RawEvent::Text(t.to_string())),
                WsMessage::Binary(b) => out.push(RawEvent::Binary(b.to_vec())),
                WsMessage::Close(c) => {
                    let (code, reason) = c
                        .map(|c| (u16::from(c.code), c.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    out.push(RawEvent::Close(code, reason));
                }
                _ => {}
            },
        }
    }
    out
}

/// Starts the hand-written service over WebSocket on `127.0.0.1:0`:
/// `Add`; `Slow` sleeps; `Kick` returns then closes the connection 20 ms later with the reason;
/// `Burst {n}` sends `n` game frames, a `room/UserJoin`, a `game/GameOver`, and returns `n + 2`;
/// `Chat` is echoed to the sender as `{name: "server", content: "echo: ..."}`;
/// `room/UserJoin` is broadcast to every connection.
pub async fn start_hand_server(
    options: rpc_runtime::server::ServerOptions,
) -> rpc_runtime::RunningServer {
    start_hand_server_on(any_port(), options)
        .await
        .expect("server starts")
}

/// `server` (of any transport and options) answering the hand service's `Add` and nothing else,
/// started.
pub async fn start_adder(server: rpc_runtime::Server) -> rpc_runtime::RunningServer {
    server
        .implement_api(|c: rpc_runtime::ApiCall<hand::ReqAdd>| async move {
            Ok(hand::ResAdd {
                c: c.req.a + c.req.b,
            })
        })
        .allow_unimplemented()
        .start()
        .await
        .expect("server starts")
}

/// [`start_hand_server`] on `addr` (to restart a server on the address it had).
pub async fn start_hand_server_on(
    addr: std::net::SocketAddr,
    options: rpc_runtime::server::ServerOptions,
) -> Result<rpc_runtime::RunningServer, rpc_runtime::server::StartError> {
    use hand::*;
    use rpc_runtime::{ApiCall, MsgCall, Server};
    Server::ws(hand::proto(), addr, options)
        .implement_api(|call: ApiCall<ReqAdd>| async move {
            Ok(ResAdd {
                c: call.req.a + call.req.b,
            })
        })
        .implement_api(|call: ApiCall<ReqSlow>| async move {
            tokio::time::sleep(Duration::from_millis(call.req.ms)).await;
            Ok(ResSlow {
                slept_ms: call.req.ms,
            })
        })
        .implement_api(|call: ApiCall<ReqKick>| async move {
            let conn = call.conn.clone();
            let reason = call.req.reason.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                conn.close(reason);
            });
            Ok(ResKick {})
        })
        .implement_api(|call: ApiCall<ReqBurst>| async move {
            for frame in 0..call.req.n {
                call.conn.send_msg(&MsgGameFrame { frame }).await?;
            }
            call.conn
                .send_msg(&MsgUserJoin {
                    room_id: "r1".into(),
                })
                .await?;
            call.conn.send_msg(&MsgGameOver { winner: 1 }).await?;
            Ok(ResBurst {
                sent: call.req.n + 2,
            })
        })
        .listen_msg(|call: MsgCall<MsgChat>| async move {
            let reply = MsgChat {
                name: "server".into(),
                content: format!("echo: {}", call.msg.content),
            };
            let _ = call.conn.send_msg(&reply).await;
        })
        .listen_msg(|call: MsgCall<MsgUserJoin>| async move {
            let _ = call.conn.server().broadcast_msg(&call.msg).await;
        })
        .start()
        .await
}

/// Accepts a WebSocket handshake on a raw server socket, echoing the offered sub-protocol (as
/// TSRPC's server does; our client, like browsers, requires it).
pub async fn raw_accept(
    stream: tokio::net::TcpStream,
) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
    // The signature is tungstenite's handshake callback; it never fails here.
    #[allow(clippy::result_large_err)]
    let echo = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        if let Some(p) = req.headers().get("sec-websocket-protocol").cloned() {
            resp.headers_mut().insert("sec-websocket-protocol", p);
        }
        Ok(resp)
    };
    tokio_tungstenite::accept_hdr_async(stream, echo)
        .await
        .expect("handshake")
}

/// docs/SERVER.md, whose examples run as this crate's doc tests (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../../docs/SERVER.md")]
pub struct ServerHowTos;

/// Calls `$m!` with the kitchen-sink service's request, response and message types, each after
/// its schema id (`"room/PtlJoinRoom/ReqJoinRoom" => room::ReqJoinRoom, ..`): the one list of
/// them for the tests that dispatch on a schema id (the type paths resolve where it is called,
/// beside `use kitchen::*`).
#[macro_export]
macro_rules! kitchen_types {
    ($m:ident) => {
        $m!(
            "MsgChat/MsgChat" => MsgChat,
            "MsgServerNotice/MsgServerNotice" => MsgServerNotice,
            "PtlGetProfile/ReqGetProfile" => ReqGetProfile,
            "PtlGetProfile/ResGetProfile" => ResGetProfile,
            "PtlLogin/ReqLogin" => ReqLogin,
            "PtlLogin/ResLogin" => ResLogin,
            "PtlUpdateProfile/ReqUpdateProfile" => ReqUpdateProfile,
            "PtlUpdateProfile/ResUpdateProfile" => ResUpdateProfile,
            "room/MsgPlayerMove/MsgPlayerMove" => room::MsgPlayerMove,
            "room/MsgRoomState/MsgRoomState" => room::MsgRoomState,
            "room/PtlCreateRoom/ReqCreateRoom" => room::ReqCreateRoom,
            "room/PtlCreateRoom/ResCreateRoom" => room::ResCreateRoom,
            "room/PtlJoinRoom/ReqJoinRoom" => room::ReqJoinRoom,
            "room/PtlJoinRoom/ResJoinRoom" => room::ResJoinRoom,
            "shop/MsgPriceChanged/MsgPriceChanged" => shop::MsgPriceChanged,
            "shop/PtlBuy/ReqBuy" => shop::ReqBuy,
            "shop/PtlBuy/ResBuy" => shop::ResBuy,
            "shop/PtlListItems/ReqListItems" => shop::ReqListItems,
            "shop/PtlListItems/ResListItems" => shop::ResListItems,
        )
    };
}
