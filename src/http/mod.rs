//! HTTP: the vendor push endpoint ([`ingest`]), the query API ([`api`]),
//! the web dashboard ([`ui`]), health checks ([`health`]), the OpenAPI
//! document ([`openapi`]) and the Prometheus scrape ([`metrics`]). Each
//! module exports a `router()`. Every request passes [`request::track`].

pub mod api;
pub mod auth;
mod body;
pub mod body_timeout;
pub mod client_ip;
pub mod conn_limits;
pub mod error;
pub mod gates;
pub mod health;
pub mod ingest;
pub mod metrics;
pub mod openapi;
pub mod rate;
pub mod recording;
pub mod request;
pub mod request_id;
pub mod serve;
pub mod tls;
pub mod ui;

use crate::config::Config;
use crate::ingest::Ingestor;
use crate::storage::Store;
use axum::http::{header, HeaderMap};
use axum::Router;
use std::sync::Arc;

/// The token of an `Authorization: Bearer …` header, trimmed. The scheme
/// is matched without regard to case (RFC 9110, 11.1: `bearer`, `BEARER`),
/// and may be followed by several spaces.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("Bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub ingestor: Ingestor,
    /// The concurrency and in-flight body limits of `config.limits`.
    pub gates: gates::Gates,
    /// Each source's `rate_limit`.
    pub rates: Arc<rate::RateLimits>,
    /// The dashboard's health strip (refreshed by `App`).
    pub health: Arc<crate::alerts::health::HealthCache>,
    /// Each alert rule's latest measurement (written by the evaluator).
    pub alerts_measured: crate::alerts::LastMeasured,
    /// The recordings archive (`[recordings]`), opened on first use.
    pub recordings: Arc<crate::recordings::ArchiveLocation>,
}

impl AppState {
    /// State over `store` with `config`.
    pub fn new(config: Arc<Config>, store: Arc<dyn Store>) -> AppState {
        let ingestor = Ingestor::new(store.clone(), config.clone());
        AppState {
            recordings: Arc::new(crate::recordings::ArchiveLocation::of(&config)),
            gates: gates::Gates::new(&config.limits),
            rates: Arc::new(rate::RateLimits::new(&config)),
            config,
            store,
            ingestor,
            health: Default::default(),
            alerts_measured: Default::default(),
        }
    }
}

/// The whole service's routes. Pushes, the API and the dashboard pass the
/// concurrency limits (pushes in a class of their own, [`gates`]); health
/// checks and `/metrics` do not, so an overloaded instance is not
/// restarted by its liveness probe and can still be scraped. The API and
/// dashboard read their bodies within `limits.body_read_timeout`
/// ([`body_timeout`]; pushes do in their handler). Every request gets an
/// id, a span and a log line ([`request`]).
pub fn router(state: AppState) -> Router {
    let api_and_ui = api::router(state.clone())
        .merge(ui::router(state.clone()))
        .layer(axum::middleware::from_fn_with_state(
            state.config.clone(),
            body_timeout::read_body_in_time,
        ));
    Router::new()
        .merge(ingest::router())
        .merge(api_and_ui)
        .layer(axum::middleware::from_fn_with_state(
            state.gates.clone(),
            gates::limit_concurrency,
        ))
        .merge(health::router())
        .merge(openapi::router())
        .merge(metrics::router(state.clone()))
        .layer(axum::middleware::from_fn_with_state(
            state.config.clone(),
            request::track,
        ))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::bearer;
    use axum::http::{header, HeaderMap, HeaderValue};

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for v in ["Bearer tok", "bearer tok", "BEARER tok", "bEaReR   tok "] {
            assert_eq!(bearer(&with(v)), Some("tok"), "{v}");
        }
        for v in ["Basic dG9rOg==", "Bearer", "Bearer ", "Bearertok", "tok"] {
            assert_eq!(bearer(&with(v)), None, "{v}");
        }
        assert_eq!(bearer(&HeaderMap::new()), None);
    }
}
