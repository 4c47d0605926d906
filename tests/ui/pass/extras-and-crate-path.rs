//! Hand-declared types added with `extra_apis`/`extra_msgs`; the runtime under another path.
extern crate rpc_runtime as rt;

pub mod manual {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, JsonSchema, rpc_macros::Api)]
    #[rpc(name = "tools/Time", crate = "::rt")]
    pub struct ReqTime {}

    #[derive(Serialize, Deserialize, JsonSchema)]
    pub struct ResTime {
        pub ms: u64,
    }

    #[derive(Serialize, Deserialize, JsonSchema, rpc_macros::Message)]
    #[rpc(name = "tools/Tick", crate = "::rt")]
    pub struct MsgTick {
        pub n: u64,
    }
}

#[rpc_macros::service(
    protocols = "ui/fixtures/pass-basic",
    crate = "::rt",
    extra_apis = [crate::manual::ReqTime],
    extra_msgs = [crate::manual::MsgTick],
)]
pub mod chat {}

async fn use_it(client: chat::Client) -> Result<(), rt::TsrpcError> {
    let res: manual::ResTime = client.call_time(manual::ReqTime {}).await?;
    client.send_msg_tick(&manual::MsgTick { n: res.ms }).await?;
    client.listen_msg_tick(|m: manual::MsgTick| drop(m.n));
    Ok(())
}

fn main() {
    use rt::{Api, Message, MsgEnum};
    assert_eq!(<manual::ReqTime as Api>::NAME, "tools/Time");
    assert_eq!(<manual::MsgTick as Message>::NAME, "tools/Tick");
    let m = chat::Msg::decode("tools/Tick", r#"{"n":3}"#).unwrap().unwrap();
    assert_eq!(m.name(), "tools/Tick");
    assert!(chat::service_proto().services.iter().any(|s| s.name == "tools/Time"));
    let _ = use_it;
}
