//! `#[derive(Api)]` / `#[derive(Message)]` are for types declared outside a protocol folder:
//! on a folder's own request or message they are one error each, saying to remove them (and
//! not a second one about conflicting implementations).
#[rpc_macros::service(protocols = "ui/fixtures/names-derive-on-folder-type")]
pub mod chat {}

fn main() {
    let client = chat::Client::http("http://127.0.0.1:1", Default::default());
    let _ = client.call_login(chat::ReqLogin { user: "u".into() });
}
