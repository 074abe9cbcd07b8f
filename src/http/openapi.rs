//! `GET /openapi.json`: the OpenAPI 3.1 document of every route but the
//! dashboard's (docs/http-contract.md), generated from the handlers'
//! `#[utoipa::path]` annotations and the types' `ToSchema` derives, built
//! once per process and served unguarded (it holds no data).
//!
//! The routers are built from the same annotations ([`utoipa_axum`]'s
//! `routes!`), so a route cannot be served without being documented;
//! `tests/it/openapi.rs` checks the rest (no plain `.route(` outside the
//! dashboard, every documented operation answered).

use super::error::{Code, ErrorBody};
use super::{api, health, ingest, AppState};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Router;
use std::sync::OnceLock;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, OpenApi as Document, Ref, ResponseBuilder, SecurityRequirement,
};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "callhook",
        version = env!("CARGO_PKG_VERSION"),
        description = "Receives AI voice-calling vendors' push reports (`/hooks`), stores them \
            durably and serves them back as canonical calls, receipts, stats and outbound \
            deliveries (`/api/v1`). Times are RFC 3339 UTC instants, durations whole seconds, \
            money a decimal string with its ISO 4217 currency. API errors are \
            `{\"error\": {\"code\", \"message\"}}`; push answers are `{\"code\", \"msg\"}`. \
            The dashboard's HTML pages are not described here (see docs/dashboard.md).",
        license(name = "MIT"),
    ),
    paths(metrics),
    components(schemas(ErrorBody)),
    modifiers(&SecuritySchemes, &ErrorCodes),
    tags(
        (name = "hooks", description = "Vendor push endpoints: one URL per configured source."),
        (name = "calls", description = "Canonical calls merged from every push."),
        (name = "stats", description = "Aggregates over the calls."),
        (name = "receipts", description = "Every push body as received, with replay."),
        (name = "deliveries", description = "Outbound events to webhooks and NATS, with retry."),
        (name = "subscribers", description = "Outbound targets and their state."),
        (name = "alerts", description = "Firings of the configured alert rules."),
        (name = "operations", description = "Health, readiness, metrics and this document."),
    ),
)]
struct ApiDoc;

/// `ErrorDetail.code`: the codes of [`Code`]'s table, each with its
/// status and meaning.
struct ErrorCodes;

impl Modify for ErrorCodes {
    fn modify(&self, doc: &mut Document) {
        use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
        use utoipa::openapi::RefOr;
        let components = doc.components.get_or_insert_with(Default::default);
        let Some(RefOr::T(Schema::Object(detail))) = components.schemas.get_mut("ErrorDetail")
        else {
            return;
        };
        let lines: Vec<String> = Code::ALL
            .iter()
            .map(|c| format!("- `{}` ({}): {}", c.as_str(), c.status().as_u16(), c.doc()))
            .collect();
        let code = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Code::ALL.iter().map(|c| c.as_str())))
            .description(Some(format!(
                "Stable snake_case code to branch on:\n{}",
                lines.join("\n")
            )))
            .examples([Code::InvalidParameter.as_str()]);
        detail.properties.insert("code".into(), code.into());
    }
}

/// The security schemes: `api_token` for `/api` and `/metrics`, the
/// source's token for `/hooks` (header or query).
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "`Authorization: Bearer <token>`: `api_token` or one of `[[api_tokens]]`; \
                         required when any is configured. Any token may read (GET); other \
                         methods need an `admin` one (else 403).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "push_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The source's `token` as `Authorization: Bearer <token>`; required when the source has one.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "push_token_query",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "The source's `token` as `?token=`.",
            ))),
        );
    }
}

/// Prometheus text exposition of the service's metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format (version 0.0.4).",
            body = String, content_type = "text/plain"),
        (status = 401, description = "Missing or wrong API token.", body = ErrorBody),
    ),
    security(("api_token" = [])),
)]
#[allow(dead_code)]
fn metrics() {}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document.", body = Object)),
    security(()),
)]
async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], json())
}

/// The route of this document, with its OpenAPI path.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// `GET /openapi.json`; the document is built here, once.
pub fn router() -> Router<AppState> {
    json();
    routes().into()
}

/// The document, serialised once per process.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        document()
            .to_json()
            .expect("the OpenAPI document serialises")
    })
}

/// The whole document: [`ApiDoc`] and the paths of every documented router.
pub fn document() -> Document {
    let mut doc = ApiDoc::openapi();
    for routes in [ingest::routes(), api::routes(), health::routes(), routes()] {
        doc.merge(routes.into_openapi());
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        if path.starts_with("/api/") {
            let reads = item.get.is_some();
            for op in operations(item) {
                api_common(op);
            }
            // Every method but GET needs an `admin` token (`http::auth`).
            for op in operations(item).skip(usize::from(reads)) {
                add_error(
                    op,
                    "403",
                    "The token's scope is `read`; this action needs `admin` (`forbidden`).",
                );
            }
        }
    }
    doc
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// An answer with the API error body.
fn error(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(ErrorBody::name())))
            .build(),
    )
}

/// Documents `status` on `op` unless its handler already does.
fn add_error(op: &mut Operation, status: &str, description: &str) {
    add(op, status, error(description).build());
}

fn add(op: &mut Operation, status: &str, response: utoipa::openapi::Response) {
    op.responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| response.into());
}

/// What every `/api` operation shares: the API token guard (401), the
/// concurrency limit or an unavailable store (503 with `Retry-After`), and
/// stored data that cannot be read (500). Added here so a new route only
/// documents its own answers.
fn api_common(op: &mut Operation) {
    if op.security.is_none() {
        op.security = Some(vec![SecurityRequirement::new(
            "api_token",
            Vec::<String>::new(),
        )]);
    }
    add_error(op, "401", "Missing or unknown API token (`unauthorized`).");
    add_error(
        op,
        "500",
        "Stored data could not be read (`internal`); no internals are shown.",
    );
    let busy = error(
        "At the concurrency limit (`overloaded`) or the store is unavailable (`storage_unavailable`).",
    )
    .header(
        "Retry-After",
        utoipa::openapi::HeaderBuilder::new()
            .schema(u64::schema())
            .description(Some("Seconds to wait"))
            .build(),
    )
    .build();
    add(op, "503", busy);
}
