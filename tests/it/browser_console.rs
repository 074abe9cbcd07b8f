//! The operator's console in real headless Chromium: the display zone
//! chosen on `/preferences` moves a call across a day boundary, the
//! overview's quick ranges and the campaign pages work, and no page of
//! the console scrolls sideways on a 390-pixel phone. Every page leaves
//! a screenshot (a CI artefact).

use crate::browser::Browser;
use crate::support::{body, sample, spawn_app_with};
use serde_json::{json, Value};

/// An Alibaba call at 07:59 Shanghai on 2 June: 23:59 UTC on 1 June.
fn late_call() -> Vec<u8> {
    String::from_utf8(sample("aliyun-call-report"))
        .unwrap()
        .replace("2025-06-01 09:", "2025-06-02 07:")
        .replace("2025-06-01 10:", "2025-06-02 08:")
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a browser: chromium and chromium-driver (chromedriver on PATH)"]
async fn a_zone_switch_moves_a_call_across_a_day_boundary_and_every_page_fits_a_phone() {
    let b = Browser::start().await;
    let app = spawn_app_with("display_timezone = \"UTC\"\n").await;
    app.push_ok("aliyun-call-report", late_call()).await;
    let campaign: Vec<Value> = (0..6)
        .map(|i| {
            let status = ["ANSWERED", "NO_ANSWER", "USER_BUSY"][i % 3];
            json!({"callId": format!("B-{i}"), "taskId": "T-browser", "callee": "139",
                   "smartStatusCode": status,
                   "originateTime": format!("2025-06-0{} 1{}:00:00", 3 + i % 2, i),
                   "endTime": format!("2025-06-0{} 1{}:01:00", 3 + i % 2, i), "duration": 60})
        })
        .collect();
    app.push_ok("aliyun-call-report", body(&Value::Array(campaign)))
        .await;
    app.settle().await;

    // UTC: the late call is on 1 June.
    let day2 = app.url("/calls?from=2025-06-02&to=2025-06-02");
    b.goto(&day2).await;
    let rows = "return document.querySelectorAll('#calls-table tbody tr').length";
    assert_eq!(b.js(rows).await, json!(0));
    // Choose Shanghai with the form, as a person would.
    b.goto(&app.url("/preferences?next=%2Fcalls%3Ffrom%3D2025-06-02%26to%3D2025-06-02"))
        .await;
    b.shot("preferences").await;
    b.js("const i = document.querySelector('#zone-form input[name=tz]'); i.value = 'Asia/Shanghai'; document.getElementById('zone-form').submit(); return true")
        .await;
    b.until("return location.pathname === '/calls' && document.getElementById('zone-link').textContent === 'Asia/Shanghai'")
        .await;
    assert_eq!(b.js(rows).await, json!(1), "2 June in Shanghai");
    let started = b
        .js("return document.querySelector('#calls-table tbody tr td').textContent.trim()")
        .await;
    assert_eq!(started, json!("2025-06-02 07:59:45"));
    b.shot("calls-shanghai").await;

    // The overview's quick ranges and the campaign pages.
    b.goto(&app.url("/?range=all")).await;
    assert_eq!(
        b.js("return document.querySelector('#quick-ranges a.on').textContent")
            .await,
        json!("All time")
    );
    b.shot("overview-all-time").await;
    b.goto(&app.url("/tasks?range=all")).await;
    b.shot("campaigns").await;
    b.js("document.querySelector('#tasks-table a').click(); return true")
        .await;
    b.until("return location.pathname === '/tasks/T-browser'")
        .await;
    b.goto(&app.url("/tasks/T-browser?range=all")).await;
    assert_eq!(
        b.js("return document.getElementById('cmp-calls').textContent")
            .await,
        json!("6")
    );
    b.shot("campaign").await;

    // On a phone: no page is wider than the screen.
    b.client.set_window_size(390, 844).await.unwrap();
    let call = app.calls("vendor=aliyun&task_id=T-browser").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (path, name) in [
        ("/?range=all".to_owned(), "overview-phone"),
        ("/calls".to_owned(), "calls-phone"),
        (format!("/calls/{call}"), "call-phone"),
        ("/tasks?range=all".to_owned(), "campaigns-phone"),
        ("/tasks/T-browser?range=all".to_owned(), "campaign-phone"),
        ("/receipts?status=all".to_owned(), "receipts-phone"),
        ("/deliveries".to_owned(), "deliveries-phone"),
        ("/alerts".to_owned(), "alerts-phone"),
        ("/preferences".to_owned(), "preferences-phone"),
    ] {
        b.goto(&app.url(&path)).await;
        b.shot(name).await;
        b.assert_fits(&path).await;
    }
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a browser: chromium and chromium-driver (chromedriver on PATH)"]
async fn the_walkthroughs_samples_show_every_answered_call_under_the_default_range() {
    let b = Browser::start().await;
    let app = crate::support::spawn_app().await;
    let kinds = [
        "aliyun-call-report",
        "aliyun-call-notes",
        "itnio-call-record",
        "longlonglong-inbound",
        "laaffic-voice-report",
        "vapi-end-of-call-report",
        "retell-call-event",
        "bland-call",
    ];
    for kind in kinds {
        app.push_ok(kind, sample(kind)).await;
    }
    app.settle().await;
    let answered = app.calls("outcome=answered").await.len();
    b.goto(&app.url("/")).await;
    let text = |id: &str| format!("return document.getElementById('{id}').textContent");
    assert_eq!(
        b.js(&text("total-answered")).await,
        json!(answered.to_string())
    );
    assert_eq!(b.js(&text("total-answer-rate")).await, json!("100.0%"));
    assert_eq!(
        b.js("return document.getElementById('empty-state')").await,
        Value::Null,
        "no empty state"
    );
    b.shot("overview-walkthrough").await;
    // The notes' call is marked as waiting for its report.
    b.goto(&app.url("/calls")).await;
    let marked = b
        .js("return Array.from(document.querySelectorAll('.o-awaiting-report')).map(e => e.textContent)")
        .await;
    assert_eq!(marked, json!(["report not received yet"]));
    b.shot("calls-walkthrough").await;
    b.close().await;
}
