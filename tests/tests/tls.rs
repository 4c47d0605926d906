//! TLS (feature `tls`): wss:// and https:// with a certificate the test makes.

use std::sync::Arc;

use rpc_runtime::client::{HttpClientOptions, WsClientOptions};
use rpc_runtime::server::ServerOptions;
use rpc_runtime::{HttpClient, RpcClient, WsClient};
use rpc_tests::hand::*;
use rpc_tests::{any_port, within};

#[path = "support/pki.rs"]
mod pki;
use pki::{pki, provider};

fn untrusting_client() -> Arc<rustls::ClientConfig> {
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
    )
}

#[tokio::test]
async fn wss_and_https_on_one_port() {
    let pki = pki();
    let server = rpc_tests::start_adder(rpc_runtime::Server::ws_and_http(
        proto(),
        any_port(),
        ServerOptions::default().tls(pki.server.clone()),
    ))
    .await;
    let url = server.url();
    assert!(url.starts_with("wss://"), "{url}");
    let port = server.local_addr().port();

    let ws = WsClient::new(
        url.clone(),
        WsClientOptions::default().tls(pki.client.clone()),
    );
    within(5, "wss connect", ws.connect()).await.unwrap();
    assert_eq!(ws.call_api(ReqAdd { a: 2.0, b: 3.0 }).await.unwrap().c, 5.0);
    ws.disconnect().await;

    let https = HttpClient::new(
        format!("https://127.0.0.1:{port}"),
        HttpClientOptions::default().tls(pki.client.clone()),
    );
    assert_eq!(
        within(5, "https call", https.call_api(ReqAdd { a: 4.0, b: 5.0 }))
            .await
            .unwrap()
            .c,
        9.0
    );

    // A client that does not trust the certificate gets an error, not a hang.
    let stranger = WsClient::new(url, WsClientOptions::default().tls(untrusting_client()));
    assert!(within(5, "untrusted", stranger.connect()).await.is_err());
    let stranger = HttpClient::new(
        format!("https://127.0.0.1:{port}"),
        HttpClientOptions::default().tls(untrusting_client()),
    );
    let err = within(
        5,
        "untrusted https",
        stranger.call_api(ReqAdd { a: 1.0, b: 1.0 }),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, rpc_runtime::ErrorType::NetworkError);
    // Plain text against the TLS port fails cleanly too.
    let plain = WsClient::new(format!("ws://127.0.0.1:{port}"), WsClientOptions::default());
    assert!(within(15, "plain to tls", plain.connect()).await.is_err());
    // And the server still serves.
    let again = WsClient::new(server.url(), WsClientOptions::default().tls(pki.client));
    within(5, "again", again.connect()).await.unwrap();
    again.disconnect().await;
    server.stop().await;
}
