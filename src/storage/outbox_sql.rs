//! SQL of the outbox that both backends run as is. Parameters are
//! numbered (`?1`, `?2` in SQLite, `$1`, `$2` in PostgreSQL): [`numbered`]
//! rewrites one form into the other.

/// Whether an earlier pending delivery of the same call to the same target
/// exists (then `d` waits: one call's events go out in order).
pub const BLOCKED: &str = "EXISTS (SELECT 1 FROM deliveries p WHERE p.target = d.target
    AND p.call_id = d.call_id AND p.status = 'pending' AND p.event_seq < d.event_seq)";

/// Whether target `#1` is disabled.
pub const DISABLED: &str =
    "EXISTS (SELECT 1 FROM targets t WHERE t.name = #1 AND t.disabled_at IS NOT NULL)";

/// Pending deliveries per target (the partial index `deliveries_due`
/// holds exactly these rows, so the count reads the index only).
pub const PENDING_BY_TARGET: &str =
    "SELECT target, count(*) FROM deliveries WHERE status = 'pending' GROUP BY target";

/// The columns [`crate::storage::Delivery`] is read from, in order.
pub const DELIVERY_COLUMNS: &str = "d.id, d.target, e.id, e.type, e.vendor, d.call_id, d.status,
    d.attempts, d.created_at, d.next_attempt_at, d.last_attempt_at, d.last_response_status,
    d.last_error, d.delivered_at";

/// When the next unblocked, unleased pending delivery of target `#1` is
/// due at time `#2`; no row while the target is disabled.
pub fn next_due() -> String {
    format!(
        "SELECT d.next_attempt_at FROM deliveries d
         WHERE d.target = #1 AND d.status = 'pending'
           AND (d.lease_until IS NULL OR d.lease_until <= #2) AND NOT {BLOCKED}
           AND NOT {DISABLED}
         ORDER BY d.next_attempt_at LIMIT 1"
    )
}

/// `sql` with each `#n` written as `{prefix}n` (`?` for SQLite, `$` for
/// PostgreSQL).
pub fn numbered(sql: &str, prefix: char) -> String {
    sql.replace('#', &prefix.to_string())
}
