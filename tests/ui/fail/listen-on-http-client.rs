// Listening is WebSocket-only: the HTTP client has calls and sends, but no `listen_msg_*`.
#[rpc_macros::service(protocols = "ui/fixtures/duplicate")]
pub mod chat {}

fn main() {
    let client = chat::Client::http("http://127.0.0.1:1", Default::default());
    client.listen_msg_ping(|_m: chat::MsgPing| {});
}
