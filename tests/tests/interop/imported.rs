//! The interop scenarios on the imported service: see its declaration in interop.rs.

use super::*;
use rpc_tests::imported::{chat, chat_server};

include!("service.rs");

// The same files as the root's modules, on purpose: the scenarios compiled on another `chat`.
#[allow(clippy::duplicate_mod)]
#[path = "rust_client.rs"]
mod rust_client;
#[allow(clippy::duplicate_mod)]
#[path = "tsrpc_client.rs"]
mod tsrpc_client;
