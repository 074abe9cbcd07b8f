//! The contract of the recordings archive's rows (`Store::claim_recordings`
//! and the rest), on SQLite or (with `CALLHOOK_TEST_BACKEND=postgres`)
//! PostgreSQL.

use super::*;
use crate::domain::{CallUpdate, Direction, RecordingStatus, SourceKind, Vendor};
use crate::storage::test_rig::rig_with;
use crate::storage::{BodyResult, IngestBatch, NewReceipt, PageRequest, Store};
use std::time::Duration;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// A push from `retell` received at `when` describing call `call` with
/// recording `url` (and a multi-channel link when `multi` is set).
fn push(call: &str, url: &str, multi: Option<&str>, when: &str, n: u128) -> IngestBatch {
    let t = at(when);
    let mut update = CallUpdate::new(Vendor::Retell, call.into(), Direction::Outbound);
    update.set.recording_url = Some(url.into());
    if let Some(m) = multi {
        update
            .vendor_fields
            .insert("recording_multi_channel_url".into(), m.into());
    }
    IngestBatch {
        receipt: NewReceipt {
            id: ulid::Ulid::from_parts(t.as_millisecond() as u64, n).to_string(),
            source: "retell".into(),
            kind: SourceKind::RetellCallEvent,
            received_at: t,
            remote_addr: "127.0.0.1:1".into(),
            body: Vec::new().into(),
        },
        replay: false,
        result: BodyResult::Parsed {
            record_count: 1,
            updates: vec![update],
            errors: vec![],
            warnings: vec![],
        },
        deadline: None,
    }
}

fn report(c: &RecordingClaim, at_: Timestamp, result: RecordingResult) -> RecordingReport {
    RecordingReport {
        call_id: c.call_id.clone(),
        link: c.link.clone(),
        url: c.url.clone(),
        at: at_,
        result,
    }
}

const LEASE: Duration = Duration::from_secs(60);

async fn call_id(store: &dyn Store) -> String {
    let page = store
        .list_calls(
            &Default::default(),
            &PageRequest {
                limit: 10,
                cursor: None,
            },
        )
        .await
        .unwrap();
    page.items[0].id.clone()
}

#[tokio::test]
async fn a_push_makes_a_job_per_link_that_is_claimed_once_retried_and_archived() {
    let rig = rig_with(vec![]).await;
    let store = &*rig.store;
    let url = "https://rec.example.com/a.wav?Expires=1900000000";
    store
        .ingest(push(
            "c1",
            url,
            Some("https://rec.example.com/a-multi.wav"),
            "2026-05-01T00:00:00Z",
            1,
        ))
        .await
        .unwrap();
    let now = at("2026-05-01T00:00:01Z");
    let claims = store.claim_recordings(now, 10, LEASE).await.unwrap();
    assert_eq!(claims.len(), 2, "{claims:?}");
    let main = claims.iter().find(|c| c.link == "recording_url").unwrap();
    assert_eq!(main.url, url);
    assert_eq!(main.attempts, 0);
    assert_eq!(main.source, "retell");
    assert_eq!(
        main.expires_at,
        Some(Timestamp::from_second(1_900_000_000).unwrap())
    );
    assert_eq!(main.received_at, at("2026-05-01T00:00:00Z"));
    // Leased: a second archiver gets nothing.
    assert!(store
        .claim_recordings(now, 10, LEASE)
        .await
        .unwrap()
        .is_empty());

    let retry_at = at("2026-05-01T00:01:00Z");
    store
        .report_recordings(vec![report(
            main,
            now,
            RecordingResult::Retry {
                retry_at,
                error: "HTTP 404 Not Found from rec.example.com".into(),
            },
        )])
        .await
        .unwrap();
    let id = call_id(store).await;
    let call = store.get_call(&id).await.unwrap().unwrap().call;
    let rec = call.recording.expect("recording filled");
    assert_eq!(rec.status, RecordingStatus::Pending);
    assert_eq!(rec.attempts, 1);
    assert_eq!(rec.next_attempt_at, Some(retry_at));
    assert!(rec.error.unwrap().contains("404"));
    // Not due before its time, even with the lease over.
    let later = now.checked_add(Duration::from_secs(50)).unwrap();
    let due = store
        .claim_recordings(later, 10, Duration::ZERO)
        .await
        .unwrap();
    assert!(due.iter().all(|c| c.link != "recording_url"), "{due:?}");
    // The multi-channel link, still pending, was due at the push.
    assert_eq!(
        store.next_recording_due().await.unwrap(),
        Some(at("2026-05-01T00:00:00Z"))
    );

    let again = store.claim_recordings(retry_at, 10, LEASE).await.unwrap();
    let main = again.iter().find(|c| c.link == "recording_url").unwrap();
    assert_eq!(main.attempts, 1);
    let sha = "ab".repeat(32);
    store
        .report_recordings(vec![report(
            main,
            retry_at,
            RecordingResult::Archived {
                bytes: 44_144,
                sha256: sha.clone(),
                content_type: Some("audio/wav".into()),
            },
        )])
        .await
        .unwrap();
    let listed = store
        .list_calls(
            &Default::default(),
            &PageRequest {
                limit: 10,
                cursor: None,
            },
        )
        .await
        .unwrap();
    let rec = listed.items[0].recording.clone().unwrap();
    assert_eq!(rec.status, RecordingStatus::Archived);
    assert_eq!(rec.bytes, Some(44_144));
    assert_eq!(rec.sha256.as_deref(), Some(sha.as_str()));
    assert_eq!(rec.archived_at, Some(retry_at));
    assert_eq!(rec.next_attempt_at, None);
    let rows = store.call_recordings(&id).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].link, "recording_url");
    assert_eq!(rows[0].content_type.as_deref(), Some("audio/wav"));
    assert_eq!(rows[1].link, "recording_multi_channel_url");
    assert_eq!(rows[1].status, RecordingStatus::Pending);
    let counts = store.recording_counts().await.unwrap();
    assert_eq!(counts.count(RecordingStatus::Archived), 1);
    assert_eq!(counts.count(RecordingStatus::Pending), 1);
    assert_eq!(counts.archived_bytes, 44_144);
}

#[tokio::test]
async fn the_same_link_again_keeps_the_row_and_a_new_link_starts_over() {
    let rig = rig_with(vec![]).await;
    let store = &*rig.store;
    let old = "https://rec.example.com/old.wav";
    store
        .ingest(push("c2", old, None, "2026-05-01T00:00:00Z", 1))
        .await
        .unwrap();
    let now = at("2026-05-01T00:00:01Z");
    let claim = store
        .claim_recordings(now, 10, LEASE)
        .await
        .unwrap()
        .remove(0);
    store
        .report_recordings(vec![report(
            &claim,
            now,
            RecordingResult::Final {
                status: RecordingStatus::TooLarge,
                error: "Content-Length 2147483648 is over recordings.max_bytes".into(),
            },
        )])
        .await
        .unwrap();
    // A retry of the same push: nothing restarts.
    store
        .ingest(push("c2", old, None, "2026-05-01T00:00:05Z", 2))
        .await
        .unwrap();
    let id = call_id(store).await;
    let row = store
        .recording(&id, "recording_url")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, RecordingStatus::TooLarge);
    assert_eq!(row.attempts, 1);

    // A new link: pending again, from zero, and a late report about the
    // old link changes nothing.
    let new = "https://rec.example.com/new.wav";
    store
        .ingest(push("c2", new, None, "2026-05-01T00:00:09Z", 3))
        .await
        .unwrap();
    store
        .report_recordings(vec![report(
            &claim,
            now,
            RecordingResult::Archived {
                bytes: 1,
                sha256: "cd".repeat(32),
                content_type: None,
            },
        )])
        .await
        .unwrap();
    let row = store
        .recording(&id, "recording_url")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.url, new);
    assert_eq!(row.status, RecordingStatus::Pending);
    assert_eq!(row.attempts, 0);
    assert_eq!(row.sha256, None);
    assert_eq!(row.received_at, at("2026-05-01T00:00:09Z"));

    // `recordings fetch`: a final failure is due again.
    let claim = store
        .claim_recordings(at("2026-05-01T00:00:10Z"), 10, LEASE)
        .await
        .unwrap()
        .remove(0);
    store
        .report_recordings(vec![report(
            &claim,
            at("2026-05-01T00:00:10Z"),
            RecordingResult::Final {
                status: RecordingStatus::NotFound,
                error: "HTTP 404".into(),
            },
        )])
        .await
        .unwrap();
    let t = at("2026-05-02T00:00:00Z");
    assert_eq!(
        store
            .refetch_recordings(Some(at("2026-05-02T00:00:00Z")), t)
            .await
            .unwrap(),
        0,
        "received before --since"
    );
    assert_eq!(store.refetch_recordings(None, t).await.unwrap(), 1);
    let claims = store.claim_recordings(t, 10, LEASE).await.unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].url, new);
}

#[tokio::test]
async fn deleting_a_call_orphans_its_file_unless_another_call_keeps_it() {
    let rig = rig_with(vec![]).await;
    let store = &*rig.store;
    let url = "https://rec.example.com/shared.wav";
    for (n, call) in ["c3", "c4"].into_iter().enumerate() {
        store
            .ingest(push(call, url, None, "2026-05-01T00:00:00Z", n as u128 + 1))
            .await
            .unwrap();
    }
    let now = at("2026-05-01T00:00:01Z");
    let claims = store.claim_recordings(now, 10, LEASE).await.unwrap();
    assert_eq!(claims.len(), 2);
    let sha = "ef".repeat(32);
    let archived = RecordingResult::Archived {
        bytes: 10,
        sha256: sha.clone(),
        content_type: None,
    };
    let reports = claims
        .iter()
        .map(|c| report(c, now, archived.clone()))
        .collect();
    store.report_recordings(reports).await.unwrap();

    store
        .delete_call(&claims[0].call_id)
        .await
        .unwrap()
        .unwrap();
    assert!(store
        .call_recordings(&claims[0].call_id)
        .await
        .unwrap()
        .is_empty());
    assert!(
        store.take_recording_orphans(10).await.unwrap().is_empty(),
        "the other call still refers to the file"
    );
    store
        .delete_call(&claims[1].call_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.take_recording_orphans(10).await.unwrap(),
        vec![sha.clone()]
    );
    assert!(
        store.take_recording_orphans(10).await.unwrap().is_empty(),
        "taken once"
    );
    assert_eq!(
        store.recording_counts().await.unwrap(),
        RecordingCounts::default()
    );
}

#[tokio::test]
async fn a_link_that_is_not_http_makes_no_job() {
    let rig = rig_with(vec![]).await;
    let store = &*rig.store;
    store
        .ingest(push(
            "c5",
            "file:///etc/passwd",
            None,
            "2026-05-01T00:00:00Z",
            1,
        ))
        .await
        .unwrap();
    let now = at("2026-05-02T00:00:00Z");
    assert!(store
        .claim_recordings(now, 10, LEASE)
        .await
        .unwrap()
        .is_empty());
    let id = call_id(store).await;
    let call = store.get_call(&id).await.unwrap().unwrap().call;
    assert_eq!(call.recording, None);
}
