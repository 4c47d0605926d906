//! The TLS settings a client uses when it is given none (feature `tls`): the platform's trusted
//! roots, read once per process with rustls-native-certs.
//!
//! On Linux and the BSDs these are the roots OpenSSL would use (the distribution's bundle,
//! `/etc/ssl/certs/...`); on macOS the keychain's; on Windows the system store. The
//! `SSL_CERT_FILE` (a PEM bundle) and `SSL_CERT_DIR` environment variables, when set, replace
//! the platform's store, as with OpenSSL. Chosen over a compiled-in list (webpki-roots) so an
//! organisation's own CA, installed on the machine, is trusted too, and roots follow the
//! system's updates. A custom `rustls::ClientConfig` in the client's options overrides it all.

use std::sync::{Arc, OnceLock};

/// The config of clients given no TLS settings: the platform's roots, no client certificate.
/// Read on first use; certificates that cannot be read are skipped (and logged); with none at
/// all every `wss://` or `https://` connection fails to verify (an error, never a trust-all).
pub(crate) fn default_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                tracing::warn!("TLS roots: {e}");
            }
            let mut roots = rustls::RootCertStore::empty();
            let (added, ignored) = roots.add_parsable_certificates(found.certs);
            if ignored > 0 {
                tracing::warn!("TLS roots: {ignored} certificates could not be used");
            }
            if added == 0 {
                tracing::warn!("TLS roots: none found; wss:// and https:// will fail to verify");
            } else {
                tracing::debug!("TLS roots: {added} trusted");
            }
            Arc::new(
                rustls::ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                .expect("ring supports the default protocol versions")
                .with_root_certificates(roots)
                .with_no_client_auth(),
            )
        })
        .clone()
}
