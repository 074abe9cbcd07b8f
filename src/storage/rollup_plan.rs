//! The planner: which rollup level answers a question, and which partial
//! hours (or days) at the edges of its time range are scanned instead
//! (docs/rollups.md). Also the stats API's answer in a time zone.

use super::{
    hour_start, merge_rows, stats_rows, Dim, Grain, Level, RollupFilter, RollupRow, SumSet, LEVELS,
};
use crate::storage::{CallFilter, GroupBy, StatsRow, Store, StoreError};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// How to answer one question: read `level` (if any) with `filter`, whose
/// bounds start buckets of the level, read each of `edges` (an hourly
/// level over the partial days at the ends of a daily `level`'s range),
/// and scan the calls of `scans` (`[since, until)` ranges).
#[derive(Debug, PartialEq)]
pub struct Plan {
    pub level: Option<&'static Level>,
    pub filter: RollupFilter,
    pub edges: Vec<(&'static Level, RollupFilter)>,
    pub scans: Vec<(Option<Timestamp>, Option<Timestamp>)>,
}

/// The plan of `dims` under `f`: among the levels keeping every asked dim
/// and every filtered column, the first (smallest) whose grain the bounds
/// are aligned to; else, when the range holds whole UTC days and a daily
/// level fits, that level for the whole days and the first hourly one for
/// the partial days at its ends ([`split_days`]); else the first hourly
/// one; else the first one. Bounds inside a bucket of an hourly level are
/// answered by scanning the calls between the bound and the bucket edge.
/// Without any such level, or for a range inside one bucket, everything
/// is scanned.
pub fn plan(dims: &[Dim], f: &RollupFilter) -> Plan {
    let mut needed = dims.to_vec();
    needed.extend(f.dims());
    let fits: Vec<&'static Level> = LEVELS.iter().filter(|l| l.keeps(&needed)).collect();
    let aligned =
        |g: Grain| f.since.is_none_or(|t| g.aligned(t)) && f.until.is_none_or(|t| g.aligned(t));
    let chosen = fits
        .iter()
        .find(|l| aligned(l.grain))
        .or_else(|| fits.iter().find(|l| l.grain == Grain::Hour))
        .or(fits.first());
    let scan_all = Plan {
        level: None,
        filter: f.clone(),
        edges: Vec::new(),
        scans: vec![(f.since, f.until)],
    };
    let Some(level) = chosen else {
        return scan_all;
    };
    if level.grain == Grain::Hour && !aligned(Grain::Day) {
        if let Some(split) = split_days(&fits, level, f) {
            return split;
        }
    }
    let g = level.grain;
    let since = f.since.map(|t| g.ceil(t));
    let until = f.until.map(|t| g.floor(t));
    if let (Some(s), Some(u)) = (since, until) {
        if s >= u {
            return scan_all;
        }
    }
    let mut scans = Vec::new();
    if let (Some(s), Some(inner)) = (f.since, since) {
        if s < inner {
            scans.push((Some(s), Some(inner)));
        }
    }
    if let (Some(u), Some(inner)) = (f.until, until) {
        if inner < u {
            scans.push((Some(inner), Some(u)));
        }
    }
    Plan {
        level: Some(level),
        filter: RollupFilter {
            since,
            until,
            ..f.clone()
        },
        edges: Vec::new(),
        scans,
    }
}

/// The whole UTC days of `f`'s range from the first daily level of `fits`,
/// the partial days at its ends from `hourly`, the partial hours scanned;
/// `None` when no daily level fits or the range holds no whole day. A year
/// in a time zone whose midnight is not UTC's reads 365 days and 2 × 24
/// hours, not 8,760 hours.
fn split_days(fits: &[&'static Level], hourly: &'static Level, f: &RollupFilter) -> Option<Plan> {
    let daily = fits.iter().find(|l| l.grain == Grain::Day)?;
    let (days_since, days_until) = (
        f.since.map(|t| Grain::Day.ceil(t)),
        f.until.map(|t| Grain::Day.floor(t)),
    );
    if let (Some(s), Some(u)) = (days_since, days_until) {
        if s >= u {
            return None;
        }
    }
    let (hours_since, hours_until) = (
        f.since.map(|t| Grain::Hour.ceil(t)),
        f.until.map(|t| Grain::Hour.floor(t)),
    );
    let between = |since: Timestamp, until: Timestamp| RollupFilter {
        since: Some(since),
        until: Some(until),
        ..f.clone()
    };
    let mut edges = Vec::new();
    let mut scans = Vec::new();
    if let (Some(s), Some(h), Some(d)) = (f.since, hours_since, days_since) {
        if s < h {
            scans.push((Some(s), Some(h)));
        }
        if h < d {
            edges.push((hourly, between(h, d)));
        }
    }
    if let (Some(u), Some(h), Some(d)) = (f.until, hours_until, days_until) {
        if d < h {
            edges.push((hourly, between(d, h)));
        }
        if h < u {
            scans.push((Some(h), Some(u)));
        }
    }
    Some(Plan {
        level: Some(daily),
        filter: RollupFilter {
            since: days_since,
            until: days_until,
            ..f.clone()
        },
        edges,
        scans,
    })
}

/// [`Store::rollup`]: the rows of `dims` under `f` by [`plan`], the
/// level's sums of `set` (the scanned partial hours have every sum).
///
/// Errors: the store's.
pub async fn answer<S: Store + ?Sized>(
    store: &S,
    dims: &[Dim],
    f: &RollupFilter,
    set: SumSet,
) -> Result<Vec<RollupRow>, StoreError> {
    let p = plan(dims, f);
    let mut rows = match p.level {
        Some(level) => store.read_rollup(level, dims, &p.filter, set).await?,
        None => Vec::new(),
    };
    for (level, filter) in &p.edges {
        rows.extend(store.read_rollup(level, dims, filter, set).await?);
    }
    for (since, until) in p.scans {
        // A vendor, direction or outcome no call can have: nothing to add.
        let Some(mut cf) = f.to_calls() else { continue };
        (cf.since, cf.until) = (since, until);
        rows.extend(store.scan_rollup(dims, &cf).await?);
    }
    Ok(merge_rows(rows))
}

/// `true` for UTC (or a zone always at offset 0 named so).
fn is_utc(tz: &TimeZone) -> bool {
    tz == &TimeZone::UTC || matches!(tz.iana_name(), Some("UTC" | "Etc/UTC"))
}

/// [`Store::stats`]: from rollups when [`RollupFilter::of`] accepts
/// `filter` (days in another zone and hours of day from the hourly rows,
/// when every hour's offset in `tz` is whole hours), else from a scan.
///
/// Errors: the store's.
pub async fn stats<S: Store + ?Sized>(
    store: &S,
    group_by: GroupBy,
    filter: &CallFilter,
    tz: &TimeZone,
) -> Result<Vec<StatsRow>, StoreError> {
    if let Some(rf) = RollupFilter::of(filter) {
        let local_day = group_by == GroupBy::Day && !is_utc(tz);
        let dim = if local_day {
            Dim::Hour
        } else {
            Dim::of(group_by)
        };
        // A stats row shows totals: the level's outcome and duration
        // columns are not summed.
        let rows = answer(store, &[dim, Dim::Currency], &rf, SumSet::Totals).await?;
        let rows = match (group_by, local_day) {
            (GroupBy::Hour, _) | (_, true) => relabel(rows, group_by, tz),
            _ => Some(rows),
        };
        if let Some(rows) = rows {
            return stats_rows(group_by, rows);
        }
    }
    scan_stats(store, group_by, filter, tz).await
}

/// Rows keyed by UTC hour, keyed instead by the local date (`Day`) or the
/// local hour of day `HH` (`Hour`) in `tz`; `None` when an hour's offset
/// there is not whole hours (the hour straddles two local hours).
fn relabel(rows: Vec<RollupRow>, group_by: GroupBy, tz: &TimeZone) -> Option<Vec<RollupRow>> {
    let mut out = Vec::with_capacity(rows.len());
    if is_utc(tz) {
        // `YYYY-MM-DDTHH`: the date and the hour are in the text.
        let part = if group_by == GroupBy::Day {
            0..10
        } else {
            11..13
        };
        for mut row in rows {
            row.key[0] = row.key.first()?.get(part.clone())?.to_owned();
            out.push(row);
        }
        return Some(merge_rows(out));
    }
    for mut row in rows {
        let t = hour_start(row.key.first()?)?;
        let z = t.to_zoned(tz.clone());
        if z.offset().seconds() % 3600 != 0 {
            return None;
        }
        row.key[0] = match group_by {
            GroupBy::Day => z.date().to_string(),
            _ => z.strftime("%H").to_string(),
        };
        out.push(row);
    }
    Some(merge_rows(out))
}

/// [`Store::scan_stats`]: the stats from a scan of the matching calls,
/// days and hours of day in `tz`.
///
/// Errors: the store's.
pub async fn scan_stats<S: Store + ?Sized>(
    store: &S,
    group_by: GroupBy,
    filter: &CallFilter,
    tz: &TimeZone,
) -> Result<Vec<StatsRow>, StoreError> {
    let mut rows = store
        .scan_rollup_in(&[Dim::of(group_by), Dim::Currency], filter, tz)
        .await?;
    if group_by == GroupBy::Hour {
        for r in &mut rows {
            r.key[0] = r.key[0].get(11..13).unwrap_or_default().to_owned();
        }
        rows = merge_rows(rows);
    }
    stats_rows(group_by, rows)
}

/// [`Store::latest_reported_day`]: the latest UTC day holding a call with
/// a report (not only awaiting one), from the daily level.
///
/// Errors: the store's.
pub async fn latest_reported_day<S: Store + ?Sized>(
    store: &S,
) -> Result<Option<jiff::civil::Date>, StoreError> {
    let rows = store.rollup(&[Dim::Day], &RollupFilter::default()).await?;
    Ok(rows
        .iter()
        .filter(|r| r.sums.calls > r.sums.awaiting_report)
        .filter_map(|r| r.key.first()?.parse().ok())
        .max())
}

#[cfg(test)]
#[path = "rollup_plan_tests.rs"]
mod tests;
