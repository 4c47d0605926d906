//! Snapshots of the generated code (prettyplease output). Review changes with
//! `cargo insta review` or `INSTA_UPDATE=always cargo test -p rpc-codegen` and a diff.

use std::path::PathBuf;

use rpc_codegen::{check_folder, generate, pretty};

/// The runtime's path the macro uses by default.
fn default_crate() -> syn::Path {
    syn::parse_quote!(::rpc_runtime)
}

fn render(
    name: &str,
    extra_apis: &[syn::Path],
    extra_msgs: &[syn::Path],
    krate: syn::Path,
) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let (model, problems) = check_folder(&root, "src/chat", "chat", extra_apis, extra_msgs);
    assert!(problems.0.is_empty(), "{problems}");
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
