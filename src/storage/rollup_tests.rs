use super::*;
use crate::domain::{Call, CallUpdate, Direction, Money, Outcome, Vendor};
use crate::storage::CallFilter;

fn call(outcome: Outcome, talk: Option<i64>, cost: Option<&str>) -> Call {
    let at: Timestamp = "2025-06-01T23:59:59Z".parse().unwrap();
    let u = CallUpdate::new(Vendor::Aliyun, "C-1".into(), Direction::Outbound);
    let mut c = Call::from_update(&u, "src", at);
    c.outcome = outcome;
    c.talk_seconds = talk;
    c.cost = cost.map(|a| Money::new(a.parse().unwrap(), "usd"));
    c
}

#[test]
fn talk_buckets_split_at_their_bounds() {
    let got: Vec<usize> = [
        0, 9, 10, 29, 30, 59, 60, 119, 120, 299, 300, 599, 600, 10_000,
    ]
    .into_iter()
    .map(talk_bucket)
    .collect();
    assert_eq!(got, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
}

#[test]
fn a_call_counts_once_under_its_key() {
    let (key, sums) = Sums::of(&call(Outcome::Answered, Some(45), Some("0.10")));
    assert_eq!(key.day(), "2025-06-01");
    assert_eq!(key.hour, "2025-06-01T23");
    assert_eq!(key.currency, "USD");
    assert_eq!(key.task_id, "");
    assert_eq!((sums.calls, sums.answered), (1, 1));
    assert_eq!((sums.talk_seconds, sums.answered_talk_seconds), (45, 45));
    assert_eq!(sums.cost.to_string(), "0.10");
    assert_eq!(sums.talk_buckets, [0, 0, 1, 0, 0, 0, 0]);
    let (key, sums) = Sums::of(&call(Outcome::NoAnswer, Some(5), None));
    assert_eq!(key.currency, "");
    assert_eq!((sums.answered, sums.answered_talk_seconds), (0, 0));
    assert_eq!(sums.talk_seconds, 5);
    assert_eq!(sums.talk_buckets, [0; TALK_BUCKETS]);
    assert_eq!(sums.of_outcome(Outcome::NoAnswer), 1);
    assert_eq!(sums.outcomes.iter().sum::<i64>(), 1);
}

#[test]
fn outcome_columns_follow_the_outcomes_in_order() {
    let names: Vec<String> = levels::SUM_COLUMNS[levels::SUM_COLUMNS.len() - OUTCOMES..]
        .iter()
        .map(|c| c.to_string())
        .collect();
    let want: Vec<String> = Outcome::ALL
        .iter()
        .map(|o| format!("outcome_{}", o.as_str()))
        .collect();
    assert_eq!(names, want);
    assert_eq!(levels::SUM_COLUMNS[levels::COST_COLUMN], "cost");
    for (i, o) in Outcome::ALL.iter().enumerate() {
        assert_eq!(o.index(), i);
    }
    // Every column survives the trip through the integers.
    let mut c = call(Outcome::Voicemail, Some(700), Some("1.5"));
    c.outcome = Outcome::Answered;
    let mut s = Sums::of_call(&c);
    s.add(&Sums::of_call(&call(Outcome::Failed, None, None)), 1);
    s.qa_micros = 7;
    s.qa_count = 1;
    let back = levels::sums_of(&levels::integers(&s), s.cost);
    assert_eq!(back, s);
    assert_eq!(back.of_outcome(Outcome::Failed), 1);
}

#[test]
fn a_change_moves_the_call_between_keys() {
    let before = call(Outcome::NoAnswer, None, None);
    let after = call(Outcome::Answered, Some(70), Some("0.25"));
    let mut delta = RollupDelta::default();
    delta.change(Some(Sums::of(&before)), &after);
    let rows: Vec<_> = delta.into_rows().collect();
    assert_eq!(rows.len(), 2);
    let old = rows.iter().find(|(k, _)| k.outcome == "no_answer").unwrap();
    assert_eq!(old.1.calls, -1);
    let new = rows.iter().find(|(k, _)| k.outcome == "answered").unwrap();
    assert_eq!((new.1.calls, new.1.answered), (1, 1));
    assert_eq!(new.1.talk_buckets[3], 1);
}

#[test]
fn an_unchanged_contribution_writes_nothing() {
    let c = call(Outcome::Answered, Some(70), Some("0.25"));
    let mut delta = RollupDelta::default();
    delta.change(Some(Sums::of(&c)), &c);
    assert_eq!(delta.into_rows().count(), 0);
}

#[test]
fn only_filters_on_unkept_columns_scan() {
    let noon: Timestamp = "2025-06-02T12:34:00Z".parse().unwrap();
    let f = CallFilter {
        vendor: Some(Vendor::Laaffic),
        since: Some(noon),
        ..Default::default()
    };
    let rf = RollupFilter::of(&f).expect("servable");
    assert_eq!(rf.vendor.as_deref(), Some("laaffic"));
    assert_eq!(rf.since, Some(noon));
    assert_eq!(rf.to_calls().unwrap(), f);
    for f in [
        CallFilter {
            out_id: Some("x".into()),
            ..Default::default()
        },
        CallFilter {
            customer_number: Some("x".into()),
            ..Default::default()
        },
        CallFilter {
            vendor_call_id: Some("x".into()),
            ..Default::default()
        },
        CallFilter {
            search: Some("x".into()),
            ..Default::default()
        },
    ] {
        assert_eq!(RollupFilter::of(&f), None, "{f:?}");
    }
}

#[test]
fn awaiting_calls_count_but_do_not_lower_the_answer_rate() {
    let mut waiting = call(Outcome::Unknown, None, None);
    waiting.vendor_status = String::new();
    assert!(waiting.awaiting_report());
    let mut sums = Sums::of(&waiting).1;
    assert_eq!(sums.awaiting_report, 1);
    assert_eq!(sums.answer_rate(), 0.0);
    sums.add(&Sums::of(&call(Outcome::Answered, Some(5), None)).1, 1);
    sums.add(&Sums::of(&call(Outcome::NoAnswer, None, None)).1, 1);
    assert_eq!((sums.calls, sums.awaiting_report), (3, 1));
    assert_eq!(sums.answer_rate(), 0.5);
}

#[test]
fn each_level_keeps_its_part_of_the_key() {
    let mut c = call(Outcome::Answered, Some(45), Some("0.10"));
    c.task_id = Some("T1".into());
    c.intent = Some(crate::domain::Intent {
        code: Some("A".into()),
        label: None,
    });
    let (key, _) = Sums::of(&c);
    assert_eq!(key.intent, "A");
    let hours = Level::named("rollup_hours").unwrap();
    assert_eq!(
        hours.key_of(&key),
        ["2025-06-01T23", "aliyun", "src", "outbound", "USD"]
    );
    let intents = Level::named("rollup_task_intents").unwrap();
    assert_eq!(intents.key_of(&key), ["2025-06-01", "T1", "A"]);
}

#[test]
fn stats_rows_fold_currencies_and_order_absent_keys_first() {
    let sums = |calls, cost: &str| Sums {
        calls,
        answered: 1,
        awaiting_report: 0,
        talk_seconds: 10,
        answered_talk_seconds: 10,
        cost: cost.parse().unwrap(),
        qa_micros: 160_000_000,
        qa_count: 2,
        talk_buckets: [0; TALK_BUCKETS],
        outcomes: [0; OUTCOMES],
    };
    let row = |k: &str, cur: &str, s| RollupRow {
        key: vec![k.into(), cur.into()],
        sums: s,
    };
    let rows = vec![
        row("T2", "USD", sums(2, "0.10")),
        row("T2", "EUR", sums(1, "0.250")),
        row("", "", sums(3, "0")),
        row("T2", "USD", sums(1, "0.20")),
    ];
    let out = stats_rows(GroupBy::TaskId, rows).unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].key, None);
    assert!(out[0].cost.is_empty());
    assert_eq!(out[1].key.as_deref(), Some("T2"));
    assert_eq!(out[1].calls, 4);
    assert_eq!(out[1].answered, 3);
    assert_eq!(out[1].cost["USD"], "0.3");
    assert_eq!(out[1].cost["EUR"], "0.25");
    assert_eq!(out[1].avg_qa_score, Some(80.0));
}
