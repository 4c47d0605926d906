//! The rules: every protocol file declares the types its name asks for (`ptl_login.rs`:
//! `ReqLogin` and `ResLogin`; any other type is a helper, and a missing type is reported with
//! the closest helper as a "did you mean" hint), the folder's types do not derive what the
//! folder already implements, no name is used twice within a kind, and `Option` fields are
//! omitted when `None`. Each mistake is recorded with its `file:line:column`; the definitions that pass are
//! returned, so the glue for them can still be generated.

use std::collections::HashMap;

use proc_macro2::Span;
use quote::ToTokens;

use crate::diagnostic::Ctxt;
use crate::model::{ApiDef, FileDef, FileKind, ItemDef, ModuleDef, MsgDef, Origin, Source};
use crate::parse::naming;

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
    // The closest of the file's other types to one it asks for and lacks (never one of the
    // types it does ask for: `ReqLogin` is one edit from `ResLogin`).
    let near = |expected: &str, prefix: &str, asked: &[&str]| {
        let others = items
            .iter()
            .map(|i| i.ident.as_str())
            .filter(|i| !asked.contains(i));
        naming::near_miss(expected, prefix, others).and_then(find)
    };
    // `{file}` declares `MsgChatter` but no `MsgChat` (message `Chat`): did you mean ..?
    let did_you_mean = |hint: &ItemDef, expected: &str, what: &str| {
        cx.error_at(
            span,
            format!(
                "{}: `{}` declares `{}` but no `{expected}` ({what}): did you mean `{expected}`?",
                hint.origin,
                file_name(file),
                hint.ident
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
            let what = format!("API `{name}`");
            let (req_name, res_name) = (format!("Req{base}"), format!("Res{base}"));
            let asked = [req_name.as_str(), res_name.as_str()];
            let (req, res) = (find(&req_name), find(&res_name));
            for item in req.iter().chain(&res) {
                let role = match item.ident == req_name {
                    true => format!("the request of API `{name}`"),
                    false => format!("the response of API `{name}`"),
                };
                rpc_derive_errors(cx, span, item, &role);
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
                        derived: derives(req, "Api"),
                        conf: conf(cx, span, file),
                    });
                }
                (Some(_), Some(_)) => {}
                (Some(present), None) | (None, Some(present)) => {
                    let (missing, prefix) = match req.is_none() {
                        true => (&req_name, "Req"),
                        false => (&res_name, "Res"),
                    };
                    match near(missing, prefix, &asked) {
                        Some(hint) => did_you_mean(hint, missing, &what),
                        None => cx.error_at(
                            span,
                            format!(
                                "{}: {what} has `{}` but no `{missing}`: \
                                 declare `pub struct {missing}` in `{}`",
                                present.origin,
                                present.ident,
                                file_name(file)
                            ),
                        ),
                    }
                }
                (None, None) => {
                    let mut hints = [
                        (&req_name, near(&req_name, "Req", &asked)),
                        (&res_name, near(&res_name, "Res", &asked)),
                    ];
                    // One type is the near miss of one of them: the closer (`ReqKik` is two
                    // edits from `ResKick`, one from `ReqKick`).
                    if let [(_, Some(a)), (_, Some(b))] = hints {
                        if a.ident == b.ident {
                            let req_dist = naming::closeness(&req_name, "Req", &a.ident);
                            let res_dist = naming::closeness(&res_name, "Res", &a.ident);
                            let farther = usize::from(req_dist <= res_dist);
                            hints[farther].1 = None;
                        }
                    }
                    if hints.iter().all(|(_, h)| h.is_none()) {
                        cx.error_at(
                            span,
                            format!(
                                "{}: `{}` must declare `{req_name}` and `{res_name}` ({what})",
                                start_of(file),
                                file_name(file)
                            ),
                        );
                        return;
                    }
                    for (missing, hint) in hints {
                        match hint {
                            Some(hint) => did_you_mean(hint, missing, &what),
                            None => cx.error_at(
                                span,
                                format!(
                                    "{}: `{}` must declare `{missing}` ({what})",
                                    start_of(file),
                                    file_name(file)
                                ),
                            ),
                        }
                    }
                }
            }
        }
        FileKind::Msg { base } => {
            let name = naming::service_name(folder, base);
            let what = format!("message `{name}`");
            let ty = format!("Msg{base}");
            match find(&ty) {
                Some(item) => {
                    rpc_derive_errors(cx, span, item, &what);
                    if must_be_pub(item) {
                        msgs.push(MsgDef {
                            method: naming::method_suffix(&name),
                            variant: naming::variant_name(&name),
                            name,
                            docs: item.docs.clone(),
                            source: Source::Folder {
                                folder: folder.to_vec(),
                                origin: item.origin.clone(),
                            },
                            derived: derives(item, "Message"),
                            conf: conf(cx, span, file),
                            ty,
                        });
                    }
                }
                None => match near(&ty, "Msg", &[]) {
                    Some(hint) => did_you_mean(hint, &ty, &what),
                    None => cx.error_at(
                        span,
                        format!(
                            "{}: `{}` must declare `{ty}` ({what})",
                            start_of(file),
                            file_name(file)
                        ),
                    ),
                },
            }
        }
        FileKind::Other => {}
    }
}

/// Whether `item` derives the runtime's trait `trait_name` itself.
fn derives(item: &ItemDef, trait_name: &str) -> bool {
    item.rpc_derives.iter().any(|d| d.trait_name == trait_name)
}

/// `#[derive(rpc_macros::Api)]` (or `Message`) on a type the folder already makes `role`: the
/// folder writes the impl, a derive would write a second one (or the wrong one).
fn rpc_derive_errors(cx: &Ctxt, span: Span, item: &ItemDef, role: &str) {
    for d in &item.rpc_derives {
        cx.error_at(
            span,
            format!(
                "{}: remove `{}` from the `#[derive(..)]` of `{}`: the protocol folder already \
                 makes it {role}",
                d.origin, d.path, item.ident
            ),
        );
    }
}

/// The definition of a hand-declared API listed in `extra_apis`; `None` (with an error) when
/// its last segment is not `ReqXxx`.
pub(crate) fn extra_api(cx: &Ctxt, path: &syn::Path) -> Option<ApiDef> {
    let ident = path.segments.last()?.ident.to_string();
    let Some(base) = naming::strip_type_prefix(&ident, "Req") else {
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
        derived: false,
        conf: None,
    })
}

/// The definition of a hand-declared message listed in `extra_msgs`.
pub(crate) fn extra_msg(cx: &Ctxt, path: &syn::Path) -> Option<MsgDef> {
    let ident = path.segments.last()?.ident.to_string();
    let Some(base) = naming::strip_type_prefix(&ident, "Msg") else {
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
        derived: false,
        conf: None,
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

/// The TSRPC `conf` of the API or message of `file` (its `const CONF`), when it is a JSON
/// object as TSRPC's `conf` is; an error at the constant otherwise.
fn conf(cx: &Ctxt, span: Span, file: &FileDef) -> Option<String> {
    let (text, origin) = file.conf.as_ref()?;
    match crate::import::json::parse(text) {
        Ok(node) if matches!(node.kind, crate::import::json::NodeKind::Object(_)) => {
            Some(text.clone())
        }
        Ok(_) => {
            cx.error_at(
                span,
                format!("{origin}: `CONF` must be a JSON object, as TSRPC's `conf` is (`{{\"needLogin\": true}}`)"),
            );
            None
        }
        Err(e) => {
            cx.error_at(
                span,
                format!("{origin}: `CONF` is not JSON ({}): TSRPC's `conf` is a JSON object (`{{\"needLogin\": true}}`)", e.message),
            );
            None
        }
    }
}
