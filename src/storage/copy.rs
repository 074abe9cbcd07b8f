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

/// Copies table `t` after the largest key `dst` already holds, [`BATCH`]
/// rows per transaction; returns the rows copied.
async fn copy_table(
    src: &Connection,
    dst: &mut tokio_postgres::Client,
    t: &Table,
    progress: &mut dyn Progress,
) -> Result<u64, StoreError> {
    let mut after = resume_key(dst, t).await?;
    progress.table(t.name, count_left(src, t, after.as_deref())?);
    let mut copied = 0u64;
    loop {
        let rows = read_batch(src, t, after.as_deref())?;
        let Some(last) = rows.last() else {
            return Ok(copied);
        };
        after = Some(t.key_of(last));
        let n = insert_batch(dst, t, rows).await?;
        copied += n;
        progress.copied(n);
    }
}

impl Table {
    /// The key columns, comma-separated.
    fn key_list(&self) -> String {
        self.key.join(", ")
    }

    /// Every column, comma-separated, in [`Table::cols`] order.
    fn col_list(&self) -> String {
        self.cols
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// One `?` per key column, comma-separated (SQLite placeholders).
    fn key_marks(&self) -> String {
        vec!["?"; self.key.len()].join(", ")
    }

    /// The key values of `row` (a row of every column, in order).
    fn key_of(&self, row: &[Value]) -> Vec<Value> {
        self.key
            .iter()
            .map(|k| {
                let at = self.cols.iter().position(|(n, _)| n == k).unwrap_or(0);
                row[at].clone()
            })
            .collect()
    }
}

/// The largest key of `t` that `dst` already holds (where the copy
/// resumes), or `None` when the table is empty there.
async fn resume_key(
    dst: &tokio_postgres::Client,
    t: &Table,
) -> Result<Option<Vec<Value>>, StoreError> {
    let newest_first = t
        .key
        .iter()
        .map(|k| format!("{k} DESC"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {newest_first} LIMIT 1",
        t.key_list(),
        t.name
    );
    let last = dst.query_opt(&sql, &[]).await?;
    Ok(last.map(|r| {
        t.key
            .iter()
            .enumerate()
            .map(
                |(i, k)| match t.cols.iter().find(|(n, _)| n == k).map(|(_, c)| *c) {
                    Some(Int8) => Value::Integer(r.get::<_, i64>(i)),
                    _ => Value::Text(r.get::<_, String>(i)),
                },
            )
            .collect()
    }))
}

/// How many rows of `t` in `src` come after the key `after` (all of them
/// without one).
fn count_left(src: &Connection, t: &Table, after: Option<&[Value]>) -> Result<u64, StoreError> {
    let sql = match after {
        Some(_) => format!(
            "SELECT count(*) FROM {} WHERE ({}) > ({})",
            t.name,
            t.key_list(),
            t.key_marks()
        ),
        None => format!("SELECT count(*) FROM {}", t.name),
    };
    let params = rusqlite::params_from_iter(after.unwrap_or_default().iter());
    let todo: i64 = src.query_row(&sql, params, |r| r.get(0))?;
    Ok(todo as u64)
}

/// The SQLite query of the next [`BATCH`] rows of `t` in key order, after
/// the key `after` when there is one (its values bound to the `?`s).
fn select_sql(t: &Table, after: bool) -> String {
    let key = t.key_list();
    let range = if after {
        format!(" WHERE ({key}) > ({})", t.key_marks())
    } else {
        String::new()
    };
    format!(
        "SELECT {} FROM {}{range} ORDER BY {key} LIMIT {BATCH}",
        t.col_list(),
        t.name
    )
}

/// The next [`BATCH`] rows of `t` in `src` after the key `after`, every
/// column in [`Table::cols`] order; empty when the table is done.
fn read_batch(
    src: &Connection,
    t: &Table,
    after: Option<&[Value]>,
) -> Result<Vec<Vec<Value>>, StoreError> {
    let mut stmt = src.prepare_cached(&select_sql(t, after.is_some()))?;
    let params = rusqlite::params_from_iter(after.unwrap_or_default().iter());
    let rows = stmt
        .query_map(params, |r| {
            (0..t.cols.len()).map(|i| r.get::<_, Value>(i)).collect()
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// `INSERT INTO t (…) VALUES ($1, …), (…) ON CONFLICT DO NOTHING` for
/// `rows` rows of every column of `t`.
fn insert_sql(t: &Table, rows: usize) -> String {
    let width = t.cols.len();
    let tuples = (0..rows)
        .map(|row| {
            let marks = (1..=width)
                .map(|i| format!("${}", row * width + i))
                .collect::<Vec<_>>()
                .join(", ");
            format!("({marks})")
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO {} ({}) VALUES {tuples} ON CONFLICT DO NOTHING",
        t.name,
        t.col_list()
    )
}

/// Inserts `rows` of `t` into `dst` in one transaction (rows already there
/// are kept); returns how many were sent.
async fn insert_batch(
    dst: &mut tokio_postgres::Client,
    t: &Table,
    rows: Vec<Vec<Value>>,
) -> Result<u64, StoreError> {
    let n = rows.len();
    let insert = insert_sql(t, n);
    let mut boxed: Vec<Box<dyn ToSql + Sync + Send>> = Vec::with_capacity(n * t.cols.len());
    for row in rows {
        for (v, (_, col)) in row.into_iter().zip(t.cols) {
            boxed.push(param(v, *col)?);
        }
    }
    let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref() as _).collect();
    let tx = dst.transaction().await?;
    tx.execute(&insert, &refs).await?;
    tx.commit().await?;
    Ok(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAIR: Table = Table {
        name: "links",
        key: &["b", "a"],
        cols: &[("a", Text), ("b", Int8), ("c", Text)],
    };

    #[test]
    fn a_batch_is_selected_in_key_order_after_the_last_key() {
        assert_eq!(
            select_sql(&PAIR, false),
            "SELECT a, b, c FROM links ORDER BY b, a LIMIT 500"
        );
        assert_eq!(
            select_sql(&PAIR, true),
            "SELECT a, b, c FROM links WHERE (b, a) > (?, ?) ORDER BY b, a LIMIT 500"
        );
    }

    #[test]
    fn an_insert_numbers_the_parameters_row_by_row() {
        assert_eq!(
            insert_sql(&PAIR, 2),
            "INSERT INTO links (a, b, c) VALUES ($1, $2, $3), ($4, $5, $6) ON CONFLICT DO NOTHING"
        );
    }

    #[test]
    fn the_key_of_a_row_follows_the_key_columns() {
        let row = [
            Value::Text("x".into()),
            Value::Integer(7),
            Value::Text("y".into()),
        ];
        assert_eq!(
            PAIR.key_of(&row),
            vec![Value::Integer(7), Value::Text("x".into())]
        );
    }
}
