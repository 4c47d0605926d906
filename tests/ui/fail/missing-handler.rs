#[rpc_macros::service(protocols = "ui/fixtures/duplicate")]
pub mod chat {}

use rpc_runtime::{ApiCall, HandlerResult};

struct Impl;

// The service trait has one method per API: forgetting one is a compile error.
impl chat::ChatService for Impl {}

fn main() {
    let _ = |_: ApiCall<chat::ReqEcho>| -> HandlerResult<chat::ResEcho> { unimplemented!() };
}
