//! Full-text search (`text=`, docs/search.md) through the real ingest path,
//! on the backend the suite runs on: Chinese queries of 3 and 2
//! characters, summaries, intent and tags, updates and deletions kept in
//! step, `q` still exact, the length limit, the snippet, the stats and
//! `callhook export --text`.

use crate::export_cli::export_ok;
use crate::support::{body, fixture, spawn_app, urlencode, TestApp};
use crate::vendors_other::itnio_record;
use reqwest::StatusCode;
use serde_json::Value;

/// An itnio call record whose transcript is `lines` (robot and customer
/// taking turns).
fn record(call_id: &str, lines: &[&str]) -> Value {
    let mut r = itnio_record(call_id);
    r["callDetailList"] = lines
        .iter()
        .enumerate()
        .map(|(i, t)| {
            serde_json::json!({
                "callDetailId": 9000 + i,
                "text": t,
                "type": if i % 2 == 0 { "ROBOT" } else { "PERSON" },
            })
        })
        .collect();
    r
}

async fn push(app: &TestApp, records: &[Value]) {
    app.push_ok("itnio-call-record", body(&Value::Array(records.to_vec())))
        .await;
}

/// The `vendor_call_id`s found by `text`, in list order.
async fn found(app: &TestApp, text: &str) -> Vec<String> {
    app.call_ids(&format!("text={}", urlencode(text))).await
}

async fn seeded() -> TestApp {
    let app = spawn_app().await;
    push(
        &app,
        &[
            record(
                "zh-refund",
                &[
                    "您好，这里是光明金融。",
                    "我想申请退款，谢谢。",
                    "好的，已为您登记。",
                ],
            ),
            record(
                "zh-price",
                &["您好！", "请问这个套餐多少钱？", "每月十元。"],
            ),
            record(
                "en-refund",
                &["Hello.", "I would like a REFUND please.", "Sure."],
            ),
        ],
    )
    .await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chinese_queries_of_three_and_two_characters_find_the_transcript() {
    let app = seeded().await;
    assert_eq!(found(&app, "申请退").await, ["zh-refund"]);
    assert_eq!(found(&app, "退款").await, ["zh-refund"]);
    assert_eq!(found(&app, "套餐多少钱").await, ["zh-price"]);
    assert_eq!(found(&app, "款").await, ["zh-refund"]);
    // Case-insensitive, across words, and the whole query as one substring.
    assert_eq!(found(&app, "a refund").await, ["en-refund"]);
    assert_eq!(found(&app, "Refund PLEASE").await, ["en-refund"]);
    assert!(found(&app, "refund please now").await.is_empty());
    assert!(found(&app, "退款申请").await.is_empty());
    // `%` and `_` are characters, not patterns.
    assert!(found(&app, "%").await.is_empty());
    assert!(found(&app, "申_退").await.is_empty());
    // Combined with the other filters.
    let ids = app
        .call_ids(&format!("vendor=itnio&text={}", urlencode("您好")))
        .await;
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(app
        .call_ids(&format!("vendor=aliyun&text={}", urlencode("您好")))
        .await
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_carry_the_snippet_of_the_first_match() {
    let app = seeded().await;
    let items = app.calls(&format!("text={}", urlencode("申请退款"))).await;
    assert_eq!(items.len(), 1);
    let s = &items[0]["snippet"];
    assert_eq!(s["field"], "transcript");
    assert_eq!(s["text"], "我想申请退款，谢谢。");
    assert_eq!(
        (s["match_start"].as_u64(), s["match_end"].as_u64()),
        (Some(2), Some(6))
    );
    let items = app.calls(&format!("text={}", urlencode("refund"))).await;
    let s = &items[0]["snippet"];
    assert_eq!(s["text"], "I would like a REFUND please.");
    let text: Vec<char> = s["text"].as_str().unwrap().chars().collect();
    let (a, b) = (
        s["match_start"].as_u64().unwrap() as usize,
        s["match_end"].as_u64().unwrap() as usize,
    );
    assert_eq!(text[a..b].iter().collect::<String>(), "REFUND");
    // Without `text`, no snippet.
    let items = app.calls("vendor=itnio").await;
    assert!(
        items.iter().all(|i| i.get("snippet").is_none()),
        "{items:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summaries_intent_and_tags_are_searched() {
    let app = seeded().await;
    app.push_ok(
        "aliyun-call-notes",
        fixture("aliyun-call-notes", "summary_enum_and_text_tags.json"),
    )
    .await;
    let items = app
        .calls(&format!("text={}", urlencode("ANNUAL FEE")))
        .await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["vendor"], "aliyun");
    assert_eq!(items[0]["snippet"]["field"], "summary");
    // itnio's intent level ("A (interested)") and customer tag ("VIP").
    let items = app.calls(&format!("text={}", urlencode("a (inter"))).await;
    assert_eq!(items.len(), 3, "{items:?}");
    assert!(items.iter().all(|i| i["snippet"]["field"] == "intent"));
    let items = app.calls("text=vip").await;
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["snippet"]["field"], "tags");
    assert_eq!(items[0]["snippet"]["text"], "VIP");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_transcript_changes_what_is_found() {
    let app = seeded().await;
    push(&app, &[record("zh-refund", &["您好。", "我想取消订单。"])]).await;
    assert!(found(&app, "申请退款").await.is_empty());
    assert!(found(&app, "退款").await.is_empty());
    assert_eq!(found(&app, "取消订单").await, ["zh-refund"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_call_is_no_longer_found() {
    let app = seeded().await;
    let id = app.call_id("itnio", "zh-refund").await;
    let mut req = app.client.delete(app.url(&format!("/api/v1/calls/{id}")));
    if let Some(t) = &app.api_token {
        req = req.bearer_auth(t);
    }
    assert_eq!(req.send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert!(found(&app, "申请退款").await.is_empty());
    assert!(found(&app, "退款").await.is_empty());
    assert_eq!(found(&app, "您好").await, ["zh-price"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn q_stays_exact_and_bad_text_is_a_400() {
    let app = seeded().await;
    assert!(app.call_ids("q=zh-ref").await.is_empty());
    assert!(app
        .call_ids(&format!("q={}", urlencode("申请退款")))
        .await
        .is_empty());
    assert_eq!(app.call_ids("q=zh-refund").await, ["zh-refund"]);
    let long = "退".repeat(201);
    for path in ["/api/v1/calls", "/api/v1/stats"] {
        let (status, json) = app.get(&format!("{path}?text={}", urlencode(&long))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
        assert!(
            json["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("text: at most 200 characters"),
            "{json}"
        );
    }
    let ok = "退".repeat(200);
    assert!(found(&app, &ok).await.is_empty());
    let (status, _) = app.get("/api/v1/calls?text=a%0Ab").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // An empty or blank value is no filter.
    assert_eq!(app.call_ids("text=").await.len(), 3);
    assert_eq!(app.call_ids("text=%20%20").await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_only_the_matching_calls() {
    let app = seeded().await;
    let stats = app
        .get_json(&format!("/api/v1/stats?text={}", urlencode("您好")))
        .await;
    let rows = stats["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{stats}");
    assert_eq!(rows[0]["calls"], 2);
    let stats = app.get_json("/api/v1/stats?text=refund").await;
    assert_eq!(stats["rows"][0]["calls"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_takes_text() {
    let app = seeded().await;
    let stopped = app.stop().await;
    let out = export_ok(&stopped, &["--format", "ndjson", "--text", "申请退款"]).await;
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["vendor_call_id"], "zh-refund");
    let out = export_ok(&stopped, &["--format", "ndjson", "--text", "您好"]).await;
    assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calls_page_searches_text_and_marks_the_match() {
    let app = seeded().await;
    app.push_ok(
        "itnio-call-record",
        body(&Value::Array(vec![record(
            "hostile",
            &["<script>alert(1)</script> 退款 <b>x</b>"],
        )])),
    )
    .await;
    let html = app
        .page(&format!("/calls?text={}", urlencode("申请退款")))
        .await;
    assert!(html.contains("我想<mark>申请退款</mark>，谢谢。"), "{html}");
    assert!(html.contains(r#"name="text" value="申请退款""#), "{html}");
    let html = app
        .page(&format!("/calls?text={}", urlencode("退款")))
        .await;
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(
        html.contains(
            "…t&#62;alert(1)&#60;/script&#62; <mark>退款</mark> &#60;b&#62;x&#60;/b&#62;"
        ),
        "{html}"
    );
    // The download links keep the text filter.
    assert!(
        html.contains(&format!("text={}", urlencode("退款"))),
        "{html}"
    );
    let url = app.url(&format!(
        "/calls/export?format=csv&text={}",
        "x".repeat(201)
    ));
    let resp = app.client.get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}
