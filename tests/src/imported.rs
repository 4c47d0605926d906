//! The interop reference service imported from its TypeScript proto
//! (`tests/interop/protocols/serviceProto.ts`, what tsrpc-cli made of `tests/interop/protocols`)
//! instead of the hand-written twin `protocols::chat`, and the example chat server compiled
//! again on it: the interop tests run the same scenarios on both (tests/tests/interop.rs).

/// The service as the import makes it.
pub mod proto {
    #[rpc_runtime::service(tsrpc_proto = "interop/protocols/serviceProto.ts")]
    pub mod chat {}
}

/// The imported service under the twin's names: the import names the TypeScript inline types
/// after where they sit (`StatsLastChat` for `ResStats.lastChat`); the twin, written by hand,
/// chose shorter names. The aliases are the only difference the test code sees.
pub mod chat {
    pub use super::proto::chat::StatsLastChat as LastChat;
    pub use super::proto::chat::*;

    /// `game/`.
    pub mod game {
        pub use crate::imported::proto::chat::game::GameFrameInputsItem as FrameInput;
        pub use crate::imported::proto::chat::game::GameOverResult as GameResult;
        pub use crate::imported::proto::chat::game::GameStartPlayersItem as Player;
        pub use crate::imported::proto::chat::game::*;
    }

    /// `room/`.
    pub mod room {
        pub use crate::imported::proto::chat::room::UserJoinUser as RoomUser;
        pub use crate::imported::proto::chat::room::*;
    }
}

/// `rpc_examples::chat_server`, compiled on the imported service.
#[path = "../../examples/src/chat_server.rs"]
pub mod chat_server;
