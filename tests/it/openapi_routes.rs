//! Routes against `/openapi.json` (OpenAPI, "for every route"):
//! every documented operation is answered by a handler, and no route
//! written as a plain `.route("…")` outside the dashboard is undocumented
//! (routes added with `routes!` are documented by construction).

use crate::openapi::{config, document, operations, TOKEN};
use crate::support::spawn_app_with;
use reqwest::{Method, StatusCode};
use std::path::Path;

/// Whether an answer came from a handler rather than the router's
/// fallbacks (405, an empty 404, or the API's `no API route`).
fn routed(status: StatusCode, body: &str) -> bool {
    status != StatusCode::METHOD_NOT_ALLOWED
        && !(status == StatusCode::NOT_FOUND && (body.is_empty() || body.contains("no API route")))
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = spawn_app_with(&config()).await;
    let doc = document(&app).await;
    for (method, path) in operations(&doc) {
        let concrete = path
            .replace("{source}", "nosuchsource")
            .replace("{token}", "t")
            .replace("{id}", "nosuchid")
            .replace("{name}", "nosuchname");
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let resp = app
            .client
            .request(m, app.url(&concrete))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body = resp.text().await.unwrap();
        assert!(routed(status, &body), "{method} {path}: {status} {body}");
    }
}

/// The `.route("…")` paths written in `src/` (`.routes(routes!(…))` take
/// theirs from the handlers' `#[utoipa::path]`, so they are documented by
/// construction). The dashboard's (`src/http/ui/`) are left out of the
/// document on purpose; `/api/{*rest}` is the API's catch-all. Unit-test
/// files (`*tests.rs`) route their own test servers and are skipped.
fn plain_routes(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.ends_with("src/http/ui") {
            continue;
        }
        if path.is_dir() {
            plain_routes(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            && !path.to_string_lossy().ends_with("tests.rs")
        {
            let text: String = std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            for call in [".route(", ".route_service(", ".nest(", ".nest_service("] {
                for (i, _) in text.match_indices(call) {
                    let rest = text[i + call.len()..].trim_start();
                    let literal = rest
                        .strip_prefix('"')
                        .and_then(|r| r.split('"').next())
                        .unwrap_or_else(|| {
                            panic!("{}: a route path that is not a literal", path.display())
                        });
                    out.push((path.display().to_string(), literal.to_owned()));
                }
            }
        }
    }
}

#[tokio::test]
async fn no_route_is_left_out_of_the_document() {
    let app = spawn_app_with(&config()).await;
    let doc = document(&app).await;
    let mut routes = Vec::new();
    plain_routes(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut routes,
    );
    assert!(
        routes.iter().any(|(_, p)| p == "/api/{*rest}"),
        "the scan found no route at all: {routes:?}"
    );
    for (file, route) in routes {
        if route == "/api/{*rest}" {
            continue;
        }
        assert!(
            doc["paths"].get(&route).is_some(),
            "{file}: `{route}` is routed but not in /openapi.json (use `.routes(routes!(handler))` \
             with `#[utoipa::path]` on the handler)"
        );
    }
}
