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
