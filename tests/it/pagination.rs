//! Walking `GET /api/v1/calls` page by page over 2,000 calls: every call
//! exactly once, newest first by `(started_at, id)`, `next_cursor` null on
//! the last page (docs/http-contract.md).

use crate::support::{body, spawn_app, TestApp};
use jiff::civil::date;
use jiff::{Span, Timestamp};
use serde_json::{json, Value};

const CALLS: usize = 2000;
const PER_PUSH: usize = 500;

/// Call `i` starts at Beijing 2025-01-01 00:00 plus `i / 2` minutes: every
/// start time is shared by two calls, so the id decides their order.
fn beijing_start(i: usize) -> jiff::civil::DateTime {
    date(2025, 1, 1)
        .at(0, 0, 0, 0)
        .checked_add(Span::new().minutes((i / 2) as i64))
        .unwrap()
}

fn expected_started_at(i: usize) -> Timestamp {
    beijing_start(i)
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .unwrap()
        .timestamp()
}

async fn seed(app: &TestApp) {
    for chunk in 0..CALLS / PER_PUSH {
        let records: Vec<Value> = (chunk * PER_PUSH..(chunk + 1) * PER_PUSH)
            .map(|i| {
                json!({
                    "callId": format!("pg-{i:04}"),
                    "taskId": if i % 2 == 0 { "even" } else { "odd" },
                    "smartStatusCode": "ANSWERED",
                    "callee": format!("1390000{i:04}"),
                    "originateTime": beijing_start(i).strftime("%Y-%m-%d %H:%M:%S").to_string(),
                    "duration": 30
                })
            })
            .collect();
        app.push_ok("aliyun-call-report", body(&Value::Array(records)))
            .await;
    }
}

/// Follows `next_cursor` from the first page of `?{query}&limit={limit}`
/// to the end; returns the items in order and the number of pages.
async fn walk(app: &TestApp, query: &str, limit: usize) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/calls?{query}&limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", crate::support::urlencode(c)));
        }
        let page = app.get_json(&path).await;
        pages += 1;
        let got = page["items"].as_array().expect("items");
        assert!(got.len() <= limit, "page larger than limit");
        items.extend(got.iter().cloned());
        match &page["next_cursor"] {
            Value::Null => return (items, pages),
            Value::String(c) => {
                assert_eq!(got.len(), limit, "a short page must be the last one");
                cursor = Some(c.clone());
            }
            other => panic!("next_cursor: {other}"),
        }
        assert!(pages <= CALLS + 1, "the walk does not end");
    }
}

/// Asserts strictly newest-first `(started_at, id)` order and that each
/// call starts when its id says; returns the call numbers seen.
fn check_order(items: &[Value]) -> Vec<usize> {
    let mut prev: Option<(Timestamp, String)> = None;
    let mut seen = Vec::with_capacity(items.len());
    for item in items {
        let vid = item["vendor_call_id"].as_str().unwrap();
        let i: usize = vid.strip_prefix("pg-").unwrap().parse().unwrap();
        let at: Timestamp = item["started_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(at, expected_started_at(i), "{vid}");
        let key = (at, item["id"].as_str().unwrap().to_owned());
        if let Some(p) = &prev {
            assert!(key < *p, "{key:?} is not older than {p:?}");
        }
        prev = Some(key);
        seen.push(i);
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walking_2000_calls_gives_each_once_newest_first() {
    let app = spawn_app().await;
    seed(&app).await;

    for (limit, pages) in [(137, 15), (500, 4), (1000, 2)] {
        let (items, got_pages) = walk(&app, "vendor=aliyun", limit).await;
        assert_eq!(got_pages, pages, "limit={limit}");
        assert_eq!(items.len(), CALLS, "limit={limit}");
        let mut seen = check_order(&items);
        seen.sort_unstable();
        assert_eq!(seen, (0..CALLS).collect::<Vec<_>>(), "limit={limit}");
    }

    // Default page size is 50.
    let first = app.get_json("/api/v1/calls").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 50);
    assert!(first["next_cursor"].is_string());

    // A filter holds across pages.
    let (odd, _) = walk(&app, "task_id=odd", 99).await;
    assert_eq!(odd.len(), CALLS / 2);
    let mut seen = check_order(&odd);
    seen.sort_unstable();
    assert_eq!(seen, (1..CALLS).step_by(2).collect::<Vec<_>>());

    // The receipts of the four pushes each hold 500 records.
    let receipts = app.get_json("/api/v1/receipts").await;
    let counts: Vec<&Value> = receipts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["record_count"])
        .collect();
    assert_eq!(counts, vec![&json!(PER_PUSH); CALLS / PER_PUSH]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_one_ends_with_a_null_cursor() {
    let app = spawn_app().await;
    app.push_ok(
        "aliyun-call-report",
        body(&json!([
            {"callId": "c-1", "originateTime": "2025-06-01 10:00:00"},
            {"callId": "c-2", "originateTime": "2025-06-01 11:00:00"}
        ])),
    )
    .await;
    let page = app.get_json("/api/v1/calls?limit=1").await;
    assert_eq!(page["items"][0]["vendor_call_id"], "c-2");
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let page2 = app
        .get_json(&format!("/api/v1/calls?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(page2["items"][0]["vendor_call_id"], "c-1");
    assert_eq!(page2["next_cursor"], Value::Null);
}
