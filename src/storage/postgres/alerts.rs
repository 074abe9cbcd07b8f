//! The health figures ([`health`]) and the `alerts` table on PostgreSQL,
//! with the same queries and index use as SQLite's (`sqlite/alerts.rs`).

use super::reads::projection_lag;
use crate::storage::alerts::{
    receipt_id_floor, record, AlertFilter, AlertRecord, AlertState, RawAlert,
};
use crate::storage::{HealthFigures, HealthQuery, StoreError};
use jiff::Timestamp;
use tokio_postgres::Client;

/// [`crate::storage::Store::health`]: four statements, each reading index
/// ranges only (a source's newest receipt by `(source, id)`, receipts by
/// `(status, id)`, deliveries by `(target, status, id)`, alerts by
/// `(state, id)`), plus the projection lag.
pub async fn health(
    c: &deadpool_postgres::Object,
    q: &HealthQuery,
) -> Result<HealthFigures, StoreError> {
    let floor = receipt_id_floor(q.since);
    let last = c
        .prepare_cached(
            "SELECT (SELECT r.received_at FROM receipts r
                     WHERE r.source = s.name COLLATE \"C\" ORDER BY r.id DESC LIMIT 1)
             FROM unnest($1::TEXT[]) WITH ORDINALITY AS s(name, i) ORDER BY s.i",
        )
        .await?;
    let rows = c.query(&last, &[&q.sources]).await?;
    let mut last_push = Vec::with_capacity(q.sources.len());
    for (name, r) in q.sources.iter().zip(rows) {
        let at = r
            .get::<_, Option<i64>>(0)
            .map(crate::storage::shared::from_ms)
            .transpose()?;
        last_push.push((name.clone(), at));
    }
    let counts = c
        .prepare_cached(
            "SELECT count(*) FILTER (WHERE status = 'rejected'),
                    count(*) FILTER (WHERE status = 'partial'),
                    (SELECT count(*) FROM alerts WHERE state = 'firing')
             FROM receipts WHERE status IN ('rejected', 'partial') AND id >= $1",
        )
        .await?;
    let r = c.query_one(&counts, &[&floor]).await?;
    let (rejected, partial, firing) = (
        r.get::<_, i64>(0) as u64,
        r.get::<_, i64>(1) as u64,
        r.get::<_, i64>(2) as u64,
    );
    let total = if q.with_total {
        let r = c
            .query_one("SELECT count(*) FROM receipts WHERE id >= $1", &[&floor])
            .await?;
        Some(r.get::<_, i64>(0) as u64)
    } else {
        None
    };
    let dead_of = c
        .prepare_cached(
            "SELECT (SELECT count(*) FROM deliveries d
                     WHERE d.target = t.name COLLATE \"C\" AND d.status = 'dead')
             FROM unnest($1::TEXT[]) WITH ORDINALITY AS t(name, i) ORDER BY t.i",
        )
        .await?;
    let rows = c.query(&dead_of, &[&q.targets]).await?;
    let dead = q
        .targets
        .iter()
        .zip(rows)
        .map(|(t, r)| (t.clone(), r.get::<_, i64>(0) as u64))
        .collect();
    Ok(HealthFigures {
        last_push,
        rejected,
        partial,
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
        .await?;
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
        .await?;
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
    c.execute(sql, &[&id, &json(channels)]).await?;
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
        .await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::postgres::testdb::fresh;
    use crate::storage::postgres::PgStore;
    use crate::storage::Store;

    /// The cost of one health read over 300 000 receipts over 30 days (8
    /// sources, 1 % rejected), with `CALLHOOK_TEST_POSTGRES_URL`:
    /// `cargo test --lib pg_health_on_a_large_log -- --ignored --nocapture`.
    #[tokio::test]
    #[ignore = "a measurement, not a check"]
    async fn pg_health_on_a_large_log() {
        let db = fresh().await;
        let store = PgStore::open(&db.url, &Default::default(), vec![])
            .await
            .unwrap();
        let (c, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let start = Timestamp::now() - jiff::SignedDuration::from_hours(24 * 30);
        let n = 300_000u64;
        let (mut ids, mut sources, mut times, mut statuses) = (vec![], vec![], vec![], vec![]);
        for i in 0..n {
            let ms = start.as_millisecond() as u64 + i * 8_640;
            ids.push(ulid::Ulid::from_parts(ms, i as u128).to_string());
            sources.push(format!("s{}", i % 8));
            times.push(ms as i64);
            statuses.push(if i % 100 == 0 { "rejected" } else { "accepted" }.to_owned());
        }
        c.execute(
            "INSERT INTO receipts (id, source, kind, received_at, remote_addr, sha256, status,
                 record_count, errors, warnings, body)
             SELECT id, source, 'aliyun-call-report', t, '', '', status, 1, '[]', '[]', ''::bytea
             FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) AS u(id, source, t, status)",
            &[&ids, &sources, &times, &statuses],
        )
        .await
        .unwrap();
        c.batch_execute("ANALYZE receipts").await.unwrap();
        let q = HealthQuery {
            sources: (0..8).map(|i| format!("s{i}")).collect(),
            targets: vec!["crm".into(), "nats".into()],
            since: crate::alerts::health::utc_day_start(Timestamp::now()),
            with_total: false,
        };
        store.health(&q).await.unwrap();
        let runs = 100;
        let t = std::time::Instant::now();
        for _ in 0..runs {
            store.health(&q).await.unwrap();
        }
        let per = t.elapsed() / runs;
        let h = store.health(&q).await.unwrap();
        println!(
            "PostgreSQL health over {n} receipts: {per:?} per read; rejected today {}",
            h.rejected
        );
    }
}
