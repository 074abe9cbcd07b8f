//! Optional HTTPS with rustls (`tls_cert`, `tls_key`; "Safe
//! defaults"): pushes and the API over TLS, plain HTTP refused on that
//! port, unusable files refused at start and by `check-config`.

use crate::support::{sample, spawn_app_with};
use reqwest::StatusCode;
use std::path::Path;

/// A self-signed certificate for 127.0.0.1 and localhost, written as
/// `cert.pem` and `key.pem` in `dir`; returns the certificate's PEM.
fn self_signed(dir: &Path) -> String {
    let c =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    std::fs::write(dir.join("cert.pem"), c.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), c.signing_key.serialize_pem()).unwrap();
    c.cert.pem()
}

fn tls_toml(dir: &Path) -> String {
    format!(
        "api_token = \"api-s3cret\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\n\
         [[sources]]\nname = \"ali\"\nkind = \"aliyun-call-report\"\ntoken = \"push-s3cret\"\n",
        dir.join("cert.pem").display(),
        dir.join("key.pem").display()
    )
}

#[tokio::test]
async fn pushes_and_the_api_are_served_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let pem = self_signed(dir.path());
    let app = spawn_app_with(&tls_toml(dir.path())).await;
    let https = app.base.replace("http://", "https://");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap();

    let resp = client
        .post(format!("{https}/hooks/ali"))
        .bearer_auth("push-s3cret")
        .body(sample("aliyun-call-report"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let receipt = crate::support::receipt_header(&resp).expect("receipt id header");
    assert_eq!(resp.text().await.unwrap(), r#"{"code":0,"msg":"ok"}"#);
    // The call is projected behind the answer: wait for the receipt.
    for _ in 0..2000 {
        let r: serde_json::Value = client
            .get(format!("{https}/api/v1/receipts/{receipt}"))
            .bearer_auth("api-s3cret")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if r["status"] != "pending" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let calls: serde_json::Value = client
        .get(format!("{https}/api/v1/calls"))
        .bearer_auth("api-s3cret")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(calls["items"].as_array().unwrap().len(), 1, "{calls}");

    // The dashboard's cookies are `Secure` over HTTPS.
    let login = client.get(format!("{https}/login")).send().await.unwrap();
    let set = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set.starts_with("callhook_csrf=") && set.contains("Secure"),
        "{set}"
    );

    // HTTP/2 is offered through ALPN, before HTTP/1.1.
    assert_eq!(alpn(&pem, &app.base).await, b"h2".to_vec());

    // A client that does not trust the certificate gets no answer, and
    // plain HTTP on the TLS port gets no HTTP answer either.
    assert!(reqwest::get(format!("{https}/healthz")).await.is_err());
    let plain = reqwest::get(format!("{}/healthz", app.base)).await;
    assert!(plain.is_err(), "plain HTTP answered: {plain:?}");
    // The server still serves after those failed handshakes.
    let resp = client.get(format!("{https}/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// The protocol the server picks by ALPN when offered `h2` and `http/1.1`.
async fn alpn(pem: &str, base: &str) -> Vec<u8> {
    use tokio_rustls::rustls::{self, pki_types::pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).unwrap())
        .unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let addr = base.trim_start_matches("http://");
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    tls.get_ref().1.alpn_protocol().unwrap().to_vec()
}

#[test]
fn unusable_tls_files_stop_the_start_and_check_config() {
    let dir = tempfile::tempdir().unwrap();
    self_signed(dir.path());
    std::fs::write(dir.path().join("key.pem"), "-----BEGIN NOTHING-----\n").unwrap();
    let config = dir.path().join("callhook.toml");
    std::fs::write(&config, tls_toml(dir.path())).unwrap();
    let db = format!("sqlite://{}", dir.path().join("c.db").display());
    for args in [
        vec!["check-config"],
        vec!["serve", "--listen", "127.0.0.1:0", "--database", &db],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_callhook"))
            .arg("--config")
            .arg(&config)
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("tls_key") && stderr.contains("key.pem"),
            "{args:?}: {stderr}"
        );
    }
}
