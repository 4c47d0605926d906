//! Trait impls for the protocol folder's types, `service_proto()`, and the compile-time name
//! checks of hand-declared (extra) types.

use proc_macro2::TokenStream;
use quote::quote;

use super::Render;
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

    /// `pub fn service_proto() -> ServiceProto`.
    pub(crate) fn render_proto(&self) -> TokenStream {
        let rt = &self.rt;
        let name = &self.model.name;
        let apis = self.model.apis.iter().map(|a| a.req_ty());
        let msgs = self.model.msgs.iter().map(|m| m.ty());
        let doc = format!(
            " The service proto of `{name}`: the name, kind and JSON Schema of each of its {} APIs and {} messages.",
            self.model.apis.len(),
            self.model.msgs.len()
        );
        quote! {
            #[doc = #doc]
            #[inline]
            pub fn service_proto() -> #rt::ServiceProto {
                #rt::ServiceProto::new(#name)
                    #(.with_api::<#apis>())*
                    #(.with_msg::<#msgs>())*
            }
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
