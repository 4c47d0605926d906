#[rpc_macros::service(protocols = "ui/fixtures/duplicate")]
pub mod chat {}

// (A handler is `async fn echo(&self, call: ApiCall<ReqEcho>) -> HandlerResult<ResEcho>`.)

struct Impl;

// The service trait has one method per API: forgetting one is a compile error.
impl chat::ChatService for Impl {}

fn main() {}
