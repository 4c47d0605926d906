//! The proto lock: the TSRPC ids of a Rust protocol folder, kept stable as its protocols
//! change, in a file committed next to the folder (as `Cargo.lock` is).
//!
//! TSRPC's binary mode sends service ids, property ids and union member ids instead of names.
//! Numbering them afresh on every build would renumber deployed clients' ids on the first
//! edit, so the ids, once given, are kept in `<folder>.proto.json` (`src/chat` ->
//! `src/chat.proto.json`), with tsrpc-cli's own rules ([`keep_ids`]): an entry keeps its id,
//! a new one gets the next unused number, a removed one's id is not given to a new entry.
//! The file is TSRPC's service proto exactly as `tsrpc-cli proto -o chat.proto.json` writes
//! it, so a TypeScript project can pass it to `tsrpc-cli proto -c` and agree on every id.
//!
//! Who reads and writes it:
//!
//! - [`crate::watch`] in `build.rs` keeps it current: on every change to the folder it computes
//!   the folder's proto, keeps the lock's ids and writes the file when its text changes (a
//!   folder with mistakes leaves it alone: the macro reports them).
//! - The service macro reads it: the generated `service_proto()` carries its ids. A lock that
//!   does not match the folder (no build script, or an edit by hand) is a compile error that
//!   names the command that updates it, `rpc-codegen lock <folder>`. Without a lock file the
//!   ids are fresh (0, 1, 2, .. as tsrpc-cli numbers a first generation), which is right until
//!   a client is deployed: commit a lock before that.
//! - `rpc-codegen lock`, `rpc-codegen ts` (its `serviceProto.ts` carries the lock's ids) and
//!   `rpc-codegen proto`.
//!
//! ```no_run
//! use std::path::Path;
//! let done = rpc_codegen::lock::update(Path::new("protocols/src/chat"), "protocols/src/chat")?;
//! println!("{} ({:?}), version {:?}", done.path.display(), done.status, done.proto.version);
//! # Ok::<(), rpc_codegen::lock::LockError>(())
//! ```

mod ids;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostics;
use crate::import::proto::{Layout, ProtoError, ServiceKind, ServiceProto};
use crate::model::ServiceModel;

pub use ids::IdOverflow;

/// What follows the folder's name in the name of its lock file.
pub const LOCK_SUFFIX: &str = ".proto.json";

/// The lock file of the protocol folder `folder`: `src/chat` -> `src/chat.proto.json`, next to
/// the folder (not inside: a file written into a watched folder would make cargo run the
/// build script again). `None` for a path without a last name (`.`, `/`).
pub fn lock_path(folder: &Path) -> Option<PathBuf> {
    match folder.components().next_back() {
        Some(std::path::Component::Normal(name)) => {
            let mut file = name.to_os_string();
            file.push(LOCK_SUFFIX);
            Some(folder.with_file_name(file))
        }
        _ => None,
    }
}

/// The proto `fresh` (from [`crate::export::service_proto`]) with the ids that `lock` gave the
/// same entries, new entries numbered past them, and its `version`: what `tsrpc-cli proto`
/// writes with `lock` as the old proto. Without a lock, `fresh` itself.
pub fn keep_ids(
    fresh: &ServiceProto,
    lock: Option<&ServiceProto>,
) -> Result<ServiceProto, IdOverflow> {
    ids::keep_ids(fresh, lock)
}

/// The text of a lock file: the proto as `JSON.stringify(proto, null, 2)`, what tsrpc-cli
/// writes for a `.json` output (byte for byte, so without a newline at the end).
pub fn lock_text(proto: &ServiceProto) -> String {
    proto.to_json_text(Layout::Indent(2))
}

/// Why a lock could not be computed, read or written.
#[derive(Debug)]
pub enum LockError {
    /// The folder breaks the service macro's rules, or its types have no TypeScript form.
    Folder(Diagnostics),
    /// The folder path has no name to put the lock next to it (`.`).
    NoPlace(PathBuf),
    /// The lock file is not a service proto.
    Lock(ProtoError),
    /// Reading or writing the lock failed.
    Io(PathBuf, std::io::Error),
    /// The lock's ids leave no room for a new one.
    Ids(IdOverflow),
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::Folder(d) => d.fmt(f),
            LockError::NoPlace(p) => write!(
                f,
                "`{}` has no folder name to name a proto lock after: give the folder by its name",
                p.display()
            ),
            LockError::Lock(e) => write!(f, "{e} (the proto lock is not a TSRPC service proto)"),
            LockError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            LockError::Ids(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LockError {}

/// Reads the lock at `path`: `None` when there is no such file.
pub fn read_lock(path: &Path) -> Result<Option<ServiceProto>, LockError> {
    match std::fs::read_to_string(path) {
        Ok(text) => ServiceProto::parse(&text, &path.display().to_string())
            .map(Some)
            .map_err(LockError::Lock),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(LockError::Io(path.to_path_buf(), e)),
    }
}

/// What [`update`] did to the lock file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// There was none: written.
    Created,
    /// Its text changed: written.
    Updated,
    /// Already current: not written.
    Unchanged,
}

/// The result of [`locked`] and [`update`].
#[derive(Debug, Clone, PartialEq)]
pub struct Locked {
    /// The lock file.
    pub path: PathBuf,
    /// The folder's proto with the lock's ids: what the lock file holds (after [`update`]).
    pub proto: ServiceProto,
    /// What the lock file held, if there was one.
    pub previous: Option<ServiceProto>,
    /// What [`update`] did (for [`locked`]: what it would do).
    pub status: Status,
}

/// The proto of the protocol folder `folder` (shown as `display`) with the ids of its lock,
/// without writing anything.
pub fn locked(folder: &Path, display: &str) -> Result<Locked, LockError> {
    let path = lock_path(folder).ok_or_else(|| LockError::NoPlace(folder.to_path_buf()))?;
    let model =
        crate::export::load_folder(folder, display, "service").map_err(LockError::Folder)?;
    let fresh = crate::export::service_proto(&model).map_err(LockError::Folder)?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(LockError::Io(path, e)),
    };
    let previous = match &text {
        Some(t) => {
            Some(ServiceProto::parse(t, &path.display().to_string()).map_err(LockError::Lock)?)
        }
        None => None,
    };
    let proto = keep_ids(&fresh, previous.as_ref()).map_err(LockError::Ids)?;
    let status = match &text {
        None => Status::Created,
        Some(t) if *t == lock_text(&proto) => Status::Unchanged,
        Some(_) => Status::Updated,
    };
    Ok(Locked {
        path,
        proto,
        previous,
        status,
    })
}

/// Brings the lock of `folder` up to date: computes the folder's proto, keeps the ids the
/// lock has, and writes the lock file when its text changes (only then, so an unchanged
/// folder leaves the file and its modification time alone).
pub fn update(folder: &Path, display: &str) -> Result<Locked, LockError> {
    let done = locked(folder, display)?;
    if done.status != Status::Unchanged {
        std::fs::write(&done.path, lock_text(&done.proto))
            .map_err(|e| LockError::Io(done.path.clone(), e))?;
    }
    Ok(done)
}

/// The command that updates the lock of the folder `display`.
pub fn update_command(display: &str) -> String {
    format!("rpc-codegen lock {display}")
}

/// The TSRPC proto the service macro builds in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MacroProto {
    /// The lock file's proto, current.
    Lock {
        /// The lock file, absolute.
        path: PathBuf,
        /// What it holds.
        proto: ServiceProto,
    },
    /// No lock file: fresh ids.
    Fresh(ServiceProto),
    /// An imported service: the TSRPC proto it was imported from (`TSRPC_PROTO`) holds its ids.
    Imported(ServiceProto),
    /// No lock file and no TypeScript form (the macro needs none).
    Unavailable,
}

/// For the service macro, on a folder without mistakes: the lock's proto when it is current,
/// fresh ids without a lock, or the compile error's text for a stale or unreadable lock.
pub(crate) fn for_macro(model: &ServiceModel) -> Result<MacroProto, String> {
    // An imported service (its root is the proto file) keeps its proto's ids: no lock.
    if !model.root.is_dir() {
        return Ok(MacroProto::Unavailable);
    }
    let Some(path) = lock_path(&model.root) else {
        return Ok(
            crate::export::service_proto(model).map_or(MacroProto::Unavailable, MacroProto::Fresh)
        );
    };
    let display = format!("{}{LOCK_SUFFIX}", model.display_root);
    let command = update_command(&model.display_root);
    let lock = match read_lock(&path) {
        Ok(Some(lock)) => lock,
        Ok(None) => {
            return Ok(crate::export::service_proto(model)
                .map_or(MacroProto::Unavailable, MacroProto::Fresh))
        }
        Err(LockError::Lock(e)) => {
            return Err(format!(
                "the proto lock `{display}` is not a TSRPC service proto ({}:{}: {}): delete it and run `{command}` to write it again (ids given since it was written are lost)",
                display, e.pos, e.message
            ))
        }
        Err(e) => return Err(format!("the proto lock `{display}`: {e}")),
    };
    let fresh = crate::export::service_proto(model).map_err(|d| {
        format!(
            "the proto lock `{display}` cannot be checked: the protocols have no TypeScript form, which the lock needs:\n{d}"
        )
    })?;
    let want =
        keep_ids(&fresh, Some(&lock)).map_err(|e| format!("the proto lock `{display}`: {e}"))?;
    if want == lock {
        return Ok(MacroProto::Lock { path, proto: lock });
    }
    Err(format!(
        "the proto lock `{display}` is out of date with `{}` ({}): run `{command}` in the package's folder to update it, or call `rpc_codegen::watch(\"{}\")` from build.rs to keep it current",
        model.display_root,
        differences(&lock, &want),
        model.display_root,
    ))
}

/// The check the service macro makes of a folder's lock (see `for_macro`), for `rpc-codegen
/// check`: `Err` holds the same message the macro reports for a stale or unreadable lock.
pub fn check(model: &ServiceModel) -> Result<(), String> {
    for_macro(model).map(drop)
}

/// What a stale lock lacks, briefly: at most three differences.
fn differences(lock: &ServiceProto, want: &ServiceProto) -> String {
    let what = |kind: ServiceKind, name: &str| match kind {
        ServiceKind::Api => format!("API `{name}`"),
        ServiceKind::Msg => format!("message `{name}`"),
    };
    let mut found = Vec::new();
    for s in &want.services {
        match lock
            .services
            .iter()
            .find(|l| l.kind == s.kind && l.name == s.name)
        {
            None => found.push(format!("{} is not in it", what(s.kind, &s.name))),
            Some(l) if l.id != s.id => found.push(format!(
                "{} has id {} in it, {} is due",
                what(s.kind, &s.name),
                l.id,
                s.id
            )),
            Some(_) => {}
        }
    }
    for l in &lock.services {
        if !want
            .services
            .iter()
            .any(|s| s.kind == l.kind && s.name == l.name)
        {
            found.push(format!("it has {}, which is gone", what(l.kind, &l.name)));
        }
    }
    for (id, schema) in &want.types {
        match lock.get(id) {
            None => found.push(format!("type `{id}` is not in it")),
            Some(s) if s != schema => found.push(format!("type `{id}` differs")),
            Some(_) => {}
        }
    }
    for (id, _) in &lock.types {
        if want.get(id).is_none() {
            found.push(format!("it has type `{id}`, which is gone"));
        }
    }
    if found.is_empty() {
        found.push(if lock.version == want.version {
            "its types are listed in another order".to_owned()
        } else {
            format!(
                "its version is {}, {} is due",
                lock.version.map_or("absent".to_owned(), |v| v.to_string()),
                want.version.map_or("none".to_owned(), |v| v.to_string())
            )
        });
    }
    let more = found.len().saturating_sub(3);
    found.truncate(3);
    let mut text = found.join("; ");
    if more > 0 {
        text.push_str(&format!("; and {more} more"));
    }
    text
}

#[cfg(test)]
mod tests;
