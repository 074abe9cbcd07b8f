//! The call and receipts pages over HTTP, on the store the suite runs
//! against: the recording player and its expiry, vendor fields as labelled
//! rows, receipt tab counts, filters and bulk replay (the deliveries page
//! is `dashboard_deliveries.rs`).

use crate::dashboard::Visitor;
use crate::support::{body, spawn_app, spawn_app_with, TestApp};
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use serde_json::json;

/// An ITNIO call with a recording at `url` and a customer concern.
fn itnio_call(id: &str, url: &str) -> Vec<u8> {
    body(
        &json!({"callId": id, "robotCallJobId": 7, "calledPhoneNumber": "8613900000009",
        "startTime": 1748743200, "endTime": 1748743325, "resultStatus": "ANSWERED",
        "chatDuration": 125, "fullAudioUrl": url, "chatRound": 4,
        "customerConcern": ["loan amount", "interest rate"]}),
    )
}

/// The inner HTML of the element with `id`, up to the next closing tag.
fn inner<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest.find("</").unwrap();
    &rest[start..end]
}

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

#[tokio::test]
async fn the_call_page_plays_the_recording_and_says_when_its_link_expires() {
    let app = spawn_app().await;
    // Signed like an OSS URL, expiring 3.5 hours from now.
    let expires = jiff::Timestamp::now().as_second() + 3 * 3600 + 1800;
    let signed =
        format!("https://rec.oss-cn-hangzhou.aliyuncs.com/a.mp3?Expires={expires}&Signature=x");
    app.push_ok("itnio-call-record", itnio_call("REC-1", &signed))
        .await;
    app.push_ok(
        "itnio-call-record",
        itnio_call("REC-2", "javascript:alert(1)"),
    )
    .await;
    let mut v = Visitor::new(&app);
    let id = app.call_id("itnio", "REC-1").await;
    let p = v.get(&format!("/calls/{id}")).await;
    let escaped = signed.replace('&', "&#38;");
    assert!(
        p.text.contains(&format!(
            "<audio controls preload=\"none\" src=\"{escaped}\">"
        )),
        "{}",
        p.text
    );
    assert!(inner(&p.text, "recording-download").contains("download"));
    let note = inner(&p.text, "recording-expiry");
    assert!(note.starts_with("link expires "), "{note}");
    assert!(note.ends_with(" UTC (in 3 h)"), "{note}");
    // Durations read as people say them: talk 125 s.
    assert!(p.text.contains("2 min 05 s"), "{}", p.text);
    // The vendor's useful fields as rows, the raw JSON still below.
    assert!(
        p.text
            .contains("<dt>Customer concern</dt><dd>loan amount · interest rate</dd>"),
        "{}",
        p.text
    );
    assert!(p.text.contains("<dt>Dialogue rounds</dt><dd>4</dd>"));
    assert!(p.text.contains("id=\"vendor-fields\""));
    // The page may load media from any http(s) origin, and nothing else changed.
    let csp = p.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("media-src 'self' https: http:"), "{csp}");
    for strict in [
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(strict), "{csp}");
    }
    // A URL that is not http(s) is neither played nor linked.
    let id = app.call_id("itnio", "REC-2").await;
    let p = v.get(&format!("/calls/{id}")).await.text;
    assert!(!p.contains("<audio"), "{p}");
    assert!(!p.contains("href=\"javascript"), "{p}");
    assert!(!p.contains("recording-expiry"));
}

const OTHER: &str = "[[sources]]\nname = \"ali\"\nkind = \"aliyun-call-report\"\n";
const WRONG_KIND: &str = "[[sources]]\nname = \"shop\"\nkind = \"laaffic-voice-report\"\n";
const RIGHT_KIND: &str = "[[sources]]\nname = \"shop\"\nkind = \"itnio-call-record\"\n";

/// An app with three ITNIO reports rejected by source `shop` (set up with
/// the wrong kind, then fixed) and one unreadable push to `ali`.
async fn three_to_replay() -> TestApp {
    let app = spawn_app_with(&format!("{WRONG_KIND}\n{OTHER}")).await;
    for i in 0..3 {
        let (status, _) = app
            .push(
                "shop",
                itnio_call(&format!("BR-{i}"), "https://r.example/a.mp3"),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let (status, _) = app.push("ali", b"{not json".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    app.stop()
        .await
        .restart(&format!("{RIGHT_KIND}\n{OTHER}"))
        .await
}

#[tokio::test]
async fn receipt_tabs_count_and_filters_carry_across_them() {
    let app = three_to_replay().await;
    let mut v = Visitor::new(&app);
    let p = v.get("/receipts").await.text;
    assert!(p.contains(">Rejected 4</a>"), "{p}");
    assert!(
        p.contains(">All 4</a>") && p.contains(">Accepted 0</a>"),
        "{p}"
    );
    let today = app.today();
    let shop = v
        .get(&format!("/receipts?source=shop&from={today}&to={today}"))
        .await
        .text;
    assert_eq!(rows(&shop, "receipts-table").len(), 3);
    assert!(shop.contains(">Rejected 3</a>"), "{shop}");
    assert!(
        shop.contains(&format!(
            "href=\"/receipts?status=all&#38;source=shop&#38;from={today}&#38;to={today}\""
        )),
        "tabs keep the filters: {shop}"
    );
    let old = v
        .get("/receipts?status=all&from=2001-01-01&to=2001-01-02")
        .await
        .text;
    assert!(rows(&old, "receipts-table").is_empty());
    assert!(old.contains(">All 0</a>"));
    for bad in [
        "/receipts?from=June",
        "/receipts?status=lost",
        "/receipts?from=2025-06-03&to=2025-06-01",
    ] {
        assert_eq!(v.get(bad).await.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    // The API takes the same received-time filters.
    let since = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(1))
        .unwrap();
    let none = app
        .get_json(&format!("/api/v1/receipts?since={since}"))
        .await;
    assert_eq!(none["items"], json!([]));
    let all = app
        .get_json("/api/v1/receipts?since=2001-01-01T00:00:00Z&until=")
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 4);
    let (status, err) = app.get("/api/v1/receipts?until=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("until:"),
        "{err}"
    );
}

#[tokio::test]
async fn bulk_replay_replays_the_filtered_receipts_and_says_what_became_of_them() {
    let app = three_to_replay().await;
    let mut v = Visitor::new(&app);
    let p = v.get("/receipts?source=shop").await.text;
    assert!(p.contains("Replay all 3 shown by these filters"), "{p}");
    let form = [
        ("status", "rejected"),
        ("source", "shop"),
        ("from", ""),
        ("to", ""),
    ];
    let refused = v
        .post(
            "/receipts/replay",
            &[&form[..], &[("csrf", "wrong")]].concat(),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(app.calls("").await.len(), 0, "nothing replayed");
    let csrf = v.csrf();
    let done = v
        .post(
            "/receipts/replay",
            &[&form[..], &[("csrf", &csrf)]].concat(),
            None,
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let to = done.headers[LOCATION].to_str().unwrap().to_owned();
    assert!(
        to.starts_with("/receipts?status=rejected&source=shop&done=bulk&replayed=3"),
        "{to}"
    );
    let back = v.get(&to).await.text;
    assert!(
        back.contains("Replayed 3 receipts: now 3 accepted."),
        "{back}"
    );
    assert!(
        back.contains(">Rejected 0</a>") && back.contains(">Accepted 3</a>"),
        "{back}"
    );
    assert_eq!(app.calls("").await.len(), 3, "each replay made its call");
    // The other source's receipt was not in the filter.
    let rest = v.get("/receipts").await.text;
    assert_eq!(rows(&rest, "receipts-table").len(), 1);
    assert!(rest.contains("<td>ali</td>"), "{rest}");
}

#[tokio::test]
async fn bulk_replay_refuses_more_than_its_limit() {
    let app = spawn_app().await;
    let bodies: Vec<Vec<u8>> = (0..1001)
        .map(|i| format!("{{broken {i}").into_bytes())
        .collect();
    for chunk in bodies.chunks(50) {
        let pushes = chunk
            .iter()
            .map(|b| app.push("aliyun-call-report", b.clone()));
        for (status, _) in futures::future::join_all(pushes).await {
            assert_eq!(status, StatusCode::BAD_REQUEST);
        }
    }
    let mut v = Visitor::new(&app);
    // More than a page: *Next page* keeps the filters.
    let today = app.today();
    let first = v
        .get(&format!(
            "/receipts?source=aliyun-call-report&from={today}&to={today}"
        ))
        .await
        .text;
    assert_eq!(rows(&first, "receipts-table").len(), 50);
    let next = format!(
        "href=\"/receipts?status=rejected&#38;source=aliyun-call-report&#38;from={today}&#38;to={today}&amp;cursor="
    );
    assert!(first.contains(&next), "{first}");
    let p = v.get("/receipts").await.text;
    assert!(
        p.contains("1001 receipts match: bulk replay takes at most 1000"),
        "{p}"
    );
    let csrf = v.csrf();
    let refused = v
        .post(
            "/receipts/replay",
            &[("status", "rejected"), ("csrf", &csrf)],
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.text.contains("at most 1000"), "{}", refused.text);
    let r = app.get_json("/api/v1/receipts?limit=1").await;
    assert_eq!(r["items"][0]["replay_count"], 0, "nothing replayed");
}
