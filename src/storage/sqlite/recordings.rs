//! The recordings archive's rows on SQLite (`storage/recordings.rs`):
//! jobs written in the projector's transaction, claims and reports on the
//! writer thread, reads on the read pool.

use super::rows::{from_ms, ms};
use crate::domain::{Call, RecordingStatus};
use crate::storage::columns::decode;
use crate::storage::outbox_sql::numbered;
use crate::storage::recordings::*;
use crate::storage::StoreError;
use jiff::Timestamp;
use rusqlite::{params, params_from_iter, Connection, Row};

fn sql(text: &str) -> String {
    numbered(text, '?')
}

/// Writes `jobs` ([`enqueue_sql`]); returns how many rows changed.
pub fn enqueue(tx: &Connection, jobs: &[RecordingJob]) -> Result<u64, StoreError> {
    // `WHERE true`: SQLite's parser needs it before an upsert's ON CONFLICT.
    let q = enqueue_sql(
        "(SELECT ?1 AS c, ?2 AS l, ?3 AS u, ?4 AS v, ?5 AS s, ?6 AS r, ?7 AS e) WHERE true",
    );
    let mut stmt = tx.prepare_cached(&q)?;
    let mut n = 0;
    for j in jobs {
        n += stmt.execute(params![
            j.call_id,
            j.link,
            j.url,
            j.vendor.as_str(),
            j.source,
            ms(j.received_at),
            j.expires_at.map(ms)
        ])? as u64;
    }
    Ok(n)
}

/// Due, unleased pending rows, oldest due first, leased until `now + lease`.
pub fn claim(
    c: &Connection,
    now: Timestamp,
    limit: usize,
    lease: std::time::Duration,
) -> Result<Vec<RecordingClaim>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT call_id, link, url, source, attempts, received_at, expires_at FROM recordings
             WHERE status = 'pending' AND next_attempt_at <= ?1
               AND (lease_until IS NULL OR lease_until <= ?1)
             ORDER BY next_attempt_at LIMIT ?2",
    )?;
    let mut rows = stmt.query(params![ms(now), limit as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(RecordingClaim {
            call_id: r.get(0)?,
            link: r.get(1)?,
            url: r.get(2)?,
            source: r.get(3)?,
            attempts: r.get::<_, i64>(4)? as u32,
            received_at: from_ms(r.get(5)?)?,
            expires_at: r.get::<_, Option<i64>>(6)?.map(from_ms).transpose()?,
        });
    }
    let until = ms(now).saturating_add(lease.as_millis() as i64);
    let mut lease_stmt = c.prepare_cached(
        "UPDATE recordings SET lease_until = ?3 WHERE call_id = ?1 AND link = ?2",
    )?;
    for m in &out {
        lease_stmt.execute(params![m.call_id, m.link, until])?;
    }
    Ok(out)
}

/// Records `reports`; an archived file stops being an orphan.
pub fn report(c: &Connection, reports: &[RecordingReport]) -> Result<(), StoreError> {
    let mut stmt = c.prepare_cached(&sql(REPORT))?;
    let mut adopt = c.prepare_cached("DELETE FROM recording_orphans WHERE sha256 = ?1")?;
    for r in reports {
        let row = ReportRow::of(r);
        stmt.execute(params![
            r.call_id,
            r.link,
            r.url,
            row.status.as_str(),
            ms(r.at),
            row.next_attempt_at,
            row.error,
            row.bytes,
            row.sha256,
            row.content_type,
            row.archived_at
        ])?;
        if let Some(sha) = row.sha256 {
            adopt.execute([sha])?;
        }
    }
    Ok(())
}

fn record(r: &Row) -> Result<RecordingRecord, StoreError> {
    let t = |i: usize| -> Result<Option<Timestamp>, StoreError> {
        r.get::<_, Option<i64>>(i)?.map(from_ms).transpose()
    };
    let status: String = r.get(4)?;
    Ok(RecordingRecord {
        call_id: r.get(0)?,
        link: r.get(1)?,
        url: r.get(2)?,
        source: r.get(3)?,
        status: decode(&status)?,
        attempts: r.get::<_, i64>(5)? as u32,
        received_at: from_ms(r.get(6)?)?,
        expires_at: t(7)?,
        next_attempt_at: t(8)?,
        last_attempt_at: t(9)?,
        error: r.get(10)?,
        bytes: r.get::<_, Option<i64>>(11)?.map(|b| b as u64),
        sha256: r.get(12)?,
        content_type: r.get(13)?,
        archived_at: t(14)?,
    })
}

/// Every recording row of call `id`, the canonical link first.
pub fn of_call(c: &Connection, id: &str) -> Result<Vec<RecordingRecord>, StoreError> {
    let q = format!(
        "SELECT {RECORD_COLUMNS} FROM recordings WHERE call_id = ?1
         ORDER BY link <> 'recording_url', link"
    );
    let mut stmt = c.prepare_cached(&q)?;
    let mut rows = stmt.query([id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(record(r)?);
    }
    Ok(out)
}

/// Sets each call's `recording` from its canonical link's row.
pub fn fill(c: &Connection, calls: &mut [Call]) -> Result<(), StoreError> {
    let ids = ids_to_fill(calls);
    if ids.is_empty() {
        return Ok(());
    }
    let marks = vec!["?"; ids.len()].join(", ");
    let q = format!(
        "SELECT {RECORD_COLUMNS} FROM recordings WHERE link = 'recording_url' AND call_id IN ({marks})"
    );
    let mut stmt = c.prepare(&q)?;
    let mut rows = stmt.query(params_from_iter(ids))?;
    let mut found = Vec::new();
    while let Some(r) = rows.next()? {
        found.push(record(r)?);
    }
    drop(rows);
    fill_from(calls, found);
    Ok(())
}

/// Rows per status, archived bytes and the oldest due pending row.
pub fn counts(c: &Connection) -> Result<RecordingCounts, StoreError> {
    let mut out = RecordingCounts::default();
    let mut stmt = c.prepare_cached(
        "SELECT status, count(*), coalesce(sum(size_bytes), 0) FROM recordings GROUP BY status",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let status: String = r.get(0)?;
        let status: RecordingStatus = decode(&status)?;
        out.by_status.push((status, r.get::<_, i64>(1)? as u64));
        if status == RecordingStatus::Archived {
            out.archived_bytes = r.get::<_, i64>(2)? as u64;
        }
    }
    out.oldest_due = next_due(c)?;
    Ok(out)
}

/// Links whose last attempt since `since` failed ([`FAILING`]).
pub fn failing(c: &Connection, source: Option<&str>, since: Timestamp) -> Result<u64, StoreError> {
    Ok(c.prepare_cached(&sql(FAILING))
        .and_then(|mut s| s.query_row(params![ms(since), source], |r| r.get::<_, i64>(0)))
        .map(|n| n as u64)?)
}

/// Pending rows and the first due time ([`BACKLOG`]).
pub fn backlog(c: &Connection) -> Result<(u64, Option<Timestamp>), StoreError> {
    let (n, first) = c.prepare_cached(BACKLOG).and_then(|mut s| {
        s.query_row([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?))
        })
    })?;
    Ok((n as u64, first.map(from_ms).transpose()?))
}

/// When the pending row due first is due (leased rows included).
pub fn next_due(c: &Connection) -> Result<Option<Timestamp>, StoreError> {
    c.prepare_cached("SELECT min(next_attempt_at) FROM recordings WHERE status = 'pending'")
        .and_then(|mut s| s.query_row([], |r| r.get::<_, Option<i64>>(0)))?
        .map(from_ms)
        .transpose()
}

/// Makes every row not archived (received at or after `since`) due at
/// `now`; returns how many.
pub fn refetch(
    c: &Connection,
    since: Option<Timestamp>,
    now: Timestamp,
) -> Result<u64, StoreError> {
    Ok(c.prepare_cached(&sql(REFETCH))
        .and_then(|mut s| s.execute(params![since.map(ms).unwrap_or(i64::MIN), ms(now)]))
        .map(|n| n as u64)?)
}

/// Takes up to `limit` orphan files no row refers to any more (they are
/// deleted from the table; the caller removes them from the archive).
pub fn take_orphans(c: &Connection, limit: usize) -> Result<Vec<String>, StoreError> {
    let mut stmt = c.prepare_cached(
        "DELETE FROM recording_orphans WHERE sha256 IN (SELECT o.sha256 FROM recording_orphans o
                WHERE NOT EXISTS (SELECT 1 FROM recordings r WHERE r.sha256 = o.sha256) LIMIT ?1)
             RETURNING sha256",
    )?;
    let rows = stmt.query_map([limit as i64], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Ends every lease (single-process store at start); returns how many.
pub fn release_leases(c: &Connection) -> Result<u64, StoreError> {
    Ok(c.execute(
        "UPDATE recordings SET lease_until = NULL WHERE status = 'pending' AND lease_until IS NOT NULL",
        [],
    )
    .map(|n| n as u64)?)
}

/// Orphans the files of calls `ids` and deletes their rows (retention).
pub fn delete_of_calls(tx: &Connection, ids: &[&str]) -> Result<(), StoreError> {
    let mut orphan = tx.prepare_cached(&sql(ORPHAN_FILES_OF_CALL))?;
    let mut delete = tx.prepare_cached(&sql(DELETE_OF_CALL))?;
    for id in ids {
        orphan.execute([id])?;
        delete.execute([id])?;
    }
    Ok(())
}

/// The row of `call_id`'s `link`.
pub fn get(
    c: &Connection,
    call_id: &str,
    link: &str,
) -> Result<Option<RecordingRecord>, StoreError> {
    let q = format!("SELECT {RECORD_COLUMNS} FROM recordings WHERE call_id = ?1 AND link = ?2");
    let mut stmt = c.prepare_cached(&q)?;
    let mut rows = stmt.query(params![call_id, link])?;
    rows.next()?.map(record).transpose()
}
