//! The recordings archive's rows on PostgreSQL (`storage/recordings.rs`):
//! the same statements as SQLite's, set-based where the projector writes
//! many rows, and claims that skip rows another instance has locked.

use crate::domain::{Call, RecordingStatus};
use crate::storage::columns::decode;
use crate::storage::outbox_sql::numbered;
use crate::storage::recordings::*;
use crate::storage::shared::{from_ms, from_opt_ms};
use crate::storage::StoreError;
use jiff::Timestamp;
use tokio_postgres::GenericClient;
use tokio_postgres::Row;

fn sql(text: &str) -> String {
    numbered(text, '$')
}

/// Writes `jobs` in one statement ([`enqueue_sql`]); returns how many
/// rows changed.
pub async fn enqueue(c: &impl GenericClient, jobs: &[RecordingJob]) -> Result<u64, StoreError> {
    if jobs.is_empty() {
        return Ok(0);
    }
    let col = |f: fn(&RecordingJob) -> &str| jobs.iter().map(f).collect::<Vec<&str>>();
    let (calls, links, urls) = (col(|j| &j.call_id), col(|j| j.link), col(|j| &j.url));
    let (vendors, sources) = (col(|j| j.vendor.as_str()), col(|j| &j.source));
    let received: Vec<i64> = jobs
        .iter()
        .map(|j| j.received_at.as_millisecond())
        .collect();
    let expires: Vec<Option<i64>> = jobs
        .iter()
        .map(|j| j.expires_at.map(|t| t.as_millisecond()))
        .collect();
    let q = enqueue_sql(
        "unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::BIGINT[],
            $7::BIGINT[]) AS j(c, l, u, v, s, r, e)",
    );
    Ok(c.execute(
        &q,
        &[
            &calls, &links, &urls, &vendors, &sources, &received, &expires,
        ],
    )
    .await?)
}

/// Due, unleased pending rows, oldest due first, leased until `now +
/// lease`; rows another transaction holds are skipped.
pub async fn claim(
    c: &impl GenericClient,
    now: Timestamp,
    limit: usize,
    lease: std::time::Duration,
) -> Result<Vec<RecordingClaim>, StoreError> {
    let now_ms = now.as_millisecond();
    let until = now_ms.saturating_add(lease.as_millis() as i64);
    let rows = c
        .query(
            "WITH due AS (
                SELECT call_id, link FROM recordings
                WHERE status = 'pending' AND next_attempt_at <= $1
                  AND (lease_until IS NULL OR lease_until <= $1)
                ORDER BY next_attempt_at LIMIT $2
                FOR UPDATE SKIP LOCKED)
             UPDATE recordings r SET lease_until = $3 FROM due
             WHERE r.call_id = due.call_id AND r.link = due.link
             RETURNING r.call_id, r.link, r.url, r.source, r.attempts, r.received_at,
                r.expires_at, r.next_attempt_at",
            &[&now_ms, &(limit as i64), &until],
        )
        .await?;
    let mut out: Vec<(i64, RecordingClaim)> = Vec::with_capacity(rows.len());
    for r in rows {
        let claim = RecordingClaim {
            call_id: r.get(0),
            link: r.get(1),
            url: r.get(2),
            source: r.get(3),
            attempts: r.get::<_, i32>(4) as u32,
            received_at: from_ms(r.get(5))?,
            expires_at: from_opt_ms(r.get(6))?,
        };
        out.push((r.get(7), claim));
    }
    out.sort_by_key(|(due, _)| *due);
    Ok(out.into_iter().map(|(_, c)| c).collect())
}

/// Records `reports` in one transaction; an archived file stops being an
/// orphan.
pub async fn report(
    c: &mut deadpool_postgres::Object,
    reports: &[RecordingReport],
) -> Result<(), StoreError> {
    let tx = c.transaction().await?;
    let stmt = tx.prepare_cached(&sql(REPORT)).await?;
    for r in reports {
        let row = ReportRow::of(r);
        tx.execute(
            &stmt,
            &[
                &r.call_id,
                &r.link,
                &r.url,
                &row.status.as_str(),
                &r.at.as_millisecond(),
                &row.next_attempt_at,
                &row.error,
                &row.bytes,
                &row.sha256,
                &row.content_type,
                &row.archived_at,
            ],
        )
        .await?;
        if let Some(sha) = row.sha256 {
            tx.execute("DELETE FROM recording_orphans WHERE sha256 = $1", &[&sha])
                .await?;
        }
    }
    Ok(tx.commit().await?)
}

fn record(r: &Row) -> Result<RecordingRecord, StoreError> {
    let status: String = r.get(4);
    Ok(RecordingRecord {
        call_id: r.get(0),
        link: r.get(1),
        url: r.get(2),
        source: r.get(3),
        status: decode(&status)?,
        attempts: r.get::<_, i32>(5) as u32,
        received_at: from_ms(r.get(6))?,
        expires_at: from_opt_ms(r.get(7))?,
        next_attempt_at: from_opt_ms(r.get(8))?,
        last_attempt_at: from_opt_ms(r.get(9))?,
        error: r.get(10),
        bytes: r.get::<_, Option<i64>>(11).map(|b| b as u64),
        sha256: r.get(12),
        content_type: r.get(13),
        archived_at: from_opt_ms(r.get(14))?,
    })
}

/// Every recording row of call `id`, the canonical link first.
pub async fn of_call(c: &impl GenericClient, id: &str) -> Result<Vec<RecordingRecord>, StoreError> {
    let q = format!(
        "SELECT {RECORD_COLUMNS} FROM recordings WHERE call_id = $1
         ORDER BY link <> 'recording_url', link"
    );
    let rows = c.query(&q, &[&id]).await?;
    rows.iter().map(record).collect()
}

/// The row of `call_id`'s `link`.
pub async fn get(
    c: &impl GenericClient,
    call_id: &str,
    link: &str,
) -> Result<Option<RecordingRecord>, StoreError> {
    let q = format!("SELECT {RECORD_COLUMNS} FROM recordings WHERE call_id = $1 AND link = $2");
    let row = c.query_opt(&q, &[&call_id, &link]).await?;
    row.as_ref().map(record).transpose()
}

/// Sets each call's `recording` from its canonical link's row.
pub async fn fill(c: &impl GenericClient, calls: &mut [Call]) -> Result<(), StoreError> {
    let ids = ids_to_fill(calls);
    if ids.is_empty() {
        return Ok(());
    }
    let q = format!(
        "SELECT {RECORD_COLUMNS} FROM recordings
         WHERE link = 'recording_url' AND call_id = ANY($1)"
    );
    let rows = c.query(&q, &[&ids]).await?;
    let found = rows.iter().map(record).collect::<Result<Vec<_>, _>>()?;
    fill_from(calls, found);
    Ok(())
}

/// Rows per status, archived bytes and the oldest due pending row.
pub async fn counts(c: &impl GenericClient) -> Result<RecordingCounts, StoreError> {
    let rows = c
        .query(
            "SELECT status, count(*), coalesce(sum(size_bytes), 0)::BIGINT FROM recordings
             GROUP BY status",
            &[],
        )
        .await?;
    let mut out = RecordingCounts::default();
    for r in rows {
        let status: RecordingStatus = decode(r.get(0))?;
        out.by_status.push((status, r.get::<_, i64>(1) as u64));
        if status == RecordingStatus::Archived {
            out.archived_bytes = r.get::<_, i64>(2) as u64;
        }
    }
    out.oldest_due = next_due(c).await?;
    Ok(out)
}

/// Links whose last attempt since `since` failed ([`FAILING`]).
pub async fn failing(
    c: &impl GenericClient,
    source: Option<&str>,
    since: Timestamp,
) -> Result<u64, StoreError> {
    let row = c
        .query_one(&sql(FAILING), &[&since.as_millisecond(), &source])
        .await?;
    Ok(row.get::<_, i64>(0) as u64)
}

/// Pending rows and the first due time ([`BACKLOG`]).
pub async fn backlog(c: &impl GenericClient) -> Result<(u64, Option<Timestamp>), StoreError> {
    let row = c.query_one(BACKLOG, &[]).await?;
    Ok((row.get::<_, i64>(0) as u64, from_opt_ms(row.get(1))?))
}

/// When the pending row due first is due (leased rows included).
pub async fn next_due(c: &impl GenericClient) -> Result<Option<Timestamp>, StoreError> {
    let row = c
        .query_one(
            "SELECT min(next_attempt_at) FROM recordings WHERE status = 'pending'",
            &[],
        )
        .await?;
    from_opt_ms(row.get(0))
}

/// Makes every row not archived (received at or after `since`) due at
/// `now`; returns how many.
pub async fn refetch(
    c: &impl GenericClient,
    since: Option<Timestamp>,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let since = since.map_or(i64::MIN, |t| t.as_millisecond());
    Ok(c.execute(&sql(REFETCH), &[&since, &now.as_millisecond()])
        .await?)
}

/// Takes up to `limit` orphan files no row refers to any more.
pub async fn take_orphans(c: &impl GenericClient, limit: usize) -> Result<Vec<String>, StoreError> {
    let rows = c
        .query(
            "DELETE FROM recording_orphans WHERE sha256 IN (SELECT o.sha256 FROM recording_orphans o
                WHERE NOT EXISTS (SELECT 1 FROM recordings r WHERE r.sha256 = o.sha256)
                LIMIT $1 FOR UPDATE SKIP LOCKED)
             RETURNING sha256",
            &[&(limit as i64)],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Orphans the files of calls `ids` and deletes their rows (retention).
pub async fn delete_of_calls(c: &impl GenericClient, ids: &[&str]) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO recording_orphans (sha256)
         SELECT DISTINCT sha256 FROM recordings WHERE call_id = ANY($1) AND sha256 IS NOT NULL
         ON CONFLICT DO NOTHING",
        &[&ids],
    )
    .await?;
    c.execute("DELETE FROM recordings WHERE call_id = ANY($1)", &[&ids])
        .await?;
    Ok(())
}
