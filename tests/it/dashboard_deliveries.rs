//! The deliveries page over HTTP, on the store the suite runs against:
//! subscriber health with its Disable/Enable and Retry all dead buttons,
//! result colours and status tab counts; and what a read session may not
//! do on the new pages.

use crate::dashboard::Visitor;
use crate::receiver::{Reply, TestReceiver, SECRET};
use crate::support::{sample, spawn_app_with, TestApp};
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::{Duration, Instant};

/// The `<tbody>` rows of table `id`, as raw HTML.
fn rows<'a>(html: &'a str, id: &str) -> Vec<&'a str> {
    let table = html.split(&format!("id=\"{id}\"")).nth(1).unwrap();
    let body = table.split("<tbody>").nth(1).unwrap();
    body.split("</tbody>")
        .next()
        .unwrap()
        .split("<tr")
        .skip(1)
        .collect()
}

async fn until_delivery(app: &TestApp, query: &str, status: &str) -> Value {
    let end = Instant::now() + Duration::from_secs(15);
    loop {
        let page = app.get_json(&format!("/api/v1/deliveries?{query}")).await;
        if let Some(d) = page["items"].as_array().and_then(|a| a.first()) {
            if d["status"] == status {
                return d.clone();
            }
        }
        assert!(
            Instant::now() < end,
            "no {status} delivery ({query}): {page}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriber_health_shows_and_its_buttons_work() {
    let ok = TestReceiver::start(vec![], Reply::status(200)).await;
    let failing = TestReceiver::start(vec![], Reply::status(503)).await;
    let app = spawn_app_with(&format!(
        "allow_private_subscribers = true\n\n\
         [[subscribers]]\nname = \"ok\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\n\n\
         [[subscribers]]\nname = \"crm\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\nretry_schedule = [\"50ms\", \"50ms\"]\n",
        ok.url, failing.url
    ))
    .await;
    app.push_ok("aliyun-call-report", sample("aliyun-call-report"))
        .await;
    until_delivery(&app, "subscriber=ok", "delivered").await;
    until_delivery(&app, "subscriber=crm", "dead").await;
    let mut v = Visitor::new(&app);
    let p = v.get("/deliveries").await.text;
    let health = rows(&p, "subscriber-health");
    assert_eq!(health.len(), 2, "{p}");
    let (okr, crm) = (health[0], health[1]);
    assert!(
        okr.contains("data-name=\"ok\"") && okr.contains(">enabled<"),
        "{okr}"
    );
    assert!(
        !okr.contains("HTTP 503") && okr.contains("class=\"num\">0<"),
        "{okr}"
    );
    assert!(
        crm.contains("HTTP 503") && crm.contains("class=\"status d-dead\">1<"),
        "{crm}"
    );
    assert!(
        crm.contains("Retry all dead") && crm.contains(">Disable<"),
        "{crm}"
    );
    // 2xx is green, the failure red; tabs count per status.
    let events = rows(&p, "deliveries-table");
    let delivered = events.iter().find(|r| r.contains("d-delivered")).unwrap();
    assert!(
        delivered.contains("class=\"wrap result r-ok\">HTTP 200<"),
        "{delivered}"
    );
    let dead = events.iter().find(|r| r.contains("d-dead")).unwrap();
    assert!(dead.contains("result r-bad"), "{dead}");
    assert!(
        p.contains(">All 2</a>") && p.contains(">Dead 1</a>") && p.contains(">Pending 0</a>"),
        "{p}"
    );
    let crm_only = v.get("/deliveries?subscriber=crm").await.text;
    assert!(
        crm_only.contains(">All 1</a>") && crm_only.contains(">Delivered 0</a>"),
        "{crm_only}"
    );

    let csrf = v.csrf();
    let off = v
        .post("/deliveries/targets/crm/disable", &[("csrf", &csrf)], None)
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    let page = v.get(off.headers[LOCATION].to_str().unwrap()).await.text;
    assert!(page.contains("crm is disabled"), "{page}");
    let crm = rows(&page, "subscriber-health")[1];
    assert!(
        crm.contains("disabled on the dashboard") && crm.contains(">Enable<"),
        "{crm}"
    );
    let subs = app.get_json("/api/v1/subscribers").await;
    assert!(!subs["items"][1]["disabled_at"].is_null(), "{subs}");

    failing.answer(Reply::status(200));
    let retried = v
        .post(
            "/deliveries/targets/crm/retry-dead",
            &[("csrf", &csrf)],
            None,
        )
        .await;
    let page = v
        .get(retried.headers[LOCATION].to_str().unwrap())
        .await
        .text;
    assert!(page.contains("1 dead delivery to crm is due now"), "{page}");
    until_delivery(&app, "subscriber=crm", "pending").await;
    assert!(
        failing.got().len() == 3,
        "disabled: nothing sent while it is off"
    );
    let on = v
        .post("/deliveries/targets/crm/enable", &[("csrf", &csrf)], None)
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER);
    until_delivery(&app, "subscriber=crm", "delivered").await;
    let bad = v
        .post(
            "/deliveries/targets/nobody/disable",
            &[("csrf", &csrf)],
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);
    let forged = v
        .post("/deliveries/targets/crm/disable", &[("csrf", "x")], None)
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

const READ_AND_ADMIN: &str = r#"
api_token = "root-s3cret"
allow_private_subscribers = true

[[api_tokens]]
name = "grafana"
token = "read-s3cret"

[[subscribers]]
name = "crm"
url = "http://127.0.0.1:9/hooks"
secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
"#;

#[tokio::test]
async fn a_read_session_gets_no_bulk_or_subscriber_buttons_and_their_posts_are_refused() {
    let app = spawn_app_with(READ_AND_ADMIN).await;
    let (status, _) = app.push("aliyun-call-report", b"{not json".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let mut reader = Visitor::new(&app);
    reader.get("/login").await;
    let csrf = reader.csrf();
    let login = reader
        .post(
            "/login",
            &[("token", "read-s3cret"), ("csrf", &csrf), ("next", "/")],
            None,
        )
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let receipts = reader.get("/receipts").await.text;
    assert!(receipts.contains(">Rejected 1</a>"), "{receipts}");
    assert!(!receipts.contains("bulk-replay"), "{receipts}");
    let deliveries = reader.get("/deliveries").await.text;
    assert!(deliveries.contains("data-name=\"crm\""), "{deliveries}");
    assert!(!deliveries.contains("/disable\""), "{deliveries}");
    for path in [
        "/receipts/replay",
        "/deliveries/targets/crm/disable",
        "/deliveries/targets/crm/retry-dead",
    ] {
        let refused = reader.post(path, &[("csrf", &csrf)], None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
    }
    let r = app.get_json("/api/v1/receipts").await;
    assert_eq!(r["items"][0]["replay_count"], 0);
    let subs = app.get_json("/api/v1/subscribers").await;
    assert!(subs["items"][0]["disabled_at"].is_null(), "{subs}");
}
