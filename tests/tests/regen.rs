//! Issue 3, "Regenerated when protocols change": a small crate (`ui/regen-crate/`) is copied
//! to a temporary folder and built with cargo; then a protocol file is added, edited and
//! removed, and each change must show on the next `cargo run` with no other step (the macro's
//! `include_str!`s track edits, the crate's build.rs `rpc_codegen::watch` tracks the folder
//! and keeps the proto lock `src/svc.proto.json` current, whose ids the service carries).
//! Uses its own target folder under the workspace's `target/` (the first run builds the
//! dependencies once). The crate's manifest is the newcomer's of README.md ("Use it in your
//! crate"): rpc-runtime, serde and schemars, and rpc-codegen for the build script; the service
//! attribute comes from rpc-runtime.

use std::fs;
use std::time::Duration;

use rpc_tests::scratch::ScratchCrate;

struct Crate(ScratchCrate);

impl Crate {
    fn new() -> Crate {
        Crate(ScratchCrate::new("regen-crate"))
    }

    /// `cargo run`: the service proto's lines, `Api Add {schema}`, `Msg Hello {..}`.
    fn run(&self) -> String {
        let out = self.0.cargo(&["run", "--quiet"]).output().unwrap();
        assert!(
            out.status.success(),
            "cargo run failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The proto lock that build.rs keeps next to `src/svc`.
    fn lock(&self) -> String {
        fs::read_to_string(self.0.dir.join("src/svc.proto.json")).unwrap_or_default()
    }

    /// Changes a file after a pause, so its modification time is surely newer than the last build.
    fn edit(&self, path: &str, content: Option<&str>) {
        std::thread::sleep(Duration::from_millis(1100));
        let path = self.0.dir.join(path);
        match content {
            Some(text) => fs::write(path, text).unwrap(),
            None => fs::remove_file(path).unwrap(),
        }
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
    // build.rs wrote the proto lock; the service carries its ids.
    assert!(
        krate.lock().contains("\"name\": \"Add\""),
        "{}",
        krate.lock()
    );
    assert!(out.contains("id=Some(0)"), "{out}");

    // Add a file: a new message, with nothing else touched.
    krate.edit("src/svc/msg_hello.rs", Some(MSG_HELLO));
    let out = krate.run();
    assert!(
        out.contains("Api Add ") && out.contains("Msg Hello "),
        "{out}"
    );
    // `Add` keeps 0 though `MsgHello.ts` sorts first; the lock has the new message.
    let hello = out
        .lines()
        .find(|l| l.starts_with("Msg Hello "))
        .unwrap_or_default();
    assert!(hello.ends_with("id=Some(1)"), "{out}");
    assert!(krate.lock().contains("\"version\": 1,"), "{}", krate.lock());
    // Writing the lock does not make the next build run again.
    let again = krate.0.cargo(&["build"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        again.status.success() && !stderr.contains("Compiling"),
        "{stderr}"
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
    let original_main = fs::read_to_string(krate.0.dir.join("src/main.rs")).unwrap();
    krate.edit("src/svc/msg_hello.rs", Some(MSG_HELLO));
    krate.edit("src/main.rs", Some(MAIN_USING_HELLO));
    assert_eq!(krate.run().trim(), "uses send_msg_hello");

    // Remove the file: the message is gone, and so is its method.
    krate.edit("src/main.rs", Some(&original_main));
    krate.edit("src/svc/msg_hello.rs", None);
    let out = krate.run();
    assert!(out.contains("Api Add ") && !out.contains("Hello"), "{out}");
    assert!(!krate.lock().contains("Hello"), "{}", krate.lock());

    krate.edit("src/main.rs", Some(MAIN_USING_HELLO));
    let out = krate.0.cargo(&["build", "--quiet"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("send_msg_hello"), "{stderr}");
}
