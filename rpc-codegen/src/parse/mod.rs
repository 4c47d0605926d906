//! Reads a protocol folder: walks it, parses every `.rs` file with syn and keeps what the
//! generator needs as owned data ([`crate::model`]). Local shape only; the naming rules and
//! cross-item rules are in [`crate::check`].

pub(crate) mod attr;
mod declared;
pub(crate) mod naming;
pub(crate) mod shape;

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use proc_macro2::Span;

use crate::diagnostic::Ctxt;
use crate::model::{DeclaredName, FieldRef, FileDef, ItemDef, ModuleDef, Origin};

/// Reads the folder `root` (shown as `display_root` in messages) into a module tree. Errors
/// (unreadable folder or file, bad names) go to `cx`, spanned at `span`; whatever could be read
/// is returned.
pub(crate) fn load_dir(
    cx: &Ctxt,
    span: Span,
    root: &Path,
    display_root: &str,
) -> Option<ModuleDef> {
    match fs::metadata(root) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            cx.error_at(
                span,
                format!(
                    "protocol folder `{display_root}` is not a folder (resolved to `{}`)",
                    root.display()
                ),
            );
            return None;
        }
        Err(e) => {
            cx.error_at(
                span,
                format!(
                    "cannot read protocol folder `{display_root}` (resolved to `{}`): {e}",
                    root.display()
                ),
            );
            return None;
        }
    }
    Some(load_module(cx, span, root, display_root, String::new()))
}

fn load_module(cx: &Ctxt, span: Span, dir: &Path, display: &str, name: String) -> ModuleDef {
    let mut module = ModuleDef {
        name,
        ..ModuleDef::default()
    };
    let entries = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            cx.error_at(span, format!("cannot read folder `{display}`: {e}"));
            return module;
        }
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    // Module name (as spelled in Rust) -> the file or folder that took it first.
    let mut modules: HashMap<String, String> = HashMap::new();
    let clash = |first: &str, shown: &str, module_name: &str| {
        cx.error_at(
            span,
            format!(
                "`{first}` and `{shown}` would both be the Rust module `{module_name}`: rename one"
            ),
        );
    };
    for path in entries {
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        if file_name.starts_with('.') {
            continue;
        }
        let shown = format!("{display}/{file_name}");
        if path.is_dir() {
            let Some(module_name) = naming::module_name(&file_name) else {
                cx.error_at(
                    span,
                    format!(
                        "folder `{shown}` must be named with ASCII letters, digits and `_` only (it becomes a Rust module): rename it to `{}`",
                        naming::module_suggestion(&file_name)
                    ),
                );
                continue;
            };
            if let Some(first) = modules.insert(module_name.clone(), shown.clone()) {
                clash(&first, &shown, &module_name);
                continue;
            }
            module
                .children
                .push(load_module(cx, span, &path, &shown, file_name));
        } else if let Some(stem) = file_name.strip_suffix(".rs") {
            if stem == "mod" || stem == "lib" || stem == "main" {
                cx.error_at(
                    span,
                    format!("`{shown}`: a protocol folder has no `{stem}.rs`, the service macro declares its modules"),
                );
                continue;
            }
            let kind = match naming::file_kind(stem) {
                Ok(kind) => kind,
                Err(msg) => {
                    cx.error_at(span, format!("{shown}: {msg}"));
                    continue;
                }
            };
            let Some(module_name) = naming::module_name(stem) else {
                cx.error_at(
                    span,
                    format!(
                        "{shown}: the file name must hold ASCII letters, digits and `_` only (it becomes a Rust module): rename it to `{}.rs`",
                        naming::module_suggestion(stem)
                    ),
                );
                continue;
            };
            if let Some(first) = modules.insert(module_name.clone(), shown.clone()) {
                clash(&first, &shown, &module_name);
                continue;
            }
            let parsed = match fs::read_to_string(&path) {
                Ok(src) => match parse_file(&src, &shown) {
                    Ok(parsed) => Some(parsed),
                    Err(msg) => {
                        cx.error_at(span, msg);
                        None
                    }
                },
                Err(e) => {
                    cx.error_at(span, format!("cannot read `{shown}`: {e}"));
                    continue;
                }
            };
            let (items, names, conf) = match parsed {
                Some(p) => (Some(p.items), p.names, p.conf),
                None => (None, Vec::new(), None),
            };
            module.files.push(FileDef {
                stem: stem.to_owned(),
                path: path.clone(),
                display: shown,
                kind,
                items,
                names,
                inline: None,
                conf,
            });
        }
    }
    module
}

/// Builds the module tree of a protocol folder held in memory: `files` are `(relative path,
/// text)` pairs (`room/ptl_join.rs`), as an imported TSRPC proto gives them; each is shown as
/// `{display_root}#{path}` in messages. The names are the importer's, valid by construction;
/// the files go through the same parsing as files on disk.
pub(crate) fn load_memory(
    cx: &Ctxt,
    span: Span,
    files: &[(String, String)],
    display_root: &str,
) -> ModuleDef {
    let mut root = ModuleDef::default();
    for (rel, text) in files {
        let mut parts: Vec<&str> = rel.split('/').collect();
        let Some(file_name) = parts.pop() else {
            continue;
        };
        let mut module = &mut root;
        for dir in parts {
            let i = match module.children.iter().position(|c| c.name == dir) {
                Some(i) => i,
                None => {
                    module.children.push(ModuleDef {
                        name: dir.to_owned(),
                        ..ModuleDef::default()
                    });
                    module.children.len() - 1
                }
            };
            module = &mut module.children[i];
        }
        let stem = file_name.strip_suffix(".rs").unwrap_or(file_name);
        let shown = format!("{display_root}#{rel}");
        let kind = match naming::file_kind(stem) {
            Ok(kind) => kind,
            Err(msg) => {
                cx.error_at(span, format!("{shown}: {msg}"));
                continue;
            }
        };
        let (items, names, conf) = match parse_file(text, &shown) {
            Ok(parsed) => (Some(parsed.items), parsed.names, parsed.conf),
            Err(msg) => {
                cx.error_at(span, msg);
                (None, Vec::new(), None)
            }
        };
        module.files.push(FileDef {
            stem: stem.to_owned(),
            path: Path::new(display_root).join(rel),
            display: shown,
            kind,
            items,
            names,
            inline: Some(text.clone()),
            conf,
        });
    }
    root
}

/// What [`parse_file`] finds in a protocol file.
#[derive(Debug)]
pub(crate) struct ParsedFile {
    /// Its top-level types.
    pub(crate) items: Vec<ItemDef>,
    /// The names it re-exports into its folder's module.
    pub(crate) names: Vec<DeclaredName>,
    /// Its `const CONF: &str = "..";` (TSRPC's `conf`), with where.
    pub(crate) conf: Option<(String, Origin)>,
}

/// Parses a protocol file's text: its top-level types and the names it declares. `Err` is a
/// message naming `file:line:column`, with the line and a caret.
///
/// A file that does not parse is reported here only: the generated module leaves it out
/// (rustc would report it again, and the derives on the items its parser recovers once more).
pub(crate) fn parse_file(src: &str, file: &str) -> Result<ParsedFile, String> {
    // Inside a proc macro, tokens parsed from a string carry the call site's span: parse with
    // proc-macro2's own implementation so that spans know the file's lines and columns. Nothing
    // parsed here outlives this call: the model is owned data.
    proc_macro2::fallback::force();
    let result = parse_file_inner(src, file);
    proc_macro2::fallback::unforce();
    result
}

fn parse_file_inner(src: &str, file: &str) -> Result<ParsedFile, String> {
    let ast = syn::parse_file(src).map_err(|e| syntax_error(src, file, &e))?;
    let names = declared::names(&ast, &|span| origin(file, span));
    let imports = declared::rpc_imports(&ast);
    let mut items = Vec::new();
    let conf = ast.items.iter().find_map(|item| match item {
        syn::Item::Const(c) if c.ident == "CONF" => match &*c.expr {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some((s.value(), origin(file, c.ident.span()))),
            _ => None,
        },
        _ => None,
    });
    for item in &ast.items {
        let (ident, kind, vis, attrs, generics) = match item {
            syn::Item::Struct(s) => (&s.ident, "struct", &s.vis, &s.attrs, &s.generics),
            syn::Item::Enum(e) => (&e.ident, "enum", &e.vis, &e.attrs, &e.generics),
            syn::Item::Type(t) => (&t.ident, "type", &t.vis, &t.attrs, &t.generics),
            _ => continue,
        };
        let Some(mut shape) = shape::shape_of(item, &|span| origin(file, span)) else {
            continue;
        };
        if has_skip_serializing_none(attrs) {
            shape::skip_serializing_none(&mut shape);
        }
        let mut option_fields = Vec::new();
        if !has_skip_serializing_none(attrs) {
            match item {
                syn::Item::Struct(s) => {
                    collect_option_fields(file, None, &s.fields, &mut option_fields)
                }
                syn::Item::Enum(e) => {
                    for v in &e.variants {
                        collect_option_fields(file, Some(&v.ident), &v.fields, &mut option_fields);
                    }
                }
                _ => {}
            }
        }
        items.push(ItemDef {
            ident: ident.to_string(),
            kind,
            is_pub: matches!(vis, syn::Visibility::Public(_)),
            docs: docs(attrs),
            origin: origin(file, ident.span()),
            option_fields_without_skip: option_fields,
            generics: shape::generics(generics),
            serde: shape::serde_attrs(attrs),
            shape,
            wire: shape::wire_facts(item, &|span| origin(file, span)),
            rpc_derives: declared::rpc_derives(attrs, &imports, &|span| origin(file, span)),
        });
    }
    Ok(ParsedFile { items, names, conf })
}

/// The message for a file syn cannot parse: where, what, and the line with a caret. syn's
/// own words are kept except for two cases it words for token streams, not files.
fn syntax_error(src: &str, file: &str, e: &syn::Error) -> String {
    let start = e.span().start();
    let (mut line, mut column, mut what) = (start.line, start.column, e.to_string());
    if let Err(lex) = src
        .trim_start_matches('\u{feff}')
        .parse::<proc_macro2::TokenStream>()
    {
        // syn says "cannot parse string into token stream".
        let at = lex.span().start();
        (line, column) = (at.line, at.column);
        what = "a delimiter, string or comment that is never closed, or a closing delimiter \
                that closes nothing"
            .to_owned();
    } else if what.starts_with("unexpected end of input") {
        // Spanned at the start of the file; it is about the end.
        line = src.lines().count().max(1);
        column = src.lines().last().map_or(0, |l| l.chars().count());
    } else if let Some(found) = token_at(src, e.span()).filter(|_| !what.contains("found")) {
        // syn lists what it expected; rustc also says what it found.
        what = format!("{what}; found `{found}`");
    }
    let at = Origin {
        file: file.to_owned(),
        line,
        column: column + 1,
    };
    let snippet = snippet(src, line, column);
    format!("{at}: cannot parse this protocol file: {what}{snippet}")
}

/// The text `span` covers when it is on one line.
fn token_at(src: &str, span: Span) -> Option<String> {
    let (start, end) = (span.start(), span.end());
    let text = src.lines().nth(start.line.checked_sub(1)?)?;
    (start.line == end.line && end.column > start.column).then(|| {
        text.chars()
            .skip(start.column)
            .take(end.column - start.column)
            .collect()
    })
}

/// The source line `line` (1-based) under a gutter, and a caret under char `column` (0-based):
/// the part of rustc's rendering a message at the macro's attribute cannot show otherwise.
/// Empty when the line does not exist (an error at the end of the file).
fn snippet(src: &str, line: usize, column: usize) -> String {
    let Some(text) = src.lines().nth(line.saturating_sub(1)) else {
        return String::new();
    };
    let number = line.to_string();
    let gutter = " ".repeat(number.len());
    // Tabs stay tabs, so the caret lines up however they are shown.
    let pad: String = text
        .chars()
        .take(column)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    format!("\n{gutter} |\n{number} | {text}\n{gutter} | {pad}^")
}

fn origin(file: &str, span: Span) -> Origin {
    let start = span.start();
    Origin {
        file: file.to_owned(),
        line: start.line,
        column: start.column + 1,
    }
}

/// The doc comment of an item, one entry per line.
pub(crate) fn docs(attrs: &[syn::Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(syn::MetaNameValue {
                value:
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }),
                ..
            }) => Some(s.value()),
            _ => None,
        })
        .flat_map(|s| {
            s.split('\n')
                .map(|l| l.trim_end_matches('\r').to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn collect_option_fields(
    file: &str,
    variant: Option<&syn::Ident>,
    fields: &syn::Fields,
    out: &mut Vec<FieldRef>,
) {
    for (i, field) in fields.iter().enumerate() {
        if is_option(&field.ty) && !has_skip_serializing(&field.attrs) {
            let name = field
                .ident
                .as_ref()
                .map_or_else(|| i.to_string(), ToString::to_string);
            let name = match variant {
                Some(v) => format!("{v}.{name}"),
                None => name,
            };
            let span = field
                .ident
                .as_ref()
                .map_or_else(|| syn::spanned::Spanned::span(&field.ty), syn::Ident::span);
            out.push(FieldRef {
                name,
                origin: origin(file, span),
            });
        }
    }
}

/// `Option<T>` (any path ending in `Option`).
pub(crate) fn is_option(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Option" && !s.arguments.is_empty()),
        syn::Type::Group(g) => is_option(&g.elem),
        syn::Type::Paren(p) => is_option(&p.elem),
        _ => false,
    }
}

/// Whether a field has `#[serde(skip_serializing_if = ..)]` (or `skip_serializing`, `skip`).
pub(crate) fn has_skip_serializing(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .any(|a| {
            let syn::Meta::List(list) = &a.meta else {
                return false;
            };
            list.tokens.clone().into_iter().any(|t| {
                matches!(&t, proc_macro2::TokenTree::Ident(i)
                if i == "skip_serializing_if" || i == "skip_serializing" || i == "skip")
            })
        })
}

/// `#[serde_with::skip_serializing_none]` on the type does the same for every field.
fn has_skip_serializing_none(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "skip_serializing_none")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_lines_docs_and_options() {
        let src = r#"use serde::{Deserialize, Serialize};

/// Leaves a room.
/// Second line.
#[derive(Serialize, Deserialize)]
pub struct MsgUserLeave {
    pub room_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub bad: Option<u32>,
}

struct Helper(Option<u8>);

pub enum E { A { x: Option<u8> } }

pub const X: u8 = 1;
"#;
        let items = parse_file(src, "f.rs").unwrap().items;
        assert_eq!(items.len(), 3);
        let m = &items[0];
        assert_eq!(m.ident, "MsgUserLeave");
        assert!(m.is_pub);
        assert_eq!(m.docs, vec![" Leaves a room.", " Second line."]);
        assert_eq!(m.origin.to_string(), "f.rs:6:12");
        assert_eq!(m.option_fields_without_skip.len(), 1);
        assert_eq!(m.option_fields_without_skip[0].name, "bad");
        assert_eq!(
            m.option_fields_without_skip[0].origin.to_string(),
            "f.rs:10:9"
        );
        assert!(!items[1].is_pub);
        assert_eq!(items[1].option_fields_without_skip[0].name, "0");
        assert_eq!(items[2].option_fields_without_skip[0].name, "A.x");
    }

    #[test]
    fn parse_error_has_a_line_and_a_caret() {
        let err = parse_file("pub struct A {\n\tx: ,\n}\n", "f.rs").unwrap_err();
        assert!(
            err.starts_with("f.rs:2:5: cannot parse this protocol file: expected one of: "),
            "{err}"
        );
        assert!(err.contains("lifetime; found `,`\n"), "{err}");
        assert!(err.ends_with("\n  |\n2 | \tx: ,\n  | \t   ^"), "{err}");
        // A delimiter never closed: where it opens, in words for a file.
        let err = parse_file("pub struct A {}\n\nfn x( {}\n", "f.rs").unwrap_err();
        assert_eq!(
            err,
            "f.rs:3:5: cannot parse this protocol file: a delimiter, string or comment that is \
             never closed, or a closing delimiter that closes nothing\n  |\n3 | fn x( {}\n  |     ^"
        );
        // The end of the input is at the end of the file.
        let err = parse_file("pub struct A {}\npub struct", "f.rs").unwrap_err();
        assert!(
            err.starts_with("f.rs:2:11: cannot parse this protocol file: unexpected end of input"),
            "{err}"
        );
        assert!(err.ends_with("\n2 | pub struct\n  |           ^"), "{err}");
    }

    #[test]
    fn declared_names_and_rpc_derives() {
        let src = r#"use rpc_runtime::{Api as A, Message};
use prost::Message as ProstMessage;

#[derive(rpc_macros::Api, serde::Serialize)]
pub struct ReqLogin {}
#[derive(Message)]
pub struct MsgChat {}
#[derive(A, ProstMessage)]
pub struct Both(u8);
pub(crate) fn helper() {}
pub(self) struct Hidden {}
struct Private;
#[cfg(feature = "x")]
pub struct Gated {}
pub use std::string::String as Text;
pub trait Tr {}
pub const r#match: u8 = 1;
"#;
        let parsed = parse_file(src, "f.rs").unwrap();
        let names: Vec<_> = parsed
            .names
            .iter()
            .map(|n| (n.ident.as_str(), n.kind, n.namespace, n.origin.to_string()))
            .collect();
        use crate::model::Namespace::{Both, Type, Value};
        assert_eq!(
            names,
            [
                ("ReqLogin", "struct", Type, "f.rs:5:12".to_owned()),
                ("MsgChat", "struct", Type, "f.rs:7:12".to_owned()),
                ("Both", "struct", Both, "f.rs:9:12".to_owned()),
                ("helper", "fn", Value, "f.rs:10:15".to_owned()),
                ("Tr", "trait", Type, "f.rs:16:11".to_owned()),
                ("match", "const", Value, "f.rs:17:11".to_owned()),
            ]
        );
        let derives: Vec<Vec<(String, &str, String)>> = parsed
            .items
            .iter()
            .map(|i| {
                i.rpc_derives
                    .iter()
                    .map(|d| (d.path.clone(), d.trait_name, d.origin.to_string()))
                    .collect()
            })
            .collect();
        assert_eq!(
            derives[..3],
            [
                vec![("rpc_macros::Api".to_owned(), "Api", "f.rs:4:10".to_owned())],
                vec![("Message".to_owned(), "Message", "f.rs:6:10".to_owned())],
                vec![("A".to_owned(), "Api", "f.rs:8:10".to_owned())],
            ]
        );
        assert!(derives[3..].iter().all(Vec::is_empty));
    }
}
