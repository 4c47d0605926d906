//! Attribute arguments: `#[service(protocols = "..", crate = "..", extra_apis = [..],
//! extra_msgs = [..])]` (or `tsrpc_proto = ".."` in place of `protocols`, with
//! `skip_unsupported_optional_fields = true`) and the derives' `#[rpc(name = "..", res = Type, crate = "..")]`.
//! Parsers never stop at the first mistake: every bad key is reported, with the valid ones.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Path, Token};

use crate::diagnostic::Ctxt;

/// Key of the protocol folder.
pub(crate) const PROTOCOLS: &str = "protocols";
/// Key of a TSRPC service proto to import (`serviceProto.ts` or its JSON).
pub(crate) const TSRPC_PROTO: &str = "tsrpc_proto";
/// Key of the import option that leaves out optional fields TSRPC cannot send.
pub(crate) const SKIP_UNSUPPORTED: &str = "skip_unsupported_optional_fields";
/// Key of the runtime crate's path.
pub(crate) const CRATE: &str = "crate";
/// Key of the hand-declared APIs to add.
pub(crate) const EXTRA_APIS: &str = "extra_apis";
/// Key of the hand-declared messages to add.
pub(crate) const EXTRA_MSGS: &str = "extra_msgs";
/// Key of a service name.
pub(crate) const NAME: &str = "name";
/// Key of an API's response type.
pub(crate) const RES: &str = "res";

/// Keys of the service attribute.
pub(crate) const SERVICE_KEYS: &[&str] = &[
    PROTOCOLS,
    TSRPC_PROTO,
    SKIP_UNSUPPORTED,
    CRATE,
    EXTRA_APIS,
    EXTRA_MSGS,
];
/// Keys of `#[rpc(..)]` on `#[derive(Message)]`.
pub(crate) const MESSAGE_KEYS: &[&str] = &[NAME, CRATE];
/// Keys of `#[rpc(..)]` on `#[derive(Api)]`.
pub(crate) const API_KEYS: &[&str] = &[NAME, RES, CRATE];

/// One `key = value` argument; the value is kept as tokens until the key is known.
#[derive(Debug)]
pub(crate) struct Arg {
    /// The key (`crate` allowed).
    pub key: Ident,
    /// Everything after `=` up to the next top-level comma.
    pub value: TokenStream,
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key = Ident::parse_any(input)?;
        input
            .parse::<Token![=]>()
            .map_err(|e| syn::Error::new(e.span(), format!("expected `{key} = ...`")))?;
        let mut value = TokenStream::new();
        while !input.is_empty() && !input.peek(Token![,]) {
            value.extend([input.parse::<TokenTree>()?]);
        }
        if value.is_empty() {
            return Err(input.error(format!("expected a value after `{key} =`")));
        }
        Ok(Arg { key, value })
    }
}

/// Parses `key = value, ...`; a syntax error is recorded and ends the list.
pub(crate) fn parse_args(cx: &Ctxt, tokens: TokenStream) -> Vec<Arg> {
    match Punctuated::<Arg, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(list) => list.into_iter().collect(),
        Err(e) => {
            cx.syn_error(e);
            Vec::new()
        }
    }
}

/// Reports a key that is not one of `valid`, listing them.
pub(crate) fn unknown_key(cx: &Ctxt, key: &Ident, valid: &[&str]) {
    let list = valid
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    cx.error_spanned_by(key, format!("unknown key `{key}`, expected one of: {list}"));
}

/// A once-only setting: a second one is an error.
#[derive(Debug)]
pub(crate) struct Once<T> {
    name: &'static str,
    value: Option<T>,
}

impl<T> Once<T> {
    /// An unset value for key `name`.
    pub(crate) fn new(name: &'static str) -> Self {
        Once { name, value: None }
    }
    /// Sets it, or records "duplicate key".
    pub(crate) fn set(&mut self, cx: &Ctxt, key: &Ident, value: T) {
        if self.value.is_some() {
            cx.error_spanned_by(key, format!("duplicate key `{}`", self.name));
        } else {
            self.value = Some(value);
        }
    }
    /// The value, if set.
    pub(crate) fn get(self) -> Option<T> {
        self.value
    }
}

fn parse_value<T: Parse>(cx: &Ctxt, key: &Ident, value: TokenStream, what: &str) -> Option<T> {
    match syn::parse2::<T>(value.clone()) {
        Ok(v) => Some(v),
        Err(_) => {
            cx.error_spanned_by(value, format!("`{key}` expects {what}"));
            None
        }
    }
}

/// A path given as a string literal (`crate = "::my_runtime"`).
fn parse_path_str(cx: &Ctxt, key: &Ident, value: TokenStream) -> Option<Path> {
    let lit: LitStr = parse_value(
        cx,
        key,
        value,
        "a string, as in `crate = \"::rpc_runtime\"`",
    )?;
    match lit.parse_with(Path::parse_mod_style) {
        Ok(p) => Some(p),
        Err(_) => {
            cx.error_spanned_by(
                &lit,
                format!("`{key}` expects a path such as `\"::rpc_runtime\"`"),
            );
            None
        }
    }
}

/// A bracketed list of type paths: `[crate::manual::ReqEcho, ...]`.
struct PathList(Vec<Path>);

impl Parse for PathList {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let content;
        syn::bracketed!(content in input);
        let list = Punctuated::<Path, Token![,]>::parse_terminated(&content)?;
        Ok(PathList(list.into_iter().collect()))
    }
}

/// The service attribute's arguments.
#[derive(Debug, Default)]
pub(crate) struct ServiceArgs {
    /// `protocols = "src/chat"`.
    pub protocols: Option<LitStr>,
    /// `tsrpc_proto = "src/shared/protocols/serviceProto.ts"` (instead of `protocols`).
    pub tsrpc_proto: Option<LitStr>,
    /// `skip_unsupported_optional_fields = true` (with `tsrpc_proto`).
    pub skip_unsupported: Option<syn::LitBool>,
    /// `crate = "..."`: the runtime crate's path (default `::rpc_runtime`).
    pub krate: Option<Path>,
    /// `extra_apis = [..]`: request types of hand-declared APIs.
    pub extra_apis: Vec<Path>,
    /// `extra_msgs = [..]`: hand-declared message types.
    pub extra_msgs: Vec<Path>,
}

impl ServiceArgs {
    /// Parses the attribute's arguments; `span` is where a missing `protocols` is reported.
    pub(crate) fn from_tokens(cx: &Ctxt, tokens: TokenStream, span: Span) -> Self {
        let mut protocols = Once::new(PROTOCOLS);
        let mut tsrpc_proto = Once::new(TSRPC_PROTO);
        let mut skip_unsupported = Once::new(SKIP_UNSUPPORTED);
        let mut krate = Once::new(CRATE);
        let mut apis = Once::new(EXTRA_APIS);
        let mut msgs = Once::new(EXTRA_MSGS);
        for Arg { key, value } in parse_args(cx, tokens) {
            if key == PROTOCOLS {
                let what = "a folder as a string, as in `protocols = \"src/chat\"`";
                if let Some(v) = parse_value::<LitStr>(cx, &key, value, what) {
                    protocols.set(cx, &key, v);
                }
            } else if key == TSRPC_PROTO {
                let what = "a file as a string, as in `tsrpc_proto = \"src/shared/protocols/serviceProto.ts\"`";
                if let Some(v) = parse_value::<LitStr>(cx, &key, value, what) {
                    tsrpc_proto.set(cx, &key, v);
                }
            } else if key == SKIP_UNSUPPORTED {
                let what = "`true` or `false`";
                if let Some(v) = parse_value::<syn::LitBool>(cx, &key, value, what) {
                    skip_unsupported.set(cx, &key, v);
                }
            } else if key == CRATE {
                if let Some(v) = parse_path_str(cx, &key, value) {
                    krate.set(cx, &key, v);
                }
            } else if key == EXTRA_APIS || key == EXTRA_MSGS {
                let what = "a list of types, as in `[crate::manual::ReqEcho]`";
                if let Some(PathList(v)) = parse_value(cx, &key, value, what) {
                    if key == EXTRA_APIS {
                        apis.set(cx, &key, v);
                    } else {
                        msgs.set(cx, &key, v);
                    }
                }
            } else {
                unknown_key(cx, &key, SERVICE_KEYS);
            }
        }
        let protocols = protocols.get();
        let tsrpc_proto = tsrpc_proto.get();
        let skip_unsupported = skip_unsupported.get();
        match (&protocols, &tsrpc_proto) {
            (None, None) => cx.error_at(
                span,
                "missing `protocols = \"<folder>\"`: the folder of protocol files, relative to the crate root (or `tsrpc_proto = \"<serviceProto.ts>\"` to import a TSRPC service proto)",
            ),
            (Some(_), Some(proto)) => cx.error_spanned_by(
                proto,
                "`protocols` and `tsrpc_proto` cannot be used together: a service is a Rust protocol folder or an imported TSRPC proto",
            ),
            _ => {}
        }
        if let (Some(skip), None) = (&skip_unsupported, &tsrpc_proto) {
            cx.error_spanned_by(
                skip,
                "`skip_unsupported_optional_fields` applies to an imported proto: add `tsrpc_proto = \"..\"`",
            );
        }
        ServiceArgs {
            protocols,
            tsrpc_proto,
            skip_unsupported,
            krate: krate.get(),
            extra_apis: apis.get().unwrap_or_default(),
            extra_msgs: msgs.get().unwrap_or_default(),
        }
    }
}

/// `#[rpc(..)]` on a derive.
#[derive(Debug, Default)]
pub(crate) struct RpcAttr {
    /// `name = "room/Echo"`.
    pub name: Option<LitStr>,
    /// `res = ResEcho` (derive(Api) only).
    pub res: Option<syn::Type>,
    /// `crate = "..."`.
    pub krate: Option<Path>,
}

impl RpcAttr {
    /// Reads every `#[rpc(..)]` attribute; `keys` are the valid keys for this derive.
    pub(crate) fn from_attrs(cx: &Ctxt, attrs: &[syn::Attribute], keys: &[&str]) -> Self {
        let mut name = Once::new(NAME);
        let mut res = Once::new(RES);
        let mut krate = Once::new(CRATE);
        for attr in attrs.iter().filter(|a| a.path().is_ident("rpc")) {
            let tokens = match &attr.meta {
                syn::Meta::List(l) => l.tokens.clone(),
                other => {
                    cx.error_spanned_by(other, "expected `#[rpc(key = value, ...)]`");
                    continue;
                }
            };
            for Arg { key, value } in parse_args(cx, tokens) {
                if !keys.iter().any(|k| key == k) {
                    unknown_key(cx, &key, keys);
                } else if key == NAME {
                    let what = "a string, as in `name = \"room/Echo\"`";
                    if let Some(v) = parse_value::<LitStr>(cx, &key, value, what) {
                        name.set(cx, &key, v);
                    }
                } else if key == RES {
                    if let Some(v) =
                        parse_value::<syn::Type>(cx, &key, value, "a type, as in `res = ResEcho`")
                    {
                        res.set(cx, &key, v);
                    }
                } else if key == CRATE {
                    if let Some(v) = parse_path_str(cx, &key, value) {
                        krate.set(cx, &key, v);
                    }
                }
            }
        }
        RpcAttr {
            name: name.get(),
            res: res.get(),
            krate: krate.get(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn service_args() {
        let cx = Ctxt::new();
        let args = ServiceArgs::from_tokens(
            &cx,
            quote!(
                protocols = "src/chat",
                crate = "::my_rt",
                extra_apis = [crate::m::ReqEcho, ReqX]
            ),
            Span::call_site(),
        );
        cx.check().unwrap();
        assert_eq!(args.protocols.unwrap().value(), "src/chat");
        let krate = args.krate.unwrap();
        assert_eq!(quote!(#krate).to_string(), quote!(::my_rt).to_string());
        assert_eq!(args.extra_apis.len(), 2);
        assert!(args.extra_msgs.is_empty());
    }

    #[test]
    fn every_bad_key_is_reported() {
        let cx = Ctxt::new();
        let _ = ServiceArgs::from_tokens(
            &cx,
            quote!(protocol = "src/chat", colour = 3, crate = 5),
            Span::call_site(),
        );
        let msgs = cx.messages();
        cx.check().unwrap_err();
        assert_eq!(msgs.len(), 4, "{msgs:?}");
        assert!(msgs[0].starts_with(
            "unknown key `protocol`, expected one of: `protocols`, `tsrpc_proto`, `skip_unsupported_optional_fields`, `crate`"
        ));
        assert!(msgs[2].contains("`crate` expects a string"));
        assert!(msgs[3].starts_with("missing `protocols"));
    }

    #[test]
    fn tsrpc_proto_key() {
        let cx = Ctxt::new();
        let args = ServiceArgs::from_tokens(
            &cx,
            quote!(
                tsrpc_proto = "p/serviceProto.ts",
                skip_unsupported_optional_fields = true
            ),
            Span::call_site(),
        );
        cx.check().unwrap();
        assert_eq!(args.tsrpc_proto.unwrap().value(), "p/serviceProto.ts");
        assert!(args.skip_unsupported.unwrap().value);
        assert!(args.protocols.is_none());

        let cx = Ctxt::new();
        let _ = ServiceArgs::from_tokens(
            &cx,
            quote!(
                protocols = "src/chat",
                tsrpc_proto = "p.ts",
                skip_unsupported_optional_fields = 1
            ),
            Span::call_site(),
        );
        let msgs = cx.messages();
        cx.check().unwrap_err();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(msgs[0].contains("`skip_unsupported_optional_fields` expects `true` or `false`"));
        assert!(msgs[1].contains("cannot be used together"));

        let cx = Ctxt::new();
        let _ = ServiceArgs::from_tokens(
            &cx,
            quote!(
                protocols = "src/chat",
                skip_unsupported_optional_fields = true
            ),
            Span::call_site(),
        );
        let msgs = cx.messages();
        cx.check().unwrap_err();
        assert!(msgs[0].contains("applies to an imported proto"), "{msgs:?}");
    }

    #[test]
    fn rpc_attr() {
        let cx = Ctxt::new();
        let item: syn::DeriveInput = syn::parse_quote! {
            #[rpc(name = "Echo", res = ResEcho, bogus = 1)]
            struct ReqEcho;
        };
        let attr = RpcAttr::from_attrs(&cx, &item.attrs, API_KEYS);
        let msgs = cx.messages();
        cx.check().unwrap_err();
        assert_eq!(attr.name.unwrap().value(), "Echo");
        assert!(attr.res.is_some());
        assert_eq!(
            msgs,
            vec!["unknown key `bogus`, expected one of: `name`, `res`, `crate`"]
        );
    }
}
