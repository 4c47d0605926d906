//! The naming rule of protocol types flags mistakes, not helpers: a file must declare the
//! types its name asks for (with a "did you mean" for a near miss), and may declare any other
//! type, unless that name clashes with one the macro generates or with another file's; a type
//! the folder makes an API or a message must not derive it too; a syntax error is reported
//! once. Driven through the macro's own entry point, `expand_service`.

mod support;

use quote::ToTokens;
use support::expand_folder;

const DERIVE: &str = "#[derive(serde::Serialize, serde::Deserialize)]";

fn ty(name: &str) -> String {
    format!("{DERIVE}\npub struct {name} {{}}\n")
}

/// The items of the expansion, as text (to look for generated glue).
fn glue(file: &syn::File) -> String {
    file.to_token_stream().to_string()
}

#[test]
fn helpers_named_after_their_protocol_type_compile() {
    let chat = format!("{}{}", ty("MsgChat"), ty("MsgChatAttachment"));
    let login = format!(
        "{}{}{}",
        ty("ReqLogin"),
        ty("ResLogin"),
        ty("ResLoginProfile")
    );
    let (_s, file, errors) = expand_folder(&[
        ("msg_chat.rs", &chat),
        ("ptl_login.rs", &login),
        // A helper in a sub-folder may reuse a generated name: it lives in `chat::room`.
        (
            "room/msg_join.rs",
            &format!("{}{}", ty("MsgJoin"), ty("Client")),
        ),
    ]);
    assert!(errors.is_empty(), "{errors:#?}");
    let glue = glue(&file);
    assert!(glue.contains("fn call_login"), "{glue}");
    assert!(glue.contains("fn send_msg_chat"), "{glue}");
}

#[test]
fn a_missing_type_is_reported_with_the_near_miss() {
    let (_s, _, errors) = expand_folder(&[
        (
            "msg_chat.rs",
            &format!("{}{}", ty("MsgChatAttachment"), ty("MsgChatter")),
        ),
        (
            "ptl_login.rs",
            &format!("{}{}", ty("ReqLogin"), ty("ResLgoin")),
        ),
        // Both missing, one near miss: one message each.
        ("ptl_kick.rs", &ty("ReqKik")),
        // Nothing close: the plain messages.
        ("msg_join.rs", &ty("MsgEnter")),
        ("ptl_add.rs", &ty("ReqAdd")),
        ("ptl_ban.rs", &ty("Helper")),
    ]);
    assert_eq!(
        errors,
        [
            "protocols/msg_chat.rs:4:12: `msg_chat.rs` declares `MsgChatter` but no `MsgChat` (message `Chat`): did you mean `MsgChat`?",
            "protocols/msg_join.rs:1:1: `msg_join.rs` must declare `MsgJoin` (message `Join`)",
            "protocols/ptl_add.rs:2:12: API `Add` has `ReqAdd` but no `ResAdd`: declare `pub struct ResAdd` in `ptl_add.rs`",
            "protocols/ptl_ban.rs:1:1: `ptl_ban.rs` must declare `ReqBan` and `ResBan` (API `Ban`)",
            "protocols/ptl_kick.rs:2:12: `ptl_kick.rs` declares `ReqKik` but no `ReqKick` (API `Kick`): did you mean `ReqKick`?",
            "protocols/ptl_kick.rs:1:1: `ptl_kick.rs` must declare `ResKick` (API `Kick`)",
            // `ReqLogin` is one edit from `ResLogin`, but it is the request: never the hint.
            "protocols/ptl_login.rs:4:12: `ptl_login.rs` declares `ResLgoin` but no `ResLogin` (API `Login`): did you mean `ResLogin`?",
        ]
    );
}

#[test]
fn helpers_with_generated_names_are_errors_naming_both() {
    let shared = "pub struct Client {}\npub fn service_proto() {}\npub trait ChatService {}\n\
                  pub struct room;\npub enum Msg {}\n// Private: not re-exported, no clash.\n\
                  struct Server {}\n// Another namespace than the generated struct.\n\
                  pub fn RunningServer() {}\n";
    let (_s, file, errors) =
        expand_folder(&[("shared.rs", shared), ("room/msg_join.rs", &ty("MsgJoin"))]);
    let at = |line: u32, col: u32, rest: &str| format!("protocols/shared.rs:{line}:{col}: {rest}");
    assert_eq!(
        errors,
        [
            at(1, 12, "struct `Client` has the name of the typed client that the service macro generates in `chat` (`chat::Client`), which would hide it: rename it"),
            at(2, 8, "fn `service_proto` has the name of the function returning the service proto that the service macro generates in `chat` (`chat::service_proto`), which would hide it: rename it"),
            at(3, 11, "trait `ChatService` has the name of the service trait (one handler per API) that the service macro generates in `chat` (`chat::ChatService`), which would hide it: rename it"),
            at(4, 12, "struct `room` has the name of the module of the folder `room/` that the service macro generates in `chat` (`chat::room`), which would hide it: rename it"),
            at(5, 10, "enum `Msg` has the name of the enum of every message that the service macro generates in `chat` (`chat::Msg`), which would hide it: rename it"),
        ]
    );
    // The glue is still there.
    assert!(glue(&file).contains("fn send_msg_room_join"));
}

#[test]
fn a_name_two_files_declare_is_an_error_naming_both() {
    let (_s, _, errors) = expand_folder(&[
        ("a.rs", "pub struct User {}\npub(crate) const LIMIT: u8 = 1;\n"),
        ("b.rs", "pub type User = String;\npub const LIMIT: u8 = 2;\n// Types and values apart.\npub fn User() {}\n"),
        // Different folders, different modules: no clash.
        ("room/c.rs", "pub struct User {}\n"),
        // `#[cfg]` may remove one of them: not judged.
        ("d.rs", "#[cfg(any())]\npub struct User {}\n"),
    ]);
    assert_eq!(
        errors,
        [
            "protocols/b.rs:1:10: type `User` is also declared at protocols/a.rs:1:12: every file of the folder is re-exported into `chat`, where the name would be ambiguous: declare it once (other files can `use` it) or rename one",
            "protocols/b.rs:2:11: const `LIMIT` is also declared at protocols/a.rs:2:18: every file of the folder is re-exported into `chat`, where the name would be ambiguous: declare it once (other files can `use` it) or rename one",
        ]
    );
}

#[test]
fn a_protocol_type_two_files_declare_gets_no_glue() {
    let (_s, file, errors) = expand_folder(&[
        ("msg_ping.rs", &ty("MsgPing")),
        ("shared.rs", "pub struct MsgPing {}\n"),
        ("msg_pong.rs", &ty("MsgPong")),
    ]);
    assert_eq!(
        errors,
        ["protocols/shared.rs:1:12: struct `MsgPing` is also declared at protocols/msg_ping.rs:2:12: every file of the folder is re-exported into `chat`, where the name would be ambiguous: declare it once (other files can `use` it) or rename one"]
    );
    // The glue would name `MsgPing`, which rustc could not resolve: one error, not more.
    let glue = glue(&file);
    assert!(!glue.contains("send_msg_ping"), "{glue}");
    assert!(glue.contains("send_msg_pong"), "{glue}");
}

#[test]
fn deriving_what_the_folder_implements_is_an_error_and_not_implemented_twice() {
    let login = "use rpc_runtime::Message;\n#[derive(rpc_macros::Api)]\npub struct ReqLogin {}\n\
                 #[derive(Message)]\npub struct ResLogin {}\n";
    let chat = "#[derive(serde::Serialize, rpc_runtime::Message)]\npub struct MsgChat {}\n\
                // Another crate's `Message` is not the runtime's.\n\
                #[derive(prost::Message)]\npub struct Other {}\n";
    let (_s, file, errors) = expand_folder(&[("ptl_login.rs", login), ("msg_chat.rs", chat)]);
    assert_eq!(
        errors,
        [
            "protocols/msg_chat.rs:1:28: remove `rpc_runtime::Message` from the `#[derive(..)]` of `MsgChat`: the protocol folder already makes it message `Chat`",
            "protocols/ptl_login.rs:2:10: remove `rpc_macros::Api` from the `#[derive(..)]` of `ReqLogin`: the protocol folder already makes it the request of API `Login`",
            "protocols/ptl_login.rs:4:10: remove `Message` from the `#[derive(..)]` of `ResLogin`: the protocol folder already makes it the response of API `Login`",
        ]
    );
    // The derives' impls stand alone: the glue writes none for those types, but still the rest.
    let glue = glue(&file);
    assert!(!glue.contains("Api for ReqLogin"), "{glue}");
    assert!(!glue.contains("Message for MsgChat"), "{glue}");
    assert!(glue.contains("fn call_login"), "{glue}");
}

#[test]
fn a_syntax_error_is_reported_once() {
    let (_s, file, errors) = expand_folder(&[
        (
            "ptl_login.rs",
            "pub struct ReqLogin {\n    pub name: ,\n}\npub struct ResLogin {}\n",
        ),
        ("msg_chat.rs", &ty("MsgChat")),
    ]);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("protocols/ptl_login.rs:2:15: cannot parse this protocol file: "),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].ends_with("\n  |\n2 |     pub name: ,\n  |               ^"),
        "{}",
        errors[0]
    );
    // rustc is not given the file (it would report it again, as would the derives on what its
    // parser recovers); it is still watched, and the rest of the folder gets its glue.
    let glue = glue(&file);
    assert!(!glue.contains("mod ptl_login"), "{glue}");
    assert!(glue.contains("ptl_login.rs"), "{glue}");
    assert!(glue.contains("mod msg_chat"), "{glue}");
}
