//! PostgreSQL side of [`crate::storage::page_reads`]: receipts counted per
//! status, and each target's newest success and failure.

use super::reads::{refs, where_clause};
use crate::storage::page_reads::{
    receipt_conditions, status_count, FailedAttempt, ReceiptCounts, TargetActivity,
    LAST_DELIVERED_SQL, LAST_FAILED_SQL,
};
use crate::storage::shared::from_ms;
use crate::storage::{ReceiptFilter, StoreError};
use tokio_postgres::Client;

/// See [`crate::storage::Store::count_receipts`].
pub async fn count_receipts(
    c: &Client,
    filter: &ReceiptFilter,
) -> Result<ReceiptCounts, StoreError> {
    let (wh, params) = where_clause(&receipt_conditions(filter, false), 1);
    let sql = format!("SELECT status, count(*) FROM receipts {wh} GROUP BY status");
    let rows = c.query(&sql, &refs(&params)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(status_count(r.get::<_, &str>(0), r.get::<_, i64>(1))?);
    }
    Ok(ReceiptCounts(out))
}

/// See [`crate::storage::Store::target_activity`].
pub async fn target_activity(
    c: &Client,
    names: &[String],
) -> Result<Vec<TargetActivity>, StoreError> {
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let last: Option<i64> = c.query_one(LAST_DELIVERED_SQL, &[name]).await?.get(0);
        let failed = c.query_opt(LAST_FAILED_SQL, &[name]).await?;
        let last_failure = match failed {
            Some(r) => match r.get::<_, Option<i64>>(0) {
                Some(at) => Some(FailedAttempt {
                    at: from_ms(at)?,
                    response_status: r
                        .get::<_, Option<i32>>(1)
                        .and_then(|s| u16::try_from(s).ok()),
                    error: r.get(2),
                }),
                None => None,
            },
            None => None,
        };
        out.push(TargetActivity {
            name: name.clone(),
            last_delivered_at: last.map(from_ms).transpose()?,
            last_failure,
        });
    }
    Ok(out)
}
