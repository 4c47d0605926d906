//! Issue 3, "Regenerated when protocols change": a small crate (`ui/regen-crate/`) is copied
//! to a temporary folder and built with cargo; then a protocol file is added, edited and
//! removed, and each change must show on the next `cargo run` with no other step (the macro's
//! `include_str!`s track edits, the crate's build.rs `rpc_codegen::watch` tracks the folder).
//! Uses its own target folder under the workspace's `target/` (the first run builds the
//! dependencies once). The crate's manifest is the newcomer's of README.md ("Use it in your
//! crate"): rpc-runtime, serde and schemars, and rpc-codegen for the build script; the service
//! attribute comes from rpc-runtime.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
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

struct Crate {
    dir: PathBuf,
    target: PathBuf,
}

impl Crate {
    fn new() -> Crate {
        let ws = workspace();
        let dir = std::env::temp_dir().join(format!("rpc-regen-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        copy_dir(&ws.join("tests/ui/regen-crate"), &dir);
        let path = |p: &str| ws.join(p).display().to_string();
        let manifest = format!(
            r#"[package]
name = "regen-crate"
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
            rt = path("rpc-runtime"),
            codegen = path("rpc-codegen"),
        );
        fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        // The workspace's versions, so that nothing is resolved or downloaded anew.
        fs::copy(ws.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| ws.join("target"))
            .join("tests/regen");
        Crate { dir, target }
    }

    fn cargo(&self, args: &[&str]) -> std::process::Output {
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(args)
            .arg("--quiet")
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("RUSTFLAGS")
            .output()
            .unwrap()
    }

    /// `cargo run`: the service proto's lines, `Api Add {schema}`, `Msg Hello {..}`.
    fn run(&self) -> String {
        let out = self.cargo(&["run"]);
        assert!(
            out.status.success(),
            "cargo run failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Changes a file after a pause, so its modification time is surely newer than the last build.
    fn edit(&self, path: &str, content: Option<&str>) {
        std::thread::sleep(Duration::from_millis(1100));
        let path = self.dir.join(path);
        match content {
            Some(text) => fs::write(path, text).unwrap(),
            None => fs::remove_file(path).unwrap(),
        }
    }
}

impl Drop for Crate {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

const MSG_HELLO: &str = r#"
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct MsgHello {
    pub text: String,
}
"#;

const MAIN_USING_HELLO: &str = r#"
#[rpc_runtime::service(protocols = "src/svc")]
pub mod svc {}

async fn hello(client: svc::Client) {
    let _ = client.send_msg_hello(&svc::MsgHello { text: "hi".into() }).await;
}

fn main() {
    let _ = hello;
    println!("uses send_msg_hello");
}
"#;

#[test]
fn protocol_folder_changes_take_effect_on_the_next_build() {
    let krate = Crate::new();
    let out = krate.run();
    assert!(out.contains("Api Add "), "{out}");
    assert!(!out.contains("Hello"), "{out}");

    // Add a file: a new message, with nothing else touched.
    krate.edit("src/svc/msg_hello.rs", Some(MSG_HELLO));
    let out = krate.run();
    assert!(
        out.contains("Api Add ") && out.contains("Msg Hello "),
        "{out}"
    );

    // Edit a file: a new field shows in the schema.
    let edited = MSG_HELLO.replace(
        "pub text: String,",
        "pub text: String,\n    pub loud: bool,",
    );
    krate.edit("src/svc/msg_hello.rs", Some(&edited));
    let out = krate.run();
    assert!(out.contains("loud"), "{out}");

    // Use the new method.
    let original_main = fs::read_to_string(krate.dir.join("src/main.rs")).unwrap();
    krate.edit("src/svc/msg_hello.rs", Some(MSG_HELLO));
    krate.edit("src/main.rs", Some(MAIN_USING_HELLO));
    assert_eq!(krate.run().trim(), "uses send_msg_hello");

    // Remove the file: the message is gone, and so is its method.
    krate.edit("src/main.rs", Some(&original_main));
    krate.edit("src/svc/msg_hello.rs", None);
    let out = krate.run();
    assert!(out.contains("Api Add ") && !out.contains("Hello"), "{out}");

    krate.edit("src/main.rs", Some(MAIN_USING_HELLO));
    let out = krate.cargo(&["build"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("send_msg_hello"), "{stderr}");
}
