//! `callhook copy`: moves an SQLite installation into PostgreSQL, table by
//! table in key order, 500 rows per transaction, then makes the rollups
//! from the copied calls. Receipts keep their packed bodies; PostgreSQL
//! numbers them in id order (its log order) and copied calls start with
//! `last_seq` 0 (applied in order). Rows already in the
//! destination are kept (`ON CONFLICT DO NOTHING`) and each table resumes
//! after the largest key it already holds, so an interrupted copy is run
//! again to finish. Stop the service writing the SQLite file first: a row
//! copied earlier is not copied again when it changes later.

use super::postgres::PgStore;
use super::StoreError;
use rusqlite::types::Value;
use rusqlite::Connection;
use std::path::Path;
use tokio_postgres::types::ToSql;

/// How a column is written to PostgreSQL.
#[derive(Clone, Copy)]
enum Col {
    Text,
    /// A call document (`doc_codec`): packed BLOB or older TEXT on SQLite,
    /// packed BYTEA on PostgreSQL.
    Doc,
    Int8,
    Int4,
    Int2,
    Float,
    Bytes,
}

/// One table: its name, key columns (the copy order), and columns.
struct Table {
    name: &'static str,
    key: &'static [&'static str],
    cols: &'static [(&'static str, Col)],
}

use Col::*;

const TABLES: &[Table] = &[
    Table {
        name: "receipts",
        key: &["id"],
        cols: &[
            ("id", Text),
            ("source", Text),
            ("kind", Text),
            ("received_at", Int8),
            ("remote_addr", Text),
            ("sha256", Text),
            ("status", Text),
            ("record_count", Int8),
            ("errors", Text),
            ("warnings", Text),
            ("replay_count", Int8),
            ("replayed_at", Int8),
            ("body", Bytes),
            ("body_codec", Int2),
            ("body_bytes", Int8),
        ],
    },
    Table {
        name: "calls",
        key: &["id"],
        cols: &[
            ("id", Text),
            ("vendor", Text),
            ("vendor_call_id", Text),
            ("source", Text),
            ("direction", Text),
            ("outcome", Text),
            ("task_id", Text),
            ("out_id", Text),
            ("customer_number", Text),
            ("started_at", Int8),
            ("talk_seconds", Int8),
            ("cost_amount", Text),
            ("cost_currency", Text),
            ("qa_score", Float),
            ("doc", Doc),
        ],
    },
    // The search text (`storage/search.rs`), after its calls (PostgreSQL's
    // `call_text` refers to them).
    Table {
        name: "call_text",
        key: &["call_id"],
        cols: &[("call_id", Text), ("body", Text)],
    },
    Table {
        name: "call_receipts",
        key: &["call_id", "receipt_id"],
        cols: &[("call_id", Text), ("receipt_id", Text)],
    },
    Table {
        name: "events",
        key: &["seq"],
        cols: &[
            ("seq", Int8),
            ("id", Text),
            ("type", Text),
            ("vendor", Text),
            ("call_id", Text),
            ("created_at", Int8),
            ("payload", Text),
        ],
    },
    Table {
        name: "deliveries",
        key: &["id"],
        cols: &[
            ("id", Text),
            ("target", Text),
            ("event_seq", Int8),
            ("call_id", Text),
            ("status", Text),
            ("attempts", Int4),
            ("created_at", Int8),
            ("next_attempt_at", Int8),
            ("lease_until", Int8),
            ("last_attempt_at", Int8),
            ("last_response_status", Int4),
            ("last_error", Text),
            ("delivered_at", Int8),
        ],
    },
    Table {
        name: "targets",
        key: &["name"],
        cols: &[
            ("name", Text),
            ("disabled_at", Int8),
            ("disabled_reason", Text),
        ],
    },
    // Alert firings (`[[alerts]]`), so a rule firing before the move does
    // not fire again after it.
    Table {
        name: "alerts",
        key: &["id"],
        cols: &[
            ("id", Text),
            ("rule", Text),
            ("kind", Text),
            ("state", Text),
            ("value", Float),
            ("threshold", Float),
            ("message", Text),
            ("fired_at", Int8),
            ("resolved_at", Int8),
            ("fired_channels", Text),
            ("resolved_channels", Text),
        ],
    },
    // The recordings archive's rows (`storage/recordings.rs`); the files
    // stay where `[recordings]` keeps them (docs/recordings.md).
    Table {
        name: "recordings",
        key: &["call_id", "link"],
        cols: &[
            ("call_id", Text),
            ("link", Text),
            ("url", Text),
            ("vendor", Text),
            ("source", Text),
            ("status", Text),
            ("attempts", Int4),
            ("received_at", Int8),
            ("expires_at", Int8),
            ("next_attempt_at", Int8),
            ("lease_until", Int8),
            ("last_attempt_at", Int8),
            ("error", Text),
            ("size_bytes", Int8),
            ("sha256", Text),
            ("content_type", Text),
            ("archived_at", Int8),
        ],
    },
    Table {
        name: "recording_orphans",
        key: &["sha256"],
        cols: &[("sha256", Text)],
    },
];

/// Rows per transaction.
const BATCH: usize = 500;

/// Progress of a copy, reported per table.
pub trait Progress {
    /// `table` starts with `todo` rows left to copy.
    fn table(&mut self, table: &str, todo: u64);
    /// `rows` more rows of the current table were copied.
    fn copied(&mut self, rows: u64);
}

fn param(v: Value, col: Col) -> Result<Box<dyn ToSql + Sync + Send>, StoreError> {
    let wrong = |v: &Value| StoreError::corrupt("source row", format!("unexpected value {v:?}"));
    Ok(match (v, col) {
        (Value::Null, Text) => Box::new(None::<String>),
        (Value::Null, Int8) => Box::new(None::<i64>),
        (Value::Null, Int4) => Box::new(None::<i32>),
        (Value::Null, Int2) => Box::new(None::<i16>),
        (Value::Null, Float) => Box::new(None::<f64>),
        (Value::Text(t), Text) => Box::new(t),
        // Packed the same way on both sides; older text documents are packed now.
        (Value::Text(t), Doc) => Box::new(super::doc_codec::pack_doc(&t).into_bytes()),
        (Value::Blob(b), Doc) => Box::new(b),
        (Value::Integer(i), Int8) => Box::new(i),
        (Value::Integer(i), Int4) => {
            Box::new(i32::try_from(i).map_err(|_| wrong(&Value::Integer(i)))?)
        }
        (Value::Integer(i), Int2) => {
            Box::new(i16::try_from(i).map_err(|_| wrong(&Value::Integer(i)))?)
        }
        (Value::Real(f), Float) => Box::new(f),
        (Value::Integer(i), Float) => Box::new(i as f64),
        (Value::Blob(b), Bytes) => Box::new(b),
        (v, _) => return Err(wrong(&v)),
    })
}

/// Copies every table of the SQLite file `from` into the PostgreSQL
/// database `to` (migrated first); returns the rows copied.
///
/// Errors: [`StoreError::Unavailable`] naming the side that failed;
/// [`StoreError::Corrupt`] for a value of the wrong type in the source.
pub async fn sqlite_to_postgres(
    from: &Path,
    to: &str,
    progress: &mut dyn Progress,
) -> Result<u64, StoreError> {
    let source = format!("source {}", from.display());
    let src = Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|src| {
            let version: i64 = src.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            Ok((src, version))
        });
    let (src, version) = src.map_err(|e| StoreError::from(e).context(&source))?;
    if version as usize != super::sqlite::schema::latest() {
        return Err(StoreError::unavailable(format!(
            "{source}: schema version {version}, this callhook writes {}: run `callhook migrate` on it first",
            super::sqlite::schema::latest()
        )));
    }
    PgStore::migrate(to).await?;
    let (mut dst, _) = super::postgres::connect(to).await?;
    let mut total = 0;
    for t in TABLES {
        total += copy_table(&src, &mut dst, t, progress)
            .await
            .map_err(|e| e.context(format!("table {}", t.name)))?;
    }
    dst.batch_execute(
        "SELECT setval('events_seq_seq', greatest((SELECT max(seq) FROM events), 1))",
    )
    .await?;
    // Rollups are derived: made again from the calls just copied.
    let tx = dst.transaction().await?;
    super::postgres::rollups::rebuild(&tx).await?;
    tx.commit().await?;
    Ok(total)
}

async fn copy_table(
    src: &Connection,
    dst: &mut tokio_postgres::Client,
    t: &Table,
    progress: &mut dyn Progress,
) -> Result<u64, StoreError> {
    let key = t.key.join(", ");
    let names: Vec<&str> = t.cols.iter().map(|(n, _)| *n).collect();
    let list = names.join(", ");
    // Resume after the largest key the destination holds.
    let newest_first = t
        .key
        .iter()
        .map(|k| format!("{k} DESC"))
        .collect::<Vec<_>>()
        .join(", ");
    let last = dst
        .query_opt(
            &format!(
                "SELECT {key} FROM {} ORDER BY {newest_first} LIMIT 1",
                t.name
            ),
            &[],
        )
        .await?;
    let mut after: Option<Vec<Value>> = last.map(|r| {
        (0..t.key.len())
            .map(
                |i| match t.cols.iter().find(|(n, _)| *n == t.key[i]).map(|(_, c)| *c) {
                    Some(Int8) => Value::Integer(r.get::<_, i64>(i)),
                    _ => Value::Text(r.get::<_, String>(i)),
                },
            )
            .collect()
    });
    let marks = vec!["?"; t.key.len()].join(", ");
    let count_sql = match after {
        Some(_) => format!("SELECT count(*) FROM {} WHERE ({key}) > ({marks})", t.name),
        None => format!("SELECT count(*) FROM {}", t.name),
    };
    let start = after.clone().unwrap_or_default();
    let todo: i64 = src.query_row(&count_sql, rusqlite::params_from_iter(start.iter()), |r| {
        r.get(0)
    })?;
    progress.table(t.name, todo as u64);
    let mut copied = 0u64;
    loop {
        let (sql, params) = match &after {
            Some(k) => (
                format!(
                    "SELECT {list} FROM {} WHERE ({key}) > ({marks}) ORDER BY {key} LIMIT {BATCH}",
                    t.name
                ),
                k.clone(),
            ),
            None => (
                format!("SELECT {list} FROM {} ORDER BY {key} LIMIT {BATCH}", t.name),
                vec![],
            ),
        };
        let mut stmt = src.prepare_cached(&sql)?;
        let rows: Vec<Vec<Value>> = stmt
            .query_map(rusqlite::params_from_iter(params.iter()), |r| {
                (0..names.len()).map(|i| r.get::<_, Value>(i)).collect()
            })?
            .collect::<Result<_, _>>()?;
        if rows.is_empty() {
            return Ok(copied);
        }
        let key_at: Vec<usize> = t
            .key
            .iter()
            .map(|k| names.iter().position(|n| n == k).unwrap_or(0))
            .collect();
        after = rows
            .last()
            .map(|r| key_at.iter().map(|i| r[*i].clone()).collect());
        let n = rows.len();
        let mut boxed: Vec<Box<dyn ToSql + Sync + Send>> = Vec::with_capacity(n * names.len());
        let mut tuples = Vec::with_capacity(n);
        for row in rows {
            let base = boxed.len();
            tuples.push(format!(
                "({})",
                (1..=names.len())
                    .map(|i| format!("${}", base + i))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            for (v, (_, col)) in row.into_iter().zip(t.cols) {
                boxed.push(param(v, *col)?);
            }
        }
        let insert = format!(
            "INSERT INTO {} ({list}) VALUES {} ON CONFLICT DO NOTHING",
            t.name,
            tuples.join(", ")
        );
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref() as _).collect();
        let tx = dst.transaction().await?;
        tx.execute(&insert, &refs).await?;
        tx.commit().await?;
        copied += n as u64;
        progress.copied(n as u64);
    }
}
