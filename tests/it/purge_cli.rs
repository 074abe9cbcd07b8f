//! `callhook purge` as the real binary on a stopped app's database (either
//! backend): no window is exit 2 saying how to give one; `--dry-run`
//! counts and deletes nothing; a real run deletes and says what; the
//! window comes from `--older-than-days`, `CALLHOOK_OLDER_THAN_DAYS` or
//! `retention_days`.

use crate::process::Binary;
use crate::retention::{old_receipt, report, store_of};
use crate::support::spawn_app;
use jiff::{SignedDuration, Timestamp};
use std::path::Path;

/// Runs `callhook --database DB ARGS…` with `env`: (exit code, stdout, stderr).
async fn purge(
    dir: &Path,
    database: &str,
    env: &[(&str, &str)],
    args: &[&str],
) -> (Option<i32>, String, String) {
    let mut all = vec!["--database".to_owned(), database.to_owned()];
    all.extend(args.iter().map(|s| s.to_string()));
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let dir = dir.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = Binary::command(&dir);
        cmd.args(&all);
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        Binary::finish(&mut cmd, &args)
    })
    .await
    .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_counts_on_a_dry_run_deletes_on_a_real_one_and_needs_a_window() {
    let app = spawn_app().await;
    let now = Timestamp::now();
    let days = |d: i64| now - SignedDuration::from_hours(24 * d);
    app.push_ok(
        "aliyun-call-report",
        report(&[
            ("recent", days(10)),
            ("old-1", days(40)),
            ("old-2", days(900)),
        ]),
    )
    .await;
    let store = store_of(&app).await;
    store
        .append(old_receipt("01OLDRECEIPT", days(45)))
        .await
        .unwrap();
    drop(store);
    let stopped = app.stop().await;
    let (dir, db) = (stopped.dir.path(), stopped.database.clone());

    let (code, out, err) = purge(dir, &db, &[], &["purge"]).await;
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(
        err.contains("no retention window") && err.contains("--older-than-days"),
        "{err}"
    );
    let (code, _, err) = purge(dir, &db, &[], &["purge", "--older-than-days", "0"]).await;
    assert_eq!(code, Some(2), "{err}");

    let (code, out, err) = purge(
        dir,
        &db,
        &[],
        &["purge", "--older-than-days", "30", "--dry-run"],
    )
    .await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with("would delete 2 calls, 1 receipt, 0 events older than "),
        "{out}"
    );
    let (code, out, err) = purge(
        dir,
        &db,
        &[("CALLHOOK_OLDER_THAN_DAYS", "50")],
        &["purge", "--dry-run"],
    )
    .await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with("would delete 1 call, 0 receipts, 0 events"),
        "{out}"
    );

    let config = dir.join("retention.toml");
    std::fs::write(&config, "retention_days = 30\n").unwrap();
    let cfg = config.to_str().unwrap();
    let (code, out, err) = purge(dir, &db, &[], &["--config", cfg, "purge"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with("deleted 2 calls, 1 receipt, 0 events older than "),
        "{out}"
    );
    let cutoff: Timestamp = out
        .split("older than ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    let off = days(30).duration_since(cutoff).as_secs_f64().abs();
    assert!(off < 120.0, "the cutoff is 30 days ago: {cutoff}");
    let (code, out, _) = purge(dir, &db, &[], &["--config", cfg, "purge"]).await;
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with("deleted 0 calls, 0 receipts, 0 events"),
        "{out}"
    );

    let app = stopped.restart("").await;
    assert_eq!(app.call_ids("limit=100").await, ["recent"]);
    let (status, _) = app.get("/api/v1/receipts/01OLDRECEIPT").await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
    assert_eq!(app.get_json("/api/v1/stats").await["rows"][0]["calls"], 1);
}
