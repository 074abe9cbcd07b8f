//! The outbox on PostgreSQL, for many instances each running dispatchers:
//! claims take due deliveries with `FOR UPDATE SKIP LOCKED` and lease
//! them, so two instances never send the same delivery at once; a lease
//! that ends (its instance died) makes the delivery claimable again.

use crate::storage::columns::decode;
use crate::storage::filter::{Conditions, Param};
use crate::storage::outbox_sql::{self, numbered, BLOCKED, DELIVERY_COLUMNS, DISABLED};
use crate::storage::shared::from_opt_ms;
use crate::storage::*;
use jiff::Timestamp;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row};

/// See [`crate::storage::Outbox::claim_deliveries`].
pub async fn claim(
    c: &Client,
    target: &str,
    now: Timestamp,
    limit: usize,
    lease: std::time::Duration,
) -> Result<Vec<OutboundMessage>, StoreError> {
    let disabled = numbered(DISABLED, '$');
    let sql = format!(
        "WITH due AS (
            SELECT d.id FROM deliveries d
            WHERE d.target = $1 AND d.status = 'pending' AND d.next_attempt_at <= $2
              AND (d.lease_until IS NULL OR d.lease_until <= $2)
              AND NOT {BLOCKED} AND NOT {disabled}
            ORDER BY d.next_attempt_at, d.event_seq
            LIMIT $3
            FOR UPDATE OF d SKIP LOCKED)
         UPDATE deliveries d SET lease_until = $4 FROM due, events e
         WHERE d.id = due.id AND e.seq = d.event_seq
         RETURNING d.id, d.attempts, d.call_id, e.id, e.type, e.vendor, e.created_at, e.payload,
            d.next_attempt_at, d.event_seq"
    );
    let now_ms = now.as_millisecond();
    let until = now_ms.saturating_add(lease.as_millis() as i64);
    let rows = c
        .query(&sql, &[&target, &now_ms, &(limit as i64), &until])
        .await?;
    let mut claimed: Vec<(i64, i64, OutboundMessage)> = Vec::with_capacity(rows.len());
    for r in rows {
        let m = OutboundMessage {
            delivery_id: r.get(0),
            attempts: r.get::<_, i32>(1) as u32,
            call_id: r.get(2),
            event_id: r.get(3),
            event_type: decode(r.get(4))?,
            vendor: decode(r.get(5))?,
            created_at: from_opt_ms(Some(r.get(6)))?.unwrap_or_default(),
            payload: r.get(7),
        };
        claimed.push((r.get(8), r.get(9), m));
    }
    // RETURNING has no order: the dispatcher sends oldest due first.
    claimed.sort_by_key(|(due, seq, _)| (*due, *seq));
    Ok(claimed.into_iter().map(|(_, _, m)| m).collect())
}

/// Records attempts' results and ends their leases.
pub async fn record(c: &mut Client, records: &[AttemptRecord]) -> Result<(), StoreError> {
    let tx = c.transaction().await?;
    let stmt = tx
        .prepare(
            "UPDATE deliveries SET status = $2, attempts = attempts + 1, next_attempt_at = $3,
                lease_until = NULL, last_attempt_at = $4, last_response_status = $5,
                last_error = $6, delivered_at = $7
             WHERE id = $1 AND status = 'pending'",
        )
        .await?;
    // Rows are locked in id order, as `set_disabled` locks them, so the
    // two never wait on each other in a cycle (a deadlock).
    let mut ordered: Vec<&AttemptRecord> = records.iter().collect();
    ordered.sort_by(|a, b| a.delivery_id.cmp(&b.delivery_id));
    for r in ordered {
        let at = r.at.as_millisecond();
        let (status, next, delivered) = match r.next {
            NextStep::Delivered => (DeliveryStatus::Delivered, None, Some(at)),
            NextStep::RetryAt(t) => (DeliveryStatus::Pending, Some(t.as_millisecond()), None),
            NextStep::Dead => (DeliveryStatus::Dead, None, None),
        };
        let response = r.response_status.map(i32::from);
        tx.execute(
            &stmt,
            &[
                &r.delivery_id,
                &status.as_str(),
                &next,
                &at,
                &response,
                &r.error,
                &delivered,
            ],
        )
        .await?;
    }
    Ok(tx.commit().await?)
}

/// See [`crate::storage::Outbox::next_due`].
pub async fn next_due(
    c: &Client,
    target: &str,
    now: Timestamp,
) -> Result<Option<Timestamp>, StoreError> {
    let sql = numbered(&outbox_sql::next_due(), '$');
    let row = c.query_opt(&sql, &[&target, &now.as_millisecond()]).await?;
    from_opt_ms(row.map(|r| r.get(0)))
}

fn delivery(r: &Row) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: r.get(0),
        subscriber: r.get(1),
        event_id: r.get(2),
        event_type: decode(r.get(3))?,
        vendor: decode(r.get(4))?,
        call_id: r.get(5),
        status: decode(r.get(6))?,
        attempts: r.get::<_, i32>(7) as u32,
        created_at: from_opt_ms(Some(r.get(8)))?.unwrap_or_default(),
        next_attempt_at: from_opt_ms(r.get(9))?,
        last_attempt_at: from_opt_ms(r.get(10))?,
        last_response_status: r.get::<_, Option<i32>>(11).map(|s| s as u16),
        last_error: r.get(12),
        delivered_at: from_opt_ms(r.get(13))?,
    })
}

fn filter_conditions(filter: &DeliveryFilter) -> Conditions {
    let mut conds = Conditions::default();
    if let Some(s) = &filter.subscriber {
        conds.push("d.target = ?", [Param::Text(s.clone())]);
    }
    if let Some(s) = filter.status {
        conds.push("d.status = ?", [Param::Text(s.as_str().into())]);
    }
    conds
}

fn boxed(params: Vec<Param>) -> Vec<Box<dyn ToSql + Sync + Send>> {
    params
        .into_iter()
        .map(|p| -> Box<dyn ToSql + Sync + Send> {
            match p {
                Param::Text(t) => Box::new(t),
                Param::Int(i) => Box::new(i),
            }
        })
        .collect()
}

/// Deliveries matching `filter`, newest first; the cursor is the last id.
pub async fn list(
    c: &Client,
    filter: &DeliveryFilter,
    page: &PageRequest,
) -> Result<Page<Delivery>, StoreError> {
    let mut conds = filter_conditions(filter);
    if let Some(cur) = &page.cursor {
        conds.push("d.id < ?", [Param::Text(cur.clone())]);
    }
    let (wh, params) = conds.render(1, |n| format!("${n}"));
    let n = params.len() + 1;
    let mut params = boxed(params);
    params.push(Box::new(page.limit as i64 + 1));
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq
         {wh} ORDER BY d.id DESC LIMIT ${n}"
    );
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as _).collect();
    let rows = c.query(&sql, &refs).await?;
    let items = rows.iter().map(delivery).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, page.limit, |d| d.id.clone()))
}

/// One delivery with its event.
pub async fn get(c: &Client, id: &str) -> Result<Option<DeliveryDetail>, StoreError> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS}, e.payload FROM deliveries d
         JOIN events e ON e.seq = d.event_seq WHERE d.id = $1"
    );
    let Some(r) = c.query_opt(&sql, &[&id]).await? else {
        return Ok(None);
    };
    let payload: String = r.get(14);
    Ok(Some(DeliveryDetail {
        delivery: delivery(&r)?,
        event: decode(&payload)?,
    }))
}

/// Makes matching undelivered deliveries due at `now` with a fresh schedule.
pub async fn retry(
    c: &Client,
    id: Option<&str>,
    filter: &DeliveryFilter,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let mut conds = filter_conditions(filter);
    conds.push("d.status <> 'delivered'", []);
    if let Some(id) = id {
        conds.push("d.id = ?", [Param::Text(id.to_owned())]);
    }
    let (wh, params) = conds.render(2, |n| format!("${n}"));
    let mut all: Vec<Box<dyn ToSql + Sync + Send>> = vec![Box::new(now.as_millisecond())];
    all.extend(boxed(params));
    let sql = format!(
        "UPDATE deliveries AS d SET status = 'pending', attempts = 0, next_attempt_at = $1,
            lease_until = NULL {wh}"
    );
    let refs: Vec<&(dyn ToSql + Sync)> = all.iter().map(|p| p.as_ref() as _).collect();
    Ok(c.execute(&sql, &refs).await?)
}

/// Disables (`reason` given) or enables (`None`) `target`; enabling makes
/// its pending deliveries due at once with a fresh schedule.
pub async fn set_disabled(
    c: &mut Client,
    target: &str,
    reason: Option<&str>,
    at: Timestamp,
) -> Result<(), StoreError> {
    let tx = c.transaction().await?;
    let at_ms = at.as_millisecond();
    if reason.is_none() {
        // Locked in id order, as `record` locks them: an attempt recorded
        // meanwhile waits instead of deadlocking.
        tx.execute(
            "UPDATE deliveries SET attempts = 0, next_attempt_at = LEAST(next_attempt_at, $2)
             WHERE id IN (SELECT id FROM deliveries WHERE target = $1 AND status = 'pending'
                          ORDER BY id FOR UPDATE)",
            &[&target, &at_ms],
        )
        .await?;
    }
    let disabled_at = reason.map(|_| at_ms);
    tx.execute(
        "INSERT INTO targets (name, disabled_at, disabled_reason) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at,
            disabled_reason = excluded.disabled_reason",
        &[&target, &disabled_at, &reason],
    )
    .await?;
    Ok(tx.commit().await?)
}

/// Each named target's disabled state and delivery counts.
pub async fn states(c: &Client, names: &[String]) -> Result<Vec<TargetState>, StoreError> {
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let flag = c
            .query_opt(
                "SELECT disabled_at, disabled_reason FROM targets WHERE name = $1",
                &[name],
            )
            .await?;
        let (at, reason): (Option<i64>, Option<String>) =
            flag.map(|r| (r.get(0), r.get(1))).unwrap_or((None, None));
        let mut state = TargetState {
            name: name.clone(),
            disabled_at: from_opt_ms(at)?,
            disabled_reason: reason.filter(|_| at.is_some()),
            pending: 0,
            delivered: 0,
            dead: 0,
        };
        let rows = c
            .query(
                "SELECT status, count(*) FROM deliveries WHERE target = $1 GROUP BY status",
                &[name],
            )
            .await?;
        for r in rows {
            let n = r.get::<_, i64>(1) as u64;
            state.count(decode(r.get(0))?, n);
        }
        out.push(state);
    }
    Ok(out)
}

/// See [`Store::pending_deliveries`].
pub async fn pending(c: &Client) -> Result<Vec<(String, u64)>, StoreError> {
    let rows = c.query(outbox_sql::PENDING_BY_TARGET, &[]).await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64))
        .collect())
}
