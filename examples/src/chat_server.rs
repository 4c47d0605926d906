//! The chat service of `protocols::chat`, behaving exactly as the TSRPC reference server
//! (`shared/tsrpc-reference/README.md`), written with the generated API.
//!
//! Every API is implemented through the generated [`ChatService`] trait, so forgetting one is a
//! compile error; messages are heard with the generated `listen_msg_*` methods.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// `chat` is the parent module's: `protocols::chat` here, and the same service imported from
// its TypeScript proto where the interop tests compile this file again (rpc-tests `imported`).
use super::chat::game::{FrameInput, GameResult, MsgGameFrame, MsgGameOver, MsgGameStart, Player};
use super::chat::{
    self, ChatService, ConnectionExt, FailMode, LastChat, LoginUser, MsgChat, ReqAdd, ReqFail,
    ReqGameBurst, ReqKick, ReqLogin, ReqSlow, ReqStats, ReqWhoAmI, ResAdd, ResFail, ResGameBurst,
    ResKick, ResLogin, ResSlow, ResStats, ResWhoAmI,
};
use rpc_runtime::flows::ApiCallEvent;
use rpc_runtime::server::{ConnType, ServerOptions, StartError};
use rpc_runtime::{ApiCall, HandlerError, HandlerResult, MsgCall, TsrpcError};

/// Who a connection is logged in as: `Login` keeps it on the connection (its typed state), the
/// login guard hands it to the handler of a guarded API as a call extension.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The user's id.
    pub id: f64,
    /// The user's name.
    pub name: String,
}

/// What the server reads of an API's TSRPC `conf` (`const CONF` in its protocol file).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ApiConf {
    /// Refuse the call with ApiError `NEED_LOGIN` when the connection has no session.
    need_login: bool,
}

/// The login guard (a `pre_api_call` node): an API whose `conf` says `needLogin` is refused
/// without a session; with one, the handler gets it as the call's [`Session`] extension.
pub fn login_guard(mut ev: ApiCallEvent) -> Option<ApiCallEvent> {
    let conf = match ev.conf_as::<ApiConf>() {
        Ok(conf) => conf,
        Err(e) => {
            ev.refuse(e);
            return Some(ev);
        }
    };
    match ev.conn.state::<Session>() {
        Some(session) => {
            ev.ext.insert(session);
        }
        None if conf.need_login => {
            ev.refuse(TsrpcError::api("Need login").with_code("NEED_LOGIN"));
        }
        None => {}
    }
    Some(ev)
}

/// The state of the reference service: login ids and chat counters.
#[derive(Debug)]
pub struct ChatServer {
    next_user_id: AtomicU64,
    chat_count: AtomicU64,
    last_chat: Mutex<Option<LastChat>>,
}

impl Default for ChatServer {
    fn default() -> Self {
        ChatServer {
            next_user_id: AtomicU64::new(1000),
            chat_count: AtomicU64::new(0),
            last_chat: Mutex::new(None),
        }
    }
}

/// The error `Fail {mode: 'throw'}` raises: not a `TsrpcError`, so callers get `INTERNAL_ERR`.
#[derive(Debug)]
struct IntentionalException;

impl std::fmt::Display for IntentionalException {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Intentional exception from PtlFail")
    }
}

impl std::error::Error for IntentionalException {}

/// The most `GameFrame`s one `GameBurst` may ask for (the TypeScript reference has no cap): a
/// server users copy should not let one request make it do unbounded work.
pub const MAX_GAME_BURST_FRAMES: u64 = 10_000;

/// The longest `Slow` may sleep, in ms (the TypeScript reference has no cap).
pub const MAX_SLOW_MS: u64 = 60_000;

/// The ApiError of a request over one of the caps above.
fn over_cap(what: &str, max: u64) -> HandlerError {
    TsrpcError::api(format!("{what} must be at most {max}"))
        .with_code("OVER_LIMIT")
        .into()
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

impl ChatService for ChatServer {
    async fn add(&self, call: ApiCall<ReqAdd>) -> HandlerResult<ResAdd> {
        Ok(ResAdd {
            c: call.req.a + call.req.b,
        })
    }

    async fn fail(&self, call: ApiCall<ReqFail>) -> HandlerResult<ResFail> {
        Err(match call.req.mode {
            None | Some(FailMode::String) => TsrpcError::api("Failed on purpose")
                .with_code("E_FAIL")
                .with_extra("detail", "extra field")
                .into(),
            Some(FailMode::Number) => TsrpcError::api("Failed with a numeric code")
                .with_code(42)
                .into(),
            Some(FailMode::Throw) => IntentionalException.into(),
        })
    }

    async fn game_burst(&self, call: ApiCall<ReqGameBurst>) -> HandlerResult<ResGameBurst> {
        if call.conn.conn_type() != ConnType::WebSocket {
            return Err(TsrpcError::api("GameBurst needs a WebSocket connection")
                .with_code("NEED_WS")
                .into());
        }
        if call.req.frames > MAX_GAME_BURST_FRAMES {
            return Err(over_cap("frames", MAX_GAME_BURST_FRAMES));
        }
        let conn = &call.conn;
        let game_id = format!("g-{}", now_ms());
        conn.send_msg_game_game_start(&MsgGameStart {
            game_id: game_id.clone(),
            seed: 123_456_789,
            players: vec![
                Player {
                    id: 1.0,
                    name: "alice".into(),
                },
                Player {
                    id: 2.0,
                    name: "bob".into(),
                },
            ],
        })
        .await?;
        for i in 0..call.req.frames {
            let d = i as i64;
            conn.send_msg_game_game_frame(&MsgGameFrame {
                frame: i,
                inputs: vec![
                    FrameInput {
                        player_id: 1.0,
                        dx: d,
                        dy: -d,
                    },
                    FrameInput {
                        player_id: 2.0,
                        dx: -1,
                        dy: 1,
                    },
                ],
                checksum: (i % 2 == 0).then(|| format!("ck{i}")),
            })
            .await?;
        }
        conn.send_msg_game_game_over(&MsgGameOver {
            game_id,
            winner: Some(1.0),
            result: GameResult::Win,
            draw: false,
            scores: vec![10.5, -3.0],
        })
        .await?;
        Ok(ResGameBurst {
            sent: call.req.frames + 2,
        })
    }

    async fn kick(&self, call: ApiCall<ReqKick>) -> HandlerResult<ResKick> {
        if call.conn.conn_type() == ConnType::WebSocket {
            let conn = call.conn.clone();
            let reason = call.req.reason.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                conn.close(reason);
            });
        }
        Ok(ResKick {})
    }

    async fn login(&self, call: ApiCall<ReqLogin>) -> HandlerResult<ResLogin> {
        if call.req.password == "wrong" {
            return Err(TsrpcError::api("Wrong password")
                .with_code("BAD_PASSWORD")
                .into());
        }
        let id = self.next_user_id.fetch_add(1, Ordering::SeqCst);
        // The session lives as long as the connection (over HTTP, one request: it does not last).
        call.conn.set_state(Session {
            id: id as f64,
            name: call.req.username.clone(),
        });
        Ok(ResLogin {
            token: format!("token-{}-{id}", call.req.username),
            user: LoginUser {
                id: id as f64,
                name: call.req.username,
            },
        })
    }

    async fn slow(&self, call: ApiCall<ReqSlow>) -> HandlerResult<ResSlow> {
        if call.req.ms > MAX_SLOW_MS {
            return Err(over_cap("ms", MAX_SLOW_MS));
        }
        tokio::time::sleep(Duration::from_millis(call.req.ms)).await;
        Ok(ResSlow {
            slept_ms: call.req.ms,
        })
    }

    async fn who_am_i(&self, call: ApiCall<ReqWhoAmI>) -> HandlerResult<ResWhoAmI> {
        // `needLogin`: the guard ran, so the session is there.
        let session = call
            .ext::<Session>()
            .ok_or_else(|| TsrpcError::api("Need login").with_code("NEED_LOGIN"))?;
        Ok(ResWhoAmI {
            id: session.id,
            name: session.name.clone(),
        })
    }

    async fn stats(&self, _call: ApiCall<ReqStats>) -> HandlerResult<ResStats> {
        Ok(ResStats {
            chat_count: self.chat_count.load(Ordering::SeqCst),
            last_chat: self
                .last_chat
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        })
    }
}

impl ChatServer {
    async fn on_chat(&self, call: MsgCall<MsgChat>) {
        self.chat_count.fetch_add(1, Ordering::SeqCst);
        let reply = (call.conn.conn_type() == ConnType::WebSocket).then(|| {
            // Sized up front: `format!` would grow by doubling, up to twice a large content.
            let mut content = String::with_capacity("echo: ".len() + call.msg.content.len());
            content.push_str("echo: ");
            content.push_str(&call.msg.content);
            MsgChat {
                name: "server".into(),
                content,
            }
        });
        // The message is kept, not copied: a large one costs its size once.
        let MsgCall { conn, msg, .. } = call;
        *self.last_chat.lock().unwrap_or_else(|e| e.into_inner()) = Some(LastChat {
            name: msg.name,
            content: msg.content,
        });
        if let Some(reply) = reply {
            let _ = conn.send_msg_chat(&reply).await;
        }
    }
}

/// Builds the reference chat server (not started) for `server`, a fresh generated server.
pub fn build(server: chat::Server) -> chat::Server {
    let state = Arc::new(ChatServer::default());
    let on_chat = state.clone();
    server
        .map(|s| {
            s.flows().pre_api_call.push(login_guard);
            s
        })
        .serve(state)
        .listen_msg_chat(move |call| {
            let state = on_chat.clone();
            async move { state.on_chat(call).await }
        })
        .listen_msg_room_user_join(|call| async move {
            let _ = call.conn.server().broadcast_msg(&call.msg).await;
        })
        .listen_msg_room_user_leave(|call| async move {
            let _ = call.conn.server().broadcast_msg(&call.msg).await;
        })
}

/// Starts the reference chat server over WebSocket on `addr`.
pub async fn start_ws(
    addr: SocketAddr,
    options: ServerOptions,
) -> Result<chat::RunningServer, StartError> {
    build(chat::Server::ws(addr, options)).start().await
}

/// Starts the reference chat server over HTTP on `addr`.
pub async fn start_http(
    addr: SocketAddr,
    options: ServerOptions,
) -> Result<chat::RunningServer, StartError> {
    build(chat::Server::http(addr, options)).start().await
}

/// Starts the reference chat server over WebSocket and HTTP on one port.
pub async fn start_ws_and_http(
    addr: SocketAddr,
    options: ServerOptions,
) -> Result<chat::RunningServer, StartError> {
    build(chat::Server::ws_and_http(addr, options))
        .start()
        .await
}
