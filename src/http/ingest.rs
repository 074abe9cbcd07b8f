//! `POST /hooks/{source}` and `POST /hooks/{source}/{token}`
//! (`interfaces.md`, Ingest). Every answer is `{"code": N, "msg": "…"}`:
//! 200 with `code` 0 only after the push is durable; 400 for a body that is
//! not JSON or not the kind's shape (kept as a `rejected` receipt); 401 wrong
//! token; 403 address not allowed; 404 unknown source; 413 too large; 503
//! storage unavailable (the vendor retries).

use super::{bearer, AppState};
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hooks/{source}", post(hook))
        .route("/hooks/{source}/{token}", post(hook))
}

fn answer(status: StatusCode, msg: &str) -> Response {
    let code = if status == StatusCode::OK {
        0
    } else {
        status.as_u16()
    };
    (status, Json(json!({"code": code, "msg": msg}))).into_response()
}

fn query_token(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

async fn hook(
    State(st): State<AppState>,
    Path(path): Path<HashMap<String, String>>,
    req: Request,
) -> Response {
    let name = path.get("source").map(String::as_str).unwrap_or_default();
    let Some(source) = st.config.source(name) else {
        return answer(StatusCode::NOT_FOUND, &format!("unknown source `{name}`"));
    };
    let (parts, body) = req.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    // Path, then `?token=`, then Bearer; an empty one gives way to the next.
    let given = path
        .get("token")
        .cloned()
        .filter(|t| !t.is_empty())
        .or_else(|| query_token(parts.uri.query()).filter(|t| !t.is_empty()))
        .or_else(|| {
            bearer(&parts.headers)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        });
    if !source.token_matches(given.as_deref()) {
        tracing::warn!(source = %source.name, peer = ?peer, "push refused: wrong or missing token");
        return answer(StatusCode::UNAUTHORIZED, "missing or wrong token");
    }
    if !source.allow_ips.is_empty() {
        let allowed =
            peer.is_some_and(|p| source.allow_ips.iter().any(|net| net.contains(&p.ip())));
        if !allowed {
            tracing::warn!(source = %source.name, peer = ?peer, "push refused: address not in allow_ips");
            return answer(
                StatusCode::FORBIDDEN,
                "this address may not push to this source",
            );
        }
    }
    let limit = st.config.max_body_bytes;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("body larger than the limit of {limit} bytes"),
        );
    }
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(e) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            return if too_large {
                answer(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("body larger than the limit of {limit} bytes"),
                )
            } else {
                answer(
                    StatusCode::BAD_REQUEST,
                    &format!("could not read the body: {e}"),
                )
            };
        }
    };
    let remote = peer
        .map(|p| p.to_string())
        .unwrap_or_else(|| "unknown".into());
    match st.ingestor.push(source, bytes, remote).await {
        Ok(r) => match r.rejection {
            Some(msg) => answer(StatusCode::BAD_REQUEST, &msg),
            None => answer(StatusCode::OK, "ok"),
        },
        Err(e) => {
            tracing::error!(source = %source.name, error = %e, "push not stored");
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage unavailable; retry later",
            )
        }
    }
}
