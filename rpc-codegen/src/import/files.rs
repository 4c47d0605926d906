//! `rpc-codegen import`: an imported proto written to disk as an editable Rust protocol folder,
//! with the source proto as the folder's proto lock (so the folder keeps the proto's ids).
//!
//! The lock: see the comment in [`write_import`]; in short the source proto's ids on the
//! folder's own proto, as `rpc-codegen lock` would write it.
//!
//! Overwrite rule: the folder is the team's from the first import on, so a second import must
//! not silently drop their edits. A file is (over)written only when
//!
//! - the folder does not exist or is empty, or
//! - the file does not exist, or its text is what the *previous* import wrote (the previous
//!   import is recomputed from the lock, which holds the proto it came from), or what this
//!   import writes anyway.
//!
//! Any other file in the way is hand-edited: nothing is written and every such file is named
//! (`force` overwrites them). A non-empty folder without a lock has no record of a previous
//! import, so all its files in the way count as hand-edited. Files of the previous import that
//! the new proto no longer has are removed when unedited, kept (and named) otherwise.

use std::fmt;
use std::path::{Path, PathBuf};

use super::proto::{ProtoError, ServiceProto};
use super::rust::{import, ImportOptions, ImportedFolder};
use super::service::locate;
use crate::lock::{keep_ids, lock_path, lock_text, read_lock, LockError};

/// What [`write_import`] did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Written {
    /// The files written (the lock last).
    pub written: Vec<PathBuf>,
    /// Files of the previous import the new one has not, removed.
    pub removed: Vec<PathBuf>,
    /// Files of the previous import the new one has not, kept because they were edited.
    pub kept: Vec<PathBuf>,
    /// The optional fields left out (`type.field: why`).
    pub skipped: Vec<String>,
    /// Why the lock holds the source proto rather than the folder's own proto (the folder
    /// has no TypeScript form: `rpc-codegen check` names the types).
    pub lock_note: Option<String>,
}

/// Why [`write_import`] wrote nothing.
#[derive(Debug)]
pub enum ImportFilesError {
    /// The proto is not a TSRPC service proto.
    Proto(ProtoError),
    /// The proto has types that cannot be imported: each error located in the proto
    /// (`serviceProto.ts:12:5: ..`).
    Import(Vec<String>),
    /// These files were edited since the import that wrote them (or no import wrote them).
    Edited(Vec<PathBuf>),
    /// The folder's lock cannot be read, or has no place.
    Lock(LockError),
    /// Reading or writing failed.
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for ImportFilesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportFilesError::Proto(e) => write!(f, "error: {e}"),
            ImportFilesError::Import(errors) => {
                for (i, e) in errors.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "error: {e}")?;
                }
                Ok(())
            }
            ImportFilesError::Edited(files) => {
                write!(
                    f,
                    "error: {} file{} not written by the last import (edited by hand?); nothing \
                     was written (pass --force to overwrite):",
                    files.len(),
                    if files.len() == 1 { " was" } else { "s were" }
                )?;
                for p in files {
                    write!(f, "\n  {}", p.display())?;
                }
                Ok(())
            }
            ImportFilesError::Lock(e) => write!(f, "error: {e}"),
            ImportFilesError::Io(p, e) => write!(f, "error: {}: {e}", p.display()),
        }
    }
}

impl std::error::Error for ImportFilesError {}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ImportFilesError + '_ {
    move |e| ImportFilesError::Io(path.to_path_buf(), e)
}

/// Whether `dir` is missing or holds nothing.
fn is_empty(dir: &Path) -> Result<bool, ImportFilesError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(ImportFilesError::Io(dir.to_path_buf(), e)),
    }
}

/// Imports the proto `text` (`serviceProto.ts` or its JSON, shown as `display` in errors) into
/// the folder `out` and writes the lock `<out>.proto.json` holding that proto, under the
/// overwrite rule of this module (`force` lifts it).
pub fn write_import(
    text: &str,
    display: &str,
    opts: &ImportOptions,
    out: &Path,
    force: bool,
) -> Result<Written, ImportFilesError> {
    let proto = &ServiceProto::parse(text, display).map_err(ImportFilesError::Proto)?;
    let folder = import(proto, opts).map_err(|errors| {
        ImportFilesError::Import(
            errors
                .iter()
                .map(|e| format!("{display}:{}: {e}", locate(text, &e.path)))
                .collect(),
        )
    })?;
    let lock = lock_path(out)
        .ok_or_else(|| ImportFilesError::Lock(LockError::NoPlace(out.to_path_buf())))?;
    let empty = is_empty(out)?;
    // What the previous import wrote, recomputed from the proto it left in the lock.
    let previous: Option<ImportedFolder> = if empty {
        None
    } else {
        read_lock(&lock)
            .map_err(ImportFilesError::Lock)?
            .and_then(|old| import(&old, opts).ok())
    };
    let previous_text = |rel: &str| {
        previous
            .as_ref()
            .and_then(|p| p.files.iter().find(|(r, _)| r == rel))
            .map(|(_, t)| t.as_str())
    };
    let mut edited = Vec::new();
    if !empty && !force {
        for (rel, new) in &folder.files {
            let path = out.join(rel);
            match std::fs::read_to_string(&path) {
                Ok(now) if now == *new || Some(now.as_str()) == previous_text(rel) => {}
                Ok(_) => edited.push(path),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(ImportFilesError::Io(path, e)),
            }
        }
    }
    if !edited.is_empty() {
        return Err(ImportFilesError::Edited(edited));
    }
    let mut done = Written {
        skipped: folder.skipped.clone(),
        ..Written::default()
    };
    for (rel, text) in &folder.files {
        let path = out.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        std::fs::write(&path, text).map_err(io(&path))?;
        done.written.push(path);
    }
    // Files only the previous import had.
    for (rel, old) in previous.iter().flat_map(|p| &p.files) {
        if folder.files.iter().any(|(r, _)| r == rel) {
            continue;
        }
        let path = out.join(rel);
        match std::fs::read_to_string(&path) {
            Ok(now) if now == *old => {
                std::fs::remove_file(&path).map_err(io(&path))?;
                done.removed.push(path);
            }
            Ok(_) => done.kept.push(path),
            Err(_) => {}
        }
    }
    // The lock is what `rpc-codegen lock` makes of the folder with the source proto as the old
    // lock: the proto's ids, and a named type for each of its inline object types and unions
    // (the Rust folder names them), so `rpc-codegen check` finds it current. When the folder
    // has no TypeScript form, the source proto itself keeps the ids.
    let display_out = out.display().to_string();
    let lock_proto = crate::export::load_folder(out, &display_out, "service")
        .and_then(|model| crate::export::service_proto(&model))
        .map_err(|d| d.to_string())
        .and_then(|fresh| keep_ids(&fresh, Some(proto)).map_err(|e| e.to_string()));
    let lock_proto = match lock_proto {
        Ok(p) => p,
        Err(why) => {
            done.lock_note = Some(why);
            proto.clone()
        }
    };
    std::fs::write(&lock, lock_text(&lock_proto)).map_err(io(&lock))?;
    done.written.push(lock);
    Ok(done)
}
