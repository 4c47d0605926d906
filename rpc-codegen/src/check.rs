//! The rules: every protocol file follows the naming convention, every `ReqX` has its `ResX`
//! (and the reverse), no name is used twice within a kind, and `Option` fields are omitted when
//! `None`. Each mistake is recorded with its `file:line:column`; the definitions that pass are
//! returned, so the glue for them can still be generated.

use std::collections::HashMap;

use proc_macro2::Span;
use quote::ToTokens;

use crate::diagnostic::Ctxt;
use crate::model::{ApiDef, FileDef, FileKind, ItemDef, ModuleDef, MsgDef, Origin, Source};
use crate::parse::naming::{self, MSG_PREFIX, PTL_PREFIX};

/// Applies the per-file rules and the wire rules (`crate::check_wire`) to the whole tree and
/// returns the valid APIs and messages.
pub(crate) fn check_files(cx: &Ctxt, span: Span, module: &ModuleDef) -> (Vec<ApiDef>, Vec<MsgDef>) {
    let mut apis = Vec::new();
    let mut msgs = Vec::new();
    walk(cx, span, module, &mut Vec::new(), &mut apis, &mut msgs);
    crate::check_wire::check_module(cx, span, module, apis, msgs)
}

fn walk(
    cx: &Ctxt,
    span: Span,
    module: &ModuleDef,
    folder: &mut Vec<String>,
    apis: &mut Vec<ApiDef>,
    msgs: &mut Vec<MsgDef>,
) {
    for file in &module.files {
        check_file(cx, span, file, folder, apis, msgs);
    }
    for child in &module.children {
        folder.push(child.name.clone());
        walk(cx, span, child, folder, apis, msgs);
        folder.pop();
    }
}

/// `ReqLogin` -> `Some("Login")` for prefix `Req`.
fn strip_type_prefix<'a>(ident: &'a str, prefix: &str) -> Option<&'a str> {
    ident
        .strip_prefix(prefix)
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
}

fn file_name(file: &FileDef) -> String {
    format!("{}.rs", file.stem)
}

fn start_of(file: &FileDef) -> Origin {
    Origin {
        file: file.display.clone(),
        line: 1,
        column: 1,
    }
}

fn check_file(
    cx: &Ctxt,
    span: Span,
    file: &FileDef,
    folder: &[String],
    apis: &mut Vec<ApiDef>,
    msgs: &mut Vec<MsgDef>,
) {
    let Some(items) = &file.items else { return };
    for item in items {
        for field in &item.option_fields_without_skip {
            cx.error_at(
                span,
                format!(
                    "{}: field `{}` of `{}` is an `Option` without \
                     `#[serde(skip_serializing_if = \"Option::is_none\")]`: \
                     TSRPC omits an absent field, serde would write `null`",
                    field.origin, field.name, item.ident
                ),
            );
        }
    }
    let find = |ident: &str| items.iter().find(|i| i.ident == ident);
    // Types whose prefix claims a role the file name does not give them.
    let strays = |prefix: &str, expected: &str| -> Vec<&ItemDef> {
        items
            .iter()
            .filter(|i| strip_type_prefix(&i.ident, prefix).is_some() && i.ident != expected)
            .collect()
    };
    let mismatch = |item: &ItemDef, prefix: &str, expected: &str, file_prefix: &str| {
        let base = strip_type_prefix(&item.ident, prefix).unwrap_or_default();
        cx.error_at(
            span,
            format!(
                "{}: type `{}` does not match its file name: `{}` must declare `{expected}` \
                 (or rename the file to `{}.rs`)",
                item.origin,
                item.ident,
                file_name(file),
                naming::expected_stem(file_prefix, base),
            ),
        );
    };
    let must_be_pub = |item: &ItemDef| {
        if !item.is_pub {
            cx.error_at(
                span,
                format!(
                    "{}: `{}` must be `pub`: the generated glue names it",
                    item.origin, item.ident
                ),
            );
        }
        item.is_pub
    };
    match &file.kind {
        FileKind::Ptl { base } => {
            let name = naming::service_name(folder, base);
            let (req_name, res_name) = (format!("Req{base}"), format!("Res{base}"));
            let (req, res) = (find(&req_name), find(&res_name));
            let (req_strays, res_strays) = (strays("Req", &req_name), strays("Res", &res_name));
            for s in req_strays.iter().chain(&res_strays) {
                let (prefix, expected) = if s.ident.starts_with("Req") {
                    ("Req", &req_name)
                } else {
                    ("Res", &res_name)
                };
                mismatch(s, prefix, expected, PTL_PREFIX);
            }
            match (req, res) {
                (Some(req), Some(res)) if must_be_pub(req) & must_be_pub(res) => {
                    let mut docs = req.docs.clone();
                    if !res.docs.is_empty() {
                        if !docs.is_empty() {
                            docs.push(String::new());
                        }
                        docs.extend(res.docs.iter().cloned());
                    }
                    apis.push(ApiDef {
                        method: naming::method_suffix(&name),
                        variant: naming::variant_name(&name),
                        name,
                        req: req_name,
                        res: res_name,
                        docs,
                        source: Source::Folder {
                            folder: folder.to_vec(),
                            origin: req.origin.clone(),
                        },
                    });
                }
                (Some(_), Some(_)) => {}
                (Some(req), None) if res_strays.is_empty() => cx.error_at(
                    span,
                    format!(
                        "{}: API `{name}` has `{req_name}` but no `{res_name}`: \
                         declare `pub struct {res_name}` in `{}`",
                        req.origin,
                        file_name(file)
                    ),
                ),
                (None, Some(res)) if req_strays.is_empty() => cx.error_at(
                    span,
                    format!(
                        "{}: API `{name}` has `{res_name}` but no `{req_name}`: \
                         declare `pub struct {req_name}` in `{}`",
                        res.origin,
                        file_name(file)
                    ),
                ),
                (None, None) if req_strays.is_empty() && res_strays.is_empty() => cx.error_at(
                    span,
                    format!(
                        "{}: `{}` must declare `{req_name}` and `{res_name}` (API `{name}`)",
                        start_of(file),
                        file_name(file)
                    ),
                ),
                _ => {}
            }
        }
        FileKind::Msg { base } => {
            let name = naming::service_name(folder, base);
            let ty = format!("Msg{base}");
            for s in strays("Msg", &ty) {
                mismatch(s, "Msg", &ty, MSG_PREFIX);
            }
            match find(&ty) {
                Some(item) if must_be_pub(item) => {
                    msgs.push(MsgDef {
                        method: naming::method_suffix(&name),
                        variant: naming::variant_name(&name),
                        name,
                        ty,
                        docs: item.docs.clone(),
                        source: Source::Folder {
                            folder: folder.to_vec(),
                            origin: item.origin.clone(),
                        },
                    });
                }
                Some(_) => {}
                None if strays("Msg", &ty).is_empty() => cx.error_at(
                    span,
                    format!(
                        "{}: `{}` must declare `{ty}` (message `{name}`)",
                        start_of(file),
                        file_name(file)
                    ),
                ),
                None => {}
            }
        }
        FileKind::Other => {}
    }
}

/// The definition of a hand-declared API listed in `extra_apis`; `None` (with an error) when
/// its last segment is not `ReqXxx`.
pub(crate) fn extra_api(cx: &Ctxt, path: &syn::Path) -> Option<ApiDef> {
    let ident = path.segments.last()?.ident.to_string();
    let Some(base) = strip_type_prefix(&ident, "Req") else {
        cx.error_spanned_by(
            path,
            format!("`extra_apis` lists request types (`ReqXxx`), not `{ident}`"),
        );
        return None;
    };
    Some(ApiDef {
        name: base.to_owned(),
        method: naming::method_suffix(base),
        variant: naming::variant_name(base),
        req: ident.clone(),
        res: format!("Res{base}"),
        docs: Vec::new(),
        source: Source::Extra { path: path.clone() },
    })
}

/// The definition of a hand-declared message listed in `extra_msgs`.
pub(crate) fn extra_msg(cx: &Ctxt, path: &syn::Path) -> Option<MsgDef> {
    let ident = path.segments.last()?.ident.to_string();
    let Some(base) = strip_type_prefix(&ident, "Msg") else {
        cx.error_spanned_by(
            path,
            format!("`extra_msgs` lists message types (`MsgXxx`), not `{ident}`"),
        );
        return None;
    };
    Some(MsgDef {
        name: base.to_owned(),
        method: naming::method_suffix(base),
        variant: naming::variant_name(base),
        ty: ident.clone(),
        docs: Vec::new(),
        source: Source::Extra { path: path.clone() },
    })
}

fn describe(source: &Source) -> String {
    match source {
        Source::Folder { origin, .. } => origin.to_string(),
        Source::Extra { path } => {
            format!("`{}`", path.to_token_stream().to_string().replace(' ', ""))
        }
    }
}

/// Two APIs (or two messages) may not share a name, nor a generated method or variant name.
/// Returns the definitions without the later duplicates.
pub(crate) fn check_duplicates(
    cx: &Ctxt,
    span: Span,
    apis: Vec<ApiDef>,
    msgs: Vec<MsgDef>,
) -> (Vec<ApiDef>, Vec<MsgDef>) {
    let apis = dedup(cx, span, "API", apis, |a| {
        (&a.name, &a.method, &a.variant, &a.source)
    });
    let msgs = dedup(cx, span, "message", msgs, |m| {
        (&m.name, &m.method, &m.variant, &m.source)
    });
    (apis, msgs)
}

fn dedup<T>(
    cx: &Ctxt,
    span: Span,
    kind: &str,
    defs: Vec<T>,
    key: impl Fn(&T) -> (&String, &String, &String, &Source),
) -> Vec<T> {
    let mut seen_name: HashMap<String, String> = HashMap::new();
    let mut seen_method: HashMap<String, (String, String)> = HashMap::new();
    let mut seen_variant: HashMap<String, (String, String)> = HashMap::new();
    let mut out = Vec::new();
    for def in defs {
        let (name, method, variant, source) = key(&def);
        // Compared as spelled in Rust (`self_`, `_2fa`, `r#match`): what rustc would see twice.
        let (method_key, variant_key) = (naming::spell(method), naming::spell(variant));
        let here = describe(source);
        if let Some(first) = seen_name.get(name) {
            cx.error_at(
                span,
                format!("{kind} `{name}` is declared twice: at {first} and at {here}"),
            );
            continue;
        }
        if let Some((other, first)) = seen_method.get(&method_key) {
            cx.error_at(
                span,
                format!(
                    "{kind}s `{other}` ({first}) and `{name}` ({here}) would both generate methods named `*_{method}`: rename one"
                ),
            );
            continue;
        }
        if let Some((other, first)) = seen_variant.get(&variant_key) {
            cx.error_at(
                span,
                format!(
                    "{kind}s `{other}` ({first}) and `{name}` ({here}) would both generate the name `{variant}`: rename one"
                ),
            );
            continue;
        }
        seen_name.insert(name.clone(), here.clone());
        seen_method.insert(method_key, (name.clone(), here.clone()));
        seen_variant.insert(variant_key, (name.clone(), here));
        out.push(def);
    }
    out
}
