//! Reading `GET /metrics` in the tests: the Prometheus text format parsed
//! into samples, looked up by name and exact label set. Every app of the
//! test binary shares one recorder, so tests compare two [`Scrape`]s
//! (deltas) on labels unique to the test.

#![allow(dead_code)]

use crate::support::TestApp;
use std::collections::BTreeMap;

/// One scrape: `(name, labels) -> value`.
#[derive(Debug, Clone)]
pub struct Scrape(BTreeMap<(String, BTreeMap<String, String>), f64>);

impl Scrape {
    /// Parses the text exposition format (comments and blank lines skipped).
    pub fn parse(text: &str) -> Scrape {
        let mut samples = BTreeMap::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("sample line");
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("value: {line}"));
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, labels(rest.strip_suffix('}').expect("}"))),
                None => (series, BTreeMap::new()),
            };
            samples.insert((name.to_owned(), labels), value);
        }
        Scrape(samples)
    }

    /// The sample `name` with exactly `labels`; 0 when absent (a counter
    /// never incremented is not exported).
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let want: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.0.get(&(name.to_owned(), want)).copied().unwrap_or(0.0)
    }

    /// Every sample of `name`, with its labels.
    pub fn all(&self, name: &str) -> Vec<(BTreeMap<String, String>, f64)> {
        self.0
            .iter()
            .filter(|((n, _), _)| n == name)
            .map(|((_, l), v)| (l.clone(), *v))
            .collect()
    }
}

/// `a="x",b="y"` (values without escapes: ours never need them).
fn labels(text: &str) -> BTreeMap<String, String> {
    text.split("\",")
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once("=\"").expect("label");
            (k.to_owned(), v.trim_end_matches('"').to_owned())
        })
        .collect()
}

/// `GET /metrics` of `app` (with its API token when set), parsed; asserts
/// 200 and the text format's content type.
pub async fn scrape(app: &TestApp) -> Scrape {
    Scrape::parse(&scrape_text(&app.client, &app.base, app.api_token.as_deref()).await)
}

/// `GET {base}/metrics` as text, asserting 200 and the content type.
pub async fn scrape_text(client: &reqwest::Client, base: &str, token: Option<&str>) -> String {
    let mut req = client.get(format!("{base}/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("GET /metrics");
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    assert_eq!(
        resp.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    resp.text().await.expect("metrics text")
}

#[test]
fn the_parser_reads_labels_and_values() {
    let s = Scrape::parse(
        "# HELP x_total things\n# TYPE x_total counter\nx_total{a=\"1\",b=\"two\"} 3\n\ny 0.5\n",
    );
    assert_eq!(s.get("x_total", &[("b", "two"), ("a", "1")]), 3.0);
    assert_eq!(s.get("x_total", &[("a", "1")]), 0.0, "labels match exactly");
    assert_eq!(s.get("y", &[]), 0.5);
}
