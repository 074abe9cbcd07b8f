//! Outbox rows: events written in the ingest transaction with a delivery per
//! matching target, the dispatchers' claims and attempt records, retries by
//! hand, and target state. Writes run on the writer thread (`write`), reads
//! on the read pool.

use super::rows::{from_ms, ms};
use crate::domain::{Call, Change};
use crate::storage::columns::decode;
use crate::storage::outbox_sql::{self, numbered, BLOCKED, DELIVERY_COLUMNS, DISABLED};
use crate::storage::*;
use jiff::Timestamp;
use rusqlite::types::Value as Sql;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

/// Writes the event `change` makes of `call` (whose JSON document is
/// `doc`) and a pending delivery, due at `now`, for each target that wants
/// it; nothing when [`NewEvent::make`] makes none.
pub fn record_event(
    tx: &Connection,
    id: &str,
    call: &Call,
    doc: &str,
    change: Change,
    now: Timestamp,
    targets: &[Target],
) -> Result<(), StoreError> {
    let Some(event) = NewEvent::make(id, call, doc, change, now, targets) else {
        return Ok(());
    };
    tx.prepare_cached(
        "INSERT INTO events (id, type, vendor, call_id, created_at, payload)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            event.id,
            event.kind.as_str(),
            call.vendor.as_str(),
            call.id,
            ms(now),
            event.payload
        ])
    })?;
    let seq = tx.last_insert_rowid();
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO deliveries (id, target, event_seq, call_id, status, created_at, next_attempt_at)
             VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)",
        )?;
    for t in event.targets {
        insert.execute(params![new_delivery_id(), t.name, seq, call.id, ms(now)])?;
    }
    Ok(())
}

/// Due, unblocked, unleased deliveries of an enabled `target`, leased until
/// `now + lease`. See [`crate::storage::Outbox::claim_deliveries`].
pub fn claim(
    c: &Connection,
    target: &str,
    now: Timestamp,
    limit: usize,
    lease: std::time::Duration,
) -> Result<Vec<OutboundMessage>, StoreError> {
    let disabled = numbered(DISABLED, '?');
    let sql = format!(
        "SELECT d.id, d.attempts, d.call_id, e.id, e.type, e.vendor, e.created_at, e.payload
         FROM deliveries d JOIN events e ON e.seq = d.event_seq
         WHERE d.target = ?1 AND d.status = 'pending' AND d.next_attempt_at <= ?2
           AND (d.lease_until IS NULL OR d.lease_until <= ?2)
           AND NOT {BLOCKED} AND NOT {disabled}
         ORDER BY d.next_attempt_at, d.event_seq
         LIMIT ?3"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![target, ms(now), limit as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let get_s = |i: usize| r.get::<_, String>(i);
        out.push(OutboundMessage {
            delivery_id: get_s(0)?,
            attempts: r.get::<_, i64>(1)? as u32,
            call_id: get_s(2)?,
            event_id: get_s(3)?,
            event_type: decode(&get_s(4)?)?,
            vendor: decode(&get_s(5)?)?,
            created_at: from_ms(r.get(6)?)?,
            payload: get_s(7)?,
        });
    }
    let until = ms(now).saturating_add(lease.as_millis() as i64);
    let mut lease_stmt =
        c.prepare_cached("UPDATE deliveries SET lease_until = ?2 WHERE id = ?1")?;
    for m in &out {
        lease_stmt.execute(params![m.delivery_id, until])?;
    }
    Ok(out)
}

/// Records attempts' results and ends their leases.
pub fn record(c: &Connection, records: &[AttemptRecord]) -> Result<(), StoreError> {
    let mut stmt = c.prepare_cached(
        "UPDATE deliveries SET status = ?2, attempts = attempts + 1, next_attempt_at = ?3,
                lease_until = NULL, last_attempt_at = ?4, last_response_status = ?5,
                last_error = ?6, delivered_at = ?7
             WHERE id = ?1 AND status = 'pending'",
    )?;
    for r in records {
        let (status, next, delivered) = match r.next {
            NextStep::Delivered => (DeliveryStatus::Delivered, None, Some(ms(r.at))),
            NextStep::RetryAt(t) => (DeliveryStatus::Pending, Some(ms(t)), None),
            NextStep::Dead => (DeliveryStatus::Dead, None, None),
        };
        stmt.execute(params![
            r.delivery_id,
            status.as_str(),
            next,
            ms(r.at),
            r.response_status,
            r.error,
            delivered
        ])?;
    }
    Ok(())
}

/// When the next unblocked, unleased pending delivery of `target` is due;
/// `None` while the target is disabled (enabling it wakes the dispatcher).
/// Walks the due index in time order and stops at the first such delivery
/// (deliveries in flight are left out: their answers wake the dispatcher).
pub fn next_due(
    c: &Connection,
    target: &str,
    now: Timestamp,
) -> Result<Option<Timestamp>, StoreError> {
    let sql = numbered(&outbox_sql::next_due(), '?');
    let v: Option<i64> = c.prepare_cached(&sql).and_then(|mut s| {
        s.query_row(params![target, ms(now)], |r| r.get(0))
            .optional()
    })?;
    v.map(from_ms).transpose()
}

/// Ends every lease; returns how many there were.
pub fn release_leases(c: &Connection) -> Result<u64, StoreError> {
    Ok(c.execute(
        "UPDATE deliveries SET lease_until = NULL WHERE status = 'pending' AND lease_until IS NOT NULL",
        [],
    )
    .map(|n| n as u64)?)
}

fn delivery(r: &Row) -> Result<Delivery, StoreError> {
    let get_s = |i: usize| r.get::<_, String>(i);
    let get_t = |i: usize| -> Result<Option<Timestamp>, StoreError> {
        r.get::<_, Option<i64>>(i)?.map(from_ms).transpose()
    };
    Ok(Delivery {
        id: get_s(0)?,
        subscriber: get_s(1)?,
        event_id: get_s(2)?,
        event_type: decode(&get_s(3)?)?,
        vendor: decode(&get_s(4)?)?,
        call_id: get_s(5)?,
        status: decode(&get_s(6)?)?,
        attempts: r.get::<_, i64>(7)? as u32,
        created_at: from_ms(r.get(8)?)?,
        next_attempt_at: get_t(9)?,
        last_attempt_at: get_t(10)?,
        last_response_status: r.get::<_, Option<i64>>(11)?.map(|s| s as u16),
        last_error: r.get(12)?,
        delivered_at: get_t(13)?,
    })
}

/// `AND …` conditions of `filter` (on `d`) and their parameters.
fn conditions(filter: &DeliveryFilter, parts: &mut Vec<&'static str>, params: &mut Vec<Sql>) {
    if let Some(s) = &filter.subscriber {
        parts.push("d.target = ?");
        params.push(Sql::Text(s.clone()));
    }
    if let Some(s) = filter.status {
        parts.push("d.status = ?");
        params.push(Sql::Text(s.as_str().into()));
    }
}

/// Deliveries matching `filter`, newest first; the cursor is the last id.
pub fn list(
    c: &Connection,
    filter: &DeliveryFilter,
    page: &PageRequest,
) -> Result<Page<Delivery>, StoreError> {
    let (mut parts, mut params) = (vec!["1 = 1"], Vec::new());
    conditions(filter, &mut parts, &mut params);
    if let Some(cur) = &page.cursor {
        parts.push("d.id < ?");
        params.push(Sql::Text(cur.clone()));
    }
    params.push(Sql::Integer(page.limit as i64 + 1));
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq
         WHERE {} ORDER BY d.id DESC LIMIT ?",
        parts.join(" AND ")
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(params))?;
    let mut items = Vec::new();
    while let Some(r) = rows.next()? {
        items.push(delivery(r)?);
    }
    Ok(Page::from_overfetch(items, page.limit, |d| d.id.clone()))
}

/// One delivery with its event.
pub fn get(c: &Connection, id: &str) -> Result<Option<DeliveryDetail>, StoreError> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS}, e.payload FROM deliveries d
         JOIN events e ON e.seq = d.event_seq WHERE d.id = ?1"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let found = stmt
        .query_row([id], |r| Ok((delivery(r), r.get::<_, String>(14))))
        .optional()?;
    let Some((d, payload)) = found else {
        return Ok(None);
    };
    let payload = payload?;
    Ok(Some(DeliveryDetail {
        delivery: d?,
        event: decode(&payload)?,
    }))
}

/// Makes matching undelivered deliveries due at `now` with a fresh schedule.
pub fn retry(
    c: &Connection,
    id: Option<&str>,
    filter: &DeliveryFilter,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let (mut parts, mut params) = (vec!["d.status != 'delivered'"], vec![Sql::Integer(ms(now))]);
    conditions(filter, &mut parts, &mut params);
    if let Some(id) = id {
        parts.push("d.id = ?");
        params.push(Sql::Text(id.to_owned()));
    }
    let sql = format!(
        "UPDATE deliveries AS d SET status = 'pending', attempts = 0, next_attempt_at = ?,
            lease_until = NULL WHERE {}",
        parts.join(" AND ")
    );
    Ok(c.execute(&sql, params_from_iter(params))
        .map(|n| n as u64)?)
}

/// Disables (`reason` given) or enables (`None`) `target`. Enabling makes
/// its pending deliveries due at once with a fresh schedule.
pub fn set_disabled(
    c: &Connection,
    target: &str,
    reason: Option<&str>,
    at: Timestamp,
) -> Result<(), StoreError> {
    if reason.is_none() {
        c.execute(
            "UPDATE deliveries SET attempts = 0, next_attempt_at = min(next_attempt_at, ?2)
             WHERE target = ?1 AND status = 'pending'",
            params![target, ms(at)],
        )?;
    }
    let at = reason.map(|_| ms(at));
    Ok(c.execute(
        "INSERT INTO targets (name, disabled_at, disabled_reason) VALUES (?1, ?2, ?3)
         ON CONFLICT(name) DO UPDATE SET disabled_at = excluded.disabled_at,
            disabled_reason = excluded.disabled_reason",
        params![target, at, reason],
    )
    .map(|_| ())?)
}

/// Each named target's disabled state and delivery counts.
pub fn states(c: &Connection, names: &[String]) -> Result<Vec<TargetState>, StoreError> {
    let mut flag =
        c.prepare_cached("SELECT disabled_at, disabled_reason FROM targets WHERE name = ?1")?;
    let mut counts = c.prepare_cached(
        "SELECT status, count(*) FROM deliveries WHERE target = ?1 GROUP BY status",
    )?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let (at, reason): (Option<i64>, Option<String>) = flag
            .query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .unwrap_or((None, None));
        let mut state = TargetState {
            name: name.clone(),
            disabled_at: at.map(from_ms).transpose()?,
            disabled_reason: reason.filter(|_| at.is_some()),
            pending: 0,
            delivered: 0,
            dead: 0,
        };
        let mut rows = counts.query([name])?;
        while let Some(r) = rows.next()? {
            let n = r.get::<_, i64>(1)? as u64;
            state.count(decode(&r.get::<_, String>(0)?)?, n);
        }
        out.push(state);
    }
    Ok(out)
}

/// See [`Store::pending_deliveries`].
pub fn pending(c: &Connection) -> Result<Vec<(String, u64)>, StoreError> {
    let mut q = c.prepare_cached(outbox_sql::PENDING_BY_TARGET)?;
    let rows = q.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
