//! Optional HTTPS (`tls_cert`, `tls_key`): a rustls server
//! configuration (ring crypto, TLS 1.2 and 1.3, ALPN `h2` then
//! `http/1.1`) built from PEM files at start.

use std::path::Path;
use std::sync::Arc;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// A TLS acceptor serving the certificate chain in `cert` with the key in
/// `key` (PEM: PKCS#8, PKCS#1 or SEC1).
///
/// Errors: a message naming the file that cannot be read, holds no
/// certificate or key, or whose key does not match the certificate.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("tls_cert {}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("tls_cert {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "tls_cert {}: no PEM certificate in the file",
            cert.display()
        ));
    }
    let key_der = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("tls_key {}: no usable PEM private key ({e})", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| {
            format!(
                "tls_key {} does not fit tls_cert {}: {e}",
                key.display(),
                cert.display()
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_files_are_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, "not a certificate").unwrap();
        std::fs::write(&key, "not a key").unwrap();
        let e = acceptor(&cert, &key).err().unwrap();
        assert!(
            e.contains("tls_cert") && e.contains("no PEM certificate"),
            "{e}"
        );

        let a = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        std::fs::write(&cert, a.cert.pem()).unwrap();
        let e = acceptor(&cert, &key).err().unwrap();
        assert!(e.contains("tls_key") && e.contains("key.pem"), "{e}");

        let b = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        std::fs::write(&key, b.signing_key.serialize_pem()).unwrap();
        let e = acceptor(&cert, &key).err().unwrap();
        assert!(e.contains("does not fit"), "{e}");

        std::fs::write(&key, a.signing_key.serialize_pem()).unwrap();
        assert!(acceptor(&cert, &key).is_ok());
    }
}
