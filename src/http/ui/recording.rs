//! `GET /calls/{id}/recording[?link=…]` (and `HEAD`): the kept copy of a
//! call's recording for the call page's player, the same bytes and
//! headers as the API's ([`crate::http::recording::serve`]), behind the
//! dashboard's login.

use super::UiError;
use crate::http::recording::{serve, LinkQuery, Unservable};
use crate::http::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

/// The file (`200`, `206` or `416`); 400 for an unknown parameter, 404
/// for no such call, link or kept file (saying why), 503 when the
/// archive cannot be reached.
pub async fn play(
    State(st): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<LinkQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    let Query(q) = q.map_err(|e| UiError::BadRequest(e.body_text()))?;
    serve(&st, &id, q.link(), &headers)
        .await
        .map_err(|e| match e {
            Unservable::Store(e) => UiError::Store(e),
            Unservable::Unavailable => UiError::Unavailable(e.to_string()),
            other => UiError::NotFound(other.to_string()),
        })
}
