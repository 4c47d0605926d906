//! Snapshots of the generated code (prettyplease output). Review changes with
//! `cargo insta review` or `INSTA_UPDATE=always cargo test -p rpc-codegen` and a diff.

use std::path::PathBuf;

use proc_macro2::Span;
use rpc_codegen::{default_crate, generate, load_service, pretty, Ctxt};

fn render(
    name: &str,
    extra_apis: &[syn::Path],
    extra_msgs: &[syn::Path],
    krate: syn::Path,
) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let cx = Ctxt::new();
    let model = load_service(
        &cx,
        Span::call_site(),
        "chat",
        &root,
        "src/chat",
        extra_apis,
        extra_msgs,
    );
    cx.check().unwrap();
    pretty(&generate(&model, &krate)).replace(&root.display().to_string(), "$FIXTURE")
}

#[test]
fn basic() {
    insta::assert_snapshot!(render("basic", &[], &[], default_crate()));
}

#[test]
fn extras_and_crate_path() {
    let apis = [syn::parse_quote!(crate::manual::ReqEcho)];
    let msgs = [syn::parse_quote!(crate::manual::MsgPing)];
    insta::assert_snapshot!(render("basic", &apis, &msgs, syn::parse_quote!(my_rt)));
}
