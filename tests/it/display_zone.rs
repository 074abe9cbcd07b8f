//! The display time zone: `display_timezone` and each browser's choice on
//! `/preferences` decide the zone of the times shown and of the date
//! filters' day boundaries; stored times stay UTC.

use crate::dashboard::{rows, Visitor};
use crate::support::{sample, spawn_app_with};
use reqwest::StatusCode;

/// The Alibaba sample moved two hours earlier and a day later, to 07:59
/// Shanghai time on 2 June: 23:59 UTC on 1 June, so the two zones put it
/// on different days.
fn late_call() -> Vec<u8> {
    String::from_utf8(sample("aliyun-call-report"))
        .unwrap()
        .replace("2025-06-01 09:", "2025-06-02 07:")
        .replace("2025-06-01 10:", "2025-06-02 08:")
        .into_bytes()
}

#[tokio::test]
async fn a_zone_switch_moves_a_call_across_a_day_boundary() {
    let app = spawn_app_with("display_timezone = \"UTC\"\n").await;
    app.push_ok("aliyun-call-report", late_call()).await;
    app.settle().await;
    let stored = app.calls("vendor=aliyun").await;
    assert_eq!(stored[0]["originated_at"], "2025-06-01T23:59:45Z");

    let mut v = Visitor::new(&app);
    let day2 = "/calls?from=2025-06-02&to=2025-06-02";
    let page = v.get(day2).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains(">UTC</a>"), "the header names the zone");
    assert_eq!(rows(&page.text, "calls-table").len(), 0, "1 June in UTC");
    let page = v.get("/calls?from=2025-06-01&to=2025-06-01").await;
    assert_eq!(rows(&page.text, "calls-table").len(), 1);
    assert!(page.text.contains("2025-06-01 23:59:45"), "{}", page.text);

    // Choose Shanghai: the same call is on 2 June at 07:30.
    let form = v.get("/preferences?next=%2Fcalls").await;
    assert!(form.text.contains("Asia/Shanghai"), "the zones are offered");
    let csrf = v.csrf();
    let saved = v
        .post(
            "/preferences",
            &[("csrf", &csrf), ("tz", "Asia/Shanghai"), ("next", day2)],
            None,
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(saved.headers["location"], day2);
    let page = v.get(day2).await;
    assert_eq!(
        rows(&page.text, "calls-table").len(),
        1,
        "2 June in Shanghai"
    );
    assert!(page.text.contains("2025-06-02 07:59:45"), "{}", page.text);
    assert!(page.text.contains("Started (Asia/Shanghai)"));
    let detail = v
        .get(&format!("/calls/{}", stored[0]["id"].as_str().unwrap()))
        .await;
    assert!(detail.text.contains("2025-06-02 07:59:45"), "detail too");

    // Back to the configured default.
    let csrf = v.csrf();
    v.post(
        "/preferences",
        &[("csrf", &csrf), ("tz", ""), ("next", day2)],
        None,
    )
    .await;
    let page = v.get(day2).await;
    assert_eq!(rows(&page.text, "calls-table").len(), 0);
}

#[tokio::test]
async fn a_bad_zone_or_a_foreign_form_is_refused() {
    let app = spawn_app_with("display_timezone = \"UTC\"\n").await;
    let mut v = Visitor::new(&app);
    v.get("/preferences").await;
    let csrf = v.csrf();
    let bad = v
        .post(
            "/preferences",
            &[("csrf", &csrf), ("tz", "Mars/Base")],
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text.contains("Mars/Base"), "{}", bad.text);
    let forged = v
        .post("/preferences", &[("csrf", "x"), ("tz", "Asia/Tokyo")], None)
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!v.cookies.contains_key("callhook_tz"));
    // Somewhere else than this site is not followed.
    let away = v
        .post(
            "/preferences",
            &[
                ("csrf", &csrf),
                ("tz", "Asia/Tokyo"),
                ("next", "//evil.example/"),
            ],
            None,
        )
        .await;
    assert_eq!(away.headers["location"], "/");
}

#[tokio::test]
async fn the_default_zone_is_the_first_sources() {
    let app = spawn_app_with(
        "[[sources]]\nname = \"ali\"\nkind = \"aliyun-call-report\"\ntimezone = \"Europe/Berlin\"\n",
    )
    .await;
    let page = app.page("/calls").await;
    assert!(page.contains(">Europe/Berlin</a>"), "{page}");
}
