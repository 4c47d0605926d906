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
//!   [`generate`] and [`pretty`] (the code the macro writes), and the TypeScript [`export`]s.
//!
//! In a `build.rs`, [`watch`] makes cargo rebuild when a protocol file is added or removed:
//!
//! ```no_run
//! // build.rs: fn main() { .. }
//! rpc_codegen::watch("src/chat");
//! ```
//!
//! The service macro warns (a plain `cargo build` warning, at the `protocols = ".."` literal)
//! when the folder is not watched, and when it or a sub-folder is empty.
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
//! Run `tsrpc-cli proto -i <out dir> -o <out dir>/serviceProto.ts` on the TypeScript files
//! for TSRPC's own proto; `tests/tests/ts_export.rs` checks that it matches the reference.

mod check;
mod diagnostic;
mod expand;
pub mod export;
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
///
/// Without it, cargo tracks the protocol files the macro read but not the folder, so a file
/// added or removed later is ignored until something else rebuilds the crate; the service
/// macro then warns, with the line to add. To know, it reads the variable `watch` sets for the
/// package's compilation (`RPC_CODEGEN_WATCH`: every folder watched so far, absolute, joined
/// as `PATH` is; a folder also covers its sub-folders).
pub fn watch(dir: impl AsRef<Path>) {
    let dir = dir.as_ref();
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut watched = WATCHED.lock().unwrap_or_else(|e| e.into_inner());
    let path = watched_path(dir);
    // A path holding the list separator cannot be listed; it is only tracked.
    if std::env::join_paths([&path]).is_ok() {
        watched.push(path);
    }
    // Cargo keeps the last value a build script gives a variable: list them all every time.
    if let Ok(joined) = std::env::join_paths(watched.iter()) {
        println!(
            "cargo:rustc-env={}={}",
            render::warn::WATCH_VAR,
            joined.to_string_lossy()
        );
    }
}

/// The folders [`watch`] was given in this build script.
static WATCHED: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());

/// `dir` as the macro compares it: absolute (a build script runs in the package root), through
/// symlinks when it exists.
fn watched_path(dir: &Path) -> std::path::PathBuf {
    let base = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default();
    let abs = base.join(dir);
    abs.canonicalize().unwrap_or(abs)
}
