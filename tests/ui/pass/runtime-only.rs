//! A service written with nothing but rpc-runtime (its default `macros` feature): the attribute
//! and the derives come from `rpc_runtime`, and the generated code finds the runtime by itself.
use rpc_runtime::{Api, ApiCall, HandlerResult, Message, RpcClient};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, rpc_runtime::Api)]
pub struct ReqPing {}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ResPing {
    pub ok: bool,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, rpc_runtime::Message)]
pub struct MsgNote {
    pub text: String,
}

#[rpc_runtime::service(
    protocols = "ui/fixtures/pass-basic",
    extra_apis = [crate::ReqPing],
    extra_msgs = [crate::MsgNote],
)]
pub mod chat {}

struct Impl;

impl chat::ChatService for Impl {
    async fn echo(&self, call: ApiCall<chat::ReqEcho>) -> HandlerResult<chat::ResEcho> {
        Ok(chat::ResEcho { text: call.req.text })
    }
    async fn ping(&self, _call: ApiCall<ReqPing>) -> HandlerResult<ResPing> {
        Ok(ResPing { ok: true })
    }
}

async fn use_it(client: chat::Client) -> Result<(), rpc_runtime::TsrpcError> {
    let res = client.call_ping(ReqPing {}).await?;
    client.send_msg_note(&MsgNote { text: res.ok.to_string() }).await?;
    client.flows().post_disconnect.push(Some);
    let _ = client.call_api(chat::ReqEcho { text: "hi".into(), times: None }).await?;
    Ok(())
}

fn main() {
    assert_eq!(<ReqPing as Api>::NAME, "Ping");
    assert_eq!(<MsgNote as Message>::NAME, "Note");
    let server = chat::Server::ws("127.0.0.1:0".parse().unwrap(), Default::default());
    let _ = server.serve(std::sync::Arc::new(Impl));
    let _ = use_it;
}
