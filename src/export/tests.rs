//! [`export_stream_with`] over an SQLite store, with small pages and row
//! groups so several of each are written, read back with the `csv` and
//! `parquet` crates' readers.

use super::columns::{cell_text, row, Cell, COLUMNS};
use super::*;
use crate::domain::{CallUpdate, Direction, Money, Outcome, SourceKind, Vendor};
use crate::storage::sqlite::SqliteStore;
use crate::storage::{BodyResult, IngestBatch, NewReceipt};
use ::parquet::file::reader::{FileReader, SerializedFileReader};
use ::parquet::record::Field;
use futures::StreamExt;
use jiff::Timestamp;
use serde_json::json;

const CALLS: usize = 25;
const SMALL: Limits = Limits {
    page_calls: 7,
    row_group_rows: 10,
};

/// Call `i`: every third without a number, cost or times; two share each
/// start time so the id orders them.
fn update(i: usize) -> CallUpdate {
    let mut u = CallUpdate::new(Vendor::Itnio, format!("X-{i:03}"), Direction::Outbound);
    u.set.outcome = Some(Outcome::Answered);
    if i % 3 != 0 {
        let number = format!("1380000{i:04}");
        u.vendor_fields
            .insert("note".into(), json!(format!("dialled {number}")));
        u.set.customer_number = Some(number);
        u.set.talk_seconds = Some(i as i64);
        u.set.cost = Some(Money::new(
            format!("0.0{i}").parse().expect("decimal"),
            "USD",
        ));
        u.set.tags = Some(vec!["a".into(), format!("t{i}")]);
        let start = Timestamp::from_second(1_750_000_000 + (i / 2) as i64 * 60);
        u.set.originated_at = Some(start.expect("a valid time"));
    }
    u
}

async fn store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("e.db")).expect("store opens");
    let batch = IngestBatch {
        receipt: NewReceipt {
            id: "r1".into(),
            source: "itnio-call-record".into(),
            kind: SourceKind::ItnioCallRecord,
            received_at: Timestamp::from_second(1_760_000_000).expect("a valid time"),
            remote_addr: "127.0.0.1:1".into(),
            body: "{}".into(),
        },
        replay: false,
        result: BodyResult::Parsed {
            record_count: CALLS,
            updates: (0..CALLS).map(update).collect(),
            errors: vec![],
            warnings: vec![],
        },
        deadline: None,
    };
    store.ingest(batch).await.expect("ingest");
    (dir, Arc::new(store))
}

/// The calls as listed, in list order.
async fn listed(store: &Arc<dyn Store>) -> Vec<Call> {
    let page = PageRequest {
        limit: 1000,
        cursor: None,
    };
    let calls = store.list_calls(&CallFilter::default(), &page).await;
    calls.expect("list").items
}

/// The whole export and the `calls` of each chunk.
async fn export(store: &Arc<dyn Store>, format: Format, mask: bool) -> (Vec<u8>, Vec<u64>) {
    let opts = ExportOptions {
        format,
        mask_numbers: mask,
        timezone: jiff::tz::TimeZone::UTC,
    };
    let mut s = Box::pin(export_stream_with(
        store.clone(),
        CallFilter::default(),
        opts,
        SMALL,
    ));
    let (mut bytes, mut counts) = (Vec::new(), Vec::new());
    while let Some(chunk) = s.next().await {
        let chunk = chunk.expect("chunk");
        bytes.extend_from_slice(&chunk.bytes);
        counts.push(chunk.calls);
    }
    (bytes, counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_pages_through_every_call_in_list_order() {
    let (_dir, store) = store().await;
    let calls = listed(&store).await;
    assert_eq!(calls.len(), CALLS);
    let (bytes, counts) = export(&store, Format::Csv, false).await;
    // 25 calls in pages of 7: four chunks.
    assert_eq!(counts, [7, 14, 21, 25]);
    let mut reader = ::csv::Reader::from_reader(bytes.as_slice());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(header, columns::names().collect::<Vec<_>>());
    let records: Vec<::csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert_eq!(records.len(), CALLS);
    for (rec, call) in records.iter().zip(&calls) {
        let want: Vec<String> = row(call, None, &jiff::tz::TimeZone::UTC)
            .iter()
            .map(|c| cell_text(c).into())
            .collect();
        assert_eq!(
            rec.iter().collect::<Vec<_>>(),
            want,
            "{}",
            call.vendor_call_id
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_writes_a_row_group_per_ten_calls() {
    let (_dir, store) = store().await;
    let calls = listed(&store).await;
    let (bytes, counts) = export(&store, Format::Parquet, false).await;
    assert_eq!(counts.last(), Some(&(CALLS as u64)));
    let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).expect("a Parquet file");
    let groups: Vec<i64> = reader
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows())
        .collect();
    assert_eq!(groups, [10, 10, 5]);
    let rows: Vec<_> = reader
        .get_row_iter(None)
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    assert_eq!(rows.len(), CALLS);
    for (got, call) in rows.iter().zip(&calls) {
        let want = row(call, None, &jiff::tz::TimeZone::UTC);
        let fields: Vec<(&String, &Field)> = got.get_column_iter().collect();
        assert_eq!(fields.len(), COLUMNS.len());
        for ((name, field), (col, cell)) in fields.iter().zip(COLUMNS.iter().zip(&want)) {
            assert_eq!(name.as_str(), col.name);
            let same = match (field, cell) {
                (Field::Null, Cell::Null) => true,
                (Field::Str(s), Cell::Text(t)) => s == t,
                (Field::Long(a), Cell::Int(b)) => a == b,
                (Field::Double(a), Cell::Float(b)) => a == b,
                _ => false,
            };
            assert!(
                same,
                "{} of {}: {field:?} != {cell:?}",
                col.name, call.vendor_call_id
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ndjson_is_each_whole_call_and_masking_hides_the_numbers() {
    let (_dir, store) = store().await;
    let calls = listed(&store).await;
    let (bytes, _) = export(&store, Format::Ndjson, false).await;
    let text = String::from_utf8(bytes).expect("UTF-8");
    let want: Vec<String> = calls
        .iter()
        .map(|c| serde_json::to_string(c).expect("json"))
        .collect();
    assert_eq!(text.lines().collect::<Vec<_>>(), want);
    assert!(text.ends_with('\n'));

    let numbers: Vec<&str> = calls
        .iter()
        .filter_map(|c| c.customer_number.as_deref())
        .collect();
    assert_eq!(numbers.len(), 16);
    for format in [Format::Csv, Format::Ndjson, Format::Parquet] {
        let (bytes, _) = export(&store, format, true).await;
        let text = String::from_utf8_lossy(&bytes);
        for n in &numbers {
            assert!(!text.contains(n), "{format}: {n} in the masked export");
        }
        if format == Format::Ndjson {
            assert!(text.contains("\"dialled 138****0001\""), "{text}");
        }
    }
}

#[test]
fn formats_parse_and_name_their_files() {
    assert_eq!("parquet".parse::<Format>(), Ok(Format::Parquet));
    let e = "xlsx".parse::<Format>().unwrap_err();
    assert!(e.contains("csv, ndjson, parquet"), "{e}");
    assert_eq!(Format::Csv.content_type(), "text/csv; charset=utf-8");
    assert_eq!(Format::Ndjson.extension(), "ndjson");
    assert_eq!(Format::Parquet.to_string(), "parquet");
}
