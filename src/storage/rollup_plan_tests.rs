use super::*;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn filter(since: Option<&str>, until: Option<&str>) -> RollupFilter {
    RollupFilter {
        since: since.map(at),
        until: until.map(at),
        ..Default::default()
    }
}

fn table(p: &Plan) -> Option<&'static str> {
    p.level.map(|l| l.table)
}

#[test]
fn whole_days_read_the_smallest_level_keeping_the_dims() {
    let f = filter(Some("2025-06-01T00:00:00Z"), Some("2025-06-03T00:00:00Z"));
    let p = plan(&[Dim::Vendor, Dim::Currency], &f);
    assert_eq!(table(&p), Some("rollup_day_totals"));
    assert!(p.scans.is_empty());
    let p = plan(&[Dim::Day, Dim::Outcome], &f);
    assert_eq!(table(&p), Some("rollup_days"));
    let p = plan(&[Dim::Hour, Dim::Currency], &f);
    assert_eq!(table(&p), Some("rollup_hours"));
    let p = plan(&[Dim::Day, Dim::Intent], &f);
    assert_eq!(table(&p), Some("rollup_task_intents"));
    let p = plan(&[Dim::TaskId, Dim::Currency], &f);
    assert_eq!(table(&p), Some("rollup_task_days"));
    let task = RollupFilter {
        task_id: Some("T1".into()),
        ..f.clone()
    };
    let p = plan(&[Dim::Day, Dim::Vendor, Dim::Currency], &task);
    assert_eq!(table(&p), Some("rollup_task_days"));
    assert_eq!(
        table(&plan(&[Dim::Hour, Dim::Vendor, Dim::Currency], &task)),
        Some("rollup_task_hours")
    );
}

#[test]
fn filtered_columns_count_as_needed_dims() {
    let f = RollupFilter {
        outcome: Some("answered".into()),
        ..Default::default()
    };
    // The hourly level has no outcome: hours by outcome scan.
    let p = plan(&[Dim::Hour], &f);
    assert_eq!(p.level, None);
    assert_eq!(p.scans, vec![(None, None)]);
    assert_eq!(table(&plan(&[Dim::Day], &f)), Some("rollup_days"));
}

#[test]
fn a_task_by_outcome_reads_the_task_calls() {
    // No level keeps a task and an outcome key (the outcome mix is in the
    // columns): the task's calls are read (through `calls_by_task`).
    let f = RollupFilter {
        task_id: Some("T1".into()),
        ..filter(Some("2025-06-01T00:00:00Z"), Some("2025-06-03T00:00:00Z"))
    };
    let p = plan(&[Dim::Day, Dim::Vendor, Dim::Outcome, Dim::Currency], &f);
    assert_eq!(p.level, None);
    assert_eq!(p.scans, vec![(f.since, f.until)]);
    let p = plan(&[Dim::TaskId, Dim::Outcome], &RollupFilter::default());
    assert_eq!(p.level, None);
}

#[test]
fn whole_hours_read_an_hourly_level_and_partial_hours_scan() {
    let f = filter(Some("2025-06-01T05:00:00Z"), Some("2025-06-02T07:30:00Z"));
    let p = plan(&[Dim::Vendor], &f);
    assert_eq!(table(&p), Some("rollup_hours"));
    assert_eq!(p.filter.since, Some(at("2025-06-01T05:00:00Z")));
    assert_eq!(p.filter.until, Some(at("2025-06-02T07:00:00Z")));
    assert_eq!(
        p.scans,
        vec![(
            Some(at("2025-06-02T07:00:00Z")),
            Some(at("2025-06-02T07:30:00Z"))
        )]
    );
}

#[test]
fn without_an_hourly_level_partial_days_scan() {
    let f = RollupFilter {
        outcome: Some("answered".into()),
        ..filter(Some("2025-06-01T05:00:00Z"), Some("2025-06-03T00:00:00Z"))
    };
    let p = plan(&[Dim::Vendor], &f);
    assert_eq!(table(&p), Some("rollup_days"));
    assert_eq!(p.filter.since, Some(at("2025-06-02T00:00:00Z")));
    assert_eq!(
        p.scans,
        vec![(
            Some(at("2025-06-01T05:00:00Z")),
            Some(at("2025-06-02T00:00:00Z"))
        )]
    );
}

#[test]
fn a_range_inside_one_hour_scans_it_all() {
    let f = filter(Some("2025-06-01T05:10:00Z"), Some("2025-06-01T05:50:00Z"));
    let p = plan(&[Dim::Vendor], &f);
    assert_eq!(p.level, None);
    assert_eq!(p.scans, vec![(f.since, f.until)]);
}

#[test]
fn relabelling_hours_needs_whole_hour_offsets() {
    let row = |h: &str| RollupRow {
        key: vec![h.into(), "".into()],
        sums: crate::storage::rollup::Sums {
            calls: 1,
            ..Default::default()
        },
    };
    let rows = vec![
        row("2025-06-01T15"),
        row("2025-06-01T16"),
        row("2025-06-01T03"),
    ];
    let sh = TimeZone::get("Asia/Shanghai").unwrap();
    let days = relabel(rows.clone(), GroupBy::Day, &sh).unwrap();
    let keys: Vec<_> = days
        .iter()
        .map(|r| (r.key[0].as_str(), r.sums.calls))
        .collect();
    assert_eq!(keys, [("2025-06-01", 2), ("2025-06-02", 1)]);
    let hours = relabel(rows.clone(), GroupBy::Hour, &sh).unwrap();
    let keys: Vec<_> = hours.iter().map(|r| r.key[0].as_str()).collect();
    assert_eq!(keys, ["00", "11", "23"]);
    let kolkata = TimeZone::get("Asia/Kolkata").unwrap();
    assert_eq!(relabel(rows, GroupBy::Day, &kolkata), None);
}

#[test]
fn a_range_of_local_days_reads_whole_utc_days_daily_and_its_ends_hourly() {
    // Shanghai's 1–3 June: 31 May 16:00 UTC to 3 June 16:00 UTC, with a
    // partial hour at the start.
    let f = filter(Some("2025-05-31T16:30:00Z"), Some("2025-06-03T16:00:00Z"));
    let p = plan(&[Dim::Vendor, Dim::Currency], &f);
    assert_eq!(table(&p), Some("rollup_day_totals"));
    assert_eq!(p.filter.since, Some(at("2025-06-01T00:00:00Z")));
    assert_eq!(p.filter.until, Some(at("2025-06-03T00:00:00Z")));
    let edges: Vec<(&str, Option<Timestamp>, Option<Timestamp>)> = p
        .edges
        .iter()
        .map(|(l, f)| (l.table, f.since, f.until))
        .collect();
    assert_eq!(
        edges,
        [
            (
                "rollup_hours",
                Some(at("2025-05-31T17:00:00Z")),
                Some(at("2025-06-01T00:00:00Z"))
            ),
            (
                "rollup_hours",
                Some(at("2025-06-03T00:00:00Z")),
                Some(at("2025-06-03T16:00:00Z"))
            ),
        ]
    );
    assert_eq!(
        p.scans,
        [(
            Some(at("2025-05-31T16:30:00Z")),
            Some(at("2025-05-31T17:00:00Z"))
        )]
    );
    // By hour, or within one day, the hourly level alone.
    let p = plan(&[Dim::Hour, Dim::Currency], &f);
    assert_eq!((table(&p), p.edges.len()), (Some("rollup_hours"), 0));
    let f = filter(Some("2025-06-01T05:00:00Z"), Some("2025-06-01T09:00:00Z"));
    let p = plan(&[Dim::Vendor], &f);
    assert_eq!((table(&p), p.edges.len()), (Some("rollup_hours"), 0));
}
