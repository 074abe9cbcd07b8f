//! `GET /metrics` (Observability): every answer to a push counted
//! once under its source and result, the ingest counters matching the
//! bodies pushed (as the adapters read them), the histograms' counts
//! (`metrics_scrape.rs`: the scrape at the concurrency limit and behind
//! the API token). The recorder is shared by every app of the test
//! binary: sources are named for this file only, and every assertion
//! compares two scrapes.

use crate::load::report;
use crate::prom::{scrape, Scrape};
use crate::support::{body, fixture, sample, spawn_app_with, TestApp};
use callhook::adapters::{parse, SourceContext};
use callhook::domain::SourceKind;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeMap;

pub const KIND: &str = "aliyun-call-report";

const CONFIG: &str = r#"
[limits]
max_body_bytes = 131072
max_records_per_push = 100

[[sources]]
name = "mx-open"
kind = "aliyun-call-report"

[[sources]]
name = "mx-locked"
kind = "aliyun-call-report"
token = "mx-t0ken"

[[sources]]
name = "mx-allow"
kind = "aliyun-call-report"
allow_ips = ["203.0.113.0/24"]

[[sources]]
name = "mx-rate"
kind = "aliyun-call-report"
rate_limit = 1
rate_limit_burst = 1
"#;

/// What the adapter reads in `body`: (usable records, bad records,
/// unknown values per field).
fn reading(body: &[u8]) -> (f64, f64, BTreeMap<&'static str, f64>) {
    let kind = SourceKind::AliyunCallReport;
    let p = parse(kind, body, &SourceContext::default_for(kind)).expect("readable fixture");
    let mut unknown = BTreeMap::new();
    for v in &p.unknown_values {
        *unknown.entry(v.field).or_insert(0.0) += 1.0;
    }
    (p.records.len() as f64, p.errors.len() as f64, unknown)
}

/// The pushes' statuses by source, to compare with the counters.
#[derive(Default)]
struct Tally(BTreeMap<(String, &'static str), f64>);

impl Tally {
    /// Pushes `body` to `path` (under source `source`), asserts `status`
    /// (when given) and tallies `result`.
    async fn push(
        &mut self,
        app: &TestApp,
        source: &str,
        path: &str,
        body: Vec<u8>,
        expect: StatusCode,
        result: &'static str,
    ) {
        // A connection of its own: after a 413 the server closes the
        // connection without reading the body, which a pooled client
        // could otherwise reuse for the next push.
        let resp = reqwest::Client::new()
            .post(app.url(path))
            .body(body)
            .send()
            .await
            .expect("push sent");
        let status = resp.status();
        let answer = resp.text().await.unwrap_or_default();
        assert_eq!(status, expect, "{path}: {answer}");
        *self.0.entry((source.to_owned(), result)).or_default() += 1.0;
    }

    fn pushes_to(&self, source: &str) -> f64 {
        self.0
            .iter()
            .filter(|((s, _), _)| s == source)
            .map(|(_, n)| n)
            .sum()
    }
}

pub fn delta(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    after.get(name, labels) - before.get(name, labels)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_push_answer_is_counted_once_by_source_and_result() {
    let app = spawn_app_with(CONFIG).await;
    let backend = if app.database.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    let before = scrape(&app).await;
    let mut t = Tally::default();
    let (sample_body, bad, unknown) = (
        sample(KIND),
        fixture(KIND, "batch_with_bad_records.json"),
        fixture(KIND, "unknown_status_values.json"),
    );
    let open = "/hooks/mx-open";
    use StatusCode as S;
    t.push(
        &app,
        "mx-open",
        open,
        sample_body.clone(),
        S::OK,
        "accepted",
    )
    .await;
    t.push(
        &app,
        "mx-open",
        open,
        sample_body.clone(),
        S::OK,
        // Acknowledged like any other; the projector finds it a duplicate.
        "accepted",
    )
    .await;
    t.push(&app, "mx-open", open, bad.clone(), S::OK, "partial")
        .await;
    let truncated = fixture(KIND, "rejected/truncated_json.json");
    t.push(&app, "mx-open", open, truncated, S::BAD_REQUEST, "rejected")
        .await;
    t.push(&app, "mx-open", open, unknown.clone(), S::OK, "accepted")
        .await;
    let mut huge = sample_body.clone();
    huge.resize(140_000, b' ');
    t.push(
        &app,
        "mx-open",
        open,
        huge,
        S::PAYLOAD_TOO_LARGE,
        "too_large",
    )
    .await;
    let many = fixture(KIND, "batch_200_records.json");
    t.push(
        &app,
        "mx-open",
        open,
        many,
        S::PAYLOAD_TOO_LARGE,
        "too_large",
    )
    .await;

    let one = |id: &str| body(&Value::Array(vec![report(id)]));
    let (locked, s401) = ("mx-locked", S::UNAUTHORIZED);
    t.push(
        &app,
        locked,
        "/hooks/mx-locked/nope",
        one("mx-l1"),
        s401,
        "unauthorized",
    )
    .await;
    let right = "/hooks/mx-locked?token=mx-t0ken";
    t.push(&app, locked, right, one("mx-l2"), S::OK, "accepted")
        .await;
    let (allow, s403) = ("/hooks/mx-allow", S::FORBIDDEN);
    t.push(&app, "mx-allow", allow, one("mx-a1"), s403, "forbidden")
        .await;
    // One push a second, burst 1: of three at once, the first passes; the
    // others are refused unless a second went by in between.
    let mut statuses = Vec::new();
    for i in 0..3 {
        let (status, _) = app
            .push_to("/hooks/mx-rate", one(&format!("mx-r{i}")))
            .await;
        let result = match status {
            S::OK => "accepted",
            S::TOO_MANY_REQUESTS => "rate_limited",
            other => panic!("rate-limited source answered {other}"),
        };
        *t.0.entry(("mx-rate".into(), result)).or_default() += 1.0;
        statuses.push(status);
    }
    assert!(statuses.contains(&S::TOO_MANY_REQUESTS), "{statuses:?}");
    let (status, _) = app.push("mx-no-such-source", one("mx-u1")).await;
    assert_eq!(status, S::NOT_FOUND);

    let after = scrape(&app).await;
    let d = |name: &str, labels: &[(&str, &str)]| delta(&before, &after, name, labels);
    for ((source, result), n) in &t.0 {
        let labels = [("source", source.as_str()), ("result", *result)];
        assert_eq!(d("callhook_pushes_total", &labels), *n, "{labels:?}");
    }
    for source in ["mx-open", "mx-locked", "mx-allow", "mx-rate"] {
        let every: f64 = after
            .all("callhook_pushes_total")
            .iter()
            .filter(|(l, _)| l["source"] == source)
            .map(|(l, _)| {
                d(
                    "callhook_pushes_total",
                    &[("source", source), ("result", &l["result"])],
                )
            })
            .sum();
        assert_eq!(
            every,
            t.pushes_to(source),
            "{source}: no answer counted twice"
        );
        let count = d("callhook_push_ack_seconds_count", &[("source", source)]);
        assert_eq!(
            count,
            t.pushes_to(source),
            "{source}: one ack time per push"
        );
    }
    let unknown_404 = [("source", "(unknown)"), ("result", "not_found")];
    assert!(d("callhook_pushes_total", &unknown_404) >= 1.0);
    assert_eq!(
        after.get(
            "callhook_pushes_total",
            &[("source", "mx-no-such-source"), ("result", "not_found")]
        ),
        0.0,
        "a source name from the URL never becomes a label"
    );

    // Records: the adapter's reading of each stored body.
    let (s_ok, _, _) = reading(&sample_body);
    let (b_ok, b_bad, _) = reading(&bad);
    let (u_ok, _, u_fields) = reading(&unknown);
    let open_labels = [("source", "mx-open"), ("vendor", "aliyun")];
    assert_eq!(
        d("callhook_records_total", &open_labels),
        2.0 * s_ok + b_ok + u_ok
    );
    let dup = d("callhook_duplicate_records_total", &[("source", "mx-open")]);
    assert_eq!(dup, s_ok, "the sample's records, pushed again");
    let projected = |status: &str| {
        d(
            "callhook_projected_receipts_total",
            &[("source", "mx-open"), ("status", status)],
        )
    };
    assert_eq!(projected("duplicate"), 1.0, "the repeated sample");
    assert_eq!(projected("partial"), 1.0, "the body with bad records");
    let rejected = d("callhook_rejected_records_total", &[("source", "mx-open")]);
    assert_eq!(rejected, b_bad);
    assert!(
        b_bad > 0.0 && !u_fields.is_empty(),
        "the fixtures exercise both"
    );
    for (field, n) in &u_fields {
        // vendor and field are shared with other tests' pushes: at least ours.
        let got = d(
            "callhook_unknown_values_total",
            &[("vendor", "aliyun"), ("field", field)],
        );
        assert!(got >= *n, "{field}: {got} < {n}");
    }

    // Every push that reached the store is in exactly one commit.
    let stored = t.pushes_to("mx-open") - 1.0 // the 140 kB body was never read
        + t.0.get(&("mx-locked".into(), "accepted")).unwrap()
        + t.0.get(&("mx-rate".into(), "accepted")).unwrap();
    let b = [("backend", backend)];
    let batched = d("callhook_store_batch_size_sum", &b);
    assert!(batched >= stored, "{batched} < {stored}");
    assert!(d("callhook_store_commit_seconds_count", &b) >= 1.0);
}
