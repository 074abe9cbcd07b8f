//! A push into PostgreSQL: the receipt, its calls, their outbox rows and
//! rollup sums in one transaction. Safe with many instances: each call row is locked
//! (`SELECT … FOR UPDATE`, or the insert's unique-key lock for a new call)
//! before it is merged, and calls are taken in id order so two pushes
//! naming the same calls cannot deadlock. The same push arriving at two
//! instances at once therefore makes one call and one `call.created`.

use super::rollups;
use crate::domain::{call_id_for, Call, Change};
use crate::storage::rollup::{Contribution, RollupDelta, Sums};
use crate::storage::{
    new_delivery_id, BodyResult, IngestBatch, IngestOutcome, NewEvent, StoreError, Target,
};
use deadpool_postgres::Transaction;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

pub fn unavailable(e: tokio_postgres::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// Applies `batch` inside `tx` (not committed here).
pub async fn apply(
    tx: &Transaction<'_>,
    batch: &IngestBatch,
    targets: &[Target],
) -> Result<IngestOutcome, StoreError> {
    let r = &batch.receipt;
    let now = batch.stamp();
    let mut out = IngestOutcome::of(&r.id);
    let mut delta = RollupDelta::default();
    if let BodyResult::Parsed { updates, .. } = &batch.result {
        // Lock order: by call id; within one call, record order.
        let mut order: Vec<(String, usize)> = updates
            .iter()
            .enumerate()
            .map(|(i, u)| (call_id_for(u.vendor, &u.vendor_call_id), i))
            .collect();
        order.sort();
        for (id, i) in order {
            let u = &updates[i];
            let (call, change, before) = match locked_doc(tx, &id).await? {
                Some(doc) => merge(&doc, &id, u, &r.source, now)?,
                None => {
                    let call = Call::from_update(u, &r.source, now);
                    let doc = serde_json::to_string(&call).map_err(|e| corrupt("call", e))?;
                    if insert_call(tx, &call, &doc).await? {
                        (call, Change::Created, None)
                    } else {
                        // Another instance created it meanwhile: its row is
                        // committed now and locked for us.
                        let doc = locked_doc(tx, &id)
                            .await?
                            .ok_or_else(|| corrupt("call", format!("{id} vanished")))?;
                        merge(&doc, &id, u, &r.source, now)?
                    }
                }
            };
            out.count(change);
            if change != Change::Unchanged {
                delta.change(before, &call);
                let doc = serde_json::to_string(&call).map_err(|e| corrupt("call", e))?;
                if change != Change::Created {
                    update_call(tx, &call, &doc).await?;
                }
                record_event(tx, &call, &doc, change, now, targets).await?;
            }
            exec(
                tx,
                "INSERT INTO call_receipts (call_id, receipt_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&id, &r.id],
            )
            .await?;
        }
    }
    rollups::apply(tx, delta).await?;
    let status = out.decide_status(&batch.result);
    out.status = Some(status);
    write_receipt(tx, batch, status, now).await?;
    Ok(out)
}

async fn locked_doc(tx: &Transaction<'_>, id: &str) -> Result<Option<String>, StoreError> {
    let row = opt(tx, "SELECT doc FROM calls WHERE id = $1 FOR UPDATE", &[&id]).await?;
    Ok(row.map(|r| r.get(0)))
}

fn merge(
    doc: &str,
    id: &str,
    u: &crate::domain::CallUpdate,
    source: &str,
    now: Timestamp,
) -> Result<(Call, Change, Option<Contribution>), StoreError> {
    let mut call: Call =
        serde_json::from_str(doc).map_err(|e| corrupt(&format!("call {id}"), e))?;
    let before = Sums::of(&call);
    let change = call.apply(u, source, now);
    Ok((call, change, Some(before)))
}

/// Runs `sql` (an insert or update of every call column, `$1` the id and
/// `$15` the document) for `call`; returns the rows it changed.
async fn write_call(
    tx: &Transaction<'_>,
    sql: &str,
    call: &Call,
    doc: &str,
) -> Result<u64, StoreError> {
    let (vendor, direction, outcome) = (
        call.vendor.as_str(),
        call.direction.as_str(),
        call.outcome.as_str(),
    );
    let started_at = call.started_at.as_millisecond();
    let cost_amount = call.cost.as_ref().map(|c| c.amount.to_string());
    let cost_currency = call.cost.as_ref().map(|c| c.currency.clone());
    let qa_score = call.qa_score_percent();
    exec(
        tx,
        sql,
        &[
            &call.id,
            &vendor,
            &call.vendor_call_id,
            &call.source,
            &direction,
            &outcome,
            &call.task_id,
            &call.out_id,
            &call.customer_number,
            &started_at,
            &call.talk_seconds,
            &cost_amount,
            &cost_currency,
            &qa_score,
            &doc,
        ],
    )
    .await
}

/// Inserts a new call; `false` when a row with its id exists already.
async fn insert_call(tx: &Transaction<'_>, call: &Call, doc: &str) -> Result<bool, StoreError> {
    let sql = "INSERT INTO calls (id, vendor, vendor_call_id, source, direction, outcome, task_id, out_id,
            customer_number, started_at, talk_seconds, cost_amount, cost_currency, qa_score, doc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (id) DO NOTHING";
    Ok(write_call(tx, sql, call, doc).await? == 1)
}

async fn update_call(tx: &Transaction<'_>, call: &Call, doc: &str) -> Result<(), StoreError> {
    let sql = "UPDATE calls SET vendor = $2, vendor_call_id = $3, source = $4, direction = $5,
            outcome = $6, task_id = $7, out_id = $8, customer_number = $9, started_at = $10,
            talk_seconds = $11, cost_amount = $12, cost_currency = $13, qa_score = $14, doc = $15
         WHERE id = $1";
    write_call(tx, sql, call, doc).await.map(|_| ())
}

async fn record_event(
    tx: &Transaction<'_>,
    call: &Call,
    doc: &str,
    change: Change,
    now: Timestamp,
    targets: &[Target],
) -> Result<(), StoreError> {
    let Some(event) = NewEvent::make(call, doc, change, now, targets) else {
        return Ok(());
    };
    let now = now.as_millisecond();
    let seq: i64 = one(
        tx,
        "INSERT INTO events (id, type, vendor, call_id, created_at, payload)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq",
        &[
            &event.id,
            &event.kind.as_str(),
            &call.vendor.as_str(),
            &call.id,
            &now,
            &event.payload,
        ],
    )
    .await?
    .get(0);
    for t in event.targets {
        exec(
                tx,
            "INSERT INTO deliveries (id, target, event_seq, call_id, status, created_at, next_attempt_at)
             VALUES ($1, $2, $3, $4, 'pending', $5, $5)",
            &[&new_delivery_id(), &t.name, &seq, &call.id, &now],
        )
        .await?;
    }
    Ok(())
}

async fn write_receipt(
    tx: &Transaction<'_>,
    batch: &IngestBatch,
    status: crate::storage::ReceiptStatus,
    now: Timestamp,
) -> Result<(), StoreError> {
    let (record_count, errors, warnings) = batch.receipt_issues()?;
    let r = &batch.receipt;
    if batch.replay {
        exec(
            tx,
            "UPDATE receipts SET status = $2, record_count = $3, errors = $4, warnings = $5,
                replay_count = replay_count + 1, replayed_at = $6, kind = $7 WHERE id = $1",
            &[
                &r.id,
                &status.as_str(),
                &record_count,
                &errors,
                &warnings,
                &now.as_millisecond(),
                &r.kind.as_str(),
            ],
        )
        .await?;
    } else {
        let sha = hex::encode(Sha256::digest(&r.body[..]));
        exec(
                tx,
            "INSERT INTO receipts (id, source, kind, received_at, remote_addr, sha256, status, record_count,
                errors, warnings, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &r.id,
                &r.source,
                &r.kind.as_str(),
                &r.received_at.as_millisecond(),
                &r.remote_addr,
                &sha,
                &status.as_str(),
                &record_count,
                &errors,
                &warnings,
                &&r.body[..],
            ],
        )
        .await?;
    }
    Ok(())
}

/// Runs `sql` as a statement prepared once per pooled connection (a plain
/// `execute` prepares it again on every call: one more round trip).
async fn exec(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, StoreError> {
    let stmt = tx.prepare_cached(sql).await.map_err(unavailable)?;
    tx.execute(&stmt, params).await.map_err(unavailable)
}

/// [`exec`] for a query of at most one row.
async fn opt(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<Row>, StoreError> {
    let stmt = tx.prepare_cached(sql).await.map_err(unavailable)?;
    tx.query_opt(&stmt, params).await.map_err(unavailable)
}

/// [`exec`] for a query of exactly one row.
async fn one(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Row, StoreError> {
    let stmt = tx.prepare_cached(sql).await.map_err(unavailable)?;
    tx.query_one(&stmt, params).await.map_err(unavailable)
}
