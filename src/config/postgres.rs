//! `[postgres]`: the connection pool of each instance on a `postgres://`
//! database. Every key has a default.

use serde::Deserialize;
use std::time::Duration;

/// The `[postgres]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostgresSettings {
    /// Connections this instance keeps at most. Default 16; the sum over
    /// all instances must stay under the server's `max_connections`.
    pub max_connections: usize,
    /// How long a request waits for a free connection before it is
    /// answered 503 (a push also stops at its `ack_budget`). Default 5 s.
    #[serde(
        deserialize_with = "crate::duration_text::deserialize",
        serialize_with = "crate::duration_text::serialize"
    )]
    pub acquire_timeout: Duration,
    /// How long opening one connection may take. Default 5 s.
    #[serde(
        deserialize_with = "crate::duration_text::deserialize",
        serialize_with = "crate::duration_text::serialize"
    )]
    pub connect_timeout: Duration,
}

impl Default for PostgresSettings {
    fn default() -> PostgresSettings {
        PostgresSettings {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

impl PostgresSettings {
    /// Errors: a message naming the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_connections == 0 {
            return Err("postgres.max_connections: must be at least 1".into());
        }
        if self.acquire_timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err("postgres: timeouts must be longer than zero".into());
        }
        Ok(())
    }
}
