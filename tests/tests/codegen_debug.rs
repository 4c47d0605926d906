//! Issue 12, "Debug output that does not stick": `RPC_CODEGEN_DEBUG=1` writes the expansion to
//! a file under the target dir and prints one line with its path; cargo tracks the variable,
//! so unsetting it rebuilds the crate and the line is not replayed on later builds. Builds the
//! crate of `regen.rs` (`ui/regen-crate/`, copied to a temporary folder) in the same target
//! folder, `target/tests/regen`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

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

struct TempCrate(PathBuf);

impl Drop for TempCrate {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn debug_output_goes_to_a_file_and_does_not_stick() {
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = std::env::temp_dir().join(format!("rpc-codegen-debug-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    copy_dir(&ws.join("tests/ui/regen-crate"), &dir);
    let krate = TempCrate(dir);
    let manifest = format!(
        r#"[package]
name = "codegen-debug-crate"
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
    fs::write(krate.0.join("Cargo.toml"), manifest).unwrap();
    fs::copy(ws.join("Cargo.lock"), krate.0.join("Cargo.lock")).unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| ws.join("target"))
        .join("tests/regen");

    // `cargo build`, with or without the variable: its stderr.
    let build = |debug: bool| {
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.arg("build")
            .current_dir(&krate.0)
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("RUSTFLAGS")
            .env_remove("RPC_CODEGEN_DEBUG");
        if debug {
            cmd.env("RPC_CODEGEN_DEBUG", "1");
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "cargo build failed:\n{stderr}");
        stderr
    };
    let lines = |stderr: &str| -> Vec<String> {
        stderr
            .lines()
            .filter(|l| l.starts_with("rpc-codegen:"))
            .map(str::to_owned)
            .collect()
    };

    let rebuilt = |stderr: &str| stderr.contains("Compiling codegen-debug-crate");
    assert_eq!(lines(&build(false)), Vec::<String>::new());
    assert!(!rebuilt(&build(false)), "fresh");

    // Set: the crate is rebuilt (cargo tracks the variable), one line with the file's path.
    let stderr = build(true);
    assert!(rebuilt(&stderr), "{stderr}");
    let printed = lines(&stderr);
    assert_eq!(printed.len(), 1, "{stderr}");
    let path = printed[0]
        .strip_prefix("rpc-codegen: service `svc` expanded into ")
        .unwrap_or_else(|| panic!("{stderr}"));
    let path = Path::new(path);
    assert!(
        path.starts_with(&target) && path.ends_with("codegen-debug-crate/svc.rs"),
        "{}",
        path.display()
    );
    let code = fs::read_to_string(path).unwrap();
    assert!(code.contains("Api for ReqAdd"), "{code}");
    assert!(code.contains("pub struct Client"), "{code}");
    assert!(
        !stderr.contains("Api for ReqAdd"),
        "the code itself is not printed"
    );

    // Unset: rebuilt again, and the line is not replayed, now or on later builds.
    let stderr = build(false);
    assert!(rebuilt(&stderr), "{stderr}");
    assert_eq!(lines(&stderr), Vec::<String>::new());
    let stderr = build(false);
    assert!(!rebuilt(&stderr), "{stderr}");
    assert_eq!(lines(&stderr), Vec::<String>::new());
}
