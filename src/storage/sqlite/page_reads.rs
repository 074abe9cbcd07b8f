//! SQLite side of [`crate::storage::page_reads`]: receipts counted per
//! status, and each target's newest success and failure.

use super::reads::where_clause;
use super::rows::{from_ms, unavailable};
use crate::storage::page_reads::{
    receipt_conditions, status_count, FailedAttempt, ReceiptCounts, TargetActivity,
    LAST_DELIVERED_SQL, LAST_FAILED_SQL,
};
use crate::storage::{ReceiptFilter, StoreError};
use rusqlite::{params_from_iter, Connection, OptionalExtension};

/// See [`crate::storage::Store::count_receipts`].
pub fn count_receipts(c: &Connection, filter: &ReceiptFilter) -> Result<ReceiptCounts, StoreError> {
    let (wh, params) = where_clause(&receipt_conditions(filter, false));
    let sql = format!("SELECT status, count(*) FROM receipts {wh} GROUP BY status");
    let mut stmt = c.prepare_cached(&sql).map_err(unavailable)?;
    let rows = stmt
        .query_map(params_from_iter(params), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })
        .map_err(unavailable)?;
    let mut out = Vec::new();
    for row in rows {
        let (s, n) = row.map_err(unavailable)?;
        out.push(status_count(&s, n)?);
    }
    Ok(ReceiptCounts(out))
}

/// See [`crate::storage::Store::target_activity`].
pub fn target_activity(
    c: &Connection,
    names: &[String],
) -> Result<Vec<TargetActivity>, StoreError> {
    let mut delivered = c.prepare_cached(LAST_DELIVERED_SQL).map_err(unavailable)?;
    let mut failed = c.prepare_cached(LAST_FAILED_SQL).map_err(unavailable)?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let last: Option<i64> = delivered
            .query_row([name], |r| r.get(0))
            .map_err(unavailable)?;
        let failure: Option<(Option<i64>, Option<i64>, String)> = failed
            .query_row([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()
            .map_err(unavailable)?;
        let last_failure = match failure {
            Some((Some(at), status, error)) => Some(FailedAttempt {
                at: from_ms(at)?,
                response_status: status.and_then(|s| u16::try_from(s).ok()),
                error,
            }),
            _ => None,
        };
        out.push(TargetActivity {
            name: name.clone(),
            last_delivered_at: last.map(from_ms).transpose()?,
            last_failure,
        });
    }
    Ok(out)
}
