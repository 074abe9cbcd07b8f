//! The acknowledgement path on PostgreSQL: one receipt insert (status
//! `pending` or `rejected`, body packed), committed on its own, so the push
//! is durable when [`append`] returns. Projection is `project.rs`.

use crate::storage::{Append, PackedBody, StoreError};
use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// Inserts the receipt of `a` with `body` (packed from its verbatim body).
///
/// Errors: [`StoreError::Unavailable`] when the insert fails.
pub async fn append(
    c: &impl GenericClient,
    a: &Append,
    body: &PackedBody,
) -> Result<(), StoreError> {
    let r = &a.receipt;
    let json = serde_json::to_string::<[crate::adapters::RecordIssue]>;
    let (errors, warnings) = (json(&a.head.errors)?, json(&a.head.warnings)?);
    exec(
        c,
        "INSERT INTO receipts (id, source, kind, received_at, remote_addr, sha256, status, record_count,
            errors, warnings, body, body_codec, body_bytes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        &[
            &r.id,
            &r.source,
            &r.kind.as_str(),
            &r.received_at.as_millisecond(),
            &r.remote_addr,
            &body.sha256,
            &a.head.status.as_str(),
            &(a.head.record_count as i64),
            &errors,
            &warnings,
            &&body.stored[..],
            &(body.codec as i16),
            &(body.len as i64),
        ],
    )
    .await?;
    Ok(())
}

/// Runs `sql` as a statement prepared once per pooled connection (a plain
/// `execute` prepares it again on every call: one more round trip).
pub async fn exec(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, StoreError> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.execute(&stmt, params).await?)
}

/// [`exec`] for a query.
pub async fn query(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>, StoreError> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.query(&stmt, params).await?)
}
