//! File and folder names that are Rust keywords or start with a digit: each gets a spelling
//! (`ptl_self.rs` -> handler `self_`, `ptl_2fa.rs` -> `_2fa`, `match/` -> `r#match`, `self/` ->
//! `self_`, `2fa/` -> `_2fa`, `type.rs` -> `mod r#type`) and the service names stay TSRPC's.
use rpc_runtime::{Api, ApiCall, HandlerResult, Message};

#[rpc_macros::service(protocols = "ui/fixtures/pass-names")]
pub mod names {}

use names::Msg;

struct Impl;

impl names::NamesService for Impl {
    async fn self_(&self, call: ApiCall<names::ReqSelf>) -> HandlerResult<names::ResSelf> {
        drop(call.req.who);
        Ok(names::ResSelf {})
    }
    async fn _2fa(&self, call: ApiCall<names::Req2fa>) -> HandlerResult<names::Res2fa> {
        Ok(names::Res2fa { ok: call.req.code == 42 })
    }
    async fn self_kick(&self, _call: ApiCall<names::self_::ReqKick>) -> HandlerResult<names::self_::ResKick> {
        Ok(names::self_::ResKick {})
    }
}

async fn client_side() -> Result<(), rpc_runtime::TsrpcError> {
    let client = names::Client::ws("ws://127.0.0.1:1", Default::default());
    let _: names::ResSelf = client.call_self(names::ReqSelf { who: "me".into() }).await?;
    let _: names::Res2fa = client.call_2fa(names::Req2fa { code: 42 }).await?;
    let _ = client.call_self_kick(names::self_::ReqKick {}).await?;
    client.send_msg_crate(&names::MsgCrate {}).await?;
    client.send_msg_match_start(&names::r#match::MsgStart { shared: names::Shared { id: 1 } }).await?;
    let h = client.listen_msg_2fa_code(|m: names::_2fa::MsgCode| { let _ = m.code; });
    client.unlisten_msg(h);
    client.listen_msg_matching(regex::Regex::new(".").unwrap(), |m: Msg, _name: &str| match m {
        Msg::Crate(_) => {}
        Msg::MatchStart(s) => { let _ = s.shared.id; }
        Msg::_2faCode(c) => { let _ = c.code; }
    });
    Ok(())
}

fn main() {
    let _ = client_side;
    let _ = names::service_proto();
    // The names on the wire are TSRPC's, whatever the Rust spelling.
    assert_eq!(<names::ReqSelf as Api>::NAME, "Self");
    assert_eq!(<names::Req2fa as Api>::NAME, "2fa");
    assert_eq!(<names::self_::ReqKick as Api>::NAME, "self/Kick");
    assert_eq!(<names::r#match::MsgStart as Message>::NAME, "match/Start");
    assert_eq!(<names::_2fa::MsgCode as Message>::NAME, "2fa/Code");
    let _ = Impl;
}
