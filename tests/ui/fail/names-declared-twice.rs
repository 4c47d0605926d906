//! A name two files of a folder declare would be ambiguous in the service module, where both
//! files are re-exported: one error each, naming both places. A protocol type declared twice
//! (`MsgUserJoin`) gets no glue, so rustc adds no errors of its own.
#[rpc_macros::service(protocols = "ui/fixtures/names-declared-twice")]
pub mod chat {}

fn main() {}
