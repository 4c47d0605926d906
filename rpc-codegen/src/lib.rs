//! The code generator behind `rpc-macros`: a protocol folder becomes typed client and server
//! methods.
//!
//! ```text
//! protocol files --parse--> ModuleDef (files, types, lines) --check--> ApiDef/MsgDef
//!   --> ServiceModel --render--> tokens (a `#[path] mod` per file, trait impls, `Msg`,
//!       `Client`, `Server`, `RunningServer`, `ConnectionExt`, the service trait)
//! ```
//!
//! It holds no `proc_macro` types, so every pass is tested with plain `cargo test`. The
//! proc-macro crate only resolves the invoking file and calls [`expand_service`].
//!
//! In a `build.rs`, [`watch`] makes cargo rebuild when a protocol file is added or removed:
//!
//! ```no_run
//! // build.rs: fn main() { .. }
//! rpc_codegen::watch("src/chat");
//! ```

pub mod check;
pub mod diagnostic;
mod expand;
pub mod export;
pub mod model;
pub mod parse;
mod render;

use std::path::Path;

pub use diagnostic::{Ctxt, Diagnostic, Diagnostics};
pub use expand::{
    expand_derive_api, expand_derive_message, expand_service, load_service, Invocation,
};
pub use model::ServiceModel;
pub use render::{default_crate, generate, pretty};

/// For `build.rs`: makes cargo re-run the build (and so the service macro) when anything in
/// `dir` changes, including added and removed files. `dir` is relative to the package root.
pub fn watch(dir: impl AsRef<Path>) {
    println!("cargo:rerun-if-changed={}", dir.as_ref().display());
}
