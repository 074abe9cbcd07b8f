//! The health figures ([`health`]) and the `alerts` table on SQLite.
//! Every count reads an index range: receipts by `(source, id)` and
//! `(status, id)` (ids are ULIDs, so an id range is a time range),
//! deliveries by `(target, status, id)`, alerts by `(state, id)`.

use super::reads::projection_lag;
use super::rows::{from_ms, ms};
use crate::storage::alerts::{
    receipt_id_floor, record, AlertFilter, AlertRecord, AlertState, RawAlert,
};
use crate::storage::{HealthFigures, HealthQuery, StoreError};
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

const LAST_PUSH: &str =
    "SELECT received_at FROM receipts WHERE source = ?1 ORDER BY id DESC LIMIT 1";
const BY_STATUS: &str = "SELECT count(*) FROM receipts WHERE status = ?1 AND id >= ?2";
const TOTAL: &str = "SELECT count(*) FROM receipts WHERE id >= ?1";
const DEAD: &str = "SELECT count(*) FROM deliveries WHERE target = ?1 AND status = 'dead'";
const FIRING: &str = "SELECT count(*) FROM alerts WHERE state = 'firing'";

/// [`crate::storage::Store::health`].
pub fn health(c: &Connection, q: &HealthQuery) -> Result<HealthFigures, StoreError> {
    let floor = receipt_id_floor(q.since);
    let mut last = c.prepare_cached(LAST_PUSH)?;
    let mut last_push = Vec::with_capacity(q.sources.len());
    for s in &q.sources {
        let at: Option<i64> = last.query_row([s], |r| r.get(0)).optional()?;
        last_push.push((s.clone(), at.map(from_ms).transpose()?));
    }
    let mut by_status = c.prepare_cached(BY_STATUS)?;
    let mut count = |status: &str| -> Result<u64, StoreError> {
        Ok(by_status
            .query_row(params![status, floor], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)?)
    };
    let (rejected, partial) = (count("rejected")?, count("partial")?);
    let total = if q.with_total {
        let n: i64 = c
            .prepare_cached(TOTAL)
            .and_then(|mut s| s.query_row([&floor], |r| r.get(0)))?;
        Some(n as u64)
    } else {
        None
    };
    let mut dead_of = c.prepare_cached(DEAD)?;
    let mut dead = Vec::with_capacity(q.targets.len());
    for t in &q.targets {
        let n: i64 = dead_of.query_row([t], |r| r.get(0))?;
        dead.push((t.clone(), n as u64));
    }
    let firing: i64 = c
        .prepare_cached(FIRING)
        .and_then(|mut s| s.query_row([], |r| r.get(0)))?;
    Ok(HealthFigures {
        last_push,
        rejected,
        partial,
        total,
        lag: projection_lag(c)?,
        dead,
        firing: firing as u64,
    })
}

fn json(v: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::corrupt("alert channels", e))
}

/// [`crate::storage::Store::open_alert`]: inserts `a` unless its rule has a
/// firing row already; `true` when inserted.
pub fn open(c: &Connection, a: &AlertRecord) -> Result<bool, StoreError> {
    let n = c
        .prepare_cached(
            "INSERT INTO alerts (id, rule, kind, state, value, threshold, message, fired_at,
                 resolved_at, fired_channels, resolved_channels)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT DO NOTHING",
        )
        .and_then(|mut s| {
            s.execute(params![
                a.id,
                a.rule,
                a.kind,
                a.state.as_str(),
                a.value,
                a.threshold,
                a.message,
                ms(a.fired_at),
                a.resolved_at.map(ms),
                json(&a.notified.fired).unwrap_or_else(|_| "[]".into()),
                json(&a.notified.resolved).unwrap_or_else(|_| "[]".into()),
            ])
        })?;
    Ok(n == 1)
}

/// [`crate::storage::Store::resolve_alert`]: `true` when `id` was firing.
pub fn resolve(c: &Connection, id: &str, at: Timestamp) -> Result<bool, StoreError> {
    let n = c
        .prepare_cached(
            "UPDATE alerts SET state = 'resolved', resolved_at = ?2
             WHERE id = ?1 AND state = 'firing'",
        )
        .and_then(|mut s| s.execute(params![id, ms(at)]))?;
    Ok(n == 1)
}

/// [`crate::storage::Store::set_alert_notified`].
pub fn set_notified(
    c: &Connection,
    id: &str,
    phase: AlertState,
    channels: &[String],
) -> Result<(), StoreError> {
    let sql = match phase {
        AlertState::Firing => "UPDATE alerts SET fired_channels = ?2 WHERE id = ?1",
        AlertState::Resolved => "UPDATE alerts SET resolved_channels = ?2 WHERE id = ?1",
    };
    let list = json(channels)?;
    c.prepare_cached(sql)
        .and_then(|mut s| s.execute(params![id, list]))?;
    Ok(())
}

/// [`crate::storage::Store::list_alerts`]: newest first.
pub fn list(c: &Connection, f: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
    let mut s = c.prepare_cached(
        "SELECT id, rule, kind, state, value, threshold, message, fired_at, resolved_at,
                 fired_channels, resolved_channels
             FROM alerts
             WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR rule = ?2)
               AND (?3 IS NULL OR id < ?3)
             ORDER BY id DESC LIMIT ?4",
    )?;
    let rows = s.query_map(
        params![
            f.state.map(AlertState::as_str),
            f.rule,
            f.before,
            f.limit as i64
        ],
        |r| {
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ),
                (r.get::<_, f64>(4)?, r.get::<_, f64>(5)?),
                r.get::<_, String>(6)?,
                (r.get::<_, i64>(7)?, r.get::<_, Option<i64>>(8)?),
                (r.get::<_, String>(9)?, r.get::<_, String>(10)?),
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let ((id, rule, kind, state), (value, threshold), message, (fired, resolved), (fc, rc)) =
            row?;
        out.push(record(RawAlert {
            id,
            rule,
            kind,
            state,
            value,
            threshold,
            message,
            fired_at: fired,
            resolved_at: resolved,
            fired_channels: fc,
            resolved_channels: rc,
        })?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteStore;

    /// Every health query searches an index; none scans a table.
    #[test]
    fn the_health_queries_search_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        SqliteStore::migrate(&path).unwrap();
        let c = Connection::open(&path).unwrap();
        for sql in [LAST_PUSH, BY_STATUS, TOTAL, DEAD, FIRING] {
            let mut s = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let plan: Vec<String> = s
                .query_map(
                    rusqlite::params_from_iter(["x", "y"].iter().take(sql.matches('?').count())),
                    |r| r.get::<_, String>(3),
                )
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert!(
                plan.iter().all(|step| step.starts_with("SEARCH")),
                "{sql}: {plan:?}"
            );
        }
    }

    /// The cost of one health read over a log of 300 000 receipts over 30
    /// days (8 sources, 1 % rejected): `cargo test --lib --release
    /// health_on_a_large_log -- --ignored --nocapture`.
    #[tokio::test]
    #[ignore = "a measurement, not a check"]
    async fn health_on_a_large_log() {
        use crate::storage::Store;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        SqliteStore::migrate(&path).unwrap();
        let start = Timestamp::now() - jiff::SignedDuration::from_hours(24 * 30);
        {
            let mut c = Connection::open(&path).unwrap();
            let tx = c.transaction().unwrap();
            let mut ins = tx
                .prepare(
                    "INSERT INTO receipts (id, source, kind, received_at, remote_addr, sha256,
                         status, record_count, errors, warnings, body)
                     VALUES (?1, ?2, 'aliyun-call-report', ?3, '', '', ?4, 1, '[]', '[]', x'')",
                )
                .unwrap();
            for i in 0..300_000u64 {
                let ms = start.as_millisecond() as u64 + i * 8_640;
                let id = ulid::Ulid::from_parts(ms, i as u128).to_string();
                let status = if i % 100 == 0 { "rejected" } else { "accepted" };
                ins.execute(params![id, format!("s{}", i % 8), ms as i64, status])
                    .unwrap();
            }
            drop(ins);
            tx.commit().unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let now = Timestamp::now();
        let q = HealthQuery {
            sources: (0..8).map(|i| format!("s{i}")).collect(),
            targets: vec!["crm".into(), "nats".into()],
            since: crate::alerts::health::utc_day_start(now),
            with_total: false,
        };
        store.health(&q).await.unwrap();
        let runs = 200;
        let t = std::time::Instant::now();
        for _ in 0..runs {
            store.health(&q).await.unwrap();
        }
        let per = t.elapsed() / runs;
        let h = store.health(&q).await.unwrap();
        println!(
            "health over 300000 receipts: {per:?} per read; rejected today {}",
            h.rejected
        );
    }
}
