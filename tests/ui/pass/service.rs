//! A folder with a sub-folder, a helper file, and an API and a message sharing a name.
use std::sync::Arc;

use rpc_runtime::{ApiCall, HandlerResult, MsgCall};
use rpc_runtime::server::ServerOptions;

#[rpc_macros::service(protocols = "ui/fixtures/pass-basic")]
pub mod chat {
    /// Items written in the module stay.
    pub const VERSION: u32 = 1;
}

use chat::{ConnectionExt, Msg};

struct Impl;

impl chat::ChatService for Impl {
    async fn echo(&self, call: ApiCall<chat::ReqEcho>) -> HandlerResult<chat::ResEcho> {
        call.conn.send_msg_echo(&chat::MsgEcho { text: call.req.text.clone() }).await?;
        Ok(chat::ResEcho { text: call.req.text })
    }
}

async fn client_side() -> Result<(), rpc_runtime::TsrpcError> {
    let client = chat::Client::ws("ws://127.0.0.1:1", Default::default());
    client.connect().await?;
    let res: chat::ResEcho = client.call_echo(chat::ReqEcho { text: "hi".into(), times: None }).await?;
    client.send_msg_echo(&chat::MsgEcho { text: res.text }).await?;
    let h = client.listen_msg_room_user_join(|m: chat::room::MsgUserJoin| drop(m.user.id));
    client.unlisten_msg(h);
    client.listen_msg_matching(regex::Regex::new("^room/").unwrap(), |m: Msg, name: &str| match m {
        Msg::Echo(e) => drop((e.text, name)),
        Msg::RoomUserJoin(j) => drop(j.user),
    });

    let http = chat::Client::http("http://127.0.0.1:1", Default::default());
    let _ = http.call_echo_with(chat::ReqEcho { text: "hi".into(), times: Some(2) }, Default::default()).await?;
    http.send_msg_room_user_join(&chat::room::MsgUserJoin { user: chat::User { id: 1 } }).await?;
    Ok(())
}

async fn server_side() {
    let server = chat::Server::ws("127.0.0.1:0".parse().unwrap(), ServerOptions::default())
        .serve(Arc::new(Impl))
        .listen_msg_echo(|call: MsgCall<chat::MsgEcho>| async move { drop(call.msg.text) })
        .listen_msg_matching(regex::Regex::new(".").unwrap(), |call: MsgCall<Msg>| async move { drop(call.msg) });
    let running = server.start().await.unwrap();
    running.broadcast_msg_echo(&chat::MsgEcho { text: "all".into() }).await.unwrap();
    running.broadcast_msg_room_user_join_to(&chat::room::MsgUserJoin { user: chat::User { id: 2 } }, &[]).await.unwrap();
    let _ = (chat::service_proto(), chat::VERSION);
}

fn main() {
    let _ = client_side;
    let _ = server_side;
}
