//! `pub enum Msg`: one variant per message, decoded by name (regex listeners hand these over).

use proc_macro2::TokenStream;
use quote::quote;

use super::ident::docs_with;
use super::Render;
use crate::model::Source;

impl Render<'_> {
    pub(crate) fn render_msg_enum(&self) -> TokenStream {
        let rt = &self.rt;
        let msgs = &self.model.msgs;
        let doc = format!(
            " Every message of service `{}`, as handed over by `listen_msg_matching`.",
            self.model.name
        );
        let variants = msgs.iter().map(|m| {
            let (v, ty) = (m.variant_ident(), m.ty());
            let docs = docs_with(&format!("{}.", capitalize(&m.described())), &m.docs);
            quote!(#docs #v(#ty))
        });
        let decode_arms = msgs.iter().map(|m| {
            let (v, ty) = (m.variant_ident(), m.ty());
            let body = quote!(#rt::decode_json::<#ty>(json).map(|m| ::core::option::Option::Some(Msg::#v(m))));
            match &m.source {
                Source::Folder { .. } => {
                    let name = &m.name;
                    quote!(#name => #body,)
                }
                Source::Extra { .. } => {
                    let name = m.name_expr(rt);
                    quote!(n if n == #name => #body,)
                }
            }
        });
        let name_arms = msgs.iter().map(|m| {
            let (v, name) = (m.variant_ident(), m.name_expr(rt));
            quote!(Msg::#v(_) => #name,)
        });
        let debug_arms = msgs.iter().map(|m| {
            let v = m.variant_ident();
            let label = &m.variant;
            quote! {
                Msg::#v(m) => ::core::write!(
                    f,
                    "{}({})",
                    #label,
                    #rt::serde_json::to_string(m).map_err(|_| ::core::fmt::Error)?
                ),
            }
        });
        let froms = msgs.iter().map(|m| {
            let (v, ty) = (m.variant_ident(), m.ty());
            quote! {
                impl ::core::convert::From<#ty> for Msg {
                    #[inline]
                    fn from(m: #ty) -> Self {
                        Msg::#v(m)
                    }
                }
            }
        });
        let (self_match, json_use) = if msgs.is_empty() {
            (quote!(match *self {}), quote!(let _ = json;))
        } else {
            (quote!(match self { #(#name_arms)* }), quote!())
        };
        let debug_body = if msgs.is_empty() {
            quote!(let _ = f; match *self {})
        } else {
            quote!(match self { #(#debug_arms)* })
        };
        quote! {
            #[doc = #doc]
            pub enum Msg {
                #(#variants,)*
            }

            impl #rt::MsgEnum for Msg {
                #[inline]
                fn decode(
                    name: &str,
                    json: &str,
                ) -> ::core::result::Result<::core::option::Option<Self>, ::std::string::String> {
                    #json_use
                    match name {
                        #(#decode_arms)*
                        _ => ::core::result::Result::Ok(::core::option::Option::None),
                    }
                }

                #[inline]
                fn name(&self) -> &'static str {
                    #self_match
                }
            }

            impl ::core::fmt::Debug for Msg {
                /// The variant and the message as JSON.
                #[inline]
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    #debug_body
                }
            }

            #(#froms)*
        }
    }
}

/// "message `Chat`" -> "Message `Chat`".
pub(crate) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
