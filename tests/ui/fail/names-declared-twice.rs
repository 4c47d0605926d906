//! A name two files of a folder declare would be ambiguous in the service module, where both
//! files are re-exported: one error, naming both places.
#[rpc_macros::service(protocols = "ui/fixtures/names-declared-twice")]
pub mod chat {}

fn main() {}
