//! `mask_numbers = true` ("Secrets and PII"): customer numbers
//! masked on every dashboard page and in every export (the dashboard's
//! downloads and `callhook export`), kept whole in the JSON API.

use crate::dashboard::Visitor;
use crate::export_cli::export;
use crate::support::{fixture, spawn_app_with};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_are_masked_in_pages_and_exports_but_not_the_api() {
    let app = spawn_app_with("mask_numbers = true\n").await;
    let pushed = fixture("aliyun-call-report", "across_utc_midnight.json");
    app.push_ok("aliyun-call-report", pushed.clone()).await;
    let (status, _) = app
        .push(
            "aliyun-call-report",
            br#"{"callee": "13900001234", "oops"#.to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let calls = app.calls("").await;
    let number = calls[0]["customer_number"].as_str().unwrap().to_owned();
    assert!(
        number.len() >= 8,
        "the API answers the whole number: {number}"
    );
    let masked = callhook::masking::mask_number(&number);
    let id = calls[0]["id"].as_str().unwrap();
    let receipt = app.receipt_of(&pushed).await;
    let rejected = app.receipt_of(br#"{"callee": "13900001234", "oops"#).await;

    let mut v = Visitor::new(&app);
    let pages = [
        "/calls".to_owned(),
        format!("/calls/{id}"),
        format!("/receipts/{}", receipt["id"].as_str().unwrap()),
        format!("/receipts/{}", rejected["id"].as_str().unwrap()),
        "/receipts".to_owned(),
        "/calls/export?format=csv".to_owned(),
        "/calls/export?format=ndjson".to_owned(),
    ];
    for path in &pages {
        let page = v.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        for raw in [number.as_str(), "13900001234"] {
            assert!(!page.text.contains(raw), "{raw} shown on {path}");
        }
    }
    assert!(v.get("/calls").await.text.contains(&masked));
    assert!(v.get(&format!("/calls/{id}")).await.text.contains(&masked));
    let body = v
        .get(&format!("/receipts/{}", rejected["id"].as_str().unwrap()))
        .await
        .text;
    assert!(
        body.contains("139****1234"),
        "the rejected body's number masked"
    );

    // The operator's export reads the same configuration.
    let stopped = app.stop().await;
    let config = stopped.dir.path().join("callhook-test.toml");
    let config = config.display().to_string();
    let (code, out, err) =
        export(stopped.dir.path(), &stopped.database, &["--format", "csv"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        String::from_utf8_lossy(&out).contains(&number),
        "no config: unmasked"
    );
    let mut cmd = crate::process::Binary::command(stopped.dir.path());
    cmd.args(["--config", &config, "--database", &stopped.database])
        .args(["export", "--format", "csv"]);
    let out = crate::process::Binary::capture(&mut cmd);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!csv.contains(&number) && csv.contains(&masked), "{csv}");
}
