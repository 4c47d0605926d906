//! Helpers named like items the macro generates in the service module: one error each, at the
//! helper, saying what the macro generates there. The generated items stay usable.
#[rpc_macros::service(protocols = "ui/fixtures/names-generated-clash")]
pub mod chat {}

fn main() {
    let client = chat::Client::http("http://127.0.0.1:1", Default::default());
    let _ = client.send_msg_ping(&chat::MsgPing {});
    let _ = chat::service_proto();
}
