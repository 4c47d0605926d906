//! A protocol file that does not parse is reported once, with its line and a caret; the rest
//! of the folder still gets its glue.
#[rpc_macros::service(protocols = "ui/fixtures/names-syntax-error")]
pub mod chat {}

fn main() {
    let client = chat::Client::http("http://127.0.0.1:1", Default::default());
    let _ = client.send_msg_ping(&chat::MsgPing {});
}
