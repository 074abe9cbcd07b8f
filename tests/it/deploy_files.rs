//! `deploy/`: the Prometheus alerting rules and the Grafana dashboard parse,
//! and every metric they query is one callhook exports: named in
//! `src/telemetry/names.rs` (histograms with their `_bucket`, `_sum` and
//! `_count` series), and the ones a push makes are really on `/metrics`.

use crate::support::{sample, spawn_app};
use serde_json::Value;
use std::collections::BTreeSet;

fn repo_file(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The metric names `src/telemetry/names.rs` declares (`"callhook_…"`).
fn exported() -> BTreeSet<String> {
    let text = repo_file("src/telemetry/names.rs");
    let names: BTreeSet<String> = text
        .lines()
        .filter(|l| l.starts_with("pub const") && l.contains("&str"))
        .filter_map(|l| l.split('"').nth(1))
        .filter(|n| n.starts_with("callhook_"))
        .map(str::to_owned)
        .collect();
    assert!(names.len() > 15, "{names:?}");
    names
}

/// Every `callhook_…` word in `expr`.
fn metrics_in(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find("callhook_") {
        let word: String = rest[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[i + word.len()..];
        out.push(word);
    }
    out
}

/// Whether `series` is an exported metric or one of a histogram's series.
fn is_exported(series: &str, names: &BTreeSet<String>) -> bool {
    names.contains(series)
        || ["_bucket", "_sum", "_count"]
            .iter()
            .any(|s| series.strip_suffix(s).is_some_and(|m| names.contains(m)))
}

/// The alerting rules' expressions, by alert name.
fn rule_exprs() -> Vec<(String, String)> {
    let doc: serde_norway::Value =
        serde_norway::from_str(&repo_file("deploy/prometheus/alerts.yml")).expect("YAML");
    let groups = doc["groups"].as_sequence().expect("groups: a list");
    assert!(!groups.is_empty());
    let mut out = Vec::new();
    for g in groups {
        assert!(g["name"].as_str().is_some(), "a group has a name: {g:?}");
        for r in g["rules"].as_sequence().expect("rules: a list") {
            let name = r["alert"].as_str().expect("every rule alerts").to_owned();
            let expr = r["expr"].as_str().expect("every rule has expr").to_owned();
            assert!(
                r["annotations"]["summary"].as_str().is_some(),
                "{name}: summary"
            );
            out.push((name, expr));
        }
    }
    out
}

/// The dashboard's panel queries, by panel title.
fn panel_exprs() -> Vec<(String, String)> {
    let doc: Value =
        serde_json::from_str(&repo_file("deploy/grafana/callhook.json")).expect("JSON");
    assert_eq!(doc["uid"], "callhook");
    let mut out = Vec::new();
    for p in doc["panels"].as_array().expect("panels") {
        let title = p["title"].as_str().expect("a panel title").to_owned();
        for t in p["targets"].as_array().expect("targets") {
            out.push((title.clone(), t["expr"].as_str().expect("expr").to_owned()));
        }
    }
    out
}

#[test]
fn every_metric_the_deploy_files_query_is_exported() {
    let names = exported();
    let all: Vec<(String, String)> = rule_exprs().into_iter().chain(panel_exprs()).collect();
    assert!(all.len() >= 15, "{all:?}");
    let mut used = BTreeSet::new();
    for (what, expr) in &all {
        let found = metrics_in(expr);
        assert!(!found.is_empty(), "{what}: no callhook metric in {expr}");
        for m in found {
            assert!(is_exported(&m, &names), "{what}: `{m}` is not exported");
            used.insert(m);
        }
    }
    // The dashboard covers what the task asks for.
    for m in [
        "callhook_pushes_total",
        "callhook_push_ack_seconds_bucket",
        "callhook_projection_lag_seconds",
        "callhook_outbox_backlog",
        "callhook_deliveries_total",
        "callhook_alerts_firing",
    ] {
        assert!(used.contains(m), "{m} is not used");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ingest_metrics_they_query_are_on_a_real_scrape() {
    let app = spawn_app().await;
    app.push_ok("aliyun-call-report", sample("aliyun-call-report"))
        .await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for m in [
        "callhook_pushes_total{",
        "callhook_push_ack_seconds_bucket{",
        "callhook_projection_lag_seconds ",
        "callhook_projection_pending_receipts ",
        "callhook_projected_receipts_total{",
    ] {
        assert!(text.contains(m), "{m} not in the scrape:\n{text}");
    }
}
