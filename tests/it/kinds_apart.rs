//! A body of one kind pushed to a source of another kind is refused (400,
//! kept as `rejected`), and the answer names the kind the body looks like;
//! a push of which no record is usable is never a 200.

use crate::support::{receipt_statuses, sample, spawn_app};
use callhook::adapters::{self, SourceContext};
use callhook::domain::SourceKind;
use reqwest::StatusCode;

#[test]
fn every_kinds_sample_is_refused_by_every_other_kind_naming_its_kind() {
    for body_kind in SourceKind::built_in() {
        let body = sample(body_kind.as_str());
        for source_kind in SourceKind::built_in().filter(|k| *k != body_kind) {
            let ctx = SourceContext::default_for(source_kind);
            let err = match adapters::parse(source_kind, &body, &ctx) {
                Ok(p) => panic!("a {body_kind} body was read as {source_kind}: {p:#?}"),
                Err(e) => e.to_string(),
            };
            assert!(
                err.contains(&format!("this looks like a {body_kind} body")),
                "{body_kind} at {source_kind}: {err}"
            );
        }
    }
}

#[test]
fn records_with_only_shared_keys_cannot_be_told_apart_and_stay_with_their_source() {
    // Alibaba's call report and ITNIO's record both name the call `callId`
    // and carry `startTime`/`endTime`: such a record is read by either kind.
    let body = br#"[{"callId": "c-1", "startTime": "2025-06-01 10:00:00", "endTime": "2025-06-01 10:01:00"}]"#;
    for kind in [SourceKind::AliyunCallReport, SourceKind::ItnioCallRecord] {
        let p = adapters::parse(kind, body, &SourceContext::default_for(kind)).unwrap();
        assert_eq!(p.records.len(), 1, "{kind}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_body_is_answered_400_and_kept_as_rejected() {
    let app = spawn_app().await;
    let mut refused = 0;
    for body_kind in SourceKind::built_in() {
        let body = sample(body_kind.as_str());
        for source in SourceKind::built_in().filter(|k| *k != body_kind) {
            let (status, answer) = app.push(source.as_str(), body.clone()).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{body_kind} at {source}: {answer}"
            );
            let msg = answer["msg"].as_str().unwrap();
            assert!(
                msg.contains(&format!(
                    "looks like a {body_kind} body; is the source's kind right?"
                )),
                "{msg}"
            );
            refused += 1;
        }
    }
    let receipts = app
        .get_json("/api/v1/receipts?status=rejected&limit=1000")
        .await;
    assert_eq!(receipt_statuses(&receipts).len(), refused);
    assert!(app.calls("").await.is_empty(), "nothing became a call");
    // The dashboard's receipt page says the same.
    let receipts = app.receipts_of(&sample("laaffic-voice-report")).await;
    assert_eq!(receipts.len(), 7, "one per other kind's source");
    let receipt = &receipts[0];
    let page = app
        .page(&format!("/receipts/{}", receipt["id"].as_str().unwrap()))
        .await;
    assert!(
        page.contains("this looks like a laaffic-voice-report body"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_with_no_usable_record_is_400_not_200() {
    let app = spawn_app().await;
    for (source, body) in [
        (
            "laaffic-voice-report",
            r#"{"array": [{"callStatus": 50}, {"callee": "1"}]}"#,
        ),
        (
            "longlonglong-inbound",
            r#"{"count": 1, "data": [{"bill": 3}]}"#,
        ),
        ("aliyun-call-report", "[]"),
        ("bland-call", r#"{"status": "completed"}"#),
    ] {
        let (status, answer) = app.push(source, body.as_bytes().to_vec()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{source}: {answer}");
        let msg = answer["msg"].as_str().unwrap();
        assert!(
            msg.contains("no usable record") || msg.contains("no records"),
            "{msg}"
        );
    }
    let receipts = app.get_json("/api/v1/receipts?status=rejected").await;
    assert_eq!(
        receipt_statuses(&receipts).len(),
        4,
        "kept for repair and replay"
    );
}
