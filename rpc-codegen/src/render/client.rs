//! `pub struct Client<T = WsClient>`: typed calls and sends on every transport, typed
//! listeners on the WebSocket client only.

use proc_macro2::TokenStream;
use quote::quote;

use super::ident::docs_with;
use super::Render;

impl Render<'_> {
    pub(crate) fn render_client(&self) -> TokenStream {
        let rt = &self.rt;
        let name = &self.model.name;
        let doc = format!(
            " Typed client of service `{name}`: `call_*` per API and `send_msg_*` per message on \
             every transport; `listen_msg_*` on the WebSocket client only."
        );
        let doc2 = " Dereferences to the runtime client (`connect`, `disconnect`, `flows`, `unlisten_msg`, ...).";

        let calls = self.model.apis.iter().map(|a| {
            let (call, call_with) = (a.call_fn(), a.call_with_fn());
            let (req, res) = (a.req_ty(), a.res_ty(rt));
            let what = a.described();
            let docs = docs_with(&format!("Calls {what}."), &a.docs);
            let docs_with_opts = docs_with(
                &format!("Calls {what} with per-call options (timeout, abort key)."),
                &a.docs,
            );
            quote! {
                #docs
                #[inline]
                pub async fn #call(&self, req: #req) -> #rt::ApiReturn<#res> {
                    #rt::RpcClient::call_api::<#req>(&self.inner, req).await
                }

                #docs_with_opts
                #[inline]
                pub async fn #call_with(&self, req: #req, options: #rt::CallOptions) -> #rt::ApiReturn<#res> {
                    #rt::RpcClient::call_api_with::<#req>(&self.inner, req, options).await
                }
            }
        });
        let sends = self.model.msgs.iter().map(|m| {
            let (send, ty) = (m.send_fn(), m.ty());
            let docs = docs_with(&format!("Sends {}.", m.described()), &m.docs);
            quote! {
                #docs
                #[inline]
                pub async fn #send(&self, msg: &#ty) -> ::core::result::Result<(), #rt::TsrpcError> {
                    #rt::RpcClient::send_msg::<#ty>(&self.inner, msg).await
                }
            }
        });
        let listens = self.model.msgs.iter().map(|m| {
            let (listen, ty) = (m.listen_fn(), m.ty());
            let docs = docs_with(
                &format!(
                    "Listens to {}: `handler` gets each one received, in order. Returns the handle \
                     that `unlisten_msg` takes.",
                    m.described()
                ),
                &m.docs,
            );
            quote! {
                #docs
                #[inline]
                pub fn #listen(
                    &self,
                    handler: impl ::core::ops::Fn(#ty) + ::core::marker::Send + ::core::marker::Sync + 'static,
                ) -> #rt::ListenerHandle {
                    self.inner.listen_msg::<#ty>(handler)
                }
            }
        });
        // Binary mode needs TSRPC's proto: the clients made here get it.
        let set_proto = match self.tsrpc_proto_expr() {
            Some(text) => quote! {
                let mut options = options;
                if options.tsrpc_proto.is_none() {
                    options.tsrpc_proto = ::core::option::Option::Some(#text);
                }
            },
            None => TokenStream::new(),
        };
        quote! {
            #[doc = #doc]
            ///
            #[doc = #doc2]
            #[derive(Clone, Debug)]
            pub struct Client<T = #rt::WsClient> {
                inner: T,
            }

            impl<T> Client<T> {
                /// Wraps a runtime client.
                #[inline]
                pub fn from_inner(inner: T) -> Self {
                    Client { inner }
                }
                /// The runtime client.
                #[inline]
                pub fn into_inner(self) -> T {
                    self.inner
                }
            }

            impl<T> ::core::ops::Deref for Client<T> {
                type Target = T;
                #[inline]
                fn deref(&self) -> &T {
                    &self.inner
                }
            }

            impl Client<#rt::WsClient> {
                /// A WebSocket client for `url` (`ws://host:port/path`); call `connect()` before use.
                /// Binary mode unless `options.json` is set (the client has the service's TSRPC proto).
                #[inline]
                pub fn ws(url: impl ::core::convert::Into<::std::string::String>, options: #rt::WsClientOptions) -> Self {
                    #set_proto
                    Client { inner: #rt::WsClient::new(url, options) }
                }

                #(#listens)*

                /// Listens to every message whose name matches `pattern` (such as `^game/`):
                /// `handler` gets it decoded as [`Msg`], with its name.
                #[inline]
                pub fn listen_msg_matching(
                    &self,
                    pattern: #rt::Regex,
                    handler: impl ::core::ops::Fn(Msg, &str) + ::core::marker::Send + ::core::marker::Sync + 'static,
                ) -> #rt::ListenerHandle {
                    self.inner.listen_msg_matching::<Msg>(pattern, handler)
                }
            }

            impl Client<#rt::HttpClient> {
                /// An HTTP client for `url` (`http://host:port/path`): one POST per call or message.
                /// Binary mode unless `options.json` is set (the client has the service's TSRPC proto).
                #[inline]
                pub fn http(url: impl ::core::convert::Into<::std::string::String>, options: #rt::HttpClientOptions) -> Self {
                    #set_proto
                    Client { inner: #rt::HttpClient::new(url, options) }
                }
            }

            impl<T: #rt::RpcClient> Client<T> {
                #(#calls)*
                #(#sends)*
            }
        }
    }
}
