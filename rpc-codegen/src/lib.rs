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
//! passes are private; the public API is what its users need:
//!
//! - the macros (`rpc-macros` only resolves the invoking file): [`expand_service`],
//!   [`expand_derive_api`], [`expand_derive_message`], with [`Invocation`];
//! - a build script: [`watch`];
//! - tools and tests: [`check_folder`] (the model of a folder and every problem found),
//!   [`generate`] and [`pretty`] (the code the macro writes), and the TypeScript [`export`]s;
//! - the other direction, TypeScript first: [`import`] reads a TSRPC `serviceProto.ts`
//!   ([`import::proto`], also its writer, byte for byte) and makes the Rust protocol folder it
//!   stands for, in memory ([`import::rust`]); `#[service(tsrpc_proto = "..")]` compiles that
//!   folder through the same passes as one on disk.
//!
//! In a `build.rs`, [`watch`] makes cargo rebuild when a protocol file is added or removed:
//!
//! ```no_run
//! // build.rs: fn main() { .. }
//! rpc_codegen::watch("src/chat");
//! ```
//!
//! # Exports for the TypeScript side
//!
//! [`export`] turns the same model into TSRPC's TypeScript protocol files
//! ([`export::typescript`]: `PtlLogin.ts`, `room/MsgUserJoin.ts`, .. with `export interface`s,
//! `uint`/`int` from `tsrpc-proto`, serde's renames and optional fields) and into a static
//! service proto shaped like TSRPC's ([`export::service_proto_json`]). The Rust -> TypeScript
//! table and what is refused (with `file:line:column`) are in [`export`]'s docs.
//!
//! ```no_run
//! use std::path::Path;
//! let model = rpc_codegen::export::load_folder(Path::new("protocols/src/chat"), "protocols/src/chat", "chat")?;
//! let files = rpc_codegen::export::typescript(&model)?; // [("PtlLogin.ts", "..."), ..]
//! rpc_codegen::export::write_files(Path::new("web/protocols"), &files)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The `rpc-codegen` binary does the same from the command line (no extra dependency):
//!
//! ```text
//! rpc-codegen ts <protocol folder> <out dir>   write the TypeScript protocol files
//! rpc-codegen proto <protocol folder>          print the service proto JSON
//! rpc-codegen check <protocol folder>          report every problem; exit 1 if there is one
//! ```
//!
//! `check` runs the macro's own checks ([`check_folder`], what [`expand_service`] runs) and
//! prints the same messages (`--name chat` names the service as `pub mod chat {}` does; the
//! default is the folder's name); `tests/pipeline.rs` compares the two on every compile-fail
//! case of the workspace.
//!
//! Run `tsrpc-cli proto -i <out dir> -o <out dir>/serviceProto.ts` on the TypeScript files
//! for TSRPC's own proto; `tests/tests/ts_export.rs` checks that it matches the reference.

mod check;
mod check_wire;
mod clash;
mod diagnostic;
mod expand;
pub mod export;
pub mod import;
pub mod model;
mod parse;
mod render;

use std::path::Path;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use expand::{
    check_folder, expand_derive_api, expand_derive_message, expand_service, Invocation,
};
pub use model::ServiceModel;
pub use render::{generate, pretty};

/// For `build.rs`: makes cargo re-run the build (and so the service macro) when anything in
/// `dir` changes, including added and removed files. `dir` is relative to the package root.
pub fn watch(dir: impl AsRef<Path>) {
    println!("cargo:rerun-if-changed={}", dir.as_ref().display());
}
