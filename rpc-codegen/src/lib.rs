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
//!   [`generate`] and [`pretty`] (the code the macro writes), the TypeScript [`export`]s and
//!   the proto [`lock`] that keeps their TSRPC ids stable;
//! - the other direction, TypeScript first: [`import`] reads a TSRPC `serviceProto.ts`
//!   ([`import::proto`], also its writer, byte for byte) and makes the Rust protocol folder it
//!   stands for, in memory ([`import::rust`]); `#[service(tsrpc_proto = "..")]` compiles that
//!   folder through the same passes as one on disk.
//!
//! In a `build.rs`, [`watch`] makes cargo rebuild when a protocol file is added or removed,
//! and keeps the folder's proto lock current:
//!
//! ```no_run
//! // build.rs: fn main() { .. }
//! rpc_codegen::watch("src/chat");
//! ```
//!
//! The service macro warns (a plain `cargo build` warning, at the `protocols = ".."` literal)
//! when the folder is not watched, and when it or a sub-folder is empty.
//!
//! # The proto lock: stable TSRPC ids
//!
//! TSRPC's binary mode identifies services, properties and union members by number. Those
//! numbers must not move when the protocols change, or every deployed client breaks, so they
//! are kept in a lock file next to the protocol folder, `src/chat.proto.json` for `src/chat`,
//! committed like `Cargo.lock`. It is TSRPC's service proto as `tsrpc-cli proto` writes it,
//! and its ids follow tsrpc-cli's rules ([`lock`]): an existing entry keeps its id, a new one
//! gets the next number past every id in the lock, a removed one's id goes to no new entry.
//!
//! - It changes when the protocols do: [`watch`] in `build.rs` rewrites it on the build after
//!   an edit (and `version` goes up by one), or run `rpc-codegen lock src/chat`. An unchanged
//!   folder leaves it untouched.
//! - The service macro reads it: `service_proto()` carries its ids. A lock that does not match
//!   the folder is a compile error naming `rpc-codegen lock <folder>`, so a stale one cannot
//!   ship by accident. With no lock file, ids are fresh: 0, 1, 2, .. as tsrpc-cli numbers a
//!   first generation (fine until a client is deployed; commit a lock before that).
//! - `rpc-codegen ts` exports a `serviceProto.ts` with the lock's ids, so a TSRPC client built
//!   from the export agrees with the Rust server in binary mode; a TypeScript project can also
//!   pass the lock to `tsrpc-cli proto -c`.
//!
//! # Exports for the TypeScript side
//!
//! [`export`] turns the same model into TSRPC's TypeScript protocol files
//! ([`export::typescript`]: `PtlLogin.ts`, `room/MsgUserJoin.ts`, .. with `export interface`s,
//! `uint`/`int` from `tsrpc-proto`, serde's renames and optional fields) and into the service
//! proto `tsrpc-cli proto` makes of them ([`export::service_proto`], as
//! [`import::proto::ServiceProto`]). The Rust -> TypeScript table and what is refused (with
//! `file:line:column`) are in [`export`]'s docs.
//!
//! ```no_run
//! use std::path::Path;
//! let model = rpc_codegen::export::load_folder(Path::new("protocols/src/chat"), "protocols/src/chat", "chat")?;
//! let files = rpc_codegen::export::typescript(&model)?; // [("PtlLogin.ts", "..."), ..]
//! rpc_codegen::export::write_files(Path::new("web/protocols"), &files)?;
//! // serviceProto.ts with the lock's ids (the lock is brought up to date first).
//! let locked = rpc_codegen::lock::update(Path::new("protocols/src/chat"), "protocols/src/chat")?;
//! std::fs::write("web/protocols/serviceProto.ts", locked.proto.to_ts(""))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The `rpc-codegen` binary does the same from the command line (no extra dependency):
//!
//! ```text
//! rpc-codegen ts <protocol folder> <out dir>   write the TypeScript protocol files and
//!                                              serviceProto.ts (the lock's ids)
//! rpc-codegen lock <protocol folder>           bring the proto lock up to date
//! rpc-codegen proto <protocol folder>          print the service proto JSON (the lock's ids)
//! rpc-codegen check <protocol folder>          report every problem; exit 1 if there is one
//! ```
//!
//! `check` runs the macro's own checks ([`check_folder`], what [`expand_service`] runs) and
//! prints the same messages (`--name chat` names the service as `pub mod chat {}` does; the
//! default is the folder's name); `tests/pipeline.rs` compares the two on every compile-fail
//! case of the workspace.
//!
//! The `serviceProto.ts` that `rpc-codegen ts` writes is the one `tsrpc-cli proto -i <out dir>
//! -o <out dir>/serviceProto.ts` would write with the lock as its old proto;
//! `tests/tests/proto_lock.rs` checks that against the real tsrpc-cli.

mod check;
mod check_wire;
mod clash;
mod diagnostic;
mod expand;
pub mod export;
pub mod import;
pub mod lock;
pub mod model;
mod parse;
mod render;
mod serde_rename;

use std::path::Path;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use expand::{
    check_folder, expand_derive_api, expand_derive_message, expand_service, Invocation,
};
pub use model::ServiceModel;
pub use render::{generate, pretty};

/// For `build.rs`: makes cargo re-run the build (and so the service macro) when anything in
/// `dir` changes, including added and removed files, and keeps the folder's proto lock
/// (`<dir>.proto.json`, see [`lock`]) current: it computes the folder's TSRPC proto, keeps
/// the ids the lock gave, and writes the lock when that changes it. `dir` is relative to the
/// package root.
///
/// A folder with mistakes leaves the lock alone (the service macro reports them). A lock it
/// cannot read or write is a cargo warning, and the macro then reports the stale lock.
///
/// The lock is not a `rerun-if-changed` path: cargo would then run the build script (and
/// compile the crate) once more on the build after every write. The crate still rebuilds
/// when the lock is edited, because the generated code `include_str!`s it, and the macro then
/// checks it against the folder.
///
/// Without `watch`, cargo tracks the protocol files the macro read but not the folder, so a
/// file added or removed later is ignored until something else rebuilds the crate; the service
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
    drop(watched);
    match lock::update(dir, &dir.display().to_string()) {
        Ok(_) | Err(lock::LockError::Folder(_)) => {}
        Err(e) => println!(
            "cargo:warning=rpc-codegen: the proto lock of {}: {e}",
            dir.display()
        ),
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
