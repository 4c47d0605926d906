//! Macros that turn a folder of TSRPC-style protocol files into typed client and server
//! methods. A thin shim: all the work is in `rpc-codegen`. Use them through `rpc-runtime`,
//! which re-exports them (its default `macros` feature): `#[rpc_runtime::service(..)]`,
//! `#[derive(rpc_runtime::Api)]`. This crate does not depend on the runtime; the generated code
//! names it `::rpc_runtime` (or the path given as `crate = ".."`).
//!
//! ```ignore
//! // src/chat/msg_chat.rs     -> message "Chat"          (pub struct MsgChat)
//! // src/chat/ptl_login.rs    -> API "Login"             (pub struct ReqLogin, ResLogin)
//! // src/chat/room/msg_user_join.rs -> message "room/UserJoin"
//!
//! #[rpc_runtime::service(protocols = "src/chat")]
//! pub mod chat {}
//!
//! let client = chat::Client::ws("ws://127.0.0.1:3000", Default::default());
//! client.connect().await?;
//! let res = client.call_login(chat::ReqLogin { .. }).await?;
//! client.send_msg_chat(&chat::MsgChat { .. }).await?;
//! let h = client.listen_msg_room_user_join(|msg| println!("{msg:?}"));
//! ```
//!
//! The equivalent code without the macro: a `#[path = ".."] mod ptl_login; pub use
//! ptl_login::*;` per file (sub-folders become `pub mod room { .. }`), `impl Api for ReqLogin {
//! const NAME = "Login"; type Res = ResLogin; }`, `impl Message for MsgChat { .. }`,
//! `service_proto()`, `enum Msg`, `struct Client<T = WsClient>`, `struct Server`,
//! `struct RunningServer`, `trait ConnectionExt` and `trait ChatService`. Set
//! `RPC_CODEGEN_DEBUG=1` to see the generated code: it is written to a file under the target
//! dir (`target/debug/rpc-codegen-debug/<package>/<module>.rs` for a crate with a build
//! script) and the build prints that path. Cargo tracks the variable: setting or unsetting it
//! rebuilds the crate, so the line does not linger once it is unset.
//!
//! # The naming rule
//!
//! A file's name says what it must declare: `ptl_login.rs` the API `Login` with `pub struct
//! ReqLogin` and `pub struct ResLogin`; `msg_chat.rs` the message `Chat` with `pub struct
//! MsgChat`; a file with another name (`base.rs`) nothing in particular. Everything else a file
//! declares is a helper, ordinary Rust, whatever its name: `MsgChatAttachment` next to
//! `MsgChat`, `ResLoginProfile` next to `ResLogin`. The errors:
//!
//! - **a type the file name asks for is missing**: the error says which one; when the file
//!   declares a near miss (another case, a typo within a third of the letters, the same word
//!   continued: `Msgchat`, `ResLgoin`, `MsgChatter`), it is at that type, with "did you mean
//!   `MsgChat`?";
//! - **a helper has a name the macro generates** in the same module: in the service module
//!   `Client`, `Server`, `RunningServer`, `Msg`, `ConnectionExt`, the service trait (`chat` ->
//!   `ChatService`) and `service_proto`; in any folder's module, the modules of its files
//!   (`ptl_login`) and sub-folders (`room`). The generated item would hide the helper; the error
//!   names the helper's `file:line:column` and the generated item. A sub-folder is a module of
//!   its own: `room/`'s files may declare a `Client`;
//! - **two files of a folder declare the same name** (both are re-exported into the folder's
//!   module, where it would be ambiguous): the error names both places. Declare it once and
//!   `use super::base::User` from the other file. Private items and items under `#[cfg]` are
//!   not compared, nor a type and a function of the same name (Rust's namespaces);
//! - **`#[derive(Api)]` or `#[derive(Message)]` on a type the folder declares** as a request,
//!   response or message: remove it, the folder already implements it. These derives are for
//!   types declared outside the folder and listed in `extra_apis` / `extra_msgs`;
//! - **a file that does not parse** is reported once, by the macro, with its line and a caret;
//!   rustc does not see that file until it parses.
//!
//! `rpc-codegen check <folder>` (the `rpc-codegen` crate's binary; add `--name chat` when the
//! module's name is not the folder's) reports the same errors, word for word, without a build.
//!
//! # File and folder names that are not Rust identifiers
//!
//! TSRPC allows any name; the service names on the wire stay TSRPC's (`Self`, `2fa/Code`,
//! `match/Start`), and the Rust names made from them are spelled so that they compile:
//!
//! | name                              | Rust spelling            | example                                         |
//! |-----------------------------------|--------------------------|-------------------------------------------------|
//! | a keyword                         | raw identifier           | `match/` -> `pub mod r#match`, `type.rs` -> `mod r#type` |
//! | `self`, `Self`, `super`, `crate`  | trailing `_`             | `self/` -> `pub mod self_`; `ptl_self.rs` -> handler `fn self_` |
//! | starts with a digit               | leading `_`              | `2fa/` -> `pub mod _2fa`; `ptl_2fa.rs` -> handler `fn _2fa`, `msg_2fa.rs` -> `Msg::_2fa` |
//!
//! Method names with a prefix need no spelling (`call_self`, `call_2fa`, `listen_msg_match_start`).
//! A file or folder name with characters other than ASCII letters, digits and `_` (`my-room/`)
//! is a compile error naming it, as are a file and a folder that would be the same module
//! (`shared.rs` and `shared/`).

use proc_macro::TokenStream;

/// Generates a service from a protocol folder: `#[service(protocols = "src/chat")] pub mod chat {}`.
///
/// Keys:
/// - `protocols = "<folder>"` (this or `tsrpc_proto`): relative to the root of the package that
///   holds the invoking file (the nearest folder above it with a `Cargo.toml`).
/// - `tsrpc_proto = "<file>"` (this or `protocols`): a TSRPC project's `serviceProto.ts`, as
///   `tsrpc-cli proto` writes it (or the same proto as `.json`), relative to the package root
///   like a folder. Its types become Rust types whose JSON is TSRPC's (names in Rust case with
///   serde renames, fields in TSRPC's key order; the table is in `rpc_codegen::import::rust`),
///   and the service gets the same client, server, `Msg` enum and service trait as a folder's,
///   with the proto's service names. `TSRPC_PROTO` in the module holds the proto itself (every
///   id). The crate is rebuilt when the file changes. What TSRPC cannot send (`bigint`,
///   `BigInt64Array`, `extends Omit<..>`) is a compile error naming the type in the proto.
/// - `skip_unsupported_optional_fields = true` (with `tsrpc_proto`): leaves out the optional
///   fields of those types instead of refusing the proto.
///
/// ```ignore
/// #[rpc_runtime::service(tsrpc_proto = "../web/src/shared/protocols/serviceProto.ts")]
/// pub mod game {}
///
/// let client = game::Client::ws("ws://127.0.0.1:3000", Default::default());
/// let res = client.call_room_join(game::room::ReqJoin { room_id: "r1".into() }).await?;
/// ```
///
/// - `crate = "<path>"`: the runtime crate's path (default `::rpc_runtime`).
/// - `extra_apis = [path::ReqX, ..]`, `extra_msgs = [path::MsgY, ..]`: hand-declared types
///   (`#[derive(Api)]`, `#[derive(Message)]`) added to the generated client and server.
///
/// Add `fn main() { rpc_codegen::watch("src/chat") }` to `build.rs` so that adding or removing
/// a protocol file rebuilds the crate.
#[proc_macro_attribute]
pub fn service(args: TokenStream, item: TokenStream) -> TokenStream {
    let inv = rpc_codegen::Invocation {
        file: proc_macro::Span::call_site().local_file(),
        cwd: std::env::current_dir().ok(),
        manifest_dir: std::env::var_os("CARGO_MANIFEST_DIR").map(Into::into),
    };
    rpc_codegen::expand_service(args.into(), item.into(), &inv).into()
}

/// Implements the runtime's `Message` for a type declared outside a protocol folder.
///
/// `#[rpc(name = "room/Echo")]` sets the service name (default: the type name without `Msg`);
/// `#[rpc(crate = "..")]` the runtime crate's path.
#[proc_macro_derive(Message, attributes(rpc))]
pub fn derive_message(input: TokenStream) -> TokenStream {
    rpc_codegen::expand_derive_message(input.into()).into()
}

/// Implements the runtime's `Api` for a request type declared outside a protocol folder.
///
/// `#[rpc(name = "Echo", res = ResEcho)]`: the service name (default: the type name without
/// `Req`) and the response type (default: `Res` + that name); `#[rpc(crate = "..")]`.
#[proc_macro_derive(Api, attributes(rpc))]
pub fn derive_api(input: TokenStream) -> TokenStream {
    rpc_codegen::expand_derive_api(input.into()).into()
}
