//! The health figures ([`health`]) and the `alerts` table on SQLite.
//! Every count reads an index range: receipts by `(source, id)` and
//! `(status, id)` (ids are ULIDs, so an id range is a time range),
//! deliveries by `(target, status, id)`, alerts by `(state, id)`.

use super::reads::projection_lag;
use super::rows::{from_ms, ms, unavailable};
use crate::storage::alerts::{
    receipt_id_floor, record, AlertFilter, AlertRecord, AlertState, RawAlert,
};
use crate::storage::{HealthFigures, HealthQuery, StoreError};
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

/// [`crate::storage::Store::health`].
pub fn health(c: &Connection, q: &HealthQuery) -> Result<HealthFigures, StoreError> {
    let floor = receipt_id_floor(q.since);
    let mut last = c
        .prepare_cached(
            "SELECT received_at FROM receipts WHERE source = ?1 ORDER BY id DESC LIMIT 1",
        )
        .map_err(unavailable)?;
    let mut last_push = Vec::with_capacity(q.sources.len());
    for s in &q.sources {
        let at: Option<i64> = last
            .query_row([s], |r| r.get(0))
            .optional()
            .map_err(unavailable)?;
        last_push.push((s.clone(), at.map(from_ms).transpose()?));
    }
    let mut by_status = c
        .prepare_cached("SELECT count(*) FROM receipts WHERE status = ?1 AND id >= ?2")
        .map_err(unavailable)?;
    let mut count = |status: &str| -> Result<u64, StoreError> {
        by_status
            .query_row(params![status, floor], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(unavailable)
    };
    let (rejected, partial) = (count("rejected")?, count("partial")?);
    let total = if q.with_total {
        let n: i64 = c
            .prepare_cached("SELECT count(*) FROM receipts WHERE id >= ?1")
            .and_then(|mut s| s.query_row([&floor], |r| r.get(0)))
            .map_err(unavailable)?;
        Some(n as u64)
    } else {
        None
    };
    let mut dead_of = c
        .prepare_cached("SELECT count(*) FROM deliveries WHERE target = ?1 AND status = 'dead'")
        .map_err(unavailable)?;
    let mut dead = Vec::with_capacity(q.targets.len());
    for t in &q.targets {
        let n: i64 = dead_of.query_row([t], |r| r.get(0)).map_err(unavailable)?;
        dead.push((t.clone(), n as u64));
    }
    let firing: i64 = c
        .prepare_cached("SELECT count(*) FROM alerts WHERE state = 'firing'")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(unavailable)?;
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
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(format!("alert channels: {e}")))
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
        })
        .map_err(unavailable)?;
    Ok(n == 1)
}

/// [`crate::storage::Store::resolve_alert`]: `true` when `id` was firing.
pub fn resolve(c: &Connection, id: &str, at: Timestamp) -> Result<bool, StoreError> {
    let n = c
        .prepare_cached(
            "UPDATE alerts SET state = 'resolved', resolved_at = ?2
             WHERE id = ?1 AND state = 'firing'",
        )
        .and_then(|mut s| s.execute(params![id, ms(at)]))
        .map_err(unavailable)?;
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
        .and_then(|mut s| s.execute(params![id, list]))
        .map_err(unavailable)?;
    Ok(())
}

/// [`crate::storage::Store::list_alerts`]: newest first.
pub fn list(c: &Connection, f: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
    let mut s = c
        .prepare_cached(
            "SELECT id, rule, kind, state, value, threshold, message, fired_at, resolved_at,
                 fired_channels, resolved_channels
             FROM alerts
             WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR rule = ?2)
               AND (?3 IS NULL OR id < ?3)
             ORDER BY id DESC LIMIT ?4",
        )
        .map_err(unavailable)?;
    let rows = s
        .query_map(
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
        )
        .map_err(unavailable)?;
    let mut out = Vec::new();
    for row in rows {
        let ((id, rule, kind, state), (value, threshold), message, (fired, resolved), (fc, rc)) =
            row.map_err(unavailable)?;
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
