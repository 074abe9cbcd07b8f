//! Against the PostgreSQL named by `CALLHOOK_TEST_POSTGRES_URL`, each test
//! in a database of its own, dropped at its end. Marked ignored (run with
//! `--include-ignored`, as CI does), so a run without the server says so.

use super::testdb::fresh;
use super::*;
use crate::domain::EventType;
use crate::storage::test_batch;

fn crm() -> Vec<Target> {
    vec![Target {
        name: "crm".into(),
        events: EventType::ALL.to_vec(),
        vendors: vec![],
    }]
}

async fn count(store: &PgStore, sql: &str) -> i64 {
    let c = store.pool.get().await.unwrap();
    c.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: CALLHOOK_TEST_POSTGRES_URL"]
async fn instances_starting_together_migrate_once() {
    let db = fresh().await;
    let url = db.url.clone();
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PgStore::open(&url, &Default::default(), vec![]).await })
        })
        .collect();
    let mut stores = Vec::new();
    for o in opens {
        stores.push(o.await.unwrap().expect("every instance starts"));
    }
    let versions = count(&stores[0], "SELECT count(*) FROM callhook_schema").await;
    assert_eq!(
        versions,
        schema::latest() as i64,
        "each migration applied once"
    );
    stores[0].ping().await.unwrap();
    drop(stores);
    drop(db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: CALLHOOK_TEST_POSTGRES_URL"]
async fn the_same_push_raced_through_two_instances_makes_one_call_and_one_created_event() {
    let db = fresh().await;
    let url = db.url.clone();
    let a = Arc::new(
        PgStore::open(&url, &Default::default(), crm())
            .await
            .unwrap(),
    );
    let b = Arc::new(
        PgStore::open(&url, &Default::default(), crm())
            .await
            .unwrap(),
    );
    let calls: Vec<String> = (0..50).map(|i| format!("race-{i}")).collect();
    let mut tasks = Vec::new();
    for round in 0..20 {
        for (k, store) in [&a, &b].into_iter().enumerate() {
            let store = store.clone();
            // Half the pushes name the calls in reverse order: no deadlock.
            let mut these: Vec<(&str, i64)> = calls.iter().map(|c| (c.as_str(), 60)).collect();
            if k == 1 {
                these.reverse();
            }
            let batch = test_batch(&format!("r{round}-{k}"), &these, false);
            tasks.push(tokio::spawn(async move { store.ingest(batch).await }));
        }
    }
    for t in tasks {
        let o = t.await.unwrap().expect("every push is stored");
        assert!(o.status.is_some(), "{o:?}");
    }
    assert_eq!(count(&a, "SELECT count(*) FROM calls").await, 50);
    assert_eq!(count(&a, "SELECT count(*) FROM receipts").await, 40);
    assert_eq!(
        count(
            &a,
            "SELECT count(*) FROM events WHERE type = 'call.created'"
        )
        .await,
        50,
        "one call.created per call"
    );
    assert_eq!(
        count(&a, "SELECT count(*) FROM events").await,
        50,
        "the duplicates made no event"
    );
    assert_eq!(
        count(&a, "SELECT count(*) FROM deliveries WHERE target = 'crm'").await,
        50
    );
    assert_eq!(
        count(&a, "SELECT count(*) FROM call_receipts").await,
        50 * 40
    );
    drop((a, b));
    drop(db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: CALLHOOK_TEST_POSTGRES_URL"]
async fn an_update_merges_and_a_replay_rewrites_the_receipt() {
    let db = fresh().await;
    let url = db.url.clone();
    let store = PgStore::open(&url, &Default::default(), crm())
        .await
        .unwrap();
    let first = store
        .ingest(test_batch("r1", &[("a", 10)], false))
        .await
        .unwrap();
    assert_eq!(
        (first.created, first.status.map(|s| s.as_str())),
        (1, Some("accepted"))
    );
    let second = store
        .ingest(test_batch("r2", &[("a", 20)], false))
        .await
        .unwrap();
    assert_eq!(second.updated, 1);
    let replay = store
        .ingest(test_batch("r2", &[("a", 20)], true))
        .await
        .unwrap();
    // A replay re-projects: r2's status is what it is in log order (it
    // updated the call r1 made); the rebuilt call equals the stored one, so
    // the replay changed nothing.
    assert_eq!(
        (replay.unchanged, replay.status.map(|s| s.as_str())),
        (1, Some("accepted"))
    );
    let c = store.pool.get().await.unwrap();
    let packed: Vec<u8> = c
        .query_one("SELECT doc FROM calls", &[])
        .await
        .unwrap()
        .get(0);
    let doc = crate::storage::doc_codec::json_of_bytes(&packed).unwrap();
    let call: crate::domain::Call = serde_json::from_str(&doc).unwrap();
    assert_eq!(call.talk_seconds, Some(20));
    let row = c
        .query_one(
            "SELECT status, replay_count FROM receipts WHERE id = 'r2'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, i64>(1)),
        ("accepted".into(), 1)
    );
    let types: Vec<String> = c
        .query("SELECT type FROM events ORDER BY seq", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(types, ["call.created", "call.updated"]);
    drop((c, store));
    drop(db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: CALLHOOK_TEST_POSTGRES_URL"]
async fn a_purge_waits_its_turn_and_folded_rollups_of_purged_days_go() {
    let db = fresh().await;
    let store = PgStore::open(&db.url, &Default::default(), crm())
        .await
        .unwrap();
    // test_batch's calls start at their receipt's time, 2025-06-15 15:06:40 UTC.
    store
        .ingest(test_batch("r1", &[("a", 30), ("b", 700)], false))
        .await
        .unwrap();
    let cutoff: jiff::Timestamp = "2025-06-16T00:00:00Z".parse().unwrap();
    // Another instance purging holds the lock: this one does nothing.
    let (other, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    other
        .execute("SELECT pg_advisory_lock($1)", &[&purge::PURGE_LOCK])
        .await
        .unwrap();
    assert_eq!(store.purge(cutoff, 10).await.unwrap(), PurgeBatch::Busy);
    assert_eq!(count(&store, "SELECT count(*) FROM calls").await, 2);
    other
        .execute("SELECT pg_advisory_unlock($1)", &[&purge::PURGE_LOCK])
        .await
        .unwrap();
    let want = PurgeCounts {
        calls: 2,
        receipts: 1,
        events: 0,
    };
    assert_eq!(
        store.purge(cutoff, 10).await.unwrap(),
        PurgeBatch::Deleted(want),
        "the pending events stay"
    );
    // The calls' sums were added to a random shard and taken out of shard
    // 0; folded together they are zeros, and the rows go.
    store.compact_rollups("2025-06-16").await.unwrap();
    for level in &crate::storage::rollup::LEVELS {
        let sql = format!("SELECT count(*) FROM {}", level.table);
        assert_eq!(count(&store, &sql).await, 0, "{}", level.table);
    }
    assert_eq!(count(&store, "SELECT count(*) FROM events").await, 2);
    drop(store);
    drop(db);
}

/// What `callhook serve` prints of a store that does not open (`{:#}` of
/// the error, with its sources).
fn as_printed(e: StoreError) -> String {
    format!("{:#}", anyhow::Error::from(e))
}

#[tokio::test]
async fn a_refused_connection_names_the_server_and_the_reason() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("postgres://postgres@127.0.0.1:{port}/callhook");
    let Err(e) = PgStore::open(&url, &Default::default(), vec![]).await else {
        panic!("opened a server that is not there");
    };
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    let printed = as_printed(e);
    assert!(
        printed.starts_with(&format!(
            "storage unavailable: PostgreSQL at 127.0.0.1:{port}: "
        )),
        "{printed}"
    );
    assert!(
        printed.to_lowercase().contains("connection refused"),
        "{printed}"
    );
    let Err(e) = PgStore::migrate(&url).await else {
        panic!("migrated a server that is not there");
    };
    let printed = crate::error_chain::ErrorChain(&e).to_string();
    assert!(printed.contains(&format!("127.0.0.1:{port}")), "{printed}");
    assert!(
        printed.to_lowercase().contains("connection refused"),
        "{printed}"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: CALLHOOK_TEST_POSTGRES_URL"]
async fn an_unknown_database_names_the_server_and_its_message() {
    let server = std::env::var("CALLHOOK_TEST_POSTGRES_URL")
        .expect("this test needs PostgreSQL: set CALLHOOK_TEST_POSTGRES_URL");
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path("callhook_nope");
    let at = format!(
        "PostgreSQL at {}:{}",
        url.host_str().unwrap(),
        url.port().unwrap_or(5432)
    );
    let Err(e) = PgStore::open(url.as_str(), &Default::default(), vec![]).await else {
        panic!("opened a database that does not exist");
    };
    let printed = as_printed(e);
    assert!(printed.contains(&at), "{printed}");
    assert!(
        printed.contains("database \"callhook_nope\" does not exist"),
        "{printed}"
    );
}
