//! A scratch copy of `tests/ui/regen-crate`: a crate with the newcomer's manifest of README.md
//! ("Use it in your crate": rpc-runtime, serde, schemars, and rpc-codegen for build.rs), built
//! by cargo in a temporary folder, for the tests of what a user's build sees (`regen.rs`,
//! `codegen_debug.rs`). Every scratch crate builds in one target folder under the workspace's
//! (`target/tests/regen`), so the dependencies are built once.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A scratch crate; its folder is removed when it is dropped.
#[derive(Debug)]
pub struct ScratchCrate {
    /// The crate's folder.
    pub dir: PathBuf,
    /// The target folder its builds use.
    pub target: PathBuf,
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            fs::copy(entry.path(), dest).unwrap();
        }
    }
}

impl ScratchCrate {
    /// Copies the crate to a fresh temporary folder as package `name`.
    pub fn new(name: &str) -> ScratchCrate {
        let ws = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let dir = std::env::temp_dir().join(format!("rpc-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        copy_dir(&ws.join("tests/ui/regen-crate"), &dir);
        let manifest = format!(
            r#"[package]
name = "{name}"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
rpc-runtime = {{ path = "{rt}" }}
serde = {{ version = "1", features = ["derive"] }}
schemars = "1"

[build-dependencies]
rpc-codegen = {{ path = "{codegen}" }}
"#,
            rt = ws.join("rpc-runtime").display(),
            codegen = ws.join("rpc-codegen").display(),
        );
        fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        // The workspace's versions, so that nothing is resolved or downloaded anew.
        fs::copy(ws.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| ws.join("target"))
            .join("tests/regen");
        ScratchCrate { dir, target }
    }

    /// `cargo <args>` in the crate, with its target folder and no RUSTFLAGS or
    /// RPC_CODEGEN_DEBUG from the test's environment.
    pub fn cargo(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(args)
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("RUSTFLAGS")
            .env_remove("RPC_CODEGEN_DEBUG");
        cmd
    }
}

impl Drop for ScratchCrate {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}
