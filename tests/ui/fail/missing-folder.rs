#[rpc_macros::service(protocols = "ui/fixtures/does-not-exist")]
pub mod chat {}

fn main() {
    // The fallback expansion still declares the generated items: no follow-on errors here.
    let _ = chat::service_proto();
}
