//! Example services, declared from their protocol folders.
//!
//! - [`chat`](mod@chat): mirrors the TSRPC reference service (`tsrpc-reference/protocols`): 13 services
//!   (and `WhoAmI`, guarded by `conf` `needLogin`, which the reference lacks),
//!   the same fields and JSON, so our tests reproduce the TSRPC captures.
//! - [`bench`](mod@bench): the benchmark service (`Add`, `StartPush`, `StartFanout`, `GameFrame`, `Chat`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use protocols::chat;
//! let client = chat::Client::ws("ws://127.0.0.1:3000", Default::default());
//! let res = client.call_add(chat::ReqAdd { a: 1.0, b: 2.0 }).await?;
//! assert_eq!(res.c, 3.0);
//! # Ok(()) }
//! ```

/// The chat service of the TSRPC reference: `Chat`, `room/UserJoin`, `room/UserLeave`,
/// `game/GameStart`, `game/GameFrame`, `game/GameOver`; APIs `Add`, `Fail`, `GameBurst`, `Kick`,
/// `Login`, `Slow`, `Stats`, `WhoAmI` (conf `needLogin`).
#[rpc_runtime::service(protocols = "src/chat")]
pub mod chat {}

/// The benchmark service of BENCHMARKS.md: APIs `Add`, `StartPush`, `StartFanout`; messages
/// `GameFrame`, `Chat`.
#[rpc_runtime::service(protocols = "src/bench")]
pub mod bench {}
