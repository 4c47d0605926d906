//! The typed server side: `Server` (builder), `RunningServer`, `ConnectionExt` and the service
//! trait (one method per API, so a missing handler is a compile error).

use proc_macro2::TokenStream;
use quote::quote;

use super::ident::docs_with;
use super::Render;

impl Render<'_> {
    pub(crate) fn render_server(&self) -> TokenStream {
        let builder = self.render_server_builder();
        let running = self.render_running_server();
        let conn = self.render_connection_ext();
        let service = self.render_service_trait();
        quote!(#builder #running #conn #service)
    }

    fn render_server_builder(&self) -> TokenStream {
        let rt = &self.rt;
        let name = &self.model.name;
        let trait_ident = self.trait_ident();
        let implement = self.model.apis.iter().map(|a| {
            let (f, req, res) = (a.implement_fn(), a.req_ty(), a.res_ty(rt));
            let docs = docs_with(
                &format!("Handles {}: `handler` gets each call and returns the response or an error.", a.described()),
                &a.docs,
            );
            quote! {
                #docs
                #[inline]
                pub fn #f<F, Fut>(self, handler: F) -> Self
                where
                    F: ::core::ops::Fn(#rt::ApiCall<#req>) -> Fut + ::core::marker::Send + ::core::marker::Sync + 'static,
                    Fut: ::core::future::Future<Output = #rt::HandlerResult<#res>> + ::core::marker::Send + 'static,
                {
                    Server { inner: self.inner.implement_api::<#req, F, Fut>(handler) }
                }
            }
        });
        let listen = self.model.msgs.iter().map(|m| {
            let (f, ty) = (m.listen_fn(), m.ty());
            let docs = docs_with(
                &format!(
                    "Listens to {}: `handler` gets each one received; messages of one connection are handled in order.",
                    m.described()
                ),
                &m.docs,
            );
            quote! {
                #docs
                #[inline]
                pub fn #f<F, Fut>(self, handler: F) -> Self
                where
                    F: ::core::ops::Fn(#rt::MsgCall<#ty>) -> Fut + ::core::marker::Send + ::core::marker::Sync + 'static,
                    Fut: ::core::future::Future<Output = ()> + ::core::marker::Send + 'static,
                {
                    Server { inner: self.inner.listen_msg::<#ty, F, Fut>(handler) }
                }
            }
        });
        let serve = self.model.apis.iter().map(|a| {
            let (f, h, req) = (a.implement_fn(), a.handler_fn(), a.req_ty());
            quote! {
                let this = {
                    let service = ::std::sync::Arc::clone(&service);
                    this.#f(move |call: #rt::ApiCall<#req>| {
                        let service = ::std::sync::Arc::clone(&service);
                        async move { service.#h(call).await }
                    })
                };
            }
        });
        let doc = format!(
            " Typed server of service `{name}`: `implement_api_*` per API (or [`Server::serve`] with a \
             [`{trait_ident}`]), `listen_msg_*` per message, then `start()`."
        );
        let ctor = |f: TokenStream, transport: &str| {
            let doc = format!(" A server of this service over {transport}, to bind `addr` (port 0 picks a free one).");
            quote! {
                #[doc = #doc]
                #[inline]
                pub fn #f(addr: ::std::net::SocketAddr, options: #rt::ServerOptions) -> Self {
                    Server { inner: #rt::Server::#f(service_proto(), addr, options) }
                }
            }
        };
        let ws = ctor(quote!(ws), "WebSocket");
        let http = ctor(quote!(http), "HTTP");
        let both = ctor(quote!(ws_and_http), "WebSocket and HTTP on one port");
        quote! {
            #[doc = #doc]
            ///
            /// Dereferences to the runtime server (flows, options).
            pub struct Server {
                inner: #rt::Server,
            }

            impl ::core::fmt::Debug for Server {
                #[inline]
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct("Server").finish_non_exhaustive()
                }
            }

            impl ::core::ops::Deref for Server {
                type Target = #rt::Server;
                #[inline]
                fn deref(&self) -> &#rt::Server {
                    &self.inner
                }
            }

            impl ::core::ops::DerefMut for Server {
                #[inline]
                fn deref_mut(&mut self) -> &mut #rt::Server {
                    &mut self.inner
                }
            }

            impl Server {
                #ws
                #http
                #both

                /// Wraps a runtime server built for [`service_proto()`].
                #[inline]
                pub fn from_inner(inner: #rt::Server) -> Self {
                    Server { inner }
                }

                /// The runtime server.
                #[inline]
                pub fn into_inner(self) -> #rt::Server {
                    self.inner
                }

                /// Applies `f` to the runtime server (for its own builder methods).
                #[inline]
                pub fn map(self, f: impl ::core::ops::FnOnce(#rt::Server) -> #rt::Server) -> Self {
                    Server { inner: f(self.inner) }
                }

                #(#implement)*

                #(#listen)*

                /// Listens to every message whose name matches `pattern`, decoded as [`Msg`].
                #[inline]
                pub fn listen_msg_matching<F, Fut>(self, pattern: #rt::Regex, handler: F) -> Self
                where
                    F: ::core::ops::Fn(#rt::MsgCall<Msg>) -> Fut + ::core::marker::Send + ::core::marker::Sync + 'static,
                    Fut: ::core::future::Future<Output = ()> + ::core::marker::Send + 'static,
                {
                    Server { inner: self.inner.listen_msg_matching::<Msg, F, Fut>(pattern, handler) }
                }

                /// Implements every API with `service`: the trait makes a missing handler a compile error.
                #[inline]
                pub fn serve<S: #trait_ident>(self, service: ::std::sync::Arc<S>) -> Self {
                    let this = self;
                    #(#serve)*
                    let _ = service;
                    this
                }

                /// Lets `start()` succeed with APIs left unimplemented (a call to one gets
                /// `UNHANDLED_API`).
                #[inline]
                pub fn allow_unimplemented(self) -> Self {
                    Server { inner: self.inner.allow_unimplemented() }
                }

                /// Binds and starts serving; fails when an API is unimplemented (unless allowed).
                #[inline]
                pub async fn start(self) -> ::core::result::Result<RunningServer, #rt::StartError> {
                    self.inner.start().await.map(|inner| RunningServer { inner })
                }
            }
        }
    }

    fn render_running_server(&self) -> TokenStream {
        let rt = &self.rt;
        let broadcasts = self.model.msgs.iter().map(|m| {
            let (f, f_to, f_room, ty) =
                (m.broadcast_fn(), m.broadcast_to_fn(), m.broadcast_room_fn(), m.ty());
            let what = m.described();
            let docs = docs_with(&format!("Sends {what} to every connection (encoded once; of every instance, with a cluster adapter)."), &m.docs);
            let docs_to = docs_with(&format!("Sends {what} to the connections `conns`."), &m.docs);
            let docs_room = docs_with(
                &format!("Sends {what} to the connections in `room` (of every instance, with a cluster adapter)."),
                &m.docs,
            );
            quote! {
                #docs
                #[inline]
                pub async fn #f(&self, msg: &#ty) -> ::core::result::Result<(), #rt::TsrpcError> {
                    self.inner.broadcast_msg::<#ty>(msg).await
                }

                #docs_to
                #[inline]
                pub async fn #f_to(&self, msg: &#ty, conns: &[#rt::Connection]) -> ::core::result::Result<(), #rt::TsrpcError> {
                    self.inner.broadcast_msg_to::<#ty>(msg, conns).await
                }

                #docs_room
                #[inline]
                pub async fn #f_room(&self, room: &str, msg: &#ty) -> ::core::result::Result<(), #rt::TsrpcError> {
                    self.inner.broadcast_msg_to_room::<#ty>(room, msg).await
                }
            }
        });
        quote! {
            /// A started server of this service: `broadcast_msg_*` per message. Dereferences to
            /// the runtime's (`local_addr`, `connections`, `stop`).
            pub struct RunningServer {
                inner: #rt::RunningServer,
            }

            impl ::core::fmt::Debug for RunningServer {
                #[inline]
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct("RunningServer").finish_non_exhaustive()
                }
            }

            impl ::core::ops::Deref for RunningServer {
                type Target = #rt::RunningServer;
                #[inline]
                fn deref(&self) -> &#rt::RunningServer {
                    &self.inner
                }
            }

            impl RunningServer {
                /// The runtime's running server.
                #[inline]
                pub fn into_inner(self) -> #rt::RunningServer {
                    self.inner
                }

                #(#broadcasts)*
            }
        }
    }

    fn render_connection_ext(&self) -> TokenStream {
        let rt = &self.rt;
        let (decls, defs): (Vec<_>, Vec<_>) = self
            .model
            .msgs
            .iter()
            .map(|m| {
                let (f, ty) = (m.send_fn(), m.ty());
                let docs = docs_with(&format!("Sends {} on this connection.", m.described()), &m.docs);
                let sig = quote! {
                    fn #f(&self, msg: &#ty) -> impl ::core::future::Future<Output = ::core::result::Result<(), #rt::TsrpcError>> + ::core::marker::Send
                };
                (
                    quote!(#docs #sig;),
                    quote!(#[inline] #sig { self.send_msg::<#ty>(msg) }),
                )
            })
            .unzip();
        let doc = format!(
            " `send_msg_*` on a server-side connection (`call.conn.send_msg_chat(..)`), for the messages of service `{}`.",
            self.model.name
        );
        quote! {
            #[doc = #doc]
            pub trait ConnectionExt {
                #(#decls)*
            }

            impl ConnectionExt for #rt::Connection {
                #(#defs)*
            }
        }
    }

    fn render_service_trait(&self) -> TokenStream {
        let rt = &self.rt;
        let trait_ident = self.trait_ident();
        let methods = self.model.apis.iter().map(|a| {
            let (h, req, res) = (a.handler_fn(), a.req_ty(), a.res_ty(rt));
            let docs = docs_with(&format!("Handles {}.", a.described()), &a.docs);
            quote! {
                #docs
                fn #h(&self, call: #rt::ApiCall<#req>) -> impl ::core::future::Future<Output = #rt::HandlerResult<#res>> + ::core::marker::Send;
            }
        });
        let doc = format!(
            " Every API of service `{}`, one method each: implement it and pass it to [`Server::serve`].",
            self.model.name
        );
        quote! {
            #[doc = #doc]
            pub trait #trait_ident: ::core::marker::Send + ::core::marker::Sync + 'static {
                #(#methods)*
            }
        }
    }
}
