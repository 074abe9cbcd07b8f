//! The migration that adds full-text search fills `call_text` for the
//! calls already stored, on both backends, and PostgreSQL's `pg_trgm` index
//! answers a 3-character Chinese query on this server's locale.

use crate::domain::{call_id_for, Call, Vendor};
use crate::storage::doc_codec::pack_doc;
use crate::storage::search::index_text;
use crate::storage::{postgres, sqlite};

/// A stored call with a Chinese transcript, as its JSON document.
fn call() -> Call {
    serde_json::from_value(serde_json::json!({
        "id": call_id_for(Vendor::Itnio, "old-1"), "vendor": "itnio", "source": "itnio-call-record",
        "vendor_call_id": "old-1", "direction": "outbound", "outcome": "answered",
        "vendor_status": "ANSWERED", "hangup_by": "unknown", "started_at": "2025-06-01T00:00:00Z",
        "tags": ["VIP"], "turns": [{"speaker": "customer", "text": "我想申请退款，谢谢。"}],
        "analyses": [], "vendor_fields": {},
        "first_received_at": "2025-06-01T00:00:00Z", "updated_at": "2025-06-01T00:00:00Z"
    }))
    .unwrap()
}

/// How many migrations come before the search one.
fn before_search(all: &[&str]) -> usize {
    all.iter()
        .position(|m| m.trim_start().starts_with(sqlite::schema::FILL_CALL_TEXT))
        .expect("the search migration")
}

#[test]
fn sqlite_migration_fills_the_text_of_stored_calls() {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    sqlite::schema::configure(&conn).unwrap();
    let all = sqlite::schema::MIGRATIONS;
    let n = before_search(all);
    for sql in &all[..n] {
        conn.execute_batch(sql).unwrap();
    }
    conn.pragma_update(None, "user_version", n as i64).unwrap();
    let c = call();
    let doc = pack_doc(&serde_json::to_string(&c).unwrap());
    conn.execute(
        "INSERT INTO calls (id, vendor, vendor_call_id, source, direction, outcome, started_at, doc)
         VALUES (?1, 'itnio', 'old-1', 'itnio-call-record', 'outbound', 'answered', 0, ?2)",
        rusqlite::params![c.id, doc],
    )
    .unwrap();
    assert!(sqlite::schema::migrate(&mut conn).unwrap() >= 1);
    let body: String = conn
        .query_row(
            "SELECT body FROM call_text WHERE call_id = ?1",
            [&c.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(body, index_text(&c));
    let found: String = conn
        .query_row(
            "SELECT t.call_id FROM call_text t JOIN call_fts f ON f.rowid = t.id
             WHERE call_fts MATCH '\"申请退\"'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(found, c.id);
    // Deleting the call deletes its text and its index entries.
    conn.execute("DELETE FROM calls", []).unwrap();
    let left: i64 = conn
        .query_row(
            "SELECT (SELECT count(*) FROM call_text) + (SELECT count(*) FROM call_fts WHERE call_fts MATCH 'vip')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: CALLHOOK_TEST_POSTGRES_URL"]
async fn postgres_migration_fills_the_text_and_the_index_answers_chinese() {
    let db = postgres::testdb::fresh().await;
    let (mut client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let all = postgres::schema::MIGRATIONS;
    let n = before_search(all);
    client
        .batch_execute("CREATE TABLE callhook_schema (version INTEGER NOT NULL)")
        .await
        .unwrap();
    for (i, sql) in all[..n].iter().enumerate() {
        client.batch_execute(sql).await.unwrap();
        client
            .execute(
                "INSERT INTO callhook_schema VALUES ($1)",
                &[&(i as i32 + 1)],
            )
            .await
            .unwrap();
    }
    let c = call();
    let doc = pack_doc(&serde_json::to_string(&c).unwrap()).into_bytes();
    client
        .execute(
            "INSERT INTO calls (id, vendor, vendor_call_id, source, direction, outcome, started_at, doc)
             VALUES ($1, 'itnio', 'old-1', 'itnio-call-record', 'outbound', 'answered', 0, $2)",
            &[&c.id, &doc],
        )
        .await
        .unwrap();
    assert!(postgres::schema::migrate(&mut client).await.unwrap() >= 1);
    let body: String = client
        .query_one("SELECT body FROM call_text WHERE call_id = $1", &[&c.id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(body, index_text(&c));
    // The index can answer a 3-character Chinese pattern (pg_trgm keeps
    // CJK characters under this database's locale).
    client
        .batch_execute("SET enable_seqscan = off")
        .await
        .unwrap();
    let plan: Vec<String> = client
        .query(
            "EXPLAIN SELECT call_id FROM call_text WHERE body LIKE '%申请退%'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        plan.iter()
            .any(|l| l.contains("Bitmap Index Scan on call_text_trgm")),
        "{plan:?}"
    );
    let hits = client
        .query(
            "SELECT call_id FROM call_text WHERE body LIKE '%申请退%'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    client.execute("DELETE FROM calls", &[]).await.unwrap();
    let left: i64 = client
        .query_one("SELECT count(*) FROM call_text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "the text goes with its call");
}
