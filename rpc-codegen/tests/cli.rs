//! The `rpc-codegen` binary: its commands and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rpc-codegen"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const CHAT: &str = "../protocols/src/chat";

#[test]
fn check() {
    let ok = run(&["check", CHAT]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert_eq!(text(&ok.stdout), "ok: service `chat`, 7 APIs, 6 messages\n");

    let broken = run(&["check", "tests/fixtures/broken"]);
    assert_eq!(broken.status.code(), Some(1));
    let err = text(&broken.stderr);
    assert!(err.contains("error: tests/fixtures/broken/ptl_login.rs:1:12: API `Login` has `ReqLogin` but no `ResLogin`"), "{err}");
    assert!(err.ends_with("6 errors found\n"), "{err}");

    // The macro's rules pass; the TypeScript export does not.
    let unexportable = run(&["check", "tests/fixtures/no-typescript"]);
    assert_eq!(unexportable.status.code(), Some(1));
    let err = text(&unexportable.stderr);
    assert!(
        err.starts_with(
            "note: the service macro accepts `tests/fixtures/no-typescript`; the TypeScript \
             export does not:\nerror: tests/fixtures/no-typescript/ptl_big.rs:4:9: type `u128` \
             has no TypeScript form"
        ),
        "{err}"
    );
}

#[test]
fn check_names_the_service_like_the_macro() {
    // The service trait is named after the service: `chat` by default (the folder's name),
    // `ChatService` clashes with nothing; as service `lobby`, the folder's own `LobbyService`
    // would be hidden by the generated trait.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-name/chat");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("shared.rs"), "pub struct LobbyService {}\n").unwrap();
    let folder = dir.to_str().unwrap();
    let ok = run(&["check", folder]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert_eq!(text(&ok.stdout), "ok: service `chat`, 0 APIs, 0 messages\n");
    let clash = run(&["check", "--name", "lobby", folder]);
    assert_eq!(clash.status.code(), Some(1));
    let err = text(&clash.stderr);
    assert!(
        err.starts_with(&format!(
            "error: {folder}/shared.rs:1:12: struct `LobbyService` has the name of the service \
             trait (one handler per API) that the service macro generates in `lobby`"
        )),
        "{err}"
    );
    assert_eq!(run(&["check", folder, "--name"]).status.code(), Some(2));
}

#[test]
fn ts_writes_the_files() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-ts");
    let _ = std::fs::remove_dir_all(&out);
    let res = run(&["ts", CHAT, out.to_str().unwrap()]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    // 13 protocol files and serviceProto.ts.
    assert_eq!(text(&res.stdout).lines().count(), 14);
    let proto = std::fs::read_to_string(out.join("serviceProto.ts")).unwrap();
    assert!(
        // tsrpc-cli's order: glob's, `game/` before `MsgChat.ts`.
        proto.starts_with("import { ServiceProto } from 'tsrpc-proto';\nimport { MsgGameFrame } from './game/MsgGameFrame';"),
        "{proto}"
    );
    let join = std::fs::read_to_string(out.join("room/MsgUserJoin.ts")).unwrap();
    assert!(
        join.contains("export interface MsgUserJoin {\n    roomId: string;"),
        "{join}"
    );
    assert!(Path::new(&out.join("PtlLogin.ts")).is_file());
}

#[test]
fn ts_removes_what_a_gone_protocol_left() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-ts-stale");
    let _ = std::fs::remove_dir_all(&out);
    // An earlier run's file for a protocol since removed, in a folder of its own; a file this
    // tool did not write; and one it did, which stays.
    std::fs::create_dir_all(out.join("old")).unwrap();
    let marker = rpc_codegen::export::GENERATED_MARKER;
    std::fs::write(
        out.join("old/MsgGone.ts"),
        format!("{marker}\nexport interface MsgGone {{}}\n"),
    )
    .unwrap();
    std::fs::write(
        out.join("serviceProto.ts"),
        "export const serviceProto = {};\n",
    )
    .unwrap();
    std::fs::write(out.join("mine.ts"), format!("// {marker}\n")).unwrap();
    let res = run(&["ts", CHAT, out.to_str().unwrap()]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    let stdout = text(&res.stdout);
    assert!(
        stdout.ends_with(&format!(
            "removed {}\n",
            out.join("old/MsgGone.ts").display()
        )),
        "{stdout}"
    );
    assert!(!out.join("old").exists(), "the emptied folder is removed");
    assert!(out.join("serviceProto.ts").is_file());
    assert!(out.join("mine.ts").is_file());
    // A second run writes the same files and removes nothing.
    let again = run(&["ts", CHAT, out.to_str().unwrap()]);
    assert!(
        !text(&again.stdout).contains("removed"),
        "{}",
        text(&again.stdout)
    );
    assert!(out.join("room/MsgUserJoin.ts").is_file());
}

#[test]
fn proto_prints_json() {
    let res = run(&["proto", CHAT]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res.stderr));
    let json = text(&res.stdout);
    // tsrpc-cli's `.json` layout, with the ids of the committed lock.
    let lock = std::fs::read_to_string(format!("{CHAT}.proto.json")).unwrap();
    assert_eq!(json, format!("{lock}\n"));
    assert!(json.starts_with("{\n  \"services\": [\n"), "{json}");
    assert!(json.contains("\"PtlLogin/ReqLogin\": {"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// A copy of a fixture folder under the test's temporary folder, as `<case>/svc`.
fn scratch(case: &str, fixture: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(case);
    let _ = std::fs::remove_dir_all(&root);
    let dir = root.join("svc");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture), &dir);
    dir
}

#[test]
fn lock_writes_the_lock_and_ts_exports_its_ids() {
    let dir = scratch("cli-lock", "tests/fixtures/basic");
    let folder = dir.to_str().unwrap();
    let lock = dir.with_file_name("svc.proto.json");
    let first = run(&["lock", folder]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(text(&first.stdout), format!("{} created\n", lock.display()));
    let again = run(&["lock", folder]);
    assert_eq!(
        text(&again.stdout),
        format!("{} up to date\n", lock.display())
    );

    // A new message: the lock is updated, version 1; `ts` exports the lock's ids.
    std::fs::write(
        dir.join("msg_zed.rs"),
        "#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]\npub struct MsgZed { pub z: bool }\n",
    )
    .unwrap();
    let out = dir.with_file_name("ts");
    let ts = run(&["ts", folder, out.to_str().unwrap()]);
    assert_eq!(ts.status.code(), Some(0), "{}", text(&ts.stderr));
    assert_eq!(
        text(&ts.stderr),
        format!("{} updated, version 1\n", lock.display())
    );
    let locked = rpc_codegen::import::proto::ServiceProto::parse(
        &std::fs::read_to_string(&lock).unwrap(),
        "lock",
    )
    .unwrap();
    let exported = rpc_codegen::import::proto::ServiceProto::parse(
        &std::fs::read_to_string(out.join("serviceProto.ts")).unwrap(),
        "serviceProto.ts",
    )
    .unwrap();
    assert_eq!(exported, locked);
    assert_eq!(locked.version, Some(1));
    assert!(locked.services.iter().any(|s| s.name == "Zed"));
    let proto = run(&["proto", folder]);
    assert_eq!(
        text(&proto.stdout),
        format!("{}\n", std::fs::read_to_string(&lock).unwrap())
    );

    // A mistake: exit 1, the lock untouched.
    let before = std::fs::read_to_string(&lock).unwrap();
    std::fs::write(dir.join("msg_bad.rs"), "pub struct NotIt;\n").unwrap();
    let bad = run(&["lock", folder]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("msg_bad.rs"),
        "{}",
        text(&bad.stderr)
    );
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), before);
}

#[test]
fn usage() {
    for args in [
        &[][..],
        &["ts", CHAT][..],
        &["lock"][..],
        &["nope", "x"][..],
    ] {
        let res = run(args);
        assert_eq!(res.status.code(), Some(2), "{args:?}");
        assert!(text(&res.stderr).starts_with("usage:"));
    }
    assert_eq!(run(&["--help"]).status.code(), Some(0));
    assert_eq!(run(&["check", "no/such/folder"]).status.code(), Some(2));
    assert_eq!(run(&["lock", "no/such/folder"]).status.code(), Some(2));
}
