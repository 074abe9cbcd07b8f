//! Rollup rows keyed by the *local* hour of the page's time zone: the
//! hourly rollups are kept per UTC hour, and each UTC hour is one local
//! hour wherever the zone's offset is whole hours. Where it is not
//! (Asia/Kolkata's +05:30, …) the calls themselves are folded instead:
//! exact, at the cost of reading them.

use super::UiError;
use crate::http::AppState;
use crate::storage::rollup::{hour_start, Dim, RollupFilter, RollupRow, Sums};
use jiff::tz::TimeZone;
use std::collections::BTreeMap;

/// The rows matching `rf` keyed `[local hour "YYYY-MM-DDTHH", rest…]`,
/// hours taken in `tz`; their totals only where read from the hourly
/// level (talk buckets and outcome counts 0: a page reads its mix from
/// [`crate::storage::Store::rollup`], over the whole range, from the
/// smaller daily level).
///
/// Errors: the store's, as a [`UiError`].
pub async fn hours(
    st: &AppState,
    rest: &[Dim],
    rf: &RollupFilter,
    tz: &TimeZone,
) -> Result<Vec<RollupRow>, UiError> {
    let dims: Vec<Dim> = std::iter::once(Dim::Hour)
        .chain(rest.iter().copied())
        .collect();
    let rows = st.store.rollup_totals(&dims, rf).await?;
    if let Some(local) = relabel(rows, tz) {
        return Ok(local);
    }
    let Some(calls) = rf.to_calls() else {
        return Ok(Vec::new());
    };
    Ok(st.store.scan_rollup_in(&dims, &calls, tz).await?)
}

/// UTC hour keys as local hour keys; `None` when an hour's offset in `tz`
/// is not whole hours. Rows landing on the same local key (a clock set
/// back) are summed.
pub fn relabel(rows: Vec<RollupRow>, tz: &TimeZone) -> Option<Vec<RollupRow>> {
    let mut out: BTreeMap<Vec<String>, Sums> = BTreeMap::new();
    for row in rows {
        let z = hour_start(row.key.first()?)?.to_zoned(tz.clone());
        if z.offset().seconds() % 3600 != 0 {
            return None;
        }
        let mut key = row.key;
        key[0] = z.strftime("%Y-%m-%dT%H").to_string();
        out.entry(key).or_default().add(&row.sums, 1);
    }
    Some(
        out.into_iter()
            .map(|(key, sums)| RollupRow { key, sums })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(hour: &str, calls: i64) -> RollupRow {
        RollupRow {
            key: vec![hour.into(), "aliyun".into()],
            sums: Sums {
                calls,
                ..Default::default()
            },
        }
    }

    #[test]
    fn utc_hours_become_local_hours_where_offsets_are_whole() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let out = relabel(vec![row("2025-06-01T16", 2), row("2025-06-01T15", 1)], &tz).unwrap();
        let keys: Vec<&str> = out.iter().map(|r| r.key[0].as_str()).collect();
        assert_eq!(keys, ["2025-06-01T23", "2025-06-02T00"]);
        let kolkata = TimeZone::get("Asia/Kolkata").unwrap();
        assert!(relabel(vec![row("2025-06-01T16", 2)], &kolkata).is_none());
    }
}
