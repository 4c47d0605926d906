//! `rpc-codegen`: the exports of a protocol folder, from the command line.
//!
//! ```text
//! rpc-codegen ts <protocol folder> <out dir>   write the TypeScript protocol files and their
//!                                              serviceProto.ts (the lock's ids; the lock is
//!                                              written first if it is missing or stale), and
//!                                              remove the files a gone protocol left
//! rpc-codegen lock <protocol folder>           bring the proto lock <folder>.proto.json up to date
//! rpc-codegen proto <protocol folder>          print the service proto JSON with the lock's ids
//! rpc-codegen check <protocol folder>          report every problem (exit 1 if any)
//! rpc-codegen import <serviceProto.ts> <folder> write a TSRPC proto as an editable Rust
//!                                              protocol folder, the proto as its lock
//! ```
//!
//! Exit codes: 0 success, 1 problems in the protocols (listed on stderr, nothing written),
//! 2 bad usage or an I/O error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rpc_codegen::export;
use rpc_codegen::import::files::{write_import, ImportFilesError};
use rpc_codegen::import::proto::ServiceProto;
use rpc_codegen::import::rust::ImportOptions;
use rpc_codegen::lock::{self, LockError, Locked, Status};
use rpc_codegen::{Diagnostics, ServiceModel};

const USAGE: &str = "\
usage:
  rpc-codegen ts <protocol folder> <out dir>   write the TypeScript protocol files (TSRPC style)
                                               and serviceProto.ts with the proto lock's ids
  rpc-codegen lock <protocol folder>           bring the proto lock <folder>.proto.json up to date
  rpc-codegen proto <protocol folder>          print the service proto JSON (the lock's ids)
  rpc-codegen check <protocol folder>          report every problem; exit 1 if there is one
  rpc-codegen import <serviceProto.ts|.json> <protocol folder>
                                               write a TSRPC service proto as a Rust protocol
                                               folder (one file per Ptl/Msg, sub-folders kept)
                                               and the proto itself as its lock, so the folder
                                               keeps the proto's ids

options:
  --name <service>   the service's name, as the macro takes it from its module
                     (`pub mod chat {}`: chat); default: the folder's name
  --skip-unsupported (import) leave out optional fields whose type Rust cannot carry
                     (bigint, BigInt64Array, ..) instead of refusing the proto
  --force            (import) overwrite files edited since the last import; without it,
                     import writes only into a new or empty folder or over files it wrote

The protocol folder is the one a `#[rpc_runtime::service(protocols = \"..\")]` names (e.g.
protocols/src/chat). `check` applies the service macro's rules (the same code, the same
messages), then tries the TypeScript export. Its proto lock sits next to it
(protocols/src/chat.proto.json) and is committed: it keeps TSRPC's ids stable as the protocols
change. `ts` writes it when it is missing or stale, so the ids it exports are the ones kept.
Exit codes: 0 ok, 1 problems found, 2 bad usage or I/O error.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut name = None;
    if let Some(i) = args.iter().position(|a| *a == "--name") {
        match args.get(i + 1) {
            Some(n) if !n.is_empty() => name = Some(n.to_string()),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
        args.drain(i..i + 2);
    }
    let name = name.as_deref();
    let mut flag = |f: &str| match args.iter().position(|a| *a == f) {
        Some(i) => {
            args.remove(i);
            true
        }
        None => false,
    };
    let skip = flag("--skip-unsupported");
    let force = flag("--force");
    match args.as_slice() {
        ["import", proto, out] => import(proto, Path::new(out), skip, force),
        ["ts", folder, out] => ts(folder, name, Path::new(out)),
        ["lock", folder] => lock_cmd(folder),
        ["proto", folder] => proto(folder),
        ["check", folder] => check(folder, name),
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Reads the folder as the service `name` (default: the folder's name); on errors prints them
/// and returns the exit code.
fn load(folder: &str, name: Option<&str>) -> Result<ServiceModel, ExitCode> {
    let display = folder.trim_end_matches('/');
    let root = PathBuf::from(display);
    let name = name
        .or_else(|| root.file_name().and_then(|n| n.to_str()))
        .unwrap_or("service")
        .to_owned();
    if !root.is_dir() {
        eprintln!("error: `{display}` is not a folder");
        return Err(ExitCode::from(2));
    }
    export::load_folder(&root, display, &name).map_err(|d| report(&d))
}

fn report(d: &Diagnostics) -> ExitCode {
    eprintln!("{d}");
    eprintln!(
        "{} error{} found",
        d.0.len(),
        if d.0.len() == 1 { "" } else { "s" }
    );
    ExitCode::from(1)
}

/// The folder's proto with its lock's ids; the lock is written when `write` is set.
fn locked(folder: &str, write: bool) -> Result<Locked, ExitCode> {
    let display = folder.trim_end_matches('/');
    let root = Path::new(display);
    if !root.is_dir() {
        eprintln!("error: `{display}` is not a folder");
        return Err(ExitCode::from(2));
    }
    let done = if write {
        lock::update(root, display)
    } else {
        lock::locked(root, display)
    };
    done.map_err(|e| match e {
        LockError::Folder(d) => report(&d),
        e => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    })
}

/// One line about what happened to the lock.
fn lock_line(done: &Locked) -> String {
    let version = done
        .proto
        .version
        .map_or(String::new(), |v| format!(", version {v}"));
    let what = match done.status {
        Status::Created => "created",
        Status::Updated => "updated",
        Status::Unchanged => "up to date",
    };
    format!("{} {what}{version}", done.path.display())
}

fn ts(folder: &str, name: Option<&str>, out: &Path) -> ExitCode {
    let model = match load(folder, name) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let files = match export::typescript(&model) {
        Ok(f) => f,
        Err(d) => return report(&d),
    };
    // The ids handed to TypeScript are the lock's, so the lock is written before them.
    let proto: ServiceProto = match locked(folder, true) {
        Ok(done) => {
            if done.status != Status::Unchanged {
                eprintln!("{}", lock_line(&done));
            }
            done.proto
        }
        Err(code) => return code,
    };
    let written = export::write_files(out, &files).and_then(|done| {
        let path = out.join("serviceProto.ts");
        std::fs::write(&path, proto.to_ts(""))?;
        Ok((done, path))
    });
    match written {
        Ok((done, proto_path)) => {
            for p in done.written {
                println!("{}", p.display());
            }
            println!("{}", proto_path.display());
            for p in done.removed {
                println!("removed {}", p.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: writing under `{}`: {e}", out.display());
            ExitCode::from(2)
        }
    }
}

fn lock_cmd(folder: &str) -> ExitCode {
    match locked(folder, true) {
        Ok(done) => {
            println!("{}", lock_line(&done));
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn proto(folder: &str) -> ExitCode {
    match locked(folder, false) {
        Ok(done) => {
            println!("{}", lock::lock_text(&done.proto));
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

/// The macro's rules first; when they pass, whether the TypeScript export works too.
fn check(folder: &str, name: Option<&str>) -> ExitCode {
    let model = match load(folder, name) {
        Ok(m) => m,
        Err(code) => return code,
    };
    // The lock, as the macro checks it (it needs the folder to pass the rules first).
    if let Err(message) = lock::check(&model) {
        eprintln!("error: {message}");
        eprintln!("1 error found");
        return ExitCode::from(1);
    }
    if let Err(d) = export::typescript(&model) {
        eprintln!(
            "note: the service macro accepts `{}`; the TypeScript export does not:",
            folder.trim_end_matches('/')
        );
        return report(&d);
    }
    println!(
        "ok: service `{}`, {} APIs, {} messages",
        model.name,
        model.apis.len(),
        model.msgs.len()
    );
    ExitCode::SUCCESS
}

fn import(proto: &str, out: &Path, skip: bool, force: bool) -> ExitCode {
    let text = match std::fs::read_to_string(proto) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: reading `{proto}`: {e}");
            return ExitCode::from(2);
        }
    };
    let opts = ImportOptions {
        skip_unsupported_optional_fields: skip,
        ..ImportOptions::default()
    };
    match write_import(&text, proto, &opts, out, force) {
        Ok(done) => {
            for p in &done.written {
                println!("{}", p.display());
            }
            for p in &done.removed {
                println!("removed {}", p.display());
            }
            for p in &done.kept {
                eprintln!(
                    "note: `{}` is gone from the proto but was edited: kept",
                    p.display()
                );
            }
            for s in &done.skipped {
                eprintln!("note: left out {s}");
            }
            if let Some(why) = &done.lock_note {
                eprintln!(
                    "note: the lock holds the source proto as it is: the folder has no \
                     TypeScript form yet:\n{why}"
                );
            }
            ExitCode::SUCCESS
        }
        Err(e @ (ImportFilesError::Io(..) | ImportFilesError::Lock(_))) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
        Err(e) => {
            // The importer's hint names the macro's option; here it is a flag.
            let text = e.to_string().replace(
                "`skip_unsupported_optional_fields = true`",
                "`--skip-unsupported`",
            );
            eprintln!("{text}");
            ExitCode::from(1)
        }
    }
}
