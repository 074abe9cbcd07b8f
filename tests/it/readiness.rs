//! `/readyz` reports the write path: while SQLite's write lock is held by
//! another process (writes cannot commit, as on a full or read-only disk)
//! the store still answers reads, but the instance is not ready.

use crate::support::spawn_app_on;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_while_writes_cannot_commit_and_heals() {
    // SQLite's write lock is the fault held here: SQLite on either backend run.
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("callhook.db");
    let app = spawn_app_on(dir, path.clone(), "").await;
    let (status, ready) = app.get("/readyz").await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(ready["writes"], "ok");

    let locker = rusqlite::Connection::open(&path).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let (status, ready) = app.get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{ready}");
    assert_eq!(
        (&ready["status"], &ready["store"], &ready["writes"]),
        (&json!("unavailable"), &json!("ok"), &json!("unavailable")),
        "{ready}"
    );
    locker.execute_batch("COMMIT").unwrap();
    drop(locker);

    let mut last = None;
    for _ in 0..40 {
        let (status, ready) = app.get("/readyz").await;
        if status == StatusCode::OK {
            return;
        }
        last = Some(ready);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("still not ready after the lock was released: {last:?}");
}
