//! The contract of [`Store::health`](crate::storage::Store::health) and the
//! alert methods, on SQLite or (with `CALLHOOK_TEST_BACKEND=postgres`)
//! PostgreSQL.

use super::*;
use crate::adapters::RecordIssue;
use crate::domain::{CallUpdate, Direction, Outcome, SourceKind, Vendor};
use crate::storage::test_rig::{rig_with, target};
use crate::storage::{BodyResult, IngestBatch, NewReceipt};

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// A receipt from `source` received at `when` (its id a ULID of that time),
/// rejected, partial or accepted.
fn receipt(source: &str, when: &str, status: &str, n: u128) -> IngestBatch {
    let t = at(when);
    let id = ulid::Ulid::from_parts(t.as_millisecond() as u64, n).to_string();
    let issue = RecordIssue {
        index: Some(0),
        path: "$[0]".into(),
        message: "bad".into(),
    };
    let mut update = CallUpdate::new(Vendor::Aliyun, format!("c-{n}"), Direction::Outbound);
    update.set.outcome = Some(Outcome::Answered);
    let result = match status {
        "rejected" => BodyResult::Rejected(issue),
        "partial" => BodyResult::Parsed {
            record_count: 2,
            updates: vec![update],
            errors: vec![issue],
            warnings: vec![],
        },
        _ => BodyResult::Parsed {
            record_count: 1,
            updates: vec![update],
            errors: vec![],
            warnings: vec![],
        },
    };
    IngestBatch {
        receipt: NewReceipt {
            id,
            source: source.into(),
            kind: SourceKind::AliyunCallReport,
            received_at: t,
            remote_addr: "127.0.0.1:1".into(),
            body: Vec::new().into(),
        },
        replay: false,
        result,
        deadline: None,
    }
}

#[tokio::test]
async fn health_counts_from_the_day_start_and_reads_each_sources_last_push() {
    let rig = rig_with(vec![target("crm")]).await;
    let s = &rig.store;
    for b in [
        receipt("ali", "2026-03-01T23:00:00Z", "rejected", 1),
        receipt("ali", "2026-03-02T01:00:00Z", "rejected", 2),
        receipt("ali", "2026-03-02T02:00:00Z", "partial", 3),
        receipt("vapi", "2026-03-02T03:00:00Z", "rejected", 4),
        receipt("ali", "2026-03-02T04:00:00Z", "accepted", 5),
    ] {
        s.ingest(b).await.unwrap();
    }
    let q = HealthQuery {
        sources: vec!["ali".into(), "never".into(), "vapi".into()],
        targets: vec!["crm".into()],
        since: at("2026-03-02T00:00:00Z"),
        with_total: true,
    };
    let h = s.health(&q).await.unwrap();
    assert_eq!(
        h.last_push,
        vec![
            ("ali".into(), Some(at("2026-03-02T04:00:00Z"))),
            ("never".into(), None),
            ("vapi".into(), Some(at("2026-03-02T03:00:00Z"))),
        ]
    );
    assert_eq!((h.rejected, h.partial, h.total), (2, 1, Some(4)));
    assert_eq!(h.dead, vec![("crm".into(), 0)]);
    assert_eq!(h.lag.pending_receipts, 0);
    assert_eq!(h.firing, 0);
    // A later day start counts less; without with_total no total.
    let h = s
        .health(&HealthQuery {
            since: at("2026-03-02T02:30:00Z"),
            with_total: false,
            ..q
        })
        .await
        .unwrap();
    assert_eq!((h.rejected, h.partial, h.total), (1, 0, None));
}

fn alert(rule: &str, when: &str) -> AlertRecord {
    AlertRecord {
        id: new_alert_id(at(when)),
        rule: rule.into(),
        kind: "dead_deliveries".into(),
        state: AlertState::Firing,
        value: 2.0,
        threshold: 0.0,
        message: "2 dead deliveries".into(),
        fired_at: at(when),
        resolved_at: None,
        notified: NotifiedChannels::default(),
    }
}

#[tokio::test]
async fn one_firing_alert_per_rule_and_resolving_happens_once() {
    let rig = rig_with(vec![]).await;
    let s = &rig.store;
    let first = alert("dead", "2026-03-02T01:00:00Z");
    assert!(s.open_alert(&first).await.unwrap());
    // Another instance (or a second evaluation) cannot open it again.
    assert!(!s
        .open_alert(&alert("dead", "2026-03-02T01:00:01Z"))
        .await
        .unwrap());
    assert!(s
        .open_alert(&alert("other", "2026-03-02T01:30:00Z"))
        .await
        .unwrap());
    let h = s
        .health(&HealthQuery {
            sources: vec![],
            targets: vec![],
            since: at("2026-03-02T00:00:00Z"),
            with_total: false,
        })
        .await
        .unwrap();
    assert_eq!(h.firing, 2);
    let resolved_at = at("2026-03-02T02:00:00Z");
    assert!(s.resolve_alert(&first.id, resolved_at).await.unwrap());
    assert!(!s.resolve_alert(&first.id, resolved_at).await.unwrap());
    assert!(!s.resolve_alert("alr_unknown", resolved_at).await.unwrap());
    s.set_alert_notified(&first.id, AlertState::Firing, &["ops".into()])
        .await
        .unwrap();
    s.set_alert_notified(
        &first.id,
        AlertState::Resolved,
        &["ops".into(), "pager".into()],
    )
    .await
    .unwrap();
    // Resolved, the rule may fire again.
    let again = alert("dead", "2026-03-02T03:00:00Z");
    assert!(s.open_alert(&again).await.unwrap());

    let all = |state, before: Option<String>| AlertFilter {
        state,
        rule: None,
        before,
        limit: 10,
    };
    let list = s.list_alerts(&all(None, None)).await.unwrap();
    let rules: Vec<&str> = list.iter().map(|a| a.rule.as_str()).collect();
    assert_eq!(rules, ["dead", "other", "dead"], "newest first");
    let old = &list[2];
    assert_eq!(old.id, first.id);
    assert_eq!(old.state, AlertState::Resolved);
    assert_eq!(old.resolved_at, Some(resolved_at));
    assert_eq!(old.notified.fired, ["ops"]);
    assert_eq!(old.notified.resolved, ["ops", "pager"]);
    assert_eq!(old.message, "2 dead deliveries");
    let firing = s
        .list_alerts(&all(Some(AlertState::Firing), None))
        .await
        .unwrap();
    assert_eq!(firing.len(), 2);
    let after = s
        .list_alerts(&all(None, Some(list[1].id.clone())))
        .await
        .unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].id, first.id);
    let one_rule = s
        .list_alerts(&AlertFilter {
            rule: Some("other".into()),
            ..all(None, None)
        })
        .await
        .unwrap();
    assert_eq!(one_rule.len(), 1);
}
