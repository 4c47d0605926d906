//! The real `tsrpc-cli` 2.4.5 of `tests/interop/node_modules`, for the tests that compare our
//! exports and proto lock with what it makes of the same TypeScript files (`ts_export.rs`,
//! `proto_lock.rs`). Missing node or packages fail the test with instructions, never skip it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::node::{interop_dir, require_node};

/// `tests/interop/node_modules/.bin/tsrpc-cli`, or a failure that says how to install it.
pub fn tsrpc_cli() -> PathBuf {
    require_node();
    let cli = interop_dir().join("node_modules/.bin/tsrpc-cli");
    assert!(
        cli.exists(),
        "{} is missing: the exports are checked with the real tsrpc-cli. Run `scripts/test` \
         (it runs `npm ci` in tests/interop), or `cd tests/interop && npm ci`.",
        cli.display()
    );
    cli
}

/// Makes `tests/interop/node_modules` visible from `dir` (exported files import
/// `tsrpc-proto`, which TypeScript resolves from a `node_modules` above them).
pub fn link_node_modules(dir: &Path) {
    let link = dir.join("node_modules");
    if link.exists() {
        return;
    }
    std::fs::create_dir_all(dir).expect("creating the folder");
    let modules = interop_dir().join("node_modules");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&modules, &link).expect("linking node_modules");
    #[cfg(windows)]
    std::os::windows::fs::symlink_dir(&modules, &link).expect("linking node_modules");
}

/// Runs `tsrpc-cli proto <args>` in `dir`; a failure shows its output.
pub fn proto(dir: &Path, args: &[&str]) {
    let cli = tsrpc_cli();
    let out = Command::new(&cli)
        .arg("proto")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", cli.display()));
    assert!(
        out.status.success(),
        "tsrpc-cli proto {args:?} failed ({}) in {}:\nstdout:\n{}\nstderr:\n{}",
        out.status,
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
