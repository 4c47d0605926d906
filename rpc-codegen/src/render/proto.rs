//! Trait impls for the protocol folder's types, `service_proto()`, and the compile-time name
//! checks of hand-declared (extra) types.

use proc_macro2::TokenStream;
use quote::quote;

use super::Render;
use crate::import::proto::{Layout, ServiceKind};
use crate::lock::MacroProto;
use crate::model::Source;

impl Render<'_> {
    /// `impl Message for MsgChat`, `impl Api for ReqLogin` (folder types only: extras have
    /// their derive; so does a folder type that derives it by mistake, which is an error).
    pub(crate) fn render_impls(&self) -> TokenStream {
        let rt = &self.rt;
        let apis = self
            .model
            .apis
            .iter()
            .filter(|a| matches!(a.source, Source::Folder { .. }) && !a.derived)
            .map(|a| {
                let (req, res, name) = (a.req_ty(), a.res_ty(rt), &a.name);
                quote! {
                    impl #rt::Api for #req {
                        const NAME: &'static str = #name;
                        type Res = #res;
                    }
                }
            });
        let msgs = self
            .model
            .msgs
            .iter()
            .filter(|m| matches!(m.source, Source::Folder { .. }) && !m.derived)
            .map(|m| {
                let (ty, name) = (m.ty(), &m.name);
                quote! {
                    impl #rt::Message for #ty {
                        const NAME: &'static str = #name;
                    }
                }
            });
        quote!(#(#apis)* #(#msgs)*)
    }

    /// `pub fn service_proto() -> ServiceProto`: every API and message with its JSON Schema
    /// and TSRPC service id, and TSRPC's proto JSON (the lock file's text through
    /// `include_str!`, so an edit of the lock rebuilds the crate; fresh ids without a lock).
    pub(crate) fn render_proto(&self) -> TokenStream {
        let rt = &self.rt;
        let name = &self.model.name;
        let tsrpc = match self.tsrpc {
            MacroProto::Lock { proto, .. }
            | MacroProto::Fresh(proto)
            | MacroProto::Imported(proto) => Some(proto),
            MacroProto::Unavailable => None,
        };
        let id = |kind: ServiceKind, name: &str| {
            tsrpc.and_then(|p| {
                p.services
                    .iter()
                    .find(|s| s.kind == kind && s.name == name)
                    .map(|s| s.id)
            })
        };
        // `.with_id(..)` from the proto, `.with_conf(..)` from the file's `const CONF`.
        let extras = |id: Option<u32>, conf: &Option<String>| {
            let id = id.map(|id| {
                let id = proc_macro2::Literal::u32_unsuffixed(id);
                quote!(.with_id(#id))
            });
            let conf = conf.as_ref().map(|c| quote!(.with_conf(#c)));
            quote!(#id #conf)
        };
        let apis = self.model.apis.iter().map(|a| {
            let req = a.req_ty();
            let id =
                id(ServiceKind::Api, &a.name).filter(|_| matches!(a.source, Source::Folder { .. }));
            if id.is_none() && a.conf.is_none() {
                return quote!(.with_api::<#req>());
            }
            let extras = extras(id, &a.conf);
            quote!(.with(#rt::ServiceDef::api::<#req>() #extras))
        });
        let msgs = self.model.msgs.iter().map(|m| {
            let ty = m.ty();
            let id =
                id(ServiceKind::Msg, &m.name).filter(|_| matches!(m.source, Source::Folder { .. }));
            if id.is_none() && m.conf.is_none() {
                return quote!(.with_msg::<#ty>());
            }
            let extras = extras(id, &m.conf);
            quote!(.with(#rt::ServiceDef::msg::<#ty>() #extras))
        });
        let json = match self.tsrpc_proto_expr() {
            Some(text) => quote!(.with_tsrpc_proto(#text)),
            None => TokenStream::new(),
        };
        let ids = match self.tsrpc {
            MacroProto::Lock { .. } => " Ids come from the proto lock.",
            MacroProto::Fresh(_) => " Ids are fresh: there is no proto lock.",
            MacroProto::Imported(_) => " Ids come from the imported TSRPC proto.",
            MacroProto::Unavailable => "",
        };
        let doc = format!(
            " The service proto of `{name}`: the name, kind, JSON Schema and TSRPC id of each of its {} APIs and {} messages.{ids}",
            self.model.apis.len(),
            self.model.msgs.len()
        );
        quote! {
            #[doc = #doc]
            #[inline]
            pub fn service_proto() -> #rt::ServiceProto {
                #rt::ServiceProto::new(#name)
                    #(#apis)*
                    #(#msgs)*
                    #json
            }
        }
    }

    /// The expression of TSRPC's proto JSON (a `&'static str`): the lock file's text through
    /// `include_str!`, the fresh proto's text, or the import's `TSRPC_PROTO`.
    pub(crate) fn tsrpc_proto_expr(&self) -> Option<TokenStream> {
        match self.tsrpc {
            MacroProto::Lock { .. } | MacroProto::Fresh(_) => Some(quote!(__TSRPC_PROTO_JSON)),
            // The same text, emitted once by the import as the module's `TSRPC_PROTO`.
            MacroProto::Imported(_) => Some(quote!(TSRPC_PROTO)),
            MacroProto::Unavailable => None,
        }
    }

    /// `const __TSRPC_PROTO_JSON: &str`, the text [`tsrpc_proto_expr`](Self::tsrpc_proto_expr)
    /// names for a protocol folder (one `'static` text, so the runtime reads it once for the
    /// server and every client).
    pub(crate) fn render_tsrpc_proto_const(&self) -> TokenStream {
        let text = match self.tsrpc {
            MacroProto::Lock { path, .. } => {
                let path = path.to_string_lossy();
                quote!(::core::include_str!(#path))
            }
            MacroProto::Fresh(proto) => {
                let text = proto.to_json_text(Layout::Compact);
                quote!(#text)
            }
            MacroProto::Imported(_) | MacroProto::Unavailable => return TokenStream::new(),
        };
        quote! {
            /// TSRPC's service proto of this folder, as JSON (binary mode reads it).
            #[doc(hidden)]
            pub const __TSRPC_PROTO_JSON: &str = #text;
        }
    }

    /// Hand-declared types get their name from their derive, which only rustc sees: a
    /// constant check fails the build when one repeats another name of its kind.
    pub(crate) fn render_extra_name_checks(&self) -> TokenStream {
        let rt = &self.rt;
        let mut checks = Vec::new();
        let mut pairs = |kind: &str, names: Vec<(TokenStream, String, bool)>| {
            for (i, (a, a_desc, a_extra)) in names.iter().enumerate() {
                for (b, b_desc, b_extra) in &names[..i] {
                    if *a_extra || *b_extra {
                        let msg = format!(
                            "two {kind}s of service `{}` have the same name: {b_desc} and {a_desc}",
                            self.model.name
                        );
                        checks.push(quote! {
                            if eq(#a, #b) { ::core::panic!(#msg) }
                        });
                    }
                }
            }
        };
        let describe = |source: &Source, desc: String| match source {
            Source::Folder { origin, .. } => (format!("{desc} ({origin})"), false),
            Source::Extra { .. } => (desc, true),
        };
        pairs(
            "API",
            self.model
                .apis
                .iter()
                .map(|a| {
                    let (d, extra) = describe(&a.source, a.described());
                    (a.name_expr(rt), d, extra)
                })
                .collect(),
        );
        pairs(
            "message",
            self.model
                .msgs
                .iter()
                .map(|m| {
                    let (d, extra) = describe(&m.source, m.described());
                    (m.name_expr(rt), d, extra)
                })
                .collect(),
        );
        if checks.is_empty() {
            return TokenStream::new();
        }
        quote! {
            const _: () = {
                const fn eq(a: &str, b: &str) -> bool {
                    let (a, b) = (a.as_bytes(), b.as_bytes());
                    if a.len() != b.len() {
                        return false;
                    }
                    let mut i = 0;
                    while i < a.len() {
                        if a[i] != b[i] {
                            return false;
                        }
                        i += 1;
                    }
                    true
                }
                #(#checks)*
            };
        }
    }
}
