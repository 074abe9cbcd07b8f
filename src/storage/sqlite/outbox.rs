//! Outbox rows: events written in the ingest transaction, deliveries fanned
//! out to targets, and the dispatchers' claims and attempt records.
// TEMPORARY STUBS: replaced by the real queries in this same change.
#![allow(unused_variables)]

use crate::storage::*;
use jiff::Timestamp;
use rusqlite::Connection;

fn todo() -> StoreError {
    StoreError::Unavailable("outbox not built yet".into())
}

pub fn claim(c: &Connection, target: &str, now: Timestamp, limit: usize, lease: std::time::Duration) -> Result<Vec<OutboundMessage>, StoreError> { Err(todo()) }
pub fn record(c: &Connection, records: &[AttemptRecord]) -> Result<(), StoreError> { Err(todo()) }
pub fn next_due(c: &Connection, target: &str) -> Result<Option<Timestamp>, StoreError> { Err(todo()) }
pub fn release_leases(c: &Connection) -> Result<u64, StoreError> { Err(todo()) }
pub fn list(c: &Connection, filter: &DeliveryFilter, page: &PageRequest) -> Result<Page<Delivery>, StoreError> { Err(todo()) }
pub fn get(c: &Connection, id: &str) -> Result<Option<DeliveryDetail>, StoreError> { Err(todo()) }
pub fn retry(c: &Connection, id: Option<&str>, filter: &DeliveryFilter, now: Timestamp) -> Result<u64, StoreError> { Err(todo()) }
pub fn set_disabled(c: &Connection, target: &str, reason: Option<&str>, at: Timestamp) -> Result<(), StoreError> { Err(todo()) }
pub fn states(c: &Connection, names: &[String]) -> Result<Vec<TargetState>, StoreError> { Err(todo()) }
