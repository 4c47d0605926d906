//! The exports: TypeScript protocol files and the service proto (fresh ids), from fixture folders
//! and from the real chat service (`protocols/src/chat`). Snapshots are reviewed like those of
//! `render.rs`; `rpc-tests`'s `ts_export.rs` feeds the chat files to the real tsrpc-cli.

use std::path::{Path, PathBuf};

use rpc_codegen::export::{load_folder, service_proto, typescript};
use rpc_codegen::import::proto::Layout;
use rpc_codegen::ServiceModel;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn load(root: &Path, display: &str) -> ServiceModel {
    load_folder(root, display, "svc").unwrap_or_else(|d| panic!("{d}"))
}

/// Every file, `// <path>` then its text.
fn all_files(model: &ServiceModel) -> String {
    let files = typescript(model).unwrap_or_else(|d| panic!("{d}"));
    files
        .iter()
        .map(|(path, text)| format!("// {}\n{text}", path.display()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_mapping() {
    let model = load(&fixture("exports"), "src/exports");
    insta::assert_snapshot!(all_files(&model));
}

#[test]
fn every_mapping_proto() {
    let model = load(&fixture("exports"), "src/exports");
    let proto = service_proto(&model).unwrap_or_else(|d| panic!("{d}"));
    insta::assert_snapshot!(proto.to_json_text(Layout::Indent(2)));
}

#[test]
fn chat_service() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../protocols/src/chat");
    let model = load_folder(&root, "protocols/src/chat", "chat").unwrap_or_else(|d| panic!("{d}"));
    let files = typescript(&model).unwrap();
    let paths: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
    assert_eq!(
        paths,
        [
            "MsgChat.ts",
            "PtlAdd.ts",
            "PtlFail.ts",
            "PtlGameBurst.ts",
            "PtlKick.ts",
            "PtlLogin.ts",
            "PtlSlow.ts",
            "PtlStats.ts",
            "PtlWhoAmI.ts",
            "game/MsgGameFrame.ts",
            "game/MsgGameOver.ts",
            "game/MsgGameStart.ts",
            "room/MsgUserJoin.ts",
            "room/MsgUserLeave.ts",
        ]
    );
    insta::assert_snapshot!(all_files(&model));
}

#[test]
fn chat_service_proto() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../protocols/src/chat");
    let model = load_folder(&root, "protocols/src/chat", "chat").unwrap();
    insta::assert_snapshot!(service_proto(&model)
        .unwrap()
        .to_json_text(Layout::Indent(2)));
}

#[test]
fn unexportable_types_are_reported_with_file_and_line() {
    // `Dup`, declared by two files, is a mistake of the macro's rules too (the only one here);
    // the export still says what it makes of it.
    let (model, problems) =
        rpc_codegen::check_folder(&fixture("unexportable"), "bad", "svc", &[], &[]);
    let rules: Vec<String> = problems.0.iter().map(ToString::to_string).collect();
    assert_eq!(rules.len(), 1, "{problems}");
    assert!(
        rules[0].starts_with("bad/b.rs:2:12: struct `Dup` is also declared at bad/a.rs:2:12"),
        "{problems}"
    );
    let err = typescript(&model).unwrap_err();
    // In file, line, column order.
    let lines: Vec<String> = err.0.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!(lines.join("\n"));
    // The proto fails the same way.
    assert_eq!(service_proto(&model).unwrap_err(), err);
}

#[test]
fn rule_errors_come_first() {
    let err = load_folder(&fixture("broken"), "bad", "x").unwrap_err();
    assert_eq!(err.0.len(), 6, "{err}");
    assert!(err.to_string().starts_with("error: "), "{err}");
}
