//! The `rpc-codegen` binary: its three commands and exit codes.

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
    assert_eq!(text(&res.stdout).lines().count(), 13);
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
    assert!(
        json.starts_with("{\n    \"name\": \"chat\",\n    \"services\": ["),
        "{json}"
    );
    assert!(json.contains("\"PtlLogin/ReqLogin\": {"));
}

#[test]
fn usage() {
    for args in [&[][..], &["ts", CHAT][..], &["nope", "x"][..]] {
        let res = run(args);
        assert_eq!(res.status.code(), Some(2), "{args:?}");
        assert!(text(&res.stderr).starts_with("usage:"));
    }
    assert_eq!(run(&["--help"]).status.code(), Some(0));
    assert_eq!(run(&["check", "no/such/folder"]).status.code(), Some(2));
}
