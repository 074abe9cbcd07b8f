//! Reading a push body under `[limits]`: at most `max_body_bytes`, within
//! `body_read_timeout`, and only while the budget of in-flight body bytes
//! ([`super::gates`]) has room for it.

use super::gates::{BodyPermit, Gates};
use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use std::time::Duration;

/// Reservations grow in steps of at least this, so a chunked body does not
/// touch the semaphore for every small frame.
const RESERVE_STEP: usize = 64 * 1024;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Over `max_body_bytes` (413).
    #[error("body larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    /// Not all sent within `body_read_timeout` (408).
    #[error("body not received within {0:?}")]
    TimedOut(Duration),
    /// The in-flight body budget is spent (503 with `Retry-After`).
    #[error("overloaded: too many push bodies in memory; retry later")]
    Overloaded,
    /// The connection failed mid-body (400; the client is gone anyway).
    #[error("could not read the body: {0}")]
    Broken(String),
}

/// The whole body and its memory reservation (keep the permit until the
/// body is dropped). `declared` is the `Content-Length`, when sent.
///
/// Errors: [`BodyError`], each with its answer above.
pub async fn read(
    body: Body,
    declared: Option<usize>,
    limit: usize,
    timeout: Duration,
    gates: &Gates,
) -> Result<(Bytes, BodyPermit), BodyError> {
    if declared.is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut permit = gates.body_permit();
    if let Some(n) = declared {
        permit.grow(n).map_err(|_| BodyError::Overloaded)?;
    }
    let collect = async {
        let mut body = body;
        let mut first: Option<Bytes> = None;
        let mut buf = BytesMut::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| BodyError::Broken(e.to_string()))?;
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            let held = first.as_ref().map_or(0, Bytes::len) + buf.len();
            let total = held + data.len();
            if total > limit {
                return Err(BodyError::TooLarge { limit });
            }
            permit
                .grow(total.max((held + RESERVE_STEP).min(limit)))
                .map_err(|_| BodyError::Overloaded)?;
            // One frame (the usual case) is kept without copying.
            match first.take() {
                None if buf.is_empty() => first = Some(data),
                Some(f) => {
                    buf.extend_from_slice(&f);
                    buf.extend_from_slice(&data);
                }
                None => buf.extend_from_slice(&data),
            }
        }
        Ok(first.unwrap_or_else(|| buf.freeze()))
    };
    match tokio::time::timeout(timeout, collect).await {
        Ok(Ok(bytes)) => Ok((bytes, permit)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(BodyError::TimedOut(timeout)),
    }
}
