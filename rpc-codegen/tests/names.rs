//! Protocol file and folder names never make the macro panic: names that are Rust keywords or
//! start with a digit get a spelling (`ptl_self.rs` -> `self_`, `match/` -> `r#match`,
//! `2fa/` -> `_2fa`), names that cannot be a module are an error naming the file, and a
//! proptest over random names checks that the macro always returns tokens that parse.

mod support;

use std::fs;

use heck::ToUpperCamelCase;
use proptest::prelude::*;
use quote::quote;
use rpc_codegen::{check_folder, generate, pretty};
use support::{expand, parse, write, Scratch};

/// What a protocol file should hold for its stem: the types its name asks for.
fn contents(stem: &str) -> String {
    let derive = "#[derive(serde::Serialize, serde::Deserialize)]";
    if let Some(rest) = stem.strip_prefix("ptl_") {
        let base = rest.to_upper_camel_case();
        format!("{derive} pub struct Req{base} {{}}\n{derive} pub struct Res{base} {{}}\n")
    } else if let Some(rest) = stem.strip_prefix("msg_") {
        let base = rest.to_upper_camel_case();
        format!("{derive} pub struct Msg{base} {{}}\n")
    } else {
        // Named after the file: two files of a folder may not declare the same name.
        let base = stem.to_upper_camel_case();
        format!("{derive} pub struct Shared{base} {{}}\n")
    }
}

#[test]
fn keyword_and_digit_names_get_a_spelling() {
    let scratch = Scratch::new();
    let root = scratch.0.join("protocols");
    let stems = [
        "ptl_self",
        "ptl_crate",
        "ptl_super",
        "ptl_2fa",
        "ptl_match",
        "msg_self",
        "msg_2fa",
        "msg_type",
        "fn",
        "crate",
        "3d",
    ];
    let mut files: Vec<(String, String)> = stems
        .iter()
        .map(|s| (format!("{s}.rs"), contents(s)))
        .collect();
    for folder in ["match", "self", "Self", "super", "2fa", "type"] {
        files.push((format!("{folder}/msg_x.rs"), contents("msg_x")));
        files.push((format!("{folder}/ptl_y.rs"), contents("ptl_y")));
    }
    // `Self/msg_x.rs` and `self/msg_x.rs` give the same service method: on a case-insensitive
    // disk they are one folder anyway.
    files.retain(|(p, _)| !p.starts_with("Self/"));
    write(&root, &files);

    let (_, errors) = parse(expand(&scratch.0));
    assert!(errors.is_empty(), "{errors:?}");

    let (model, problems) = check_folder(&root, "protocols", "chat", &[], &[]);
    assert!(problems.0.is_empty(), "{problems}");
    let code = pretty(&generate(&model, &syn::parse_quote!(::rpc_runtime)));
    for expected in [
        // handler methods of the service trait
        "fn self_(",
        "fn crate_(",
        "fn super_(",
        "fn _2fa(",
        "fn r#match(",
        // client methods
        "fn call_self(",
        "fn call_2fa(",
        "fn send_msg_self(",
        "fn listen_msg_2fa<",
        // `Msg` variants
        "Self_(MsgSelf)",
        "_2fa(Msg2fa)",
        "Type(MsgType)",
        // modules of files and folders
        "mod r#fn;",
        "mod crate_;",
        "mod _3d;",
        "pub mod r#match {",
        "pub mod self_ {",
        "pub mod super_ {",
        "pub mod _2fa {",
        "pub mod r#type {",
        // types reached through them, and the service names on the wire
        "r#match::MsgX",
        "self_::ReqY",
        "\"self/X\"",
        "\"2fa/Y\"",
        "\"Self\"",
    ] {
        assert!(code.contains(expected), "no `{expected}` in\n{code}");
    }
}

#[test]
fn capital_self_folder() {
    let scratch = Scratch::new();
    let root = scratch.0.join("protocols");
    write(&root, &[("Self/msg_x.rs".into(), contents("msg_x"))]);
    let (model, problems) = check_folder(&root, "protocols", "chat", &[], &[]);
    assert!(problems.0.is_empty(), "{problems}");
    let code = pretty(&generate(&model, &syn::parse_quote!(::rpc_runtime)));
    for expected in [
        "pub mod Self_ {",
        "SelfX(Self_::MsgX)",
        "fn send_msg_self_x(",
        "\"Self/X\"",
    ] {
        assert!(code.contains(expected), "no `{expected}` in\n{code}");
    }
}

#[test]
fn names_that_cannot_be_modules_are_errors_naming_the_file() {
    let scratch = Scratch::new();
    let root = scratch.0.join("protocols");
    write(
        &root,
        &[
            ("my-room/msg_x.rs".into(), contents("msg_x")),
            ("ptl_ok.rs".into(), contents("ptl_ok")),
            ("été.rs".into(), contents("shared")),
            // `self_.rs` is not snake_case (heck drops the `_`); `x/` and `x.rs` clash.
            ("x.rs".into(), contents("shared")),
            ("x/msg_z.rs".into(), contents("msg_z")),
        ],
    );
    let (_, problems) = check_folder(&root, "protocols", "chat", &[], &[]);
    let text = problems.to_string();
    assert!(text.contains("protocols/my-room"), "{text}");
    assert!(text.contains("protocols/été.rs"), "{text}");
    assert!(
        text.contains("`protocols/x` and `protocols/x.rs` would both be the Rust module `x`")
            || text
                .contains("`protocols/x.rs` and `protocols/x` would both be the Rust module `x`"),
        "{text}"
    );
    // The rest still expands, with one error per problem.
    let (file, errors) = parse(expand(&scratch.0));
    assert_eq!(errors.len(), problems.0.len(), "{errors:?}");
    assert!(pretty(&quote!(#file)).contains("fn call_ok("));
}

/// A name segment: keywords, digits, separators, unicode, TSRPC's CamelCase, empty.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "self", "Self", "super", "crate", "match", "type", "fn", "async", "r#x", "_", "__",
            "2fa", "0", "mod", "lib", "main", "", "Msg", "Req", "in", "dyn", "union", "é",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z0-9_]{1,6}",
        "[a-z0-9_ .#é-]{0,6}",
    ]
}

/// A file: optional folders, an optional `ptl_`/`msg_` prefix, a stem, usually `.rs`.
fn file() -> impl Strategy<Value = (String, String)> {
    (
        prop::collection::vec(segment(), 0..3),
        prop::sample::select(vec!["ptl_", "msg_", ""]),
        segment(),
        prop::sample::select(vec![".rs", ".rs", ".rs", ".ts", ""]),
        any::<bool>(),
    )
        .prop_map(|(folders, prefix, stem, ext, matching)| {
            let stem = format!("{prefix}{stem}");
            let text = if matching {
                contents(&stem)
            } else {
                "pub struct Unrelated;".to_owned()
            };
            let mut path: Vec<String> = folders.into_iter().filter(|f| !f.is_empty()).collect();
            path.push(format!("{stem}{ext}"));
            (path.join("/"), text)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Whatever the folder holds, the macro returns tokens (glue and/or `compile_error!`s)
    /// that parse as Rust; it never panics.
    #[test]
    fn never_panics(files in prop::collection::vec(file(), 0..6)) {
        let scratch = Scratch::new();
        let root = scratch.0.join("protocols");
        fs::create_dir_all(&root).unwrap();
        let files: Vec<_> = files
            .into_iter()
            .filter(|(p, _)| !p.starts_with('/') && !p.split('/').any(|s| s == "." || s == ".." || s.is_empty()))
            .collect();
        write(&root, &files);
        let (_, _errors) = parse(expand(&scratch.0));
        let (model, _) = check_folder(&root, "protocols", "chat", &[], &[]);
        let _ = pretty(&generate(&model, &syn::parse_quote!(::rpc_runtime)));
    }
}
