//! `GET /calls/export?format=csv|ndjson|parquet[&mask_numbers=true]` with
//! the calls page's filters: the same files as `callhook export`
//! (`export::export_stream`), streamed as an attachment so memory stays
//! flat at any size. A store failure mid-file ends the response early (the
//! download is then incomplete, and logged), as a partial file must never
//! look whole.

use super::filters::FilterForm;
use super::UiError;
use crate::export::{export_stream, ExportOptions, Format};
use crate::http::AppState;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::Deserialize;
use std::str::FromStr;

#[derive(Deserialize, Default)]
pub struct ExportQuery {
    #[serde(flatten)]
    form: FilterForm,
    #[serde(default)]
    format: String,
    #[serde(default)]
    mask_numbers: String,
}

pub async fn download(
    State(st): State<AppState>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, UiError> {
    let format = Format::from_str(q.format.trim())
        .map_err(|e| UiError::BadRequest(format!("format: {e}")))?;
    let mask_numbers = match q.mask_numbers.trim() {
        "" | "false" | "0" => false,
        "true" | "1" | "on" => true,
        other => {
            return Err(UiError::BadRequest(format!(
                "mask_numbers: `{other}` is not true or false"
            )))
        }
    };
    let filter = q.form.call_filter()?;
    // `mask_numbers = true` in the configuration masks every download.
    let mask_numbers = mask_numbers || st.config.mask_numbers;
    let opts = ExportOptions {
        format,
        mask_numbers,
        // The stream is read after this handler returns: take the zone now.
        timezone: super::zone::current(),
    };
    let stream = export_stream(st.store.clone(), filter, opts).map(|chunk| {
        chunk.map(|c| c.bytes).map_err(|e| {
            tracing::error!(error = %crate::error_chain::ErrorChain(&e), "dashboard export stopped");
            std::io::Error::other(e.to_string())
        })
    });
    let today = jiff::Timestamp::now().strftime("%Y%m%d");
    let name = format!(
        "callhook-calls-{today}{}.{}",
        if mask_numbers { "-masked" } else { "" },
        format.extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
