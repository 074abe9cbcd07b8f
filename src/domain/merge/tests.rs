use super::*;
use crate::domain::{AnalysisKind, Direction, Money};
use rust_decimal::Decimal;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn report() -> CallUpdate {
    let mut u = CallUpdate::new(Vendor::Aliyun, "c1".into(), Direction::Outbound);
    u.set.outcome = Some(Outcome::Answered);
    u.set.vendor_status = Some("ANSWERED".into());
    u.set.customer_number = Some("139".into());
    u.set.out_id = Some("report-out".into());
    u.set.answered_at = Some(ts("2025-06-01T02:00:00Z"));
    u.set.originated_at = Some(ts("2025-06-01T01:59:45Z"));
    u.set.cost = Some(Money::new(Decimal::new(15, 2), "usd"));
    u
}

fn notes(reported: &str, score: f64) -> CallUpdate {
    let mut u = CallUpdate::new(Vendor::Aliyun, "c1".into(), Direction::Outbound);
    u.fill.out_id = Some("notes-out".into());
    u.fill.customer_number = Some("155".into());
    u.analyses.push(Analysis {
        kind: AnalysisKind::QualityInspection,
        success: true,
        error_code: None,
        reported_at: Some(ts(reported)),
        score: Some(score),
        full_score: Some(100.0),
        items: None,
        tags: None,
        vendor_fields: Default::default(),
    });
    u
}

fn comparable(mut c: Call) -> Call {
    c.source = String::new();
    c.updated_at = c.first_received_at;
    c
}

#[test]
fn report_then_notes_equals_notes_then_report() {
    let t = ts("2026-01-01T00:00:00Z");
    let mut a = Call::from_update(&report(), "r", t);
    assert_eq!(
        a.apply(&notes("2026-01-01T00:00:10Z", 80.0), "n", t),
        Change::Analyzed
    );
    let mut b = Call::from_update(&notes("2026-01-01T00:00:10Z", 80.0), "n", t);
    assert_eq!(b.apply(&report(), "r", t), Change::Updated);
    assert_eq!(comparable(a.clone()), comparable(b));
    assert_eq!(
        a.out_id.as_deref(),
        Some("report-out"),
        "report wins over notes' fill"
    );
    assert_eq!(a.customer_number.as_deref(), Some("139"));
    assert_eq!(a.qa_score_percent(), Some(80.0));
}

#[test]
fn repeating_a_push_is_unchanged() {
    let t = ts("2026-01-01T00:00:00Z");
    let mut c = Call::from_update(&report(), "r", t);
    let later = ts("2026-01-01T00:05:00Z");
    assert_eq!(c.apply(&report(), "other", later), Change::Unchanged);
    assert_eq!(c.source, "r", "a duplicate does not move the source");
    assert_eq!(c.updated_at, t);
    c.apply(&notes("2026-01-01T00:00:10Z", 80.0), "n", t);
    assert_eq!(
        c.apply(&notes("2026-01-01T00:00:10Z", 80.0), "n", later),
        Change::Unchanged
    );
    assert_eq!(c.analyses.len(), 1);
}

#[test]
fn a_new_value_wins_and_a_missing_one_keeps_the_stored_value() {
    let t = ts("2026-01-01T00:00:00Z");
    let mut c = Call::from_update(&report(), "r", t);
    let mut u = CallUpdate::new(Vendor::Aliyun, "c1".into(), Direction::Outbound);
    u.set.outcome = Some(Outcome::NoAnswer);
    assert_eq!(c.apply(&u, "r2", t), Change::Updated);
    assert_eq!(c.outcome, Outcome::NoAnswer);
    assert_eq!(c.customer_number.as_deref(), Some("139"));
    assert_eq!(c.source, "r2");
}

#[test]
fn analyses_are_kept_in_report_order_whatever_the_arrival_order() {
    let t = ts("2026-01-01T00:00:00Z");
    let mut a = Call::from_update(&notes("2026-01-01T00:00:20Z", 50.0), "n", t);
    a.apply(&notes("2026-01-01T00:00:10Z", 90.0), "n", t);
    assert_eq!(a.analyses.len(), 2);
    assert_eq!(a.analyses[0].score, Some(90.0));
    assert_eq!(a.qa_score_percent(), Some(50.0), "latest report counts");
}

#[test]
fn started_at_is_the_earliest_known_time() {
    let t = ts("2026-01-01T00:00:00Z");
    let c = Call::from_update(&report(), "r", t);
    assert_eq!(c.started_at, ts("2025-06-01T01:59:45Z"));
    let bare = Call::from_update(&notes("2026-01-01T00:00:10Z", 1.0), "n", t);
    assert_eq!(bare.started_at, t, "no call time: first received");
    assert_eq!(c.id, call_id_for(Vendor::Aliyun, "c1"));
    assert_eq!(c.id.len(), 32);
    assert_ne!(c.id, call_id_for(Vendor::Itnio, "c1"));
}

#[test]
fn a_call_known_only_from_its_analyses_awaits_its_report_until_one_arrives() {
    let t = ts("2026-01-01T00:00:00Z");
    let mut c = Call::from_update(&notes("2026-01-01T00:00:10Z", 80.0), "n", t);
    assert!(c.awaiting_report(), "notes alone say nothing of the call");
    assert_eq!(c.started_at, t, "dated when callhook first heard of it");
    c.apply(&report(), "r", t);
    assert!(!c.awaiting_report());
    let mut unknown = CallUpdate::new(Vendor::Aliyun, "c2".into(), Direction::Outbound);
    unknown.set.vendor_status = Some("weird".into());
    let c2 = Call::from_update(&unknown, "r", t);
    assert!(
        !c2.awaiting_report(),
        "a report with an unknown status is still a report"
    );
}
