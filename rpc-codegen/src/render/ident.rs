//! Names and small token helpers shared by the renderers. Every generated name is made here.

use heck::ToUpperCamelCase;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Ident;

use crate::model::{ApiDef, ModuleDef, MsgDef, Namespace, Source};
use crate::parse::naming;

/// The identifier for a name made from a file or folder name, spelled by
/// [`naming::spell`]: raw (`r#type`) for a keyword, `self_` for `self`, `_2fa` for `2fa`.
/// Never panics, whatever the name.
pub(crate) fn ident(name: &str) -> Ident {
    let spelled = naming::spell(name);
    match spelled.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(&spelled, Span::call_site()),
    }
}

/// The service trait of the service `service` (`chat` -> `ChatService`), before spelling.
pub(crate) fn service_trait_name(service: &str) -> String {
    format!("{}Service", service.to_upper_camel_case())
}

/// A name the macro puts in a module of the service, next to the names the protocol files
/// re-export there: a file's helper type of the same name would be hidden behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Generated {
    /// The name as rustc sees it (spelled, without `r#`).
    pub(crate) name: String,
    /// The namespace it takes.
    pub(crate) namespace: Namespace,
    /// What it is, for messages ("the typed client").
    pub(crate) what: String,
}

/// Every name the macro generates in the module of a protocol folder: a module per file and
/// per sub-folder, and in the service's own module (`root`) the glue: `Client`, `Server`,
/// `RunningServer`, `Msg`, `ConnectionExt`, the service trait and `service_proto`. The
/// renderers' output is tested against this list.
pub(crate) fn module_names(service: &str, module: &ModuleDef, root: bool) -> Vec<Generated> {
    let rust = rust_name;
    let mut out = Vec::new();
    let mut push = |name: String, namespace, what: String| {
        out.push(Generated {
            name,
            namespace,
            what,
        })
    };
    if root {
        for (name, namespace, what) in [
            ("Client", Namespace::Type, "the typed client"),
            ("Server", Namespace::Type, "the server builder"),
            ("RunningServer", Namespace::Type, "the running server"),
            ("Msg", Namespace::Type, "the enum of every message"),
            (
                "ConnectionExt",
                Namespace::Type,
                "the trait of typed sends on a connection",
            ),
            (
                "service_proto",
                Namespace::Value,
                "the function returning the service proto",
            ),
        ] {
            push(name.to_owned(), namespace, what.to_owned());
        }
        push(
            rust(&service_trait_name(service)),
            Namespace::Type,
            "the service trait (one handler per API)".to_owned(),
        );
    }
    for f in &module.files {
        let what = format!("the module of `{}.rs`", f.stem);
        push(rust(&f.stem), Namespace::Type, what);
    }
    for c in &module.children {
        let what = format!("the module of the folder `{}/`", c.name);
        push(rust(&c.name), Namespace::Type, what);
    }
    out
}

/// A name as rustc sees it: [`ident`]'s spelling without the `r#` of a raw identifier
/// (`match` -> `match`, `self` -> `self_`, `2fa` -> `_2fa`).
pub(crate) fn rust_name(name: &str) -> String {
    let spelled = ident(name).to_string();
    match spelled.strip_prefix("r#") {
        Some(raw) => raw.to_owned(),
        None => spelled,
    }
}

/// `#[doc = ".."]` for each line.
pub(crate) fn docs<S: AsRef<str>>(lines: &[S]) -> TokenStream {
    let lines = lines.iter().map(AsRef::as_ref);
    quote!(#(#[doc = #lines])*)
}

/// Summary line, then the protocol type's own doc comment.
pub(crate) fn docs_with(summary: &str, type_docs: &[String]) -> TokenStream {
    let mut lines = vec![format!(" {summary}")];
    if !type_docs.is_empty() {
        lines.push(String::new());
        lines.extend(type_docs.iter().cloned());
    }
    docs(&lines)
}

fn folder_type(folder: &[String], ty: &str) -> TokenStream {
    let folder = folder.iter().map(|f| ident(f));
    let ty = ident(ty);
    quote!(#(#folder::)* #ty)
}

impl ApiDef {
    /// The request type, as named from the service module.
    pub(crate) fn req_ty(&self) -> TokenStream {
        match &self.source {
            Source::Folder { folder, .. } => folder_type(folder, &self.req),
            Source::Extra { path } => quote!(#path),
        }
    }
    /// The response type, as named from the service module.
    pub(crate) fn res_ty(&self, rt: &TokenStream) -> TokenStream {
        match &self.source {
            Source::Folder { folder, .. } => folder_type(folder, &self.res),
            Source::Extra { path } => quote!(<#path as #rt::Api>::Res),
        }
    }
    /// The service name as an expression (a literal, or the derive's `NAME` for extras).
    pub(crate) fn name_expr(&self, rt: &TokenStream) -> TokenStream {
        match &self.source {
            Source::Folder { .. } => {
                let name = &self.name;
                quote!(#name)
            }
            Source::Extra { path } => quote!(<#path as #rt::Api>::NAME),
        }
    }
    /// `call_login`, `call_login_with`, `implement_api_login`, and the service trait's `login`.
    pub(crate) fn call_fn(&self) -> Ident {
        ident(&format!("call_{}", self.method))
    }
    pub(crate) fn call_with_fn(&self) -> Ident {
        ident(&format!("call_{}_with", self.method))
    }
    pub(crate) fn implement_fn(&self) -> Ident {
        ident(&format!("implement_api_{}", self.method))
    }
    pub(crate) fn handler_fn(&self) -> Ident {
        ident(&self.method)
    }
    /// How the docs name it: "API `Login`" or "the API of `crate::x::ReqEcho`".
    pub(crate) fn described(&self) -> String {
        match &self.source {
            Source::Folder { .. } => format!("API `{}`", self.name),
            Source::Extra { path } => format!(
                "the API of `{}`",
                quote!(#path).to_string().replace(' ', "")
            ),
        }
    }
}

impl MsgDef {
    /// The message type, as named from the service module.
    pub(crate) fn ty(&self) -> TokenStream {
        match &self.source {
            Source::Folder { folder, .. } => folder_type(folder, &self.ty),
            Source::Extra { path } => quote!(#path),
        }
    }
    /// The service name as an expression.
    pub(crate) fn name_expr(&self, rt: &TokenStream) -> TokenStream {
        match &self.source {
            Source::Folder { .. } => {
                let name = &self.name;
                quote!(#name)
            }
            Source::Extra { path } => quote!(<#path as #rt::Message>::NAME),
        }
    }
    pub(crate) fn send_fn(&self) -> Ident {
        ident(&format!("send_msg_{}", self.method))
    }
    pub(crate) fn listen_fn(&self) -> Ident {
        ident(&format!("listen_msg_{}", self.method))
    }
    pub(crate) fn broadcast_fn(&self) -> Ident {
        ident(&format!("broadcast_msg_{}", self.method))
    }
    pub(crate) fn broadcast_to_fn(&self) -> Ident {
        ident(&format!("broadcast_msg_{}_to", self.method))
    }
    pub(crate) fn broadcast_room_fn(&self) -> Ident {
        ident(&format!("broadcast_msg_{}_to_room", self.method))
    }
    pub(crate) fn variant_ident(&self) -> Ident {
        ident(&self.variant)
    }
    /// How the docs name it: "message `Chat`" or "the message `crate::x::MsgEcho`".
    pub(crate) fn described(&self) -> String {
        match &self.source {
            Source::Folder { .. } => format!("message `{}`", self.name),
            Source::Extra { path } => format!(
                "the message `{}`",
                quote!(#path).to_string().replace(' ', "")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::model::{FileDef, FileKind, Origin, ServiceModel};

    fn file(stem: &str, kind: FileKind) -> FileDef {
        FileDef {
            stem: stem.to_owned(),
            path: PathBuf::from(format!("/p/{stem}.rs")),
            display: format!("p/{stem}.rs"),
            kind,
            items: Some(Vec::new()),
            names: Vec::new(),
            inline: None,
            conf: None,
        }
    }

    /// The names of `items` that rustc puts in the module, with their namespace.
    fn item_names(items: &[syn::Item]) -> Vec<(String, Namespace)> {
        let mut out: Vec<(String, Namespace)> = items
            .iter()
            .filter_map(|item| match item {
                syn::Item::Struct(s) => Some((&s.ident, Namespace::Type)),
                syn::Item::Enum(e) => Some((&e.ident, Namespace::Type)),
                syn::Item::Trait(t) => Some((&t.ident, Namespace::Type)),
                syn::Item::Mod(m) => Some((&m.ident, Namespace::Type)),
                syn::Item::Fn(f) => Some((&f.sig.ident, Namespace::Value)),
                syn::Item::Const(c) if c.ident != "_" => Some((&c.ident, Namespace::Value)),
                syn::Item::Static(s) => Some((&s.ident, Namespace::Value)),
                syn::Item::Type(t) => Some((&t.ident, Namespace::Type)),
                _ => None,
            })
            .map(|(i, ns)| (syn::ext::IdentExt::unraw(i).to_string(), ns))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn listed(generated: Vec<Generated>) -> Vec<(String, Namespace)> {
        let mut out: Vec<_> = generated
            .into_iter()
            .map(|g| (g.name, g.namespace))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// [`module_names`] lists exactly what the renderers put in the service module and in a
    /// folder's module: a new generated item must be added there, or helpers could clash with
    /// it unnoticed.
    #[test]
    fn module_names_are_what_is_rendered() {
        let origin = Origin {
            file: "p/x.rs".into(),
            line: 1,
            column: 1,
        };
        let room = ModuleDef {
            name: "match".into(),
            files: vec![file(
                "msg_user_join",
                FileKind::Msg {
                    base: "UserJoin".into(),
                },
            )],
            children: Vec::new(),
        };
        let module = ModuleDef {
            name: String::new(),
            files: vec![
                file(
                    "ptl_login",
                    FileKind::Ptl {
                        base: "Login".into(),
                    },
                ),
                file("type", FileKind::Other),
            ],
            children: vec![room],
        };
        let model = ServiceModel {
            name: "chat".into(),
            display_root: "p".into(),
            root: PathBuf::from("/p"),
            module,
            apis: vec![ApiDef {
                name: "Login".into(),
                method: "login".into(),
                variant: "Login".into(),
                req: "ReqLogin".into(),
                res: "ResLogin".into(),
                docs: Vec::new(),
                source: Source::Folder {
                    folder: Vec::new(),
                    origin: origin.clone(),
                },
                derived: false,
                conf: None,
            }],
            msgs: vec![MsgDef {
                name: "match/UserJoin".into(),
                method: "match_user_join".into(),
                variant: "MatchUserJoin".into(),
                ty: "MsgUserJoin".into(),
                docs: Vec::new(),
                source: Source::Folder {
                    folder: vec!["match".into()],
                    origin,
                },
                derived: false,
                conf: None,
            }],
        };
        let tokens = crate::render::generate(&model, &syn::parse_quote!(::rpc_runtime));
        let file: syn::File = syn::parse2(tokens).unwrap();
        let rendered = item_names(&file.items);
        assert_eq!(rendered, listed(module_names("chat", &model.module, true)));
        assert!(
            rendered.iter().any(|(n, _)| n == "ChatService"),
            "{rendered:?}"
        );
        let folder = file
            .items
            .iter()
            .find_map(|i| match i {
                syn::Item::Mod(m) if m.ident == "r#match" => m.content.as_ref(),
                _ => None,
            })
            .expect("the folder's module");
        assert_eq!(
            item_names(&folder.1),
            listed(module_names("chat", &model.module.children[0], false))
        );
    }
}
