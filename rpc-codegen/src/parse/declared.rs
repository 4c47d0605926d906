//! What a protocol file declares beyond its types' shapes: the names it puts in its folder's
//! module (for the clash checks of [`crate::clash`]) and the runtime's own derives on its
//! types (an error on a type the folder already makes an API or a message).

use std::collections::HashMap;

use proc_macro2::Span;
use quote::ToTokens;

use crate::model::{DeclaredName, Namespace, Origin, RpcDerive};

/// The crates whose `Api` / `Message` derives are the runtime's.
const RPC_CRATES: [&str; 2] = ["rpc_macros", "rpc_runtime"];

/// The derives the runtime has.
const RPC_DERIVES: [&str; 2] = ["Api", "Message"];

/// Every top-level item of `ast` that the generated `pub use file::*` re-exports: not private,
/// not under `#[cfg]`. `use` items are left out (re-exporting one item twice is no clash), as
/// are macros (their items are unknown before expansion).
pub(crate) fn names(ast: &syn::File, origin: &dyn Fn(Span) -> Origin) -> Vec<DeclaredName> {
    let mut out = Vec::new();
    for item in &ast.items {
        let (ident, kind, namespace, vis, attrs) = match item {
            syn::Item::Struct(s) => {
                let ns = match s.fields {
                    syn::Fields::Named(_) => Namespace::Type,
                    _ => Namespace::Both,
                };
                (&s.ident, "struct", ns, &s.vis, &s.attrs)
            }
            syn::Item::Enum(e) => (&e.ident, "enum", Namespace::Type, &e.vis, &e.attrs),
            syn::Item::Union(u) => (&u.ident, "union", Namespace::Type, &u.vis, &u.attrs),
            syn::Item::Type(t) => (&t.ident, "type", Namespace::Type, &t.vis, &t.attrs),
            syn::Item::Trait(t) => (&t.ident, "trait", Namespace::Type, &t.vis, &t.attrs),
            syn::Item::TraitAlias(t) => (&t.ident, "trait", Namespace::Type, &t.vis, &t.attrs),
            syn::Item::Mod(m) => (&m.ident, "mod", Namespace::Type, &m.vis, &m.attrs),
            syn::Item::Fn(f) => (&f.sig.ident, "fn", Namespace::Value, &f.vis, &f.attrs),
            syn::Item::Const(c) => (&c.ident, "const", Namespace::Value, &c.vis, &c.attrs),
            syn::Item::Static(s) => (&s.ident, "static", Namespace::Value, &s.vis, &s.attrs),
            _ => continue,
        };
        if !reexported(vis) || attrs.iter().any(|a| a.path().is_ident("cfg")) {
            continue;
        }
        out.push(DeclaredName {
            ident: syn::ext::IdentExt::unraw(ident).to_string(),
            kind,
            namespace,
            origin: origin(ident.span()),
        });
    }
    out
}

/// Whether a glob import in the parent module sees the item: any visibility but private
/// (`pub(self)` is private too).
fn reexported(vis: &syn::Visibility) -> bool {
    match vis {
        syn::Visibility::Inherited => false,
        syn::Visibility::Restricted(r) => !r.path.is_ident("self"),
        syn::Visibility::Public(_) => true,
    }
}

/// The names under which `ast`'s `use` items bring in the runtime's derives, with the derive
/// each one is: `Api` for `use rpc_runtime::Api;`, `M` (`Message`) for
/// `use rpc_macros::Message as M;`, both for a glob.
pub(crate) fn rpc_imports(ast: &syn::File) -> HashMap<String, &'static str> {
    let mut found = HashMap::new();
    for item in &ast.items {
        if let syn::Item::Use(u) = item {
            collect_use(&u.tree, None, &mut found);
        }
    }
    found
}

/// Walks a use tree; `krate` is the first segment once known.
fn collect_use(
    tree: &syn::UseTree,
    krate: Option<&str>,
    found: &mut HashMap<String, &'static str>,
) {
    let from_rpc = krate.is_some_and(|k| RPC_CRATES.contains(&k));
    let derive = |ident: &syn::Ident| RPC_DERIVES.into_iter().find(|d| ident == d);
    match tree {
        syn::UseTree::Path(p) => {
            let first = p.ident.to_string();
            collect_use(&p.tree, Some(krate.unwrap_or(&first)), found);
        }
        syn::UseTree::Name(n) if from_rpc => {
            if let Some(d) = derive(&n.ident) {
                found.insert(d.to_owned(), d);
            }
        }
        syn::UseTree::Rename(r) if from_rpc => {
            if let Some(d) = derive(&r.ident) {
                found.insert(r.rename.to_string(), d);
            }
        }
        syn::UseTree::Glob(_) if from_rpc => {
            for d in RPC_DERIVES {
                found.entry(d.to_owned()).or_insert(d);
            }
        }
        syn::UseTree::Group(g) => {
            for t in &g.items {
                collect_use(t, krate, found);
            }
        }
        _ => {}
    }
}

/// The runtime's derives among `attrs`' `#[derive(..)]`s: a path through `rpc_macros` or
/// `rpc_runtime`, or a bare name the file imports from them ([`rpc_imports`]). Another crate's
/// `Message` (prost's) is not one of them, nor is a bare name brought in some other way: then
/// rustc's own error (conflicting implementations) is what the user sees.
pub(crate) fn rpc_derives(
    attrs: &[syn::Attribute],
    imports: &HashMap<String, &'static str>,
    origin: &dyn Fn(Span) -> Origin,
) -> Vec<RpcDerive> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let Ok(paths) = attr.parse_args_with(
            syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
        ) else {
            continue;
        };
        for path in paths {
            let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            let trait_name = match segments.as_slice() {
                [krate, .., last] if RPC_CRATES.contains(&krate.as_str()) => {
                    RPC_DERIVES.into_iter().find(|d| last == d)
                }
                [name] if path.leading_colon.is_none() => imports.get(name).copied(),
                _ => None,
            };
            if let Some(trait_name) = trait_name {
                out.push(RpcDerive {
                    path: path.to_token_stream().to_string().replace(' ', ""),
                    trait_name,
                    origin: origin(syn::spanned::Spanned::span(&path)),
                });
            }
        }
    }
    out
}
