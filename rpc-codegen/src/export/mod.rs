//! Exports of a service for the TypeScript side: TSRPC protocol files ([`typescript`]) and the
//! service proto tsrpc-cli makes of them ([`service_proto`]).
//!
//! ```text
//! ServiceModel --lower (check: serde's JSON form, every problem with file:line)--> IR
//!   --ts.rs--> PtlLogin.ts, room/MsgUserJoin.ts, ..
//!   --proto.rs--> import::proto::ServiceProto (fresh ids; the lock keeps them stable)
//! ```
//!
//! Only the types an API or a message reaches are exported. Each protocol file becomes one
//! TypeScript file named the TSRPC way (`ptl_login.rs` -> `PtlLogin.ts`, `room/msg_user_join.rs`
//! -> `room/MsgUserJoin.ts`, any other file keeps its stem: `base.rs` -> `base.ts`); helper
//! types stay in the file that declares them, as `export interface` / `export type`, imported
//! where used. Doc comments become `/** */`.
//!
//! | Rust | TypeScript |
//! | --- | --- |
//! | `f64`, `f32` | `number` |
//! | `u8`..`u64`, `usize` | `uint` (from `tsrpc-proto`) |
//! | `i8`..`i64`, `isize` | `int` (from `tsrpc-proto`) |
//! | `String`, `&str`, `char`, `Cow<str>` | `string` |
//! | `bool` | `boolean` |
//! | `Vec<T>`, `[T; N]`, `VecDeque`, `HashSet`, `BTreeSet`, .. | `T[]` |
//! | `(A, B)` | `[A, B]`; `()` and a unit struct are `null` |
//! | `HashMap<String, T>`, `BTreeMap`, `IndexMap` | `{ [key: string]: T }` (integer keys: `number`) |
//! | `Option<T>` + `skip_serializing_if` | `field?: T` |
//! | `Option<T>` without it (serde writes `null`) | `field?: T \| null` |
//! | any field with `skip_serializing_if` | `field?: T` |
//! | `Box<T>`, `Rc<T>`, `Arc<T>` | `T` |
//! | `serde_json::Value` | `any` |
//! | chrono `DateTime<Tz>` | `Date` (an ISO-8601 string in JSON) |
//! | `Vec<u8>` | `uint[]`, as serde_json writes it; with `#[serde(with = "..base64..")]`: `Uint8Array` (a base64 string in JSON, as TSRPC's) |
//! | struct | `interface` (`#[serde(flatten)]` of a struct: `extends`; `tag`: a literal field) |
//! | newtype struct, `#[serde(transparent)]` | the inner type |
//! | unit-only enum | `'a' \| 'b'` (with serde's renames) |
//! | enum with `tag` | `{ tag: 'A'; .. } \| ..`; with `tag` + `content`: `{ tag: 'A'; content: .. }` |
//! | `#[serde(untagged)]` enum | the union of the variants' types |
//! | `HashMap<String, T>` with `#[serde(flatten)]` | an index signature next to the fields |
//! | `rpc_runtime::types` (what `rpc-codegen import` writes): `Date`, `Bytes`, `Float32Array`.., `ArrayBuffer`, `ObjectId`, `JsonValue`, `JsMap<T>`, `Nullable<T>`, `LitInt<2>`, `LitBool<true>` | `Date`, `Uint8Array`, `Float32Array`.., `ArrayBuffer`, `ObjectId` (from `mongodb`), `any`, `{ [key: string]: T }`, `T \| null`, `2`, `true` |
//! | unit enum `#[serde(into = "i64")]` whose variants' docs start with their number (an imported numeric enum) | `enum X { A = 0, .. }` |
//! | `const CONF: &str = "{..}";` in a `ptl_`/`msg_` file | `export const conf = {..};` (TSRPC's per-service `conf`) |
//!
//! Names follow serde: `rename`, `rename_all` (every serde rule), `rename_all_fields`,
//! `rename(serialize = ..)`; `skip` / `skip_serializing` fields are left out.
//!
//! Not exported, each with a [`Diagnostic`](crate::Diagnostic) at its `file:line:column`: generic types, data
//! enums without `tag` / `untagged` (TSRPC's discriminated unions need a tag), 128-bit
//! integers, maps with other keys, a `with = ".."` the table does not know, `flatten` of
//! anything but a struct of the folder, and types neither declared in the folder nor listed
//! above. Types declared outside the folder (the service attribute's `extra_apis` /
//! `extra_msgs`) are not exported: there is no file to read them from.

mod glob_order;
mod ir;
mod lower;
mod proto;
mod ts;

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostics;
use crate::import::proto::ServiceProto;
use crate::model::ServiceModel;

/// The TypeScript protocol files of a service: `(path relative to the output folder, text)`,
/// e.g. `("room/MsgUserJoin.ts", "export interface MsgUserJoin { .. }")`. Run
/// `tsrpc-cli proto -i <that folder> -o <folder>/serviceProto.ts` on them for TSRPC's proto.
pub fn typescript(model: &ServiceModel) -> Result<Vec<(PathBuf, String)>, Diagnostics> {
    let ir = lower::lower(model).map_err(Diagnostics)?;
    Ok(ir
        .files
        .iter()
        .map(|f| {
            // The `conf` of the service the file declares (a `Ptl`/`Msg` file), if any.
            let conf = ir.services.iter().find_map(|s| match s {
                ir::Service::Api { file, conf, .. } | ir::Service::Msg { file, conf, .. }
                    if *file == f.path =>
                {
                    conf.as_deref()
                }
                _ => None,
            });
            (
                PathBuf::from(format!("{}.ts", f.path)),
                ts::render_file(f, conf),
            )
        })
        .collect())
}

/// The service proto that `tsrpc-cli proto` writes for the files of [`typescript`] on a first
/// generation (TSRPC-WIRE.md c.6): services in the order tsrpc-cli finds their files (glob's
/// locale order: `game/..`, `MsgChat.ts`, `PtlAdd.ts`, `room/..`) with ids 0, 1, ..; `types` in
/// the order it adds them (each service's own types, then what they reference, depth-first);
/// property, member and `extends` ids by position; no `version`. Helper types are
/// `Reference`s to their own entries.
///
/// These are fresh ids: once clients are deployed, ids must not move when the protocols
/// change. The proto lock ([`crate::lock`]) keeps them, with tsrpc-cli's rules; the service
/// macro, `rpc-codegen ts` and `rpc-codegen proto` use the lock's ids.
///
/// ```no_run
/// use std::path::Path;
/// use rpc_codegen::import::proto::Layout;
/// let model = rpc_codegen::export::load_folder(Path::new("protocols/src/chat"), "protocols/src/chat", "chat")?;
/// let proto = rpc_codegen::export::service_proto(&model)?;
/// println!("{}", proto.to_json_text(Layout::Indent(2))); // what `tsrpc-cli proto -o x.json` writes
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn service_proto(model: &ServiceModel) -> Result<ServiceProto, Diagnostics> {
    let ir = lower::lower(model).map_err(Diagnostics)?;
    Ok(proto::service_proto(&ir))
}

/// Reads the protocol folder `root` (shown as `display` in messages) as the service `name`,
/// applying every rule of the service macro. `Err` lists every mistake.
pub fn load_folder(root: &Path, display: &str, name: &str) -> Result<ServiceModel, Diagnostics> {
    let (model, problems) = crate::check_folder(root, display, name, &[], &[]);
    match problems.0.is_empty() {
        true => Ok(model),
        false => Err(problems),
    }
}

/// The first line of every TypeScript file [`typescript`] renders: how [`write_files`] tells
/// the files it generated from anyone else's.
pub const GENERATED_MARKER: &str =
    "// Generated by rpc-codegen from the Rust protocol files: edit those, not this file.";

/// What [`write_files`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Written {
    /// The files written.
    pub written: Vec<PathBuf>,
    /// Files an earlier run generated whose protocol is gone, removed.
    pub removed: Vec<PathBuf>,
}

/// Writes `files` (from [`typescript`]) under `out`, creating folders, and removes the `.ts`
/// files an earlier run generated (they start with [`GENERATED_MARKER`]) that `files` no longer
/// has, with any folder that removal empties. Every other file in `out` (`serviceProto.ts`,
/// hand-written code) is left alone.
pub fn write_files(out: &Path, files: &[(PathBuf, String)]) -> std::io::Result<Written> {
    let mut done = Written::default();
    for (rel, text) in files {
        let path = out.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, text)?;
        done.written.push(path);
    }
    let mut stale = Vec::new();
    generated_files(out, &mut stale)?;
    stale.retain(|p| !done.written.contains(p));
    stale.sort();
    for path in stale {
        std::fs::remove_file(&path)?;
        // Folders the removal empties go too (`remove_dir` refuses a folder with anything in).
        let mut dir = path.parent();
        while let Some(d) = dir.filter(|d| *d != out && d.starts_with(out)) {
            if std::fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
        done.removed.push(path);
    }
    Ok(done)
}

/// Every `.ts` file under `dir` that starts with [`GENERATED_MARKER`].
fn generated_files(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            generated_files(&path, found)?;
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "ts") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if text.lines().next() == Some(GENERATED_MARKER) {
                found.push(path);
            }
        }
    }
    Ok(())
}
