//! SQLite side of [`crate::storage::page_reads`]: receipts counted per
//! status, and each target's newest success and failure.

use super::reads::where_clause;
use super::rows::from_ms;
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
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(params), |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (s, n) = row?;
        out.push(status_count(&s, n)?);
    }
    Ok(ReceiptCounts(out))
}

/// See [`crate::storage::Store::target_activity`].
pub fn target_activity(
    c: &Connection,
    names: &[String],
) -> Result<Vec<TargetActivity>, StoreError> {
    let mut delivered = c.prepare_cached(LAST_DELIVERED_SQL)?;
    let mut failed = c.prepare_cached(LAST_FAILED_SQL)?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let last: Option<i64> = delivered.query_row([name], |r| r.get(0))?;
        let failure: Option<(Option<i64>, Option<i64>, String)> = failed
            .query_row([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
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

#[cfg(test)]
mod tests {
    use super::super::schema;
    use super::*;

    /// A database made before the activity indexes: the migration adds
    /// them over the rows already there, and the reads use them.
    #[test]
    fn an_older_database_gets_the_indexes_and_reads_its_history() {
        let mut c = Connection::open_in_memory().unwrap();
        schema::configure(&c).unwrap();
        schema::migrate(&mut c).unwrap();
        // Without the indexes, as an older build left it.
        c.execute_batch("DROP INDEX deliveries_last_delivered; DROP INDEX deliveries_last_failed;")
            .unwrap();
        c.execute_batch(
            "INSERT INTO deliveries (id, target, event_seq, call_id, status, attempts, created_at,
                 last_attempt_at, last_response_status, last_error, delivered_at) VALUES
             ('dlv_1', 'crm', 1, 'c1', 'delivered', 1, 1000, 2000, 200, NULL, 2000),
             ('dlv_2', 'crm', 2, 'c2', 'dead', 3, 1000, 5000, 503, 'HTTP 503', NULL),
             ('dlv_3', 'crm', 3, 'c3', 'pending', 1, 1000, 4000, NULL, 'refused', NULL),
             ('dlv_4', 'erp', 4, 'c1', 'delivered', 1, 1000, 3000, 204, NULL, 3000);",
        )
        .unwrap();
        // The migration step that makes them, over the rows already there.
        c.execute_batch(crate::storage::page_reads::ACTIVITY_INDEXES)
            .unwrap();
        for (sql, index) in [
            (LAST_FAILED_SQL, "deliveries_last_failed"),
            (LAST_DELIVERED_SQL, "deliveries_last_delivered"),
        ] {
            let plan: String = c
                .query_row(&format!("EXPLAIN QUERY PLAN {sql}"), ["crm"], |r| r.get(3))
                .unwrap();
            assert!(plan.contains(index), "{sql}: {plan}");
        }
        let got = target_activity(&c, &["crm".into(), "erp".into(), "none".into()]).unwrap();
        assert_eq!(got[0].last_delivered_at.unwrap().as_millisecond(), 2000);
        let f = got[0].last_failure.as_ref().unwrap();
        assert_eq!(
            (f.at.as_millisecond(), f.response_status),
            (5000, Some(503))
        );
        assert_eq!(got[1].last_delivered_at.unwrap().as_millisecond(), 3000);
        assert!(got[1].last_failure.is_none());
        assert_eq!(
            (got[2].last_delivered_at, got[2].last_failure.clone()),
            (None, None)
        );
    }
}
