//! What the sink refuses or fails on before any answer comes: private
//! addresses (by resolver and by literal), closed ports, unusable event ids
//! and settings.

use super::*;

#[tokio::test]
async fn a_host_name_resolving_to_loopback_is_refused_before_connecting() {
    let (addr, log) = receiver().await;
    let url = format!("http://localhost:{}/ok", addr.port());
    let guarded = WebhookSink::new(&config(url.clone(), Duration::from_secs(5)), false).unwrap();
    let result = guarded.send(&message()).await;
    assert_eq!(result.kind, SendKind::Failed);
    assert_eq!(result.status, None);
    let error = result.error.unwrap();
    assert!(
        error.contains("localhost resolves only to refused addresses: "),
        "{error}"
    );
    assert!(
        error.contains("127.0.0.1 (a loopback address)")
            || error.contains("::1 (a loopback address)"),
        "{error}"
    );
    assert!(log.lock().unwrap().is_empty());
    // The control: the same URL is reached when private addresses are allowed.
    let open = WebhookSink::new(&config(url, Duration::from_secs(5)), true).unwrap();
    assert_eq!(open.send(&message()).await.kind, SendKind::Delivered);
    assert_eq!(log.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_loopback_address_literal_is_refused_before_connecting() {
    let (addr, log) = receiver().await;
    let sink = WebhookSink::new(
        &config(format!("http://{addr}/ok"), Duration::from_secs(5)),
        false,
    );
    let result = sink.unwrap().send(&message()).await;
    assert_eq!(result.kind, SendKind::Failed);
    assert_eq!(result.status, None);
    let error = result.error.unwrap();
    assert!(error.contains("127.0.0.1 is a loopback address"), "{error}");
    assert!(log.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_closed_port_fails_with_the_cause_and_without_the_url() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/hook?token=s3cret");
    let sink = WebhookSink::new(&config(url, Duration::from_secs(5)), true).unwrap();
    let result = sink.send(&message()).await;
    assert_eq!(result.kind, SendKind::Failed);
    assert_eq!(result.status, None);
    let error = result.error.unwrap();
    assert!(error.starts_with("error sending request: "), "{error}");
    assert!(
        error.to_lowercase().contains("connection refused"),
        "{error}"
    );
    assert!(!error.contains("s3cret"), "{error}");
}

#[tokio::test]
async fn an_event_id_unfit_for_a_header_fails_without_sending() {
    let (addr, log) = receiver().await;
    let sink = WebhookSink::new(
        &config(format!("http://{addr}/ok"), Duration::from_secs(5)),
        true,
    );
    let mut bad = message();
    bad.event_id = "evt\ninjected: yes".to_owned();
    let result = sink.unwrap().send(&bad).await;
    assert_eq!(result.kind, SendKind::Failed);
    assert!(result
        .error
        .unwrap()
        .contains("cannot be a webhook-id header"));
    assert!(log.lock().unwrap().is_empty());
}

#[test]
fn unusable_settings_are_errors_that_hide_the_secret() {
    let good = config(
        "https://crm.example.com/hooks".to_owned(),
        Duration::from_secs(15),
    );
    assert!(WebhookSink::new(&good, false).is_ok());

    let mut bad = good.clone();
    bad.secret = vec![SecretString::from("whsec_not*base64*at*all*!!")];
    let error = WebhookSink::new(&bad, false).unwrap_err();
    assert!(
        matches!(error, WebhookError::InvalidSecret { index: 0, .. }),
        "{error:?}"
    );
    assert!(!error.to_string().contains("not*base64"), "{error}");

    bad.secret = Vec::new();
    assert!(matches!(
        WebhookSink::new(&bad, false),
        Err(WebhookError::NoSecret { .. })
    ));

    let mut ftp = good.clone();
    ftp.url = "ftp://crm.example.com/".to_owned();
    let error = WebhookSink::new(&ftp, false).unwrap_err();
    assert_eq!(
        error.to_string(),
        "subscriber `crm`: url: must be an http:// or https:// URL with a host"
    );

    let debug = format!("{:?}", WebhookSink::new(&good, false).unwrap());
    assert!(
        debug.contains("[2 redacted]") && !debug.contains("7, 7"),
        "{debug}"
    );

    let mut with_creds = good.clone();
    with_creds.url = "https://bob:PASSWORD@crm.example.com/hooks?sig=QSECRET".to_owned();
    let debug = format!("{:?}", WebhookSink::new(&with_creds, false).unwrap());
    assert!(
        !debug.contains("PASSWORD") && !debug.contains("QSECRET") && !debug.contains("bob"),
        "{debug}"
    );
    assert!(debug.contains("https://crm.example.com/hooks"), "{debug}");
}
