//! TLS with no settings (feature `tls`): a client given no `rustls::ClientConfig` trusts the
//! platform's roots, which `SSL_CERT_FILE` replaces. This test makes a local CA, names its
//! certificate in `SSL_CERT_FILE` (before any client reads the roots: this binary holds only
//! this test, as the roots are read once per process), and serves a certificate the CA signed.
//! A custom config still overrides the default, both ways.

use std::sync::Arc;

use rpc_runtime::client::{HttpClientOptions, WsClientOptions};
use rpc_runtime::server::ServerOptions;
use rpc_runtime::{HttpClient, RpcClient, WsClient};
use rpc_tests::hand::*;
use rpc_tests::{any_port, within};

#[path = "support/pki.rs"]
mod pki;
use pki::provider;

/// A CA (its certificate), and a server config whose certificate for 127.0.0.1 it signed.
fn local_ca() -> (
    rustls::pki_types::CertificateDer<'static>,
    String,
    Arc<rustls::ServerConfig>,
) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "rpc-tests local CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
    let server = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .unwrap();
    (ca.der().clone(), ca.pem(), Arc::new(server))
}

fn client_config(roots: rustls::RootCertStore) -> Arc<rustls::ClientConfig> {
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

#[tokio::test]
async fn default_roots_trust_a_ca_named_by_ssl_cert_file() {
    let (ca_der, ca_pem, server_tls) = local_ca();
    let file = std::env::temp_dir().join(format!("rpc-tests-ca-{}.pem", std::process::id()));
    std::fs::write(&file, ca_pem).unwrap();
    // The platform's store is replaced by this file (SSL_CERT_DIR would add to it: unset).
    std::env::set_var("SSL_CERT_FILE", &file);
    std::env::remove_var("SSL_CERT_DIR");

    let server = rpc_tests::start_adder(rpc_runtime::Server::ws_and_http(
        proto(),
        any_port(),
        ServerOptions::default().tls(server_tls),
    ))
    .await;
    let url = server.url();
    assert!(url.starts_with("wss://"), "{url}");
    let https_url = format!("https://127.0.0.1:{}", server.local_addr().port());

    // No TLS settings: the default roots (the CA of SSL_CERT_FILE) verify the server.
    let ws = WsClient::new(url.clone(), WsClientOptions::default());
    within(5, "wss connect", ws.connect()).await.unwrap();
    assert_eq!(ws.call_api(ReqAdd { a: 2.0, b: 3.0 }).await.unwrap().c, 5.0);
    ws.disconnect().await;
    let https = HttpClient::new(https_url.clone(), HttpClientOptions::default());
    let res = within(5, "https", https.call_api(ReqAdd { a: 4.0, b: 5.0 })).await;
    assert_eq!(res.unwrap().c, 9.0);

    // A custom config overrides the default: with no roots it is refused...
    let empty = client_config(rustls::RootCertStore::empty());
    let ws = WsClient::new(url.clone(), WsClientOptions::default().tls(empty.clone()));
    assert!(within(5, "wss, no roots", ws.connect()).await.is_err());
    let https = HttpClient::new(https_url.clone(), HttpClientOptions::default().tls(empty));
    let err = within(
        5,
        "https, no roots",
        https.call_api(ReqAdd { a: 1.0, b: 1.0 }),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, rpc_runtime::ErrorType::NetworkError);
    // ...and with the CA as a custom root it is trusted.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_der).unwrap();
    let custom = client_config(roots);
    let ws = WsClient::new(url.clone(), WsClientOptions::default().tls(custom.clone()));
    within(5, "wss, custom root", ws.connect()).await.unwrap();
    ws.disconnect().await;
    let https = HttpClient::new(https_url, HttpClientOptions::default().tls(custom));
    let res = within(
        5,
        "https, custom root",
        https.call_api(ReqAdd { a: 1.0, b: 1.0 }),
    )
    .await;
    assert_eq!(res.unwrap().c, 2.0);
    server.stop().await;

    // A server whose certificate no trusted root signed is refused by the default roots.
    let other = pki::pki();
    let server = rpc_tests::start_adder(rpc_runtime::Server::ws(
        proto(),
        any_port(),
        ServerOptions::default().tls(other.server),
    ))
    .await;
    let ws = WsClient::new(server.url(), WsClientOptions::default());
    let err = within(5, "untrusted", ws.connect()).await.unwrap_err();
    assert_eq!(err.kind, rpc_runtime::ErrorType::NetworkError, "{err:?}");
    // (The server itself is fine: a client trusting its certificate connects.)
    let ws = WsClient::new(server.url(), WsClientOptions::default().tls(other.client));
    within(5, "trusting", ws.connect()).await.unwrap();
    ws.disconnect().await;
    server.stop().await;
    let _ = std::fs::remove_file(file);
}
