//! Runnable examples: the chat server (the TSRPC reference service, written with the generated
//! API), used by the demo, the end-to-end tests and the interop tests; and the same chat
//! server mounted in an axum app ([`chat_axum`], the `chat_axum` binary).

pub mod chat_axum;
pub mod chat_server;

/// The service `chat_server` implements (it names it `super::chat`, so that the interop tests
/// can compile it again on the same service imported from its TypeScript proto).
use protocols::chat;
