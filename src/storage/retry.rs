//! Retrying one delivery by hand, the same way from the API
//! (`POST /api/v1/deliveries/{id}/retry`) and the dashboard's button.

use super::{Delivery, DeliveryFilter, DeliveryStatus, Store, StoreError};
use jiff::Timestamp;

/// Why one delivery could not be retried.
#[derive(Debug, thiserror::Error)]
pub enum RetryOneError {
    #[error("no delivery with id `{0}`")]
    NotFound(String),
    /// It was delivered (at that time): there is nothing to retry.
    #[error("delivery `{id}` was already delivered at {}", at.map(|t| t.to_string()).unwrap_or_default())]
    Delivered { id: String, at: Option<Timestamp> },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Makes delivery `id` (dead or pending) due at `now` with a fresh retry
/// schedule; returns it as it is now.
///
/// Errors: [`RetryOneError`]: unknown id, already delivered, or the store's.
pub async fn retry_one(
    store: &dyn Store,
    id: &str,
    now: Timestamp,
) -> Result<Delivery, RetryOneError> {
    let not_found = || RetryOneError::NotFound(id.to_owned());
    let found = store.get_delivery(id).await?.ok_or_else(not_found)?;
    if found.delivery.status == DeliveryStatus::Delivered {
        return Err(RetryOneError::Delivered {
            id: id.to_owned(),
            at: found.delivery.delivered_at,
        });
    }
    store
        .retry_deliveries(Some(id), &DeliveryFilter::default(), now)
        .await?;
    Ok(store
        .get_delivery(id)
        .await?
        .ok_or_else(not_found)?
        .delivery)
}

impl Delivery {
    /// The last attempt's result in a few words: its error, else its HTTP
    /// status; `None` before any attempt.
    pub fn last_result(&self) -> Option<String> {
        match (&self.last_response_status, &self.last_error) {
            (_, Some(e)) => Some(e.clone()),
            (Some(s), None) => Some(format!("HTTP {s}")),
            (None, None) => None,
        }
    }
}
