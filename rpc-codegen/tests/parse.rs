//! Model assertions from fixture folders: no rustc, no snapshots.

use std::path::PathBuf;

use rpc_codegen::model::Source;
use rpc_codegen::{check_folder, Diagnostics};

fn messages(problems: &Diagnostics) -> Vec<String> {
    problems.0.iter().map(|d| d.to_string()).collect()
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn basic_folder_model() {
    let (model, problems) = check_folder(&fixture("basic"), "src/chat", "chat", &[], &[]);
    assert!(problems.0.is_empty(), "{problems}");

    let apis: Vec<_> = model
        .apis
        .iter()
        .map(|a| (&*a.name, &*a.method, &*a.req, &*a.res))
        .collect();
    assert_eq!(apis, [("Login", "login", "ReqLogin", "ResLogin")]);
    assert_eq!(
        model.apis[0].docs,
        [" Logs in.", "", " Fails with `BAD_PASSWORD`."]
    );
    match &model.apis[0].source {
        Source::Folder { folder, origin } => {
            assert!(folder.is_empty());
            assert_eq!(origin.to_string(), "src/chat/ptl_login.rs:7:12");
        }
        other => panic!("{other:?}"),
    }

    let msgs: Vec<_> = model
        .msgs
        .iter()
        .map(|m| (&*m.name, &*m.method, &*m.variant, &*m.ty))
        .collect();
    assert_eq!(
        msgs,
        [
            ("Chat", "chat", "Chat", "MsgChat"),
            (
                "room/UserJoin",
                "room_user_join",
                "RoomUserJoin",
                "MsgUserJoin"
            ),
        ]
    );
    let files: Vec<_> = model.module.files.iter().map(|f| &*f.stem).collect();
    assert_eq!(files, ["base", "msg_chat", "ptl_login"]);
    assert_eq!(model.module.children[0].name, "room");
}

#[test]
fn every_mistake_is_reported_with_file_and_line() {
    let (model, problems) = check_folder(&fixture("broken"), "bad", "x", &[], &[]);
    let mut msgs = messages(&problems);
    assert!(!problems.0.is_empty());
    msgs.sort();
    let expected = [
        "bad/PtlBad.rs: file name `PtlBad.rs` is not snake_case: rename it to `ptl_bad.rs`",
        "bad/msg_chat.rs:3:9: field `reply_to` of `MsgChat` is an `Option` without `#[serde(skip_serializing_if = \"Option::is_none\")]`: TSRPC omits an absent field, serde would write `null`",
        "bad/msg_hidden.rs:1:8: `MsgHidden` must be `pub`: the generated glue names it",
        // `ReqSum` is not close enough to `ReqAdd` to be proposed: a missing type, no hint.
        "bad/ptl_add.rs:3:12: API `Add` has `ResAdd` but no `ReqAdd`: declare `pub struct ReqAdd` in `ptl_add.rs`",
        "bad/ptl_login.rs:1:12: API `Login` has `ReqLogin` but no `ResLogin`: declare `pub struct ResLogin` in `ptl_login.rs`",
        "bad/ptl_logout.rs:1:12: API `Logout` has `ResLogout` but no `ReqLogout`: declare `pub struct ReqLogout` in `ptl_logout.rs`",
    ];
    assert_eq!(msgs, expected);
    // What is valid still gets glue.
    assert_eq!(model.msgs.len(), 1);
    assert!(model.apis.is_empty());
}

#[test]
fn duplicates_across_folder_and_extras() {
    let extra_api: syn::Path = syn::parse_quote!(crate::manual::ReqLogin);
    let extra_msg: syn::Path = syn::parse_quote!(crate::manual::MsgEcho);
    let (model, problems) = check_folder(
        &fixture("basic"),
        "src/chat",
        "chat",
        &[extra_api],
        &[extra_msg],
    );
    let msgs = messages(&problems);
    assert!(!problems.0.is_empty());
    assert_eq!(
        msgs,
        ["API `Login` is declared twice: at src/chat/ptl_login.rs:7:12 and at `crate::manual::ReqLogin`"]
    );
    assert_eq!(model.apis.len(), 1);
    assert_eq!(model.msgs.len(), 3);
}

#[test]
fn missing_folder() {
    let (model, problems) = check_folder(&fixture("nope"), "src/nope", "x", &[], &[]);
    let msgs = messages(&problems);
    assert!(!problems.0.is_empty());
    assert_eq!(msgs.len(), 1);
    assert!(
        msgs[0].starts_with("cannot read protocol folder `src/nope` (resolved to `"),
        "{}",
        msgs[0]
    );
    assert!(model.apis.is_empty() && model.msgs.is_empty());
}
