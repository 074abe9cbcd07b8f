//! The single writer: one thread owns the write connection and commits
//! whatever ingest jobs have queued up in one transaction (group commit),
//! each job in its own savepoint so one failure does not sink the others.
//! Every job is answered only after the commit that holds it is durable.

use super::rows::{self, unavailable};
use crate::domain::{call_id_for, Call, Change};
use crate::storage::{BodyResult, IngestBatch, IngestOutcome, StoreError};
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot};

/// Most jobs committed in one transaction.
const MAX_GROUP: usize = 512;

/// One queued ingest and where to send its outcome.
pub struct Job {
    pub batch: IngestBatch,
    pub reply: oneshot::Sender<Result<IngestOutcome, StoreError>>,
}

/// Runs until every sender is dropped.
pub fn run(mut conn: Connection, mut rx: mpsc::Receiver<Job>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = rx.blocking_recv() {
        group.push(first);
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(&mut conn, &mut group);
    }
}

fn commit_group(conn: &mut Connection, group: &mut Vec<Job>) {
    let committed = (|| -> rusqlite::Result<Vec<Result<IngestOutcome, StoreError>>> {
        let mut tx = conn.transaction()?;
        let mut results = Vec::with_capacity(group.len());
        for job in group.iter() {
            let mut sp = tx.savepoint()?;
            let r = apply(&sp, &job.batch);
            if r.is_ok() {
                sp.commit()?;
            } else {
                sp.rollback()?;
            }
            results.push(r);
        }
        tx.commit()?;
        Ok(results)
    })();
    match committed {
        Ok(results) => {
            for (job, r) in group.drain(..).zip(results) {
                let _ = job.reply.send(r);
            }
        }
        Err(e) => {
            for job in group.drain(..) {
                let _ = job.reply.send(Err(StoreError::Unavailable(e.to_string())));
            }
        }
    }
}

/// Applies one batch inside the current transaction.
fn apply(tx: &rusqlite::Savepoint, batch: &IngestBatch) -> Result<IngestOutcome, StoreError> {
    let r = &batch.receipt;
    let now = if batch.replay {
        Timestamp::now()
            .round(jiff::Unit::Millisecond)
            .unwrap_or_else(|_| Timestamp::now())
    } else {
        r.received_at
    };
    let mut out = IngestOutcome {
        receipt_id: r.id.clone(),
        ..Default::default()
    };
    if let BodyResult::Parsed { updates, .. } = &batch.result {
        let mut select = tx
            .prepare_cached("SELECT doc FROM calls WHERE id = ?1")
            .map_err(unavailable)?;
        let mut link = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO call_receipts (call_id, receipt_id) VALUES (?1, ?2)",
            )
            .map_err(unavailable)?;
        for u in updates {
            let id = call_id_for(u.vendor, &u.vendor_call_id);
            let stored: Option<String> = select
                .query_row([&id], |row| row.get(0))
                .optional()
                .map_err(unavailable)?;
            let (call, change) = match stored {
                None => (Call::from_update(u, &r.source, now), Change::Created),
                Some(doc) => {
                    let mut call: Call = serde_json::from_str(&doc)
                        .map_err(|e| StoreError::Corrupt(format!("call {id}: {e}")))?;
                    let change = call.apply(u, &r.source, now);
                    (call, change)
                }
            };
            match change {
                Change::Created => out.created += 1,
                Change::Updated => out.updated += 1,
                Change::Analyzed => out.analyzed += 1,
                Change::Unchanged => out.unchanged += 1,
            }
            if change != Change::Unchanged {
                rows::upsert_call(tx, &call)?;
            }
            link.execute(params![id, r.id]).map_err(unavailable)?;
        }
    }
    let status = out.decide_status(&batch.result);
    out.status = Some(status);
    rows::write_receipt(tx, batch, status, now)?;
    Ok(out)
}
