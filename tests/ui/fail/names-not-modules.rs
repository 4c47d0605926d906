//! A folder name that cannot be a Rust module (`my-room/`) and a file and a folder that would
//! be the same module (`shared.rs`, `shared/`): one error each, naming them; `ptl_self.rs`
//! (handler `self_`) is fine and its glue is still generated.
#[rpc_macros::service(protocols = "ui/fixtures/bad-names")]
pub mod chat {}

fn main() {
    let _ = chat::ReqSelf { who: String::new() };
}
