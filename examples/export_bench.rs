//! Export benchmark: how fast `callhook::export` writes each format, and
//! that its memory stays flat whatever the number of calls.
//!
//! Loads `CALLS` (default 100,000) calls into a new SQLite store under
//! `target/` (through `Store::ingest`, 1,000 per batch; each call with a
//! six-line transcript, vendor fields, tags and money, every fourth with a
//! QA inspection), then exports every format to a byte counter. For each
//! it prints calls/s, MB written, peak RSS during the export (`VmHWM`,
//! reset through `/proc/self/clear_refs` before each) and RSS when 10 %,
//! 50 % and 100 % of the calls were written: flat memory shows as equal
//! figures at 10 % and 100 %.
//!
//! Usage: `cargo run --release --example export_bench` (env `CALLS`,
//! `MASK=1` to mask numbers).

use callhook::domain::{
    Analysis, AnalysisKind, CallUpdate, Direction, Money, Outcome, SourceKind, Speaker, Turn,
    Vendor,
};
use callhook::export::{export_stream, ExportOptions, Format};
use callhook::storage::sqlite::SqliteStore;
use callhook::storage::{BodyResult, CallFilter, IngestBatch, NewReceipt, Store};
use futures::StreamExt;
use jiff::Timestamp;
use serde_json::{json, Map};
use std::sync::Arc;
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: usize = 1000;

/// A `/proc/self/status` figure in KiB (`VmHWM`, `VmRSS`); 0 if unreadable.
fn status_kib(key: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// Call `i`: ten calls a minute from 2025-01-01, a customer number of its
/// own repeated in a vendor field and in the transcript.
fn update(i: usize) -> CallUpdate {
    let mut u = CallUpdate::new(Vendor::Itnio, format!("B-{i:07}"), Direction::Outbound);
    let number = format!("628{i:09}");
    let start = Timestamp::from_second(1_735_689_600 + i as i64 * 6).expect("a valid time");
    let s = &mut u.set;
    s.outcome = Some([Outcome::Answered, Outcome::NoAnswer, Outcome::Busy][i % 3]);
    s.vendor_status = Some("ANSWERED".into());
    s.task_id = Some(format!("{}", 1000 + i % 50));
    s.task_name = Some("Loan offer, June".into());
    s.customer_number = Some(number.clone());
    s.line_number = Some("02112345678".into());
    s.originated_at = Some(start);
    s.answered_at = Some(start);
    s.ended_at = start.checked_add(jiff::SignedDuration::from_secs(62)).ok();
    s.talk_seconds = Some(62);
    s.billed_seconds = Some(120);
    s.cost = Some(Money::new(rust_decimal::Decimal::new(400, 4), "USD"));
    s.tags = Some(vec!["Interested".into(), "Existing customer".into()]);
    s.recording_url = Some(format!("https://rec.example.com/{i}.mp3"));
    let texts = [
        "Hello, this is Sarah.",
        "Yes, speaking.",
        "We have an offer.",
    ];
    s.turns = Some(
        (0..6)
            .map(|t| Turn {
                speaker: if t % 2 == 0 {
                    Speaker::Agent
                } else {
                    Speaker::Customer
                },
                text: format!("{} ({number})", texts[t % 3]),
                start_ms: Some(t as i64 * 4000),
                end_ms: Some(t as i64 * 4000 + 3000),
            })
            .collect(),
    );
    u.vendor_fields
        .insert("appId".into(), json!("8f3c2d1e4b5a4c7e9d10"));
    u.vendor_fields.insert(
        "properties".into(),
        json!({"phone": number, "product": "PL-24"}),
    );
    if i % 4 == 0 {
        u.analyses.push(Analysis {
            kind: AnalysisKind::QualityInspection,
            success: true,
            error_code: None,
            reported_at: Some(start),
            score: Some((i % 10) as f64),
            full_score: Some(10.0),
            items: None,
            tags: None,
            vendor_fields: Map::new(),
        });
    }
    u
}

async fn load(store: &dyn Store, calls: usize) {
    for (n, first) in (0..calls).step_by(BATCH).enumerate() {
        let updates: Vec<CallUpdate> = (first..(first + BATCH).min(calls)).map(update).collect();
        let batch = IngestBatch {
            receipt: NewReceipt {
                id: format!("{n:08}"),
                source: "itnio-call-record".into(),
                kind: SourceKind::ItnioCallRecord,
                received_at: Timestamp::now(),
                remote_addr: "bench".into(),
                body: "{}".into(),
            },
            replay: false,
            result: BodyResult::Parsed {
                record_count: updates.len(),
                updates,
                errors: vec![],
                warnings: vec![],
            },
            deadline: None,
        };
        callhook::storage::synthetic::ingest(store, batch)
            .await
            .expect("ingest");
    }
}

#[tokio::main]
async fn main() {
    let calls: usize = std::env::var("CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mask = std::env::var("MASK").is_ok_and(|v| v == "1");
    std::fs::create_dir_all("target").expect("target/");
    let dir = tempfile::Builder::new()
        .prefix("export-bench-")
        .tempdir_in("target")
        .expect("a temporary directory");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("bench.db")).expect("store"));
    let t = Instant::now();
    load(store.as_ref(), calls).await;
    println!(
        "loaded {calls} calls in {:.1} s; RSS {} MiB, peak {} MiB\n",
        t.elapsed().as_secs_f64(),
        mib(status_kib("VmRSS")),
        mib(status_kib("VmHWM"))
    );
    println!("| format | calls/s | MB | MB/s | peak RSS MiB | RSS at 10 % / 50 % / 100 % MiB |");
    println!("|---|---|---|---|---|---|");
    for format in [Format::Csv, Format::Ndjson, Format::Parquet] {
        // Resets VmHWM to the current RSS (Linux 4.0+).
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let opts = ExportOptions {
            format,
            mask_numbers: mask,
            timezone: jiff::tz::TimeZone::UTC,
        };
        let t = Instant::now();
        let mut stream = Box::pin(export_stream(store.clone(), CallFilter::default(), opts));
        let (mut bytes, mut written, mut marks) = (0u64, 0u64, Vec::new());
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.expect("export");
            bytes += chunk.bytes.len() as u64;
            written = chunk.calls;
            let done = written as f64 / calls.max(1) as f64;
            if marks.len() < 3 && done >= [0.1, 0.5, 1.0][marks.len()] {
                marks.push(mib(status_kib("VmRSS")));
            }
        }
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(written, calls as u64, "every call exported");
        println!(
            "| {format} | {:.0} | {:.1} | {:.1} | {} | {} |",
            calls as f64 / secs,
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / secs,
            mib(status_kib("VmHWM")),
            marks.join(" / ")
        );
    }
}
