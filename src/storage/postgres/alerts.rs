//! The health figures ([`health`]) and the `alerts` table on PostgreSQL,
//! with the same queries and index use as SQLite's (`sqlite/alerts.rs`).

use super::ingest::unavailable;
use super::reads::projection_lag;
use crate::storage::alerts::{
    receipt_id_floor, record, AlertFilter, AlertRecord, AlertState, RawAlert,
};
use crate::storage::{HealthFigures, HealthQuery, StoreError};
use jiff::Timestamp;
use tokio_postgres::Client;

/// [`crate::storage::Store::health`].
pub async fn health(
    c: &deadpool_postgres::Object,
    q: &HealthQuery,
) -> Result<HealthFigures, StoreError> {
    let floor = receipt_id_floor(q.since);
    let last = c
        .prepare_cached(
            "SELECT received_at FROM receipts WHERE source = $1 ORDER BY id DESC LIMIT 1",
        )
        .await
        .map_err(unavailable)?;
    let mut last_push = Vec::with_capacity(q.sources.len());
    for s in &q.sources {
        let at = match c.query_opt(&last, &[s]).await.map_err(unavailable)? {
            Some(r) => Some(
                Timestamp::from_millisecond(r.get::<_, i64>(0))
                    .map_err(|e| StoreError::Corrupt(format!("receipt time: {e}")))?,
            ),
            None => None,
        };
        last_push.push((s.clone(), at));
    }
    let by_status = c
        .prepare_cached("SELECT count(*) FROM receipts WHERE status = $1 AND id >= $2")
        .await
        .map_err(unavailable)?;
    let mut counts = [0u64; 2];
    for (i, status) in ["rejected", "partial"].iter().enumerate() {
        let r = c
            .query_one(&by_status, &[status, &floor])
            .await
            .map_err(unavailable)?;
        counts[i] = r.get::<_, i64>(0) as u64;
    }
    let total = if q.with_total {
        let r = c
            .query_one("SELECT count(*) FROM receipts WHERE id >= $1", &[&floor])
            .await
            .map_err(unavailable)?;
        Some(r.get::<_, i64>(0) as u64)
    } else {
        None
    };
    let dead_of = c
        .prepare_cached("SELECT count(*) FROM deliveries WHERE target = $1 AND status = 'dead'")
        .await
        .map_err(unavailable)?;
    let mut dead = Vec::with_capacity(q.targets.len());
    for t in &q.targets {
        let r = c.query_one(&dead_of, &[t]).await.map_err(unavailable)?;
        dead.push((t.clone(), r.get::<_, i64>(0) as u64));
    }
    let firing = c
        .query_one("SELECT count(*) FROM alerts WHERE state = 'firing'", &[])
        .await
        .map_err(unavailable)?
        .get::<_, i64>(0) as u64;
    Ok(HealthFigures {
        last_push,
        rejected: counts[0],
        partial: counts[1],
        total,
        lag: projection_lag(c).await?,
        dead,
        firing,
    })
}

fn json(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// [`crate::storage::Store::open_alert`]: `true` when inserted (no other
/// firing row of the rule, from this instance or another).
pub async fn open(c: &Client, a: &AlertRecord) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "INSERT INTO alerts (id, rule, kind, state, value, threshold, message, fired_at,
                 resolved_at, fired_channels, resolved_channels)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
            &[
                &a.id,
                &a.rule,
                &a.kind,
                &a.state.as_str(),
                &a.value,
                &a.threshold,
                &a.message,
                &a.fired_at.as_millisecond(),
                &a.resolved_at.map(|t| t.as_millisecond()),
                &json(&a.notified.fired),
                &json(&a.notified.resolved),
            ],
        )
        .await
        .map_err(unavailable)?;
    Ok(n == 1)
}

/// [`crate::storage::Store::resolve_alert`]: `true` when `id` was firing.
pub async fn resolve(c: &Client, id: &str, at: Timestamp) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE alerts SET state = 'resolved', resolved_at = $2
             WHERE id = $1 AND state = 'firing'",
            &[&id, &at.as_millisecond()],
        )
        .await
        .map_err(unavailable)?;
    Ok(n == 1)
}

/// [`crate::storage::Store::set_alert_notified`].
pub async fn set_notified(
    c: &Client,
    id: &str,
    phase: AlertState,
    channels: &[String],
) -> Result<(), StoreError> {
    let sql = match phase {
        AlertState::Firing => "UPDATE alerts SET fired_channels = $2 WHERE id = $1",
        AlertState::Resolved => "UPDATE alerts SET resolved_channels = $2 WHERE id = $1",
    };
    c.execute(sql, &[&id, &json(channels)])
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// [`crate::storage::Store::list_alerts`]: newest first.
pub async fn list(c: &Client, f: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
    let rows = c
        .query(
            "SELECT id, rule, kind, state, value, threshold, message, fired_at, resolved_at,
                 fired_channels, resolved_channels
             FROM alerts
             WHERE ($1::TEXT IS NULL OR state = $1) AND ($2::TEXT IS NULL OR rule = $2)
               AND ($3::TEXT IS NULL OR id < $3)
             ORDER BY id DESC LIMIT $4",
            &[
                &f.state.map(AlertState::as_str),
                &f.rule,
                &f.before,
                &(f.limit as i64),
            ],
        )
        .await
        .map_err(unavailable)?;
    rows.iter()
        .map(|r| {
            record(RawAlert {
                id: r.get(0),
                rule: r.get(1),
                kind: r.get(2),
                state: r.get(3),
                value: r.get(4),
                threshold: r.get(5),
                message: r.get(6),
                fired_at: r.get(7),
                resolved_at: r.get(8),
                fired_channels: r.get(9),
                resolved_channels: r.get(10),
            })
        })
        .collect()
}
