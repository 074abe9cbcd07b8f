//! What a new user sees first: a call known only from its analyses is
//! marked "report not received yet" (list and detail) and is not counted
//! against the answer rate; the overview's default range shows the data.

use crate::support::{notes_for_report_sample, sample, spawn_app};

#[tokio::test]
async fn a_call_known_only_from_its_analyses_is_marked_until_its_report_arrives() {
    let app = spawn_app().await;
    app.push_ok("aliyun-call-notes", notes_for_report_sample())
        .await;
    app.settle().await;
    let calls = app.calls("vendor=aliyun").await;
    assert_eq!(calls.len(), 1);
    let id = calls[0]["id"].as_str().unwrap().to_owned();
    let list = app.page("/calls").await;
    assert!(
        list.contains("o-awaiting-report\">report not received yet<"),
        "{list}"
    );
    let detail = app.page(&format!("/calls/{id}")).await;
    assert!(detail.contains("id=\"awaiting-report\""), "{detail}");

    app.push_ok("aliyun-call-report", sample("aliyun-call-report"))
        .await;
    app.settle().await;
    let detail = app.page(&format!("/calls/{id}")).await;
    assert!(!detail.contains("id=\"awaiting-report\""), "{detail}");
    assert!(detail.contains("id=\"outcome\">answered<"), "{detail}");
    let list = app.page("/calls").await;
    assert!(!list.contains("report not received yet"));
}

/// The README's walkthrough: each kind's sample pushed once.
const WALKTHROUGH: [&str; 8] = [
    "aliyun-call-report",
    "aliyun-call-notes",
    "itnio-call-record",
    "longlonglong-inbound",
    "laaffic-voice-report",
    "vapi-end-of-call-report",
    "retell-call-event",
    "bland-call",
];

fn figure(page: &str, id: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\">"))
        .unwrap_or_else(|| panic!("{id}: {page}"));
    page[at..]
        .split('>')
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_walkthroughs_samples_show_their_answered_calls_under_the_default_range() {
    let app = spawn_app().await;
    for kind in WALKTHROUGH {
        app.push_ok(kind, sample(kind)).await;
    }
    app.settle().await;
    let answered = app.calls("outcome=answered").await.len();
    assert_eq!(
        answered, 7,
        "every sample but the notes is an answered call"
    );
    let page = app.page("/").await;
    assert_eq!(figure(&page, "total-answered"), answered.to_string());
    assert_eq!(figure(&page, "total-calls"), answered.to_string());
    assert_eq!(figure(&page, "total-answer-rate"), "100.0%");
    assert!(!page.contains("id=\"empty-state\""));
    // All time (its last page of days, up to today) has the notes' call
    // too, dated today, not counted in the rate.
    let page = app.page("/?range=all").await;
    assert_eq!(figure(&page, "total-answer-rate"), "100.0%");
    assert!(page.contains("id=\"total-awaiting\">(1 awaiting"), "{page}");
    // Each vendor in the comparison table of the default range.
    let page = app.page("/").await;
    for vendor in [
        "aliyun",
        "itnio",
        "longlonglong",
        "laaffic",
        "vapi",
        "retell",
        "bland",
    ] {
        assert!(page.contains(&format!("</i>{vendor}</td>")), "{vendor}");
    }
}

#[tokio::test]
async fn an_empty_callhook_says_how_to_send_the_first_push() {
    let app = spawn_app().await;
    let page = app.page("/").await;
    assert!(page.contains("No calls yet"), "{page}");
    assert!(page.contains("<code>/hooks/aliyun-call-report</code>"));
    assert_eq!(figure(&page, "total-calls"), "0");
}
