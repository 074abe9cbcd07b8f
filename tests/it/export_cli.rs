//! `callhook export` (the real binary) over calls pushed through the real
//! ingest path: each format read back with a real reader equals the API's
//! answer, filters narrow it exactly as they narrow the API, masking leaves
//! no customer number, and `--output` never leaves a half file.

use crate::export_data::{csv_matches, seed, walk, want, Want, CALLS, COLUMNS, LAAFFIC};
use crate::process::Binary;
use crate::support::{spawn_app, Stopped, TestApp};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::Value;
use std::path::Path;

/// Runs `callhook --database DATABASE export ARGS…` in `dir`: (exit code,
/// stdout, stderr).
pub async fn export(dir: &Path, database: &str, args: &[&str]) -> (Option<i32>, Vec<u8>, String) {
    let mut cmd = Binary::command(dir);
    cmd.args(["--database", database, "export"]).args(args);
    let out = tokio::task::spawn_blocking(move || Binary::capture(&mut cmd))
        .await
        .expect("the binary ran");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), out.stdout, err)
}

/// [`export`] that must succeed: its stdout.
pub async fn export_ok(stopped: &Stopped, args: &[&str]) -> Vec<u8> {
    let (code, out, err) = export(stopped.dir.path(), &stopped.database, args).await;
    assert_eq!(code, Some(0), "export {args:?}: {err}");
    out
}

/// The seeded app's every list item, then the app stopped (the command
/// runs on its database as an operator would).
pub async fn seeded() -> (Vec<Value>, TestApp) {
    let app = spawn_app().await;
    seed(&app).await;
    let items = walk(&app, "").await;
    assert_eq!(items.len(), CALLS, "seeded calls");
    (items, app)
}

pub fn read_csv(bytes: &[u8]) -> Vec<csv::StringRecord> {
    let mut reader = csv::Reader::from_reader(bytes);
    let header: Vec<&str> = reader.headers().expect("header").iter().collect();
    assert_eq!(header, COLUMNS);
    reader.records().map(|r| r.expect("a CSV record")).collect()
}

/// Asserts the CSV records are the API items, in order, column by column.
fn assert_csv_is(records: &[csv::StringRecord], items: &[Value]) {
    assert_eq!(records.len(), items.len(), "rows");
    for (n, (rec, item)) in records.iter().zip(items).enumerate() {
        assert_eq!(rec.len(), COLUMNS.len());
        for (cell, col) in rec.iter().zip(COLUMNS) {
            let w = want(item, col);
            assert!(csv_matches(cell, &w), "row {n} {col}: {cell:?} != {w:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_equals_the_api_item_by_item_column_by_column() {
    let (items, app) = seeded().await;
    let stopped = app.stop().await;
    let (code, out, err) =
        export(stopped.dir.path(), &stopped.database, &["--format", "csv"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert_csv_is(&read_csv(&out), &items);
    assert!(
        err.contains(&format!("exported {CALLS} calls to stdout (csv, ")),
        "{err}"
    );
    // Some cells of every kind were compared, not only empty ones.
    let has = |col: &str, f: fn(&Want) -> bool| items.iter().any(|i| f(&want(i, col)));
    assert!(has("qa_score", |w| matches!(w, Want::Float(_))));
    assert!(has("cost_amount", |w| w == &Want::Text("1.105".into())));
    assert!(has("tags", |w| w
        == &Want::Text(
            "Interested|Asked about amount|Existing customer".into()
        )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_read_back_equals_the_api() {
    let (items, app) = seeded().await;
    let stopped = app.stop().await;
    let file = stopped.dir.path().join("calls.parquet");
    let path = file.display().to_string();
    let out = export_ok(&stopped, &["--format", "parquet", "--output", &path]).await;
    assert!(out.is_empty(), "nothing on stdout with --output");
    let reader = SerializedFileReader::new(std::fs::File::open(&file).expect("the file"))
        .expect("a Parquet file");
    let rows: Vec<_> = reader
        .get_row_iter(None)
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    assert_eq!(rows.len(), items.len());
    for (n, (row, item)) in rows.iter().zip(&items).enumerate() {
        let fields: Vec<(&String, &Field)> = row.get_column_iter().collect();
        let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, COLUMNS);
        for (name, field) in fields {
            let same = match (field, want(item, name)) {
                (Field::Null, Want::Null) => true,
                (Field::Str(s), Want::Text(t)) => *s == t,
                (Field::Long(a), Want::Int(b)) => *a == b,
                (Field::Double(a), Want::Float(b)) => *a == b,
                _ => false,
            };
            assert!(same, "row {n} {name}: {field:?} != {:?}", want(item, name));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ndjson_lines_are_the_whole_calls_without_receipts() {
    let (items, app) = seeded().await;
    let mut whole = Vec::new();
    for item in &items {
        let mut call = app
            .get_json(&format!("/api/v1/calls/{}", item["id"].as_str().unwrap()))
            .await;
        call.as_object_mut()
            .unwrap()
            .shift_remove("receipts")
            .expect("receipts");
        whole.push(call);
    }
    let stopped = app.stop().await;
    let out = export_ok(&stopped, &["--format", "ndjson"]).await;
    let text = String::from_utf8(out).expect("UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), whole.len());
    for (line, call) in lines.iter().zip(&whole) {
        let mut parsed: Value = serde_json::from_str(line).expect("a JSON line");
        // The recording's archive may have moved on (another download
        // attempt) between the API read and the export.
        let mut call = call.clone();
        for c in [&mut parsed, &mut call] {
            let r = &mut c["recording"];
            if r.is_object() {
                for k in ["attempts", "next_attempt_at", "error"] {
                    r[k] = Value::Null;
                }
            }
        }
        assert_eq!(parsed, call);
        // Key order too: the line is the API's document, byte for byte.
        assert_eq!(
            serde_json::to_string(&parsed).unwrap(),
            serde_json::to_string(&call).unwrap()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_narrow_the_export_to_the_apis_answer() {
    let app = spawn_app().await;
    seed(&app).await;
    let cases: [(&str, &[&str]); 5] = [
        ("vendor=laaffic", &["--vendor", "laaffic"]),
        (
            "since=2025-07-01T10:00:00Z&until=2025-07-02T00:00:00%2B08:00",
            &[
                "--since",
                "2025-07-01T10:00:00Z",
                "--until",
                "2025-07-02T00:00:00+08:00",
            ],
        ),
        (
            "vendor=aliyun&outcome=no_answer&task_id=T3",
            &[
                "--vendor",
                "aliyun",
                "--outcome",
                "no_answer",
                "--task-id",
                "T3",
            ],
        ),
        (
            "customer_number=13910000042",
            &["--customer-number", "13910000042"],
        ),
        (
            "direction=inbound&source=longlonglong-inbound",
            &["--direction", "inbound", "--source", "longlonglong-inbound"],
        ),
    ];
    let mut answers = Vec::new();
    for (query, _) in &cases {
        answers.push(walk(&app, query).await);
    }
    assert_eq!(answers[0].len(), LAAFFIC + 4);
    let stopped = app.stop().await;
    for ((query, flags), items) in cases.iter().zip(&answers) {
        assert!(
            !items.is_empty() && items.len() < CALLS,
            "{query} narrows: {}",
            items.len()
        );
        let mut args = vec!["--format", "csv"];
        args.extend_from_slice(flags);
        let out = export_ok(&stopped, &args).await;
        assert_csv_is(&read_csv(&out), items);
    }
    // Through the environment, as every flag.
    let mut cmd = Binary::command(stopped.dir.path());
    cmd.args(["--database", &stopped.database, "export"]);
    cmd.env("CALLHOOK_FORMAT", "csv")
        .env("CALLHOOK_VENDOR", "laaffic");
    let out = tokio::task::spawn_blocking(move || Binary::capture(&mut cmd))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_csv_is(&read_csv(&out.stdout), &answers[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn masked_exports_carry_no_customer_number() {
    let (items, app) = seeded().await;
    let stopped = app.stop().await;
    let numbers: Vec<String> = items
        .iter()
        .filter_map(|i| i["customer_number"].as_str().map(str::to_owned))
        .collect();
    assert!(numbers.len() > 1000, "numbers: {}", numbers.len());
    let file = stopped.dir.path().join("masked.parquet");
    let path = file.display().to_string();
    let csv = export_ok(&stopped, &["--format", "csv", "--mask-numbers"]).await;
    let ndjson = export_ok(&stopped, &["--format", "ndjson", "--mask-numbers"]).await;
    export_ok(
        &stopped,
        &["--format", "parquet", "--mask-numbers", "--output", &path],
    )
    .await;
    let parquet = std::fs::read(&file).unwrap();
    // Parquet pages are compressed: read the values back too.
    let reader = SerializedFileReader::new(bytes::Bytes::from(parquet.clone())).unwrap();
    let mut strings = String::new();
    for row in reader.get_row_iter(None).unwrap() {
        for (_, f) in row.unwrap().get_column_iter() {
            if let Field::Str(s) = f {
                strings.push_str(s);
                strings.push('\n');
            }
        }
    }
    let texts = [
        ("csv", String::from_utf8_lossy(&csv).into_owned()),
        ("ndjson", String::from_utf8_lossy(&ndjson).into_owned()),
        (
            "parquet bytes",
            String::from_utf8_lossy(&parquet).into_owned(),
        ),
        ("parquet values", strings),
    ];
    for n in &numbers {
        for (what, text) in &texts {
            assert!(!text.contains(n.as_str()), "{n} in the masked {what}");
        }
    }
    // The masked forms are there, and the business's line number is not masked.
    for (what, text) in &texts[..2] {
        assert!(text.contains("139****0042"), "{what}");
        assert!(text.contains("057100001111"), "{what}: line_number kept");
    }
    let ndjson = &texts[1].1;
    assert!(ndjson.contains(r#"call back 139****0042 tomorrow, \"urgent\""#));
    assert!(ndjson.contains("Yes, 628*****0007 speaking."), "transcript");
    assert_eq!(read_csv(&csv).len(), CALLS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_filter_exits_2_naming_the_flag() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = format!("sqlite://{}", dir.path().join("x.db").display());
    for (args, flag) in [
        (
            &["--since", "yesterday"][..],
            "--since: `yesterday` is not an RFC 3339 time",
        ),
        (&["--until", "2025-06-01"][..], "--until: `2025-06-01`"),
        (
            &["--vendor", "nokia"][..],
            "--vendor: unknown vendor `nokia`",
        ),
        (
            &[
                "--task-id",
                "1",
                "--since",
                "2025-06-02T00:00:00Z",
                "--until",
                "2025-06-01T00:00:00Z",
            ][..],
            "--since: must not be after until",
        ),
    ] {
        let mut all = vec!["--format", "csv"];
        all.extend_from_slice(args);
        let (code, out, err) = export(dir.path(), &db, &all).await;
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?}: {err}");
        assert!(out.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timezone_chooses_the_local_columns_zone_and_a_bad_one_is_named() {
    let app = spawn_app().await;
    app.push_ok(
        "aliyun-call-report",
        crate::support::sample("aliyun-call-report"),
    )
    .await;
    app.settle().await;
    let stopped = app.stop().await;
    let out = export_ok(&stopped, &["--format", "csv", "--timezone", "UTC"]).await;
    let mut reader = csv::Reader::from_reader(&out[..]);
    let header = reader.headers().unwrap().clone();
    let rec = reader.records().next().unwrap().unwrap();
    let col = |n: &str| rec[header.iter().position(|h| h == n).unwrap()].to_owned();
    assert_eq!(col("started_at"), "2025-06-01T01:59:45Z");
    assert_eq!(col("started_at_local"), "2025-06-01 01:59:45");
    assert_eq!(col("local_timezone"), "UTC");
    let (code, out, err) = export(
        stopped.dir.path(),
        &stopped.database,
        &["--format", "csv", "--timezone", "Mars/Base"],
    )
    .await;
    assert_ne!(code, Some(0));
    assert!(out.is_empty());
    assert!(
        err.contains("--timezone") && err.contains("Mars/Base"),
        "{err}"
    );
}
