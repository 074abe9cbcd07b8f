use super::*;
use crate::domain::Vendor;
use std::sync::Arc;

fn batch(id: &str, calls: &[&str], replay: bool) -> IngestBatch {
    let calls: Vec<(&str, i64)> = calls.iter().map(|c| (*c, 30)).collect();
    crate::storage::test_batch(id, &calls, replay)
}

fn page(limit: usize) -> PageRequest {
    PageRequest {
        limit,
        cursor: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_ingests_are_all_committed_and_answered() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
    let mut tasks = Vec::new();
    for i in 0..300 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let call = format!("c{i}");
            s.ingest(batch(&format!("r{i:04}"), &[&call, "shared"], false))
                .await
        }));
    }
    for t in tasks {
        let o = t.await.unwrap().unwrap();
        assert_eq!(o.status, Some(ReceiptStatus::Accepted));
    }
    // 300 own calls plus the one they all share, created exactly once.
    let calls = store
        .list_calls(&CallFilter::default(), &page(1000))
        .await
        .unwrap();
    assert_eq!(calls.items.len(), 301);
    assert_eq!(store.receipt_ids(None).await.unwrap().len(), 300);
    let shared = store
        .get_call(&crate::domain::call_id_for(Vendor::Aliyun, "shared"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        shared.receipts.len(),
        300,
        "every receipt that mentioned the call is linked"
    );
}

#[tokio::test]
async fn a_repeat_is_duplicate_and_a_replay_keeps_the_receipt_id() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    let first = store.ingest(batch("r1", &["a", "b"], false)).await.unwrap();
    assert_eq!(
        (first.created, first.status),
        (2, Some(ReceiptStatus::Accepted))
    );
    let again = store.ingest(batch("r2", &["a", "b"], false)).await.unwrap();
    assert_eq!(
        (again.unchanged, again.status),
        (2, Some(ReceiptStatus::Duplicate))
    );
    // A replay re-projects: the receipt's status is what it is in log
    // order (r1 made the calls, r2 repeated them), whatever ran since.
    let replayed = store.ingest(batch("r1", &["a", "b"], true)).await.unwrap();
    assert_eq!(replayed.status, Some(ReceiptStatus::Accepted));
    let replayed = store.ingest(batch("r2", &["a", "b"], true)).await.unwrap();
    assert_eq!(replayed.status, Some(ReceiptStatus::Duplicate));
    let r1 = store.get_receipt("r1").await.unwrap().unwrap();
    assert_eq!(r1.summary.replay_count, 1);
    assert_eq!(r1.summary.status, ReceiptStatus::Accepted);
    assert!(r1.body.starts_with(b"body of r1 #"), "verbatim body");
    assert_eq!(store.receipt_ids(None).await.unwrap(), ["r1", "r2"]);
}

#[tokio::test]
async fn reopening_keeps_data_and_does_not_migrate_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        store.ingest(batch("r1", &["a"], false)).await.unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let calls = store
        .list_calls(&CallFilter::default(), &page(10))
        .await
        .unwrap();
    assert_eq!(calls.items.len(), 1);
    assert_eq!(calls.items[0].vendor_call_id, "a");
    store.ping().await.unwrap();
}

#[tokio::test]
async fn an_unwritable_database_is_unavailable_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::open(&dir.path().join("missing-dir").join("t.db"))
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err}");
}

#[tokio::test]
async fn a_push_past_its_deadline_is_busy_and_not_committed() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    let mut late = batch("r1", &["a"], false);
    late.deadline = Some(tokio::time::Instant::now());
    let err = store.ingest(late).await.unwrap_err();
    assert!(matches!(err, StoreError::Busy(_)), "{err}");
    // The writer skips it rather than committing it after the answer.
    store.ingest(batch("r2", &["b"], false)).await.unwrap();
    assert_eq!(store.receipt_ids(None).await.unwrap(), ["r2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_is_busy_within_the_deadline_then_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(&path).unwrap();
    // Another process's write lock, as `sqlite3 t.db 'BEGIN EXCLUSIVE'` takes.
    let locker = rusqlite::Connection::open(&path).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let budget = std::time::Duration::from_millis(200);
    let mut during = batch("r1", &["a"], false);
    during.deadline = Some(tokio::time::Instant::now() + budget);
    let started = std::time::Instant::now();
    let err = store.ingest(during).await.unwrap_err();
    assert!(matches!(err, StoreError::Busy(_)), "{err}");
    assert!(started.elapsed() < budget * 5, "{:?}", started.elapsed());
    locker.execute_batch("COMMIT").unwrap();
    drop(locker);
    // No deadline: waits out the writer's busy group, then commits.
    let after = store.ingest(batch("r2", &["b"], false)).await.unwrap();
    assert_eq!(after.status, Some(ReceiptStatus::Accepted));
    assert_eq!(store.receipt_ids(None).await.unwrap(), ["r2"]);
}

/// A [`syncer::Sync`] that waits for the test's permission, or fails.
struct HeldSync {
    permits: std::sync::mpsc::Receiver<std::io::Result<()>>,
}

impl syncer::Sync for HeldSync {
    fn sync(&mut self) -> std::io::Result<()> {
        self.permits
            .recv()
            .unwrap_or_else(|_| Err(std::io::Error::other("test ended")))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_push_is_answered_before_the_wal_is_synced() {
    let dir = tempfile::tempdir().unwrap();
    let (permit, permits) = std::sync::mpsc::channel();
    let store = Arc::new(
        SqliteStore::open_with(&dir.path().join("t.db"), HeldSync { permits }, Vec::new()).unwrap(),
    );
    let s = store.clone();
    let pending = tokio::spawn(async move { s.ingest(batch("r1", &["a"], false)).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!pending.is_finished(), "answered before the fsync");
    // The append's fsync, then the projection's.
    for _ in 0..4 {
        permit.send(Ok(())).unwrap();
    }
    let outcome = pending.await.unwrap().unwrap();
    assert_eq!(outcome.status, Some(ReceiptStatus::Accepted));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fsync_refuses_that_push_and_every_later_one() {
    let dir = tempfile::tempdir().unwrap();
    let (permit, permits) = std::sync::mpsc::channel();
    let store =
        SqliteStore::open_with(&dir.path().join("t.db"), HeldSync { permits }, Vec::new()).unwrap();
    permit.send(Err(std::io::Error::other("EIO"))).unwrap();
    let err = store.ingest(batch("r1", &["a"], false)).await.unwrap_err();
    assert!(err.to_string().contains("fsync failed"), "{err}");
    permit.send(Ok(())).unwrap();
    let err = store.ingest(batch("r2", &["b"], false)).await.unwrap_err();
    assert!(err.to_string().contains("restart"), "{err}");
    let err = store.ping().await.unwrap_err();
    assert!(
        err.to_string().contains("restart"),
        "readiness reports it: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_after_a_cursor_starts_the_index_at_the_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let _store = SqliteStore::open(&path).unwrap();
    let cursor = crate::storage::CallCursor {
        started_at_ms: 1_750_000_000_000,
        id: "abc".into(),
    };
    let mut conds = crate::storage::filter::Conditions::default();
    conds.after_call(&cursor.encode()).unwrap();
    let (wh, _) = conds.render(1, |_| "?".into());
    // The shape of `reads::list_calls`' query.
    let sql = format!(
        "EXPLAIN QUERY PLAN SELECT doc FROM calls {wh} ORDER BY started_at DESC, id DESC LIMIT 1001"
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut stmt = conn.prepare(&sql).unwrap();
    let params = rusqlite::params![1_i64, 1_i64, 1_i64, "abc"];
    let plan: Vec<String> = stmt
        .query_map(params, |r| r.get::<_, String>(3))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        plan,
        ["SEARCH calls USING INDEX calls_by_started (started_at<?)"],
        "a page must not scan from the newest call"
    );
}

#[test]
fn a_task_scan_reads_the_task_index() {
    // A question no level keeps (a task by outcome) reads the task's calls
    // (`reads::scan_rollup`), through `calls_by_task`, not every call.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let _store = SqliteStore::open(&path).unwrap();
    let filter = crate::storage::CallFilter {
        task_id: Some("T1".into()),
        since: Some("2025-06-01T16:00:00Z".parse().unwrap()),
        until: Some("2025-06-03T16:00:00Z".parse().unwrap()),
        ..Default::default()
    };
    let conds = crate::storage::filter::Conditions::of_calls(
        &filter,
        crate::storage::filter::Dialect::Sqlite { walk: false },
    );
    let (wh, params) = reads::where_clause(&conds);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN SELECT doc FROM calls {wh}"))
        .unwrap();
    let plan: Vec<String> = stmt
        .query_map(rusqlite::params_from_iter(params), |r| r.get(3))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        plan,
        ["SEARCH calls USING INDEX calls_by_task (task_id=? AND started_at>? AND started_at<?)"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_write_check_passes_leaves_nothing_and_fails_when_writes_fail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(&path).unwrap();
    store.check_writable().await.unwrap();
    let rows: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM targets", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0, "the probe row is gone");
    // Writes that cannot commit (another process holds the write lock).
    let locker = rusqlite::Connection::open(&path).unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = std::time::Instant::now();
    let err = store.check_writable().await.unwrap_err();
    assert!(err.to_string().contains("not durable"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    store.ping().await.expect("reads still answer");
    locker.execute_batch("COMMIT").unwrap();
    drop(locker);
    // Heals by itself once writes go through again (the queued probe may
    // still be waiting out the lock's busy timeout).
    let mut healed = false;
    for _ in 0..20 {
        if store.check_writable().await.is_ok() {
            healed = true;
            break;
        }
    }
    assert!(healed, "the write check recovers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poisoned_store_fails_the_write_check() {
    let dir = tempfile::tempdir().unwrap();
    let (permit, permits) = std::sync::mpsc::channel();
    let store =
        SqliteStore::open_with(&dir.path().join("t.db"), HeldSync { permits }, Vec::new()).unwrap();
    permit.send(Err(std::io::Error::other("ENOSPC"))).unwrap();
    assert!(store.ingest(batch("r1", &["a"], false)).await.is_err());
    let err = store.check_writable().await.unwrap_err();
    assert!(err.to_string().contains("restart"), "{err}");
}

#[tokio::test]
async fn call_documents_are_stored_compressed_and_old_text_ones_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(&path).unwrap();
    store.ingest(batch("r1", &["a", "b"], false)).await.unwrap();
    let id = crate::domain::call_id_for(Vendor::Aliyun, "a");
    let before = store.get_call(&id).await.unwrap().unwrap().call;

    let raw = Connection::open(&path).unwrap();
    let (kind, stored, json): (String, i64, i64) = raw
        .query_row(
            "SELECT typeof(doc), length(doc), ?2 FROM calls WHERE id = ?1",
            rusqlite::params![id, serde_json::to_string(&before).unwrap().len() as i64],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(kind, "blob");
    assert!(
        stored * 2 < json,
        "{stored} bytes stored for {json} of JSON"
    );

    // A document written before compression is JSON text: read as it is.
    raw.execute(
        "UPDATE calls SET doc = ?2 WHERE id = ?1",
        rusqlite::params![id, serde_json::to_string(&before).unwrap()],
    )
    .unwrap();
    let listed = store
        .list_calls(&CallFilter::default(), &page(10))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 2);
    assert_eq!(store.get_call(&id).await.unwrap().unwrap().call, before);
    // A change to the call writes its document back compressed.
    let change = crate::storage::test_batch("r2", &[("a", 45)], false);
    assert_eq!(store.ingest(change).await.unwrap().updated, 1);
    let kind: String = raw
        .query_row("SELECT typeof(doc) FROM calls WHERE id = ?1", [&id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(kind, "blob");
}
