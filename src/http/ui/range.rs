//! The overview's and the campaign page's date range: typed dates, a
//! quick range (today, 7 days, 30 days, all time, latest data), or the
//! default, in the display zone.
//!
//! The default is every reported call: the first day with calls to the
//! last day with a *reported* call, when that fits one page
//! ([`MAX_DAYS`]); else the latest data, the 30 days up to that day. A
//! call known only from its analyses is dated when callhook heard of it,
//! so it does not drag the default range away from the calls it belongs
//! with ("All time" includes it). "All time" longer than a page shows its
//! last [`MAX_DAYS`] days.

use super::UiError;
use crate::storage::rollup::RollupRow;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::ToSpan;

/// The longest range one page draws, in days.
pub const MAX_DAYS: i64 = 731;
/// Days of the 30-day and latest-data ranges.
const MONTH: i64 = 30;

/// A quick range's name in the `range=` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quick {
    Today,
    Days7,
    Days30,
    All,
    Latest,
}

impl Quick {
    /// Every quick range with its parameter value and its label.
    pub const ALL: [(Quick, &'static str, &'static str); 5] = [
        (Quick::Today, "today", "Today"),
        (Quick::Days7, "7d", "7 days"),
        (Quick::Days30, "30d", "30 days"),
        (Quick::All, "all", "All time"),
        (Quick::Latest, "latest", "Latest data"),
    ];

    /// Parses `range=`; empty is `None`. Errors: 400 listing the values.
    pub fn parse(s: &str) -> Result<Option<Quick>, UiError> {
        match s.trim() {
            "" => Ok(None),
            v => Quick::ALL
                .iter()
                .find(|q| q.1 == v)
                .map(|q| Some(q.0))
                .ok_or_else(|| {
                    UiError::BadRequest(format!(
                        "range: `{v}` is not one of today, 7d, 30d, all, latest"
                    ))
                }),
        }
    }
}

/// The days with calls, from rows keyed `[UTC day]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extent {
    /// The first day with any call, and the last.
    pub first: Option<Date>,
    pub last: Option<Date>,
    /// The last day with a call that has its report.
    pub last_reported: Option<Date>,
}

impl Extent {
    /// The extent of `rows` (keyed by UTC day), as days in `tz`: a UTC
    /// day's first instant for the first day, its last for the last.
    pub fn of(rows: &[RollupRow], tz: &TimeZone) -> Extent {
        let day = |r: &RollupRow| r.key.first()?.parse::<Date>().ok();
        let local = |d: Date, end: bool| -> Option<Date> {
            let start = d.to_zoned(TimeZone::UTC).ok()?.timestamp();
            let t = match end {
                true => start
                    .checked_add(jiff::SignedDuration::from_millis(86_399_999))
                    .ok()?,
                false => start,
            };
            Some(t.to_zoned(tz.clone()).date())
        };
        let days: Vec<(Date, bool)> = rows
            .iter()
            .filter(|r| r.sums.calls > 0)
            .filter_map(|r| Some((day(r)?, r.sums.calls > r.sums.awaiting_report)))
            .collect();
        Extent {
            first: days.iter().map(|d| d.0).min().and_then(|d| local(d, false)),
            last: days.iter().map(|d| d.0).max().and_then(|d| local(d, true)),
            last_reported: days
                .iter()
                .filter(|d| d.1)
                .map(|d| d.0)
                .max()
                .and_then(|d| local(d, true)),
        }
    }
}

/// A resolved range: both days included, and what to say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub from: Date,
    pub to: Date,
    /// The quick range it is, when it is one (highlighted on the page).
    pub quick: Option<Quick>,
    pub note: String,
}

impl Range {
    /// The days of the range, in order.
    pub fn days(&self) -> Vec<Date> {
        let n = (self.to - self.from).get_days() as i64 + 1;
        (0..n).map(|i| self.from + i.days()).collect()
    }

    /// The range of the same length just before this one.
    pub fn previous(&self) -> Range {
        let n = (self.to - self.from).get_days() as i64 + 1;
        Range {
            from: self.from - n.days(),
            to: self.from - 1.day(),
            quick: None,
            note: String::new(),
        }
    }
}

/// The range asked for: typed `from`/`to` win, then `quick`, then the
/// default (see the module). `today` is the current day in the zone.
///
/// Errors: 400 for a range longer than [`MAX_DAYS`], or `from` after `to`.
pub fn resolve(
    typed: (Option<Date>, Option<Date>),
    quick: Option<Quick>,
    extent: Extent,
    today: Date,
    zone: &str,
) -> Result<Range, UiError> {
    let at = Anchors::of(extent, today);
    let range = typed_range(typed, &at, zone)
        .or_else(|| quick.map(|q| quick_range(q, &at, zone)))
        .unwrap_or_else(|| default_range(&at, zone));
    checked(range)
}

/// The days the ranges are measured from, each `today` when there are no
/// calls.
struct Anchors {
    today: Date,
    /// The first and the last day with a call.
    first: Date,
    last: Date,
    /// The last day with a reported call (else with any call).
    latest: Date,
}

impl Anchors {
    fn of(extent: Extent, today: Date) -> Anchors {
        Anchors {
            today,
            first: extent.first.unwrap_or(today),
            last: extent.last.unwrap_or(today),
            latest: extent.last_reported.or(extent.last).unwrap_or(today),
        }
    }
}

/// The first day of the [`MONTH`] days up to `to`.
fn month_to(to: Date) -> Date {
    to - (MONTH - 1).days()
}

/// A range from typed days: both, `from` up to the latest data (or `from`
/// alone when that is later), or the [`MONTH`] days up to `to`. `None`
/// when neither is typed.
fn typed_range(typed: (Option<Date>, Option<Date>), at: &Anchors, zone: &str) -> Option<Range> {
    let (from, to, note) = match typed {
        (Some(f), Some(t)) => (f, t, format!("{f} to {t} ({zone})")),
        (Some(f), None) => (f, f.max(at.latest), format!("from {f} ({zone})")),
        (None, Some(t)) => (
            month_to(t),
            t,
            format!("the {MONTH} days up to {t} ({zone})"),
        ),
        (None, None) => return None,
    };
    Some(Range {
        from,
        to,
        quick: None,
        note,
    })
}

/// The days of quick range `q`; "All time" is its last [`MAX_DAYS`] days.
fn quick_range(q: Quick, at: &Anchors, zone: &str) -> Range {
    let today = at.today;
    let (from, to, note) = match q {
        Quick::Today => (today, today, format!("today, {today} ({zone})")),
        Quick::Days7 => (today - 6.days(), today, format!("the last 7 days ({zone})")),
        Quick::Days30 => (
            month_to(today),
            today,
            format!("the last {MONTH} days ({zone})"),
        ),
        Quick::Latest => (
            month_to(at.latest),
            at.latest,
            format!("the {MONTH} days up to the latest call with a report ({zone})"),
        ),
        Quick::All => {
            let (f, t) = (
                at.first.min(at.last).max(at.last - (MAX_DAYS - 1).days()),
                at.last,
            );
            (f, t, format!("all time: {f} to {t} ({zone})"))
        }
    };
    Range {
        from,
        to,
        quick: Some(q),
        note,
    }
}

/// Every reported call when that fits one page, else the latest data.
fn default_range(at: &Anchors, zone: &str) -> Range {
    let (f, t) = (at.first.min(at.latest), at.latest);
    if i64::from((t - f).get_days()) < MAX_DAYS {
        return Range {
            from: f,
            to: t,
            quick: None,
            note: format!("{f} to {t} ({zone}): every call with a report"),
        };
    }
    Range {
        from: month_to(at.latest),
        to: at.latest,
        quick: Some(Quick::Latest),
        note: format!("the {MONTH} days up to the latest call with a report ({zone}); all time is longer than {MAX_DAYS} days"),
    }
}

/// `range` when it spans at most [`MAX_DAYS`] and `from` is not after
/// `to`; else a 400.
fn checked(range: Range) -> Result<Range, UiError> {
    let span = (range.to - range.from).get_days() as i64 + 1;
    if span > MAX_DAYS {
        return Err(UiError::BadRequest(format!(
            "the range spans {span} days; choose at most {MAX_DAYS}"
        )));
    }
    if range.from > range.to {
        return Err(UiError::BadRequest("from: must not be after to".into()));
    }
    Ok(range)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::rollup::Sums;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn day(s: &str, calls: i64, awaiting: i64) -> RollupRow {
        RollupRow {
            key: vec![s.into()],
            sums: Sums {
                calls,
                awaiting_report: awaiting,
                ..Default::default()
            },
        }
    }

    #[test]
    fn the_default_is_all_time_so_old_samples_and_a_fresh_analysis_show_together() {
        // The walkthrough: reports from 2024-12 to 2026-03 and a call
        // known only from its analysis, dated today.
        let rows = [
            day("2024-12-03", 1, 0),
            day("2026-03-26", 1, 0),
            day("2026-12-07", 1, 1),
        ];
        let e = Extent::of(&rows, &TimeZone::UTC);
        assert_eq!(e.last_reported, Some(d("2026-03-26")));
        let r = resolve((None, None), None, e, d("2026-12-07"), "UTC").unwrap();
        assert_eq!((r.from, r.to), (d("2024-12-03"), d("2026-03-26")));
        // All time has the fresh call too, within one page's days.
        let all = resolve((None, None), Some(Quick::All), e, d("2026-12-07"), "UTC").unwrap();
        assert_eq!((all.from, all.to), (d("2024-12-07"), d("2026-12-07")));
        let latest = resolve((None, None), Some(Quick::Latest), e, d("2026-12-07"), "UTC").unwrap();
        assert_eq!((latest.from, latest.to), (d("2026-02-25"), d("2026-03-26")));
    }

    #[test]
    fn a_long_history_defaults_to_the_latest_data_and_quick_ranges_end_today() {
        let rows = [day("2020-01-01", 5, 0), day("2025-06-01", 5, 0)];
        let e = Extent::of(&rows, &TimeZone::UTC);
        let today = d("2025-06-10");
        let r = resolve((None, None), None, e, today, "UTC").unwrap();
        assert_eq!(
            (r.from, r.to, r.quick),
            (d("2025-05-03"), d("2025-06-01"), Some(Quick::Latest))
        );
        let r = resolve((None, None), Some(Quick::Days7), e, today, "UTC").unwrap();
        assert_eq!((r.from, r.to), (d("2025-06-04"), today));
        assert_eq!(r.previous().to, d("2025-06-03"));
        assert_eq!(r.previous().days().len(), 7);
        let all = resolve((None, None), Some(Quick::All), e, today, "UTC").unwrap();
        assert_eq!(
            all.days().len() as i64,
            MAX_DAYS,
            "the last page of all time"
        );
        assert!(resolve((Some(d("2020-01-01")), Some(today)), None, e, today, "UTC").is_err());
        assert!(Quick::parse("year").is_err());
        assert_eq!(Quick::parse("7d").unwrap(), Some(Quick::Days7));
    }

    #[test]
    fn typed_days_win_over_a_quick_range() {
        let rows = [day("2025-05-01", 1, 0), day("2025-06-01", 1, 0)];
        let e = Extent::of(&rows, &TimeZone::UTC);
        let today = d("2025-06-10");
        let both = (Some(d("2025-05-02")), Some(d("2025-05-09")));
        let r = resolve(both, Some(Quick::Today), e, today, "UTC").unwrap();
        assert_eq!(
            (r.from, r.to, r.quick),
            (d("2025-05-02"), d("2025-05-09"), None)
        );
        assert_eq!(r.note, "2025-05-02 to 2025-05-09 (UTC)");
        let r = resolve((Some(d("2025-05-20")), None), None, e, today, "UTC").unwrap();
        assert_eq!((r.from, r.to), (d("2025-05-20"), d("2025-06-01")));
        let r = resolve((Some(d("2025-06-05")), None), None, e, today, "UTC").unwrap();
        assert_eq!((r.from, r.to), (d("2025-06-05"), d("2025-06-05")));
        let r = resolve((None, Some(d("2025-05-30"))), None, e, today, "UTC").unwrap();
        assert_eq!((r.from, r.to), (d("2025-05-01"), d("2025-05-30")));
        let backwards = (Some(d("2025-05-09")), Some(d("2025-05-02")));
        assert!(resolve(backwards, None, e, today, "UTC").is_err());
    }

    #[test]
    fn utc_days_become_local_days_at_their_edges() {
        let rows = [day("2025-06-01", 1, 0)];
        let e = Extent::of(&rows, &TimeZone::get("Asia/Shanghai").unwrap());
        assert_eq!(
            (e.first, e.last),
            (Some(d("2025-06-01")), Some(d("2025-06-02")))
        );
    }
}
