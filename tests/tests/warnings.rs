//! Issue 12, item 3: the service macro warns, in plain `cargo build` output on stable Rust,
//! where the build would silently ignore something: an empty protocol folder or sub-folder,
//! and a protocol folder the build script does not watch (with the line to add). Each warning
//! is printed once and points at the `protocols = ".."` literal; with the folders watched and
//! non-empty, the build prints no warning at all. Builds a scratch crate with cargo (see
//! `rpc_tests::scratch`; the target folder is shared with `regen.rs` and `codegen_debug.rs`).

use std::fs;

use rpc_tests::scratch::ScratchCrate;

/// Two services: `svc` (one API, and empty sub-folders) and `nothing` (an empty folder).
const MAIN: &str = r#"#[rpc_runtime::service(protocols = "src/svc")]
pub mod svc {}

#[rpc_runtime::service(protocols = "src/nothing/")]
pub mod nothing {}

fn main() {
    println!("{}", svc::service_proto().services.len());
}
"#;

const MSG_PING: &str = r#"
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct MsgPing {}
"#;

/// `cargo build`: succeeds, and gives its stderr.
fn build(krate: &ScratchCrate) -> String {
    let out = krate.cargo(&["build"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "cargo build failed:\n{stderr}");
    stderr
}

/// Each `warning: ..` of rustc with the `--> file:line:column` under it.
fn warnings(stderr: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = stderr.lines().collect();
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let text = l.strip_prefix("warning: ")?;
            let at = lines.get(i + 1)?.trim_start().strip_prefix("--> ")?;
            Some((text.to_owned(), at.to_owned()))
        })
        .collect()
}

/// Where `needle` starts in `MAIN`, as rustc shows it: `src/main.rs:line:column`.
fn location(needle: &str) -> String {
    let at = MAIN.find(needle).unwrap();
    let line = MAIN[..at].matches('\n').count() + 1;
    let column = at - MAIN[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
    format!("src/main.rs:{line}:{column}")
}

fn empty(item: &str, folder: &str, root: bool) -> String {
    let tail = if root {
        "the service has no APIs and no messages (add a `ptl_*.rs` or `msg_*.rs` file)"
    } else {
        "nothing is generated for it (add a `ptl_*.rs` or `msg_*.rs` file, or remove the folder)"
    };
    format!(
        "use of deprecated unit struct `{item}::_::EmptyProtocolFolder`: \
         protocol folder `{folder}` is empty: {tail}"
    )
}

fn unwatched(item: &str, folder: &str, build_script: bool) -> String {
    let fix = if build_script {
        format!("add `rpc_codegen::watch(\"{folder}\");` to `main` in build.rs")
    } else {
        format!(
            "add a build.rs with `fn main() {{ rpc_codegen::watch(\"{folder}\"); }}` \
             and `rpc-codegen` to [build-dependencies]"
        )
    };
    format!(
        "use of deprecated unit struct `{item}::_::UnwatchedProtocolFolder`: \
         protocol folder `{folder}` is not watched by build.rs, so a protocol file added or \
         removed later is ignored: {fix}"
    )
}

#[test]
fn every_warning_once_located_and_none_once_fixed() {
    let krate = ScratchCrate::new("folder-warnings");
    let dir = &krate.dir;
    fs::write(dir.join("src/main.rs"), MAIN).unwrap();
    for empty in [
        "src/svc/room",
        "src/svc/game/lobby",
        "src/svc/chat/empty",
        "src/nothing",
    ] {
        fs::create_dir_all(dir.join(empty)).unwrap();
    }
    fs::write(
        dir.join("src/svc/chat/msg_hi.rs"),
        MSG_PING.replace("Ping", "Hi"),
    )
    .unwrap();
    // Not a protocol file: the folder stays empty for the macro.
    fs::write(dir.join("src/svc/chat/empty/README.md"), "notes").unwrap();

    let svc = location("\"src/svc\"");
    let nothing = location("\"src/nothing/\"");
    let every = |build_script: bool| {
        let mut want = vec![
            (empty("svc", "src/svc/chat/empty", false), svc.clone()),
            (empty("svc", "src/svc/game", false), svc.clone()),
            (empty("svc", "src/svc/room", false), svc.clone()),
            (unwatched("svc", "src/svc", build_script), svc.clone()),
            (empty("nothing", "src/nothing", true), nothing.clone()),
            (
                unwatched("nothing", "src/nothing", build_script),
                nothing.clone(),
            ),
        ];
        want.sort();
        want
    };
    let sorted = |mut v: Vec<(String, String)>| {
        v.sort();
        v
    };

    // No build script: each case once, located at its service's literal.
    fs::remove_file(dir.join("build.rs")).unwrap();
    let stderr = build(&krate);
    assert_eq!(sorted(warnings(&stderr)), every(false), "{stderr}");

    // A build script that watches another folder: the line to add to it.
    fs::write(
        dir.join("build.rs"),
        "fn main() {\n    rpc_codegen::watch(\"src/other\");\n}\n",
    )
    .unwrap();
    let stderr = build(&krate);
    assert_eq!(sorted(warnings(&stderr)), every(true), "{stderr}");

    // Both folders watched (two calls: the variable lists both) and none empty: no warning.
    fs::write(
        dir.join("build.rs"),
        concat!(
            "fn main() {\n",
            "    rpc_codegen::watch(\"src/svc\");\n",
            "    rpc_codegen::watch(\"src/nothing\");\n",
            "}\n"
        ),
    )
    .unwrap();
    for empty in ["src/svc/room", "src/svc/game", "src/svc/chat/empty"] {
        fs::remove_dir_all(dir.join(empty)).unwrap();
    }
    fs::write(dir.join("src/nothing/msg_ping.rs"), MSG_PING).unwrap();
    let stderr = build(&krate);
    assert_eq!(warnings(&stderr), [], "{stderr}");
    assert!(!stderr.contains("warning:"), "{stderr}");

    // A parent folder watched covers both.
    fs::write(
        dir.join("build.rs"),
        "fn main() {\n    rpc_codegen::watch(\"src\");\n}\n",
    )
    .unwrap();
    let stderr = build(&krate);
    assert_eq!(warnings(&stderr), [], "{stderr}");
    assert!(!stderr.contains("warning:"), "{stderr}");
}
