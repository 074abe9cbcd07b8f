//! `[limits]`: what one push, one client and the whole service may use,
//! and how long the service waits (backpressure, limits, shutdown).
//! Every key has a default; `CALLHOOK_LIMITS_<KEY>` overrides the file.
//! Durations are strings such as `"500ms"`, `"10s"`, `"2m"` (jiff's friendly
//! format) or ISO 8601 (`"PT10S"`).

use serde::Deserialize;
use std::time::Duration;

/// Body size limit of a push when none is configured: 8 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// serde_json refuses JSON nested deeper than this; a larger
/// `max_json_depth` could never be reached.
pub const SERDE_JSON_DEPTH: usize = 128;

/// The `[limits]` table. Each field says what exceeding it answers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest push body in bytes; above it: 413. Default 8 MiB.
    pub max_body_bytes: usize,
    /// Most records in one push (elements of the body's record array);
    /// above it: 413, body kept as a `rejected` receipt. Default 10,000.
    pub max_records_per_push: usize,
    /// Deepest nesting of arrays and objects in a push body; deeper: 400,
    /// body kept as `rejected`. Default 64 (vendor bodies use at most 4).
    pub max_json_depth: usize,
    /// Acknowledgement budget: the longest a push waits for its commit. A
    /// push the store cannot commit in time is answered 503 with
    /// `Retry-After` (and not committed later). Default 500 ms, inside
    /// Alibaba's 700 ms.
    #[serde(
        deserialize_with = "crate::duration_text::deserialize",
        serialize_with = "crate::duration_text::serialize"
    )]
    pub ack_budget: Duration,
    /// Push requests (`/hooks/…`) handled at once; above it: 503 with
    /// `Retry-After`, at once. Default 256: more only queue for the one
    /// writer while holding their parsed records in memory. Pushes have
    /// this class to themselves, so a flood of dashboard or API requests
    /// cannot take their slots.
    pub max_concurrent_requests: usize,
    /// Dashboard, `/login` and `/api` requests handled at once (a class of
    /// its own, apart from pushes); above it: 503 with `Retry-After`, at
    /// once. Default 64. Health checks, `/metrics` and `/openapi.json`
    /// are in neither class.
    pub max_concurrent_api_requests: usize,
    /// Push body bytes held in memory at once across all requests (bodies
    /// being read, parsed or committed); above it: 503 with `Retry-After`.
    /// Default 256 MiB. Must be at least `max_body_bytes`.
    pub max_inflight_body_bytes: usize,
    /// A client must send a complete request head within this, counted
    /// from the moment the connection is accepted (sending nothing at all
    /// counts) and again after each answer on a kept-alive connection;
    /// otherwise the connection is closed. Also bounds a TLS handshake.
    /// Default 10 s.
    #[serde(
        deserialize_with = "crate::duration_text::deserialize",
        serialize_with = "crate::duration_text::serialize"
    )]
    pub header_read_timeout: Duration,
    /// A client must send a request body (a push, a dashboard form,
    /// `/login`, an API post) within this after its headers; otherwise:
    /// 408 and the connection is closed. Default 30 s.
    #[serde(
        deserialize_with = "crate::duration_text::deserialize",
        serialize_with = "crate::duration_text::serialize"
    )]
    pub body_read_timeout: Duration,
    /// On SIGTERM/SIGINT, how long in-flight requests may take to finish
    /// before the process exits anyway. Default 30 s.
    #[serde(
        deserialize_with = "crate::duration_text::deserialize",
        serialize_with = "crate::duration_text::serialize"
    )]
    pub shutdown_timeout: Duration,
    /// Records acknowledged but not yet projected into calls (the
    /// projection backlog) above which new pushes get 503 with
    /// `Retry-After`, so lag and disk use stay bounded under any load; the
    /// vendor retries. Default 1,000,000 (about a minute of projection).
    pub max_pending_records: u64,
    /// Records the projector applies in one transaction (at least one
    /// receipt). Larger batches project faster; each batch holds the
    /// write lock while it commits. Default 1,000.
    pub projection_batch_records: usize,
    /// Open connections at once, all clients together; a connection
    /// accepted beyond it is closed at once. Keep it below the process's
    /// open-file limit (`ulimit -n`) less about 100 for the database,
    /// logs and outbound connections. Default 768 (fits the usual soft
    /// limit of 1024).
    pub max_connections: usize,
    /// Open connections at once from one peer address; a connection
    /// beyond it is closed at once, so one client cannot take every
    /// connection. Peers listed in `trusted_proxies` are exempt (all
    /// clients come through them). Default 64. At most `max_connections`.
    pub max_connections_per_ip: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_records_per_push: 10_000,
            max_json_depth: 64,
            ack_budget: Duration::from_millis(500),
            max_concurrent_requests: 256,
            max_concurrent_api_requests: 64,
            max_inflight_body_bytes: 256 * 1024 * 1024,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            shutdown_timeout: Duration::from_secs(30),
            max_pending_records: 1_000_000,
            projection_batch_records: 1_000,
            max_connections: 768,
            max_connections_per_ip: 64,
        }
    }
}

impl Limits {
    /// Checks that every limit can be met.
    ///
    /// Errors: a message naming the key (`limits.max_json_depth: …`).
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("max_body_bytes", self.max_body_bytes),
            ("max_records_per_push", self.max_records_per_push),
            ("max_json_depth", self.max_json_depth),
            ("max_concurrent_requests", self.max_concurrent_requests),
            (
                "max_concurrent_api_requests",
                self.max_concurrent_api_requests,
            ),
            ("max_connections", self.max_connections),
            ("max_connections_per_ip", self.max_connections_per_ip),
            ("max_inflight_body_bytes", self.max_inflight_body_bytes),
            ("max_pending_records", self.max_pending_records as usize),
            ("projection_batch_records", self.projection_batch_records),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("limits.{key}: must be at least 1"));
        }
        let durations = [
            ("ack_budget", self.ack_budget),
            ("header_read_timeout", self.header_read_timeout),
            ("body_read_timeout", self.body_read_timeout),
            ("shutdown_timeout", self.shutdown_timeout),
        ];
        if let Some((key, _)) = durations.iter().find(|(_, d)| d.is_zero()) {
            return Err(format!("limits.{key}: must be longer than zero"));
        }
        if self.max_json_depth > SERDE_JSON_DEPTH {
            return Err(format!(
                "limits.max_json_depth: {} is above the JSON parser's own limit of {SERDE_JSON_DEPTH}",
                self.max_json_depth
            ));
        }
        if self.max_inflight_body_bytes < self.max_body_bytes {
            return Err(format!(
                "limits.max_inflight_body_bytes: {} is below max_body_bytes ({}), so the largest \
                 allowed push could never be read",
                self.max_inflight_body_bytes, self.max_body_bytes
            ));
        }
        if self.max_connections_per_ip > self.max_connections {
            return Err(format!(
                "limits.max_connections_per_ip: {} is above max_connections ({})",
                self.max_connections_per_ip, self.max_connections
            ));
        }
        Ok(())
    }

    /// The `Retry-After` seconds sent with a 503: the acknowledgement
    /// budget rounded up, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        self.ack_budget.as_millis().div_ceil(1000).max(1) as u64
    }
}
