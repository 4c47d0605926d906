//! Helpers shared by the integration tests: scratch protocol folders, the macro's expansion
//! and its `compile_error!`s.
#![allow(dead_code, unreachable_pub)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use proc_macro2::TokenStream;
use quote::quote;
use rpc_codegen::{expand_service, Invocation};

/// A fresh empty folder under the target dir's temp space, removed by [`Scratch::drop`].
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rpc-codegen-tests-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Writes `files` (paths relative to `root`, with their contents).
pub fn write(root: &Path, files: &[(String, String)]) {
    for (rel, text) in files {
        let path = root.join(rel);
        if let Some(dir) = path.parent() {
            // A file and a folder of the same name: the later one loses, as on a real disk.
            if fs::create_dir_all(dir).is_err() {
                continue;
            }
        }
        let _ = fs::write(path, text);
    }
}

/// The macro's expansion of `#[service(protocols = "protocols")] pub mod chat {}` with the
/// package root at `root`.
pub fn expand(root: &Path) -> TokenStream {
    let inv = Invocation {
        file: None,
        cwd: None,
        manifest_dir: Some(root.to_path_buf()),
    };
    expand_service(
        quote!(protocols = "protocols"),
        quote!(
            pub mod chat {}
        ),
        &inv,
    )
}

/// The expansion parses as Rust, and its `compile_error!`s.
pub fn parse(tokens: TokenStream) -> (syn::File, Vec<String>) {
    let text = tokens.to_string();
    let file = syn::parse2::<syn::File>(tokens)
        .unwrap_or_else(|e| panic!("the expansion does not parse: {e}\n{text}"));
    let errors = file
        .items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Macro(m)
                if m.mac
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "compile_error") =>
            {
                Some(m.mac.tokens.to_string())
            }
            _ => None,
        })
        .collect();
    (file, errors)
}

/// The text of each `compile_error!` of [`parse`] (its string literal, unescaped).
pub fn texts(errors: &[String]) -> Vec<String> {
    errors
        .iter()
        .map(|e| {
            syn::parse_str::<syn::LitStr>(e)
                .unwrap_or_else(|err| panic!("not a string literal: {e}: {err}"))
                .value()
        })
        .collect()
}

/// Writes a protocol folder `protocols/` (`files`: paths relative to it, with their text) in a
/// scratch package root, and returns the root and the messages of the macro's expansion.
pub fn expand_folder(files: &[(&str, &str)]) -> (Scratch, syn::File, Vec<String>) {
    let scratch = Scratch::new();
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(p, t)| (format!("protocols/{p}"), (*t).to_owned()))
        .collect();
    write(&scratch.0, &files);
    let (file, errors) = parse(expand(&scratch.0));
    let texts = texts(&errors);
    (scratch, file, texts)
}
