// Every wire mistake is reported once, at once; what is valid still gets its methods.
#[rpc_macros::service(protocols = "ui/fixtures/wire-several")]
pub mod chat {}

async fn uses_the_valid_api(client: chat::Client) {
    let _ = client.call_add(chat::ReqAdd { a: 1.0, b: 2.0 }).await;
}

fn main() {
    let _ = uses_the_valid_api;
}
