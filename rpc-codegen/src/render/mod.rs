//! Model -> tokens. [`generate`] stitches the parts; each part has its own file:
//! `proto.rs` (trait impls and `service_proto()`), `msg_enum.rs` (`Msg`), `client.rs`
//! (`Client`), `server.rs` (`Server`, `RunningServer`, `ConnectionExt`, the service trait);
//! `warn.rs` the warnings the service macro gives (an empty or unwatched protocol folder).
//! Generated code reaches the runtime only through `<crate>::__codegen`.

mod client;
pub(crate) mod ident;
mod msg_enum;
mod proto;
mod server;
pub(crate) mod warn;

use proc_macro2::TokenStream;
use quote::quote;

use crate::lock::MacroProto;
use crate::model::{ModuleDef, ServiceModel};

/// What the renderers share: the model and the path of the runtime's codegen module.
#[derive(Debug)]
pub(crate) struct Render<'a> {
    pub(crate) model: &'a ServiceModel,
    /// TSRPC's proto of the folder (ids from the lock), for `service_proto()`.
    pub(crate) tsrpc: &'a MacroProto,
    /// `::rpc_runtime::__codegen` (or `<crate>::__codegen`).
    pub(crate) rt: TokenStream,
}

impl Render<'_> {
    /// `ChatService`.
    pub(crate) fn trait_ident(&self) -> syn::Ident {
        ident::ident(&ident::service_trait_name(&self.model.name))
    }
}

/// The default path of the runtime crate.
pub(crate) fn default_crate() -> syn::Path {
    syn::parse_quote!(::rpc_runtime)
}

/// Everything generated inside the service module: the protocol files' modules, the
/// `include_str!`s that make cargo rebuild when one changes, and the glue. TSRPC ids come from
/// the folder's proto lock ([`crate::lock`]); a stale lock, which the macro reports, gives none.
pub fn generate(model: &ServiceModel, krate: &syn::Path) -> TokenStream {
    let tsrpc = crate::lock::for_macro(model).unwrap_or(MacroProto::Unavailable);
    generate_with(model, krate, &tsrpc)
}

/// [`generate`] with the folder's TSRPC proto already resolved (the macro reports a stale lock).
pub(crate) fn generate_with(
    model: &ServiceModel,
    krate: &syn::Path,
    tsrpc: &MacroProto,
) -> TokenStream {
    let cx = Render {
        model,
        tsrpc,
        rt: quote!(#krate::__codegen),
    };
    let modules = render_modules(&model.module);
    let impls = cx.render_impls();
    let proto = cx.render_proto();
    let proto_json = cx.render_tsrpc_proto_const();
    let names = cx.render_extra_name_checks();
    let msg_enum = cx.render_msg_enum();
    let client = cx.render_client();
    let server = cx.render_server();
    quote! {
        #modules
        #impls
        #proto
        #proto_json
        #names
        #msg_enum
        #client
        #server
    }
}

/// A `#[path] mod` plus `pub use` for every file that parses, and a `pub mod` per sub-folder.
pub(crate) fn render_modules(module: &ModuleDef) -> TokenStream {
    let files = module.files.iter().map(|f| {
        let stem = ident::ident(&f.stem);
        if let Some(text) = &f.inline {
            // A file held in memory (an imported TSRPC proto): its text, inline. The parser
            // read it already, so it is Rust.
            let body: TokenStream = text.parse().unwrap_or_default();
            return quote! {
                mod #stem {
                    #body
                }
                #[allow(unused_imports)]
                pub use #stem::*;
            };
        }
        let path = f.path.to_string_lossy();
        if f.items.is_none() {
            // The file does not parse, and the macro said so: declared as a module, it would
            // be reported again by rustc (and by the derives on what rustc's parser recovers).
            // Only watched, so that fixing it rebuilds.
            return quote! {
                const _: &str = ::core::include_str!(#path);
            };
        }
        quote! {
            #[path = #path]
            mod #stem;
            #[allow(unused_imports)]
            pub use #stem::*;
            const _: &str = ::core::include_str!(#path);
        }
    });
    let children = module.children.iter().map(|c| {
        let name = ident::ident(&c.name);
        let inner = render_modules(c);
        let doc = format!(" Protocols of the `{}` folder.", c.name);
        quote! {
            #[doc = #doc]
            #[allow(non_snake_case)]
            pub mod #name {
                #inner
            }
        }
    });
    quote!(#(#files)* #(#children)*)
}

/// Pretty-prints generated tokens (for snapshots, `RPC_CODEGEN_DEBUG` and the CLI).
pub fn pretty(tokens: &TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => tokens.to_string(),
    }
}
