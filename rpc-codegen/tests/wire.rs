//! The wire rules (`check_wire.rs`): what cannot go on the wire is one error at its
//! `file:line:column` with the fix, a rejected protocol type is left out of the model (so out
//! of the glue), and what serde and TSRPC handle is accepted. Folders are written from the
//! texts below into a scratch folder; no rustc.

use std::path::{Path, PathBuf};

mod support;

use quote::quote;
use rpc_codegen::{check_folder, expand_derive_message, ServiceModel};

/// A fresh folder holding `files` (path, text) under `protocols/`, removed on drop.
struct Folder(support::Scratch);

impl Folder {
    fn new(files: &[(&str, &str)]) -> Self {
        let scratch = support::Scratch::new();
        let files: Vec<(String, String)> = files
            .iter()
            .map(|(rel, text)| (format!("protocols/{rel}"), (*text).to_owned()))
            .collect();
        support::write(&scratch.0, &files);
        Folder(scratch)
    }

    fn root(&self) -> PathBuf {
        self.0 .0.join("protocols")
    }

    /// The model and every problem's text, as the macro and `rpc-codegen check` see them.
    fn check(&self) -> (ServiceModel, Vec<String>) {
        let (model, problems) = check_folder(&self.root(), "protocols", "chat", &[], &[]);
        (model, problems.0.iter().map(ToString::to_string).collect())
    }

    /// The `compile_error!`s of the service macro's expansion over this folder.
    fn macro_errors(&self) -> Vec<String> {
        let (_, errors) = support::parse(support::expand(&self.0 .0));
        support::texts(&errors)
    }
}

const DERIVE: &str = "#[derive(Serialize, Deserialize)]";

/// A file: the usual imports, then `body` with `@` standing for the derive line.
fn file(body: &str) -> String {
    format!(
        "use serde::{{Deserialize, Serialize}};\n\n{}",
        body.replace('@', DERIVE)
    )
}

/// A message file `msg_x.rs` with `body` (types of `MsgX` and its helpers).
fn only(body: &str) -> (ServiceModel, Vec<String>) {
    Folder::new(&[("msg_x.rs", &file(body))]).check()
}

fn msg_names(model: &ServiceModel) -> Vec<&str> {
    model.msgs.iter().map(|m| m.name.as_str()).collect()
}

fn api_names(model: &ServiceModel) -> Vec<&str> {
    model.apis.iter().map(|a| a.name.as_str()).collect()
}

#[test]
fn every_mistake_is_one_error_at_its_place_and_valid_types_keep_their_glue() {
    let folder = Folder::new(&[
        ("ptl_add.rs", &file("@\npub struct ReqAdd { pub a: f64 }\n@\npub struct ResAdd { pub c: f64 }\n")),
        ("msg_generic.rs", &file("@\npub struct MsgGeneric<T> { pub body: T }\n")),
        ("ptl_kick.rs", &file("@\npub struct ReqKick { pub user: String }\n@\npub struct ResKick;\n")),
        ("msg_move.rs", &file("@\npub struct MsgMove(pub u8, pub u8);\n")),
        ("msg_text.rs", &file("@\npub struct MsgText<'a> { pub text: &'a str }\n")),
        ("msg_debug.rs", &file("#[cfg(debug_assertions)]\n@\npub struct MsgDebug {}\n")),
        ("ptl_login.rs", &file("@\npub struct Login { pub user: String }\npub type ReqLogin = Login;\n@\npub struct ResLogin {}\n")),
        ("msg_board.rs", &file("@\npub struct MsgBoard { pub cells: std::collections::HashMap<(u8, u8), String> }\n")),
        ("shared.rs", &file("pub type Maybe = Option<u8>;\n")),
        ("msg_age.rs", &file("@\npub struct MsgAge { pub age: super::shared::Maybe }\n")),
    ]);
    let (model, problems) = folder.check();
    let expected = [
        (
            "protocols/msg_age.rs:4:25:",
            "is an `Option` (through the alias `Maybe`, protocols/shared.rs:3:10)",
        ),
        (
            "protocols/msg_board.rs:4:27:",
            "holds a map keyed by `(u8, u8)`",
        ),
        (
            "protocols/msg_debug.rs:3:1:",
            "`#[cfg(debug_assertions)]` on the message `MsgDebug`",
        ),
        (
            "protocols/msg_generic.rs:4:12:",
            "`MsgGeneric<T>` is generic",
        ),
        ("protocols/msg_move.rs:4:12:", "`MsgMove` is a tuple struct"),
        (
            "protocols/msg_text.rs:4:30:",
            "field `text` of `MsgText` borrows (`&'a str`)",
        ),
        (
            "protocols/ptl_kick.rs:6:12:",
            "write `pub struct ResKick {}`",
        ),
        (
            "protocols/ptl_login.rs:5:10:",
            "`ReqLogin` is a type alias of `Login`",
        ),
    ];
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    for (problem, (at, what)) in problems.iter().zip(expected) {
        assert!(problem.starts_with(at), "{problem}");
        assert!(problem.contains(what), "{problem}");
    }
    // Field mistakes leave the type in the glue; a rejected protocol type takes its API along.
    assert_eq!(api_names(&model), ["Add"]);
    assert_eq!(msg_names(&model), ["Age", "Board"]);
    // The macro reports the same, once each.
    let macro_errors = folder.macro_errors();
    let from_check: Vec<&str> = problems.iter().map(String::as_str).collect();
    assert_eq!(macro_errors, from_check);
}

#[test]
fn generic_protocol_types() {
    let (model, problems) = only("@\npub struct MsgX<T, const N: usize> { pub a: [T; N] }\n");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("`MsgX<T, N>` is generic: a message has one wire shape")
            && problems[0].contains("write the concrete types in place of `T`, `N`"),
        "{problems:?}"
    );
    assert!(model.msgs.is_empty());

    // A generic helper, named with concrete arguments, is fine.
    let (model, problems) = only(
        "@\npub struct Page<T> { pub items: Vec<T> }\n@\npub struct MsgX { pub page: Page<u8> }\n",
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(msg_names(&model), ["X"]);
}

#[test]
fn a_lifetime_is_one_error_whether_or_not_a_field_borrows() {
    let (model, problems) = only("@\npub struct MsgX<'a> { pub who: std::borrow::Cow<'a, str> }\n");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("`MsgX<'a>` has a lifetime parameter"),
        "{problems:?}"
    );
    assert!(problems[0].contains("remove `<'a>`"), "{problems:?}");
    assert!(model.msgs.is_empty());

    // The borrowed field's error says it all: no second error for `<'a>`.
    let (model, problems) = only("@\npub struct MsgX<'a> { pub who: &'a str }\n");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("write `pub who: String` (and remove `<'a>` from `MsgX`)"),
        "{problems:?}"
    );
    assert!(model.msgs.is_empty());
}

#[test]
fn borrowed_fields_name_the_owned_type() {
    let (model, problems) = only(
        "@\npub struct MsgX {\n    pub tags: Vec<&'static str>,\n    #[serde(skip_serializing_if = \"Option::is_none\")]\n    pub png: Option<&'static [u8]>,\n    pub pair: (u8, &'static [String]),\n    pub ok: std::borrow::Cow<'static, str>,\n}\n",
    );
    let fixes: Vec<&str> = problems
        .iter()
        .map(|p| p.split("; write ").nth(1).unwrap_or(p))
        .collect();
    assert_eq!(
        fixes,
        [
            "`pub tags: Vec<String>`",
            "`pub png: Option<Vec<u8>>`",
            "`pub pair: (u8, Vec<String>)`",
        ]
    );
    assert!(
        problems[0].starts_with(
            "protocols/msg_x.rs:5:9: field `tags` of `MsgX` borrows (`Vec<&'static str>`)"
        ),
        "{problems:?}"
    );
    // `&'static` fails `DeserializeOwned` too: the message stays out of the glue.
    assert!(model.msgs.is_empty());

    // In a helper type, a tuple field, an enum variant and an alias: reported where they are.
    let (model, problems) = only(
        "@\npub struct MsgX { pub user: User }\n@\npub struct User(pub &'static str);\n@\npub enum E { A { name: &'static str } }\npub type Text = &'static str;\n",
    );
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems[0].contains("field `0` of `User` borrows (`&'static str`)")
            && problems[0].ends_with("write `String`"),
        "{problems:?}"
    );
    assert!(
        problems[1].contains("field `A.name` of `E` borrows"),
        "{problems:?}"
    );
    assert!(
        problems[2].contains("type alias `Text` borrows"),
        "{problems:?}"
    );
    // serde rejects `MsgX`'s own derive there; the rule does not guess further.
    assert_eq!(msg_names(&model), ["X"]);
}

#[test]
fn unit_and_tuple_protocol_types() {
    let (model, problems) = only("@\npub struct MsgX;\n");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("serde writes it as `null`, but an empty TSRPC message is the object `{}`; write `pub struct MsgX {}`"),
        "{problems:?}"
    );
    assert!(model.msgs.is_empty());

    let (_, problems) = only("@\npub struct MsgX(pub Vec<String>);\n");
    assert!(
        problems[0].contains("serde writes it as its field's value")
            && problems[0].contains("`pub struct MsgX { pub <name>: Vec<String> }`"),
        "{problems:?}"
    );
    let (_, problems) = only("@\npub struct MsgX();\n");
    assert!(
        problems[0].contains("as `[]`") && problems[0].contains("`pub struct MsgX {}`"),
        "{problems:?}"
    );

    // Helpers may be newtypes and unit structs; a protocol enum is fine.
    let (model, problems) = only(
        "@\npub struct Id(pub u32);\n@\npub struct Nothing;\n@\n#[serde(tag = \"type\")]\npub enum MsgX { A { id: Id }, B }\n",
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(msg_names(&model), ["X"]);
}

#[test]
fn map_keys() {
    let helpers = "@\npub enum Team { Red, Blue }\n@\n#[serde(tag = \"t\")]\npub enum Tagged { A }\n@\npub enum Data { A(u8) }\n@\npub struct Id(pub String);\n@\n#[serde(transparent)]\npub struct Name { pub inner: String }\n@\npub struct Cell { pub x: u8 }\npub type Key = Id;\n";
    let accepted = [
        "String",
        "u64",
        "i8",
        "char",
        "Box<str>",
        "std::borrow::Cow<'static, str>",
        "Team",
        "Id",
        "Name",
        "Key",
        "uuid::Uuid",
    ];
    for key in accepted {
        let body = format!(
            "{helpers}@\npub struct MsgX {{ pub m: std::collections::HashMap<{key}, u8> }}\n"
        );
        let (_, problems) = only(&body);
        assert!(problems.is_empty(), "`{key}`: {problems:?}");
    }
    let refused = [
        ("(u8, u8)", "which serde_json cannot write as an object key"),
        ("Vec<u8>", "which serde_json cannot write"),
        ("Option<String>", "which serde_json cannot write"),
        ("bool", "which TSRPC cannot type as a key"),
        ("Cell", "which serde_json cannot write"),
        ("Tagged", "which serde_json cannot write"),
        ("Data", "which serde_json cannot write"),
    ];
    for (key, why) in refused {
        let body = format!(
            "{helpers}@\npub struct MsgX {{ pub m: std::collections::BTreeMap<{key}, u8> }}\n"
        );
        let (model, problems) = only(&body);
        assert_eq!(problems.len(), 1, "`{key}`: {problems:?}");
        assert!(
            problems[0].contains(&format!("holds a map keyed by `{key}`, {why}")),
            "`{key}`: {problems:?}"
        );
        assert!(
            problems[0].contains(&format!("`Vec<({key}, u8)>`")),
            "`{key}`: {problems:?}"
        );
        // The glue compiles: the message keeps it, as with the literal `Option` rule.
        assert_eq!(msg_names(&model), ["X"]);
    }

    // An array key (shown without its length, as the model keeps it).
    let (_, problems) =
        only("@\npub struct MsgX { pub m: std::collections::HashMap<[u8; 2], u8> }\n");
    assert!(
        problems[0].contains("holds a map keyed by `[u8]`, which serde_json cannot write"),
        "{problems:?}"
    );

    // A borrowed key is the borrowed rule's mistake, not the map rule's.
    let (_, problems) =
        only("@\npub struct MsgX { pub m: std::collections::HashMap<&'static str, u8> }\n");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("write `pub m: std::collections::HashMap<String, u8>`"),
        "{problems:?}"
    );

    // Nested maps, each judged; skipped and custom-written fields are not.
    let (_, problems) = only(
        "use std::collections::HashMap;\n@\npub struct MsgX {\n    pub a: Vec<Option<HashMap<(u8, u8), u8>>>,\n    pub b: HashMap<String, HashMap<bool, u8>>,\n    #[serde(skip)]\n    pub c: HashMap<(u8, u8), u8>,\n    #[serde(with = \"pairs\")]\n    pub d: HashMap<(u8, u8), u8>,\n}\n",
    );
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].contains(
            "protocols/msg_x.rs:6:9: field `a` of `MsgX` holds a map keyed by `(u8, u8)`"
        ),
        "{problems:?}"
    );
    assert!(
        problems[1].contains("field `b` of `MsgX` holds a map keyed by `bool`"),
        "{problems:?}"
    );

    // An alias of a map is judged where it is declared.
    let (_, problems) = only("pub type Board = std::collections::HashMap<(u8, u8), u8>;\n@\npub struct MsgX { pub b: Board }\n");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("protocols/msg_x.rs:3:10: type alias `Board` holds a map"),
        "{problems:?}"
    );
}

#[test]
fn option_behind_an_alias() {
    let folder = Folder::new(&[
        ("shared.rs", &file("pub type Maybe<T> = Option<T>;\npub type Nick = Maybe<String>;\npub type Name = String;\n")),
        ("msg_x.rs", &file(
            "use super::shared::{Maybe, Name, Nick};\n@\npub struct MsgX {\n    pub a: Nick,\n    pub b: Maybe<u8>,\n    #[serde(default, skip_serializing_if = \"Option::is_none\")]\n    pub c: Nick,\n    pub d: Name,\n    pub e: Option<u8>,\n}\n",
        )),
    ]);
    let (model, problems) = folder.check();
    assert_eq!(problems.len(), 3, "{problems:#?}");
    // The literal `Option` keeps its own rule's error, once.
    assert!(
        problems[0].contains("protocols/msg_x.rs:11:9: field `e` of `MsgX` is an `Option` without"),
        "{problems:?}"
    );
    assert!(problems[1].contains("protocols/msg_x.rs:6:9: field `a` of `MsgX` is an `Option` (through the alias `Nick`, protocols/shared.rs:4:10)"), "{problems:?}");
    assert!(
        problems[2].contains("field `b` of `MsgX` is an `Option` (through the alias `Maybe`"),
        "{problems:?}"
    );
    assert_eq!(msg_names(&model), ["X"]);

    // `#[skip_serializing_none]` covers the literal `Option` only, and the error says so.
    let (_, problems) = only(
        "pub type Maybe = Option<u8>;\n#[serde_with::skip_serializing_none]\n@\npub struct MsgX { pub a: Option<u8>, pub b: Maybe }\n",
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("field `b`") && problems[0].contains("sees only a literal `Option`"),
        "{problems:?}"
    );
}

#[test]
fn cfg_on_protocol_types_only() {
    let (model, problems) = only(
        "#[cfg(feature = \"admin\")]\n@\npub struct MsgX {}\n#[cfg(not(test))]\n@\npub struct Helper {}\n",
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("protocols/msg_x.rs:3:1: `#[cfg(feature = \"admin\")]` on the message `MsgX`: the service would differ"), "{problems:?}");
    assert!(model.msgs.is_empty());

    let (model, problems) = only("@\n#[cfg_attr(feature = \"x\", serde(rename_all = \"camelCase\"))]\npub struct MsgX { pub a_b: u8 }\n");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("protocols/msg_x.rs:4:1: `#[cfg_attr(feature = \"x\", serde(rename_all = \"camelCase\"))]` on the message `MsgX`: its wire form would differ"), "{problems:?}");
    assert!(model.msgs.is_empty());
}

#[test]
fn aliases_standing_in_for_protocol_types() {
    let (model, problems) = only("@\npub struct Inner {}\npub type MsgX = Inner;\n");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].ends_with("rename `Inner` to `MsgX` and remove the alias"),
        "{problems:?}"
    );
    assert!(model.msgs.is_empty());

    let (_, problems) = only("pub type MsgX = other::Event;\n");
    assert!(
        problems[0].ends_with("declare `pub struct MsgX { .. }` (a field `#[serde(flatten)] pub inner: other::Event` keeps its fields)"),
        "{problems:?}"
    );

    // The response of an API: the API goes, the other API stays.
    let folder = Folder::new(&[
        (
            "ptl_a.rs",
            &file("@\npub struct ReqA {}\n@\npub struct Empty {}\npub type ResA = Empty;\n"),
        ),
        (
            "ptl_b.rs",
            &file("@\npub struct ReqB {}\n@\npub struct ResB {}\n"),
        ),
    ]);
    let (model, problems) = folder.check();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("a response is declared as itself"),
        "{problems:?}"
    );
    assert_eq!(api_names(&model), ["B"]);
}

#[test]
fn derives_check_map_keys_on_the_field() {
    let tokens = expand_derive_message(quote! {
        pub struct MsgX {
            pub ok: HashMap<u32, u8>,
            pub bad: HashMap<(u8, u8), u8>,
        }
    });
    let text = tokens.to_string();
    assert_eq!(text.matches("compile_error").count(), 1, "{text}");
    assert!(
        text.contains("field `bad` holds a map keyed by `(u8, u8)`"),
        "{text}"
    );
    assert!(text.contains("impl"), "the impl is still generated: {text}");
}

#[test]
fn the_folder_path_of_messages_is_shown_as_given() {
    // `check_folder`'s display root prefixes every place, as for the other rules.
    let folder = Folder::new(&[("room/msg_x.rs", &file("@\npub struct MsgX;\n"))]);
    let (_, problems) = check_folder(&folder.root(), "src/chat", "chat", &[], &[]);
    assert!(
        problems.0[0]
            .to_string()
            .starts_with("src/chat/room/msg_x.rs:4:12:"),
        "{problems}"
    );
    assert!(Path::new(&folder.root()).is_dir());
}
