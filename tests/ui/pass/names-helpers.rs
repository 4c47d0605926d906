//! Helper types named after the protocol type they belong to (`MsgChatAttachment` next to
//! `MsgChat`, `ResLoginProfile` next to `ResLogin`) are ordinary Rust, and a sub-folder's file
//! may use a name the macro generates in the service module (`room::Client`).
#[rpc_macros::service(protocols = "ui/fixtures/names-helpers")]
pub mod chat {}

fn main() {
    let msg = chat::MsgChat {
        content: "hi".into(),
        attachments: vec![chat::MsgChatAttachment { url: "u".into() }],
    };
    let res = chat::ResLogin { profile: chat::ResLoginProfile { nickname: "n".into() } };
    let join = chat::room::MsgJoin { who: chat::room::Client { id: 1 } };
    // The generated client is still `chat::Client`, with the APIs and messages of the folder.
    let client = chat::Client::http("http://127.0.0.1:1", Default::default());
    let _ = client.call_login(chat::ReqLogin { user: "u".into() });
    let _ = client.send_msg_room_join(&join);
    assert_eq!(<chat::MsgChat as rpc_runtime::Message>::NAME, "Chat");
    assert_eq!(<chat::room::MsgJoin as rpc_runtime::Message>::NAME, "room/Join");
    assert_eq!((msg.attachments.len(), res.profile.nickname.as_str()), (1, "n"));
}
