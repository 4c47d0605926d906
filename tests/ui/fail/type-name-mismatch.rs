//! A type the file name asks for is missing: when the file declares a type close to it (a
//! typo, another case, the same word continued), the error is at that type with "did you
//! mean". Helpers with other names are not judged.
#[rpc_macros::service(protocols = "ui/fixtures/type-name-mismatch")]
pub mod chat {}

fn main() {}
