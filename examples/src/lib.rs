//! Runnable examples: the chat server (the TSRPC reference service, written with the generated
//! API), used by the demo, the end-to-end tests and the interop tests.

pub mod chat_server;
