//! `rpc-codegen`: the exports of a protocol folder, from the command line.
//!
//! ```text
//! rpc-codegen ts <protocol folder> <out dir>   write the TypeScript protocol files (and
//!                                              remove the ones a gone protocol left)
//! rpc-codegen proto <protocol folder>          print the service proto JSON
//! rpc-codegen check <protocol folder>          report every problem (exit 1 if any)
//! ```
//!
//! `--name <service>` (any command) names the service as the macro would from its module
//! (`pub mod chat {}` -> `chat`); the default is the folder's name. `check` applies the
//! macro's own rules, from the same code, so it reports what a build would, word for word
//! (`rpc-codegen/tests/pipeline.rs` compares the two on every compile-fail case); once they
//! pass, it also tries the TypeScript export.
//!
//! Exit codes: 0 success, 1 problems in the protocols (listed on stderr, nothing written),
//! 2 bad usage or an I/O error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rpc_codegen::export;
use rpc_codegen::{Diagnostics, ServiceModel};

const USAGE: &str = "\
usage:
  rpc-codegen ts <protocol folder> <out dir>   write the TypeScript protocol files (TSRPC style)
  rpc-codegen proto <protocol folder>          print the service proto JSON on stdout
  rpc-codegen check <protocol folder>          report every problem; exit 1 if there is one

options:
  --name <service>   the service's name, as the macro takes it from its module
                     (`pub mod chat {}`: chat); default: the folder's name

The protocol folder is the one a `#[rpc_runtime::service(protocols = \"..\")]` names (e.g.
protocols/src/chat). `check` applies the service macro's rules (the same code, the same
messages), then tries the TypeScript export. Exit codes: 0 ok, 1 problems found, 2 bad
usage or I/O error.";

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
    match args.as_slice() {
        ["ts", folder, out] => ts(folder, name, Path::new(out)),
        ["proto", folder] => proto(folder, name),
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

fn ts(folder: &str, name: Option<&str>, out: &Path) -> ExitCode {
    let model = match load(folder, name) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let files = match export::typescript(&model) {
        Ok(f) => f,
        Err(d) => return report(&d),
    };
    match export::write_files(out, &files) {
        Ok(done) => {
            for p in done.written {
                println!("{}", p.display());
            }
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

fn proto(folder: &str, name: Option<&str>) -> ExitCode {
    let model = match load(folder, name) {
        Ok(m) => m,
        Err(code) => return code,
    };
    match export::service_proto_json(&model) {
        Ok(json) => {
            print!("{json}");
            ExitCode::SUCCESS
        }
        Err(d) => report(&d),
    }
}

/// The macro's rules first; when they pass, whether the TypeScript export works too.
fn check(folder: &str, name: Option<&str>) -> ExitCode {
    let model = match load(folder, name) {
        Ok(m) => m,
        Err(code) => return code,
    };
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
