//! `kind = "mapped"`: a vendor read by a `[sources.mapping]` table, through
//! the same receipts, merge and re-projection as the built-in kinds.

use crate::process::Binary;
use crate::support::{fixture, spawn_app_with};
use callhook::adapters::{self, SourceContext};
use callhook::config::Config;
use callhook::domain::SourceKind;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A mapping of ITNIO's `pushCallRecord`: what the language can say of it.
const ITNIO_MAPPING: &str = r#"
[[sources]]
name = "itnio-mapped"
kind = "mapped"
vendor = "itnio"
currency = "USD"
timezone = "Asia/Shanghai"
[sources.mapping]
vendor_call_id = "$.callId"
task_id = "$.robotCallJobId"
script_id = "$.dialogFlowId"
customer_number = "$.calledPhoneNumber"
originated_at = "$.startTime"
ended_at = "$.endTime"
talk_seconds = "$.chatDuration"
billed_seconds = "$.billingTime"
cost = "$.pay"
intent_label = "$.intentLevelDetailName"
recording_url = "$.fullAudioUrl"
tags = "$['callRecordTagNames','customerTagNames']"
outcome = { path = "$.resultStatus", map = { ANSWERED = "answered", NO_ANSWER = "no_answer", BUSY = "busy", POWER_OFF = "powered_off", OUT_OF_SERVICE = "suspended", REFUSED = "rejected", VACANT_NUMBER = "invalid_number", CAN_NOT_CONNECT = "unreachable", FROM_PHONE_ERROR = "failed", SYSTEM_ERROR = "failed", CALL_LOSS = "abandoned", TRANSFER_ARTIFICIAL = "abandoned" } }
hangup_by = { path = "$.hangupBy", map = { REMOTE_HANGUP = "customer", INITIAL_HANGUP = "agent", CS_HANGUP = "agent", OTHER_HANGUP = "unknown" } }
turns = { path = "$.callDetailList[*]", speaker = "$.type", text = "$.text", start = "$.startOffset", end = "$.endOffset", speaker_map = { PERSON = "customer", ROBOT = "agent" } }
"#;

fn config(toml: &str) -> Result<Config, String> {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, toml).unwrap();
    Config::load(Some(&path), &Default::default()).map_err(|e| e.to_string())
}

/// The canonical fields a mapping can express, as JSON, for comparison.
fn canonical(u: &callhook::domain::CallUpdate) -> Value {
    json!({"vendor": u.vendor, "id": u.vendor_call_id, "direction": u.direction, "set": u.set,
        "fill": u.fill, "analyses": u.analyses})
}

#[test]
fn a_mapping_of_itnio_reproduces_the_itnio_adapter_field_by_field() {
    let c = config(ITNIO_MAPPING).unwrap();
    let mapped = c.source("itnio-mapped").unwrap();
    let builtin = SourceContext::default_for(SourceKind::ItnioCallRecord);
    let mut compared = 0;
    for name in [
        "sample.json",
        "every_result_status.json",
        "transcript_with_many_turns.json",
        "across_utc_midnight.json",
        "unanswered_no_answer.json",
    ] {
        let body = fixture("itnio-call-record", name);
        let want = adapters::parse(SourceKind::ItnioCallRecord, &body, &builtin).unwrap();
        let got = adapters::parse(SourceKind::Mapped, &body, &mapped.context()).unwrap();
        assert_eq!(got.records.len(), want.records.len(), "{name}");
        for (g, w) in got.records.iter().zip(&want.records) {
            assert_eq!(canonical(&g.update), canonical(&w.update), "{name}");
            compared += 1;
        }
    }
    assert!(compared >= 15, "{compared} calls compared");
}

#[test]
fn check_config_names_what_is_wrong_with_a_mapping() {
    let base = |mapping: &str| {
        format!("[[sources]]\nname = \"m\"\nkind = \"mapped\"\nvendor = \"mapcheck\"\n[sources.mapping]\n{mapping}\n")
    };
    let cases = [
        ("vendor_call_id = \"$.id[\"", "mapping.vendor_call_id: `$.id[` is not a JSONPath"),
        ("task_id = \"$.t\"", "mapping.vendor_call_id: required"),
        ("vendor_call_id = \"$.id\"\noutcome = { path = \"$.s\", map = { done = \"finished\" } }", "mapping.outcome.map.done: unknown outcome `finished`"),
        ("vendor_call_id = \"$.id\"\nhangup_by = { path = \"$.h\", map = { x = \"caller\" } }", "mapping.hangup_by.map.x"),
        ("vendor_call_id = \"$.id\"\ntalk_seconds = { path = \"$.d\", unit = \"hours\" }", "mapping.talk_seconds.unit: `hours`"),
        ("vendor_call_id = \"$.id\"\nended_at = { path = \"$.e\", format = \"yesterday\" }", "mapping.ended_at.format: `yesterday`"),
        ("vendor_call_id = \"$.id\"\ncost = \"$.price\"", "mapping.cost: give `currency`"),
        ("vendor_call_id = \"$.id\"\nno_such_field = \"$.x\"", "no_such_field"),
    ];
    for (mapping, want) in cases {
        let e = config(&base(mapping)).unwrap_err();
        assert!(e.contains(want), "{mapping}\n→ {e}");
    }
    let e = config("[[sources]]\nname = \"m\"\nkind = \"mapped\"\n[sources.mapping]\nvendor_call_id = \"$.id\"\n").unwrap_err();
    assert!(e.contains("vendor: required"), "{e}");
    let e =
        config("[[sources]]\nname = \"m\"\nkind = \"bland-call\"\nvendor = \"x\"\n").unwrap_err();
    assert!(e.contains("only a `mapped` source"), "{e}");
    let e = config("[[sources]]\nname = \"m\"\nkind = \"mapped\"\nvendor = \"Acme Corp\"\n[sources.mapping]\nvendor_call_id = \"$.id\"\n").unwrap_err();
    assert!(e.contains("a-z 0-9 - _"), "{e}");
}

const ACME: &str = r#"
[[sources]]
name = "acme"
kind = "mapped"
vendor = "acmevox"
[sources.mapping]
records = "$.calls[*]"
vendor_call_id = "$.uuid"
direction = { path = "$.dir", map = { out = "outbound", in = "inbound" } }
customer_number = "$.customer.phone"
answered_at = { path = "$.answered", format = "%Y/%m/%d %H:%M:%S" }
ended_at = { path = "$.ended_ms", format = "epoch", unit = "ms" }
talk_seconds = { path = "$.minutes", unit = "min" }
cost = { path = "$.price_cents", unit = "cents", currency_path = "$.currency" }
outcome = { path = "$.status", map = { completed = "answered", "no-answer" = "no_answer" } }
summary = "$.ai.summary"
turns = { path = "$.lines[*]", speaker = "$.who", text = "$.said", start = "$.at", unit = "s", speaker_map = { bot = "agent", human = "customer", system = "skip" } }
"#;

fn acme_body(status: &str, extra: Value) -> Vec<u8> {
    let mut call = json!({"uuid": "A-1", "dir": "out", "customer": {"phone": "+4930123"},
        "answered": "2025/06/01 10:00:00", "ended_ms": 1748772120000u64, "minutes": 2.0,
        "price_cents": 12.5, "currency": "eur", "status": status, "ai": {"summary": "Booked."},
        "lines": [{"who": "system", "said": "prompt"}, {"who": "bot", "said": "Hello", "at": 0.5},
                  {"who": "human", "said": "Hi", "at": 1.25}], "queue": "north"});
    for (k, v) in extra.as_object().unwrap() {
        call[k] = v.clone();
    }
    serde_json::to_vec(&json!({"calls": [call]})).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapped_source_stores_merges_and_replays_like_a_built_in_kind() {
    let app = spawn_app_with(ACME).await;
    let (status, answer) = app.push("acme", acme_body("no-answer", json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    app.settle().await;
    let call = app.call_by_vendor_id("acmevox", "A-1").await;
    assert_eq!(call["vendor"], "acmevox");
    assert_eq!(call["outcome"], "no_answer");
    assert_eq!(call["vendor_status"], "no-answer");
    assert_eq!(call["customer_number"], "+4930123");
    assert_eq!(
        call["answered_at"], "2025-06-01T10:00:00Z",
        "zone-less: the source's zone, UTC by default"
    );
    assert_eq!(call["ended_at"], "2025-06-01T10:02:00Z");
    assert_eq!(call["talk_seconds"], 120);
    assert_eq!(call["cost"], json!({"amount": "0.125", "currency": "EUR"}));
    assert_eq!(
        call["turns"].as_array().unwrap().len(),
        2,
        "the system line is skipped"
    );
    assert_eq!(
        call["turns"][1],
        json!({"speaker": "customer", "text": "Hi", "start_ms": 1250})
    );
    assert_eq!(call["analyses"][0]["tags"]["summary"], "Booked.");
    assert_eq!(
        call["vendor_fields"]["queue"], "north",
        "unmapped keys are kept"
    );
    assert!(
        call["vendor_fields"].get("uuid").is_none(),
        "mapped keys are not repeated"
    );
    // A later push of the same call merges into it.
    let (status, _) = app
        .push("acme", acme_body("completed", json!({"minutes": 3})))
        .await;
    assert_eq!(status, StatusCode::OK);
    app.settle().await;
    let call = app.call_by_vendor_id("acmevox", "A-1").await;
    assert_eq!(call["outcome"], "answered");
    assert_eq!(call["talk_seconds"], 180);
    assert_eq!(call["receipts"].as_array().unwrap().len(), 2);
    // Its receipts replay through the mapping like any other.
    let receipts = app.get_json("/api/v1/receipts?source=acme").await;
    let first = receipts["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, replayed) = app
        .post_api(&format!("/api/v1/receipts/{first}/replay"))
        .await;
    assert_eq!(status, StatusCode::OK, "{replayed}");
    // An unknown status is `unknown`, counted, and kept raw.
    let (status, _) = app
        .push("acme", acme_body("voicemail-ish", json!({"uuid": "A-2"})))
        .await;
    assert_eq!(status, StatusCode::OK);
    app.settle().await;
    let c2 = app.call_by_vendor_id("acmevox", "A-2").await;
    assert_eq!(c2["outcome"], "unknown");
    assert_eq!(c2["vendor_status"], "voicemail-ish");
    // Nothing usable: 400, kept as rejected, with the path.
    let (status, answer) = app
        .push("acme", br#"{"calls": [{"dir": "out"}]}"#.to_vec())
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["msg"]
            .as_str()
            .unwrap()
            .contains("missing call id at `$.uuid`"),
        "{answer}"
    );
    // The dashboard's vendor filter knows the mapped vendor.
    let page = app.page("/calls").await;
    assert!(
        page.contains("value=\"acmevox\""),
        "vendor filter lists acmevox"
    );
}

/// `callhook --config CFG mapping test BODY`, off the async threads.
async fn mapping_test(
    dir: &std::path::Path,
    cfg: &std::path::Path,
    body: &std::path::Path,
) -> std::process::Output {
    let args: Vec<String> = [
        "--config",
        &cfg.display().to_string(),
        "mapping",
        "test",
        &body.display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let d = dir.to_owned();
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        Binary::run(&d, &a)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mapping_test_prints_the_calls_a_body_would_make() {
    let dir = tempfile::TempDir::new().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, ACME).unwrap();
    let body = dir.path().join("b.json");
    std::fs::write(&body, acme_body("completed", json!({"dir": "sideways"}))).unwrap();
    let out = mapping_test(dir.path(), &cfg, &body).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "accepted");
    assert_eq!(v["calls"][0]["vendor"], "acmevox");
    assert_eq!(v["calls"][0]["outcome"], "answered");
    assert_eq!(
        v["calls"][0]["direction"], "outbound",
        "an unmapped direction stays outbound"
    );
    assert!(
        v["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("\"sideways\""),
        "{v}"
    );
    assert_eq!(v["warnings"][0]["path"], "$['calls'][0].dir");

    std::fs::write(&body, b"{\"calls\": []}").unwrap();
    let out = mapping_test(dir.path(), &cfg, &body).await;
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "rejected");
}

#[test]
fn a_records_path_selecting_one_array_means_its_elements() {
    let toml = ACME.replace("records = \"$.calls[*]\"", "records = \"$.calls\"");
    let c = config(&toml).unwrap();
    let ctx = c.source("acme").unwrap().context();
    let body = acme_body("completed", json!({}));
    let p = adapters::parse(SourceKind::Mapped, &body, &ctx).unwrap();
    assert_eq!(p.record_count, 1);
    assert_eq!(p.records[0].update.vendor_call_id, "A-1");
    assert!(p.errors.is_empty(), "{:?}", p.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapped_body_over_the_record_limit_is_413_and_kept() {
    let app = spawn_app_with(&format!("[limits]\nmax_records_per_push = 2\n{ACME}")).await;
    let call = |id: &str| json!({"uuid": id, "status": "completed"});
    let body =
        serde_json::to_vec(&json!({"calls": [call("L-1"), call("L-2"), call("L-3")]})).unwrap();
    let (status, answer) = app.push("acme", body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert!(answer["msg"].as_str().unwrap().contains("3"), "{answer}");
    let two = serde_json::to_vec(&json!({"calls": [call("L-1"), call("L-2")]})).unwrap();
    let (status, _) = app.push("acme", two).await;
    assert_eq!(status, StatusCode::OK);
}
