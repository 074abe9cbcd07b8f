//! `callhook migrate` and `callhook copy`: an SQLite installation
//! copied into PostgreSQL answers the API exactly as it did.

use crate::backend::required_postgres_database;
use crate::process::Binary;
use crate::receiver::{Reply, TestReceiver, SECRET};
use crate::support::{sample, spawn_app_on, spawn_app_on_database, TestApp};
use std::time::{Duration, Instant};

async fn run(args: Vec<String>) -> (Option<i32>, String, String) {
    let dir = tempfile::TempDir::new().unwrap();
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Binary::run(dir.path(), &args)
    })
    .await
    .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// The API answers a copy must keep: lists, every call and receipt, stats.
async fn answers(app: &TestApp) -> Vec<(String, serde_json::Value)> {
    let mut paths: Vec<String> = ["vendor", "source", "outcome", "day", "task_id"]
        .iter()
        .map(|g| format!("/api/v1/stats?group_by={g}"))
        .collect();
    paths.extend(
        [
            "/api/v1/calls?limit=1000",
            "/api/v1/receipts?limit=1000",
            "/api/v1/deliveries?limit=1000",
            // The search text is copied too (3 characters: the index; 2: the scan).
            "/api/v1/calls?limit=1000&text=bright%20finance",
            "/api/v1/calls?limit=1000&text=lo",
        ]
        .map(String::from),
    );
    for c in app.calls("limit=1000").await {
        paths.push(format!("/api/v1/calls/{}", c["id"].as_str().unwrap()));
    }
    let receipts = app.get_json("/api/v1/receipts?limit=1000").await;
    for r in receipts["items"].as_array().unwrap() {
        paths.push(format!("/api/v1/receipts/{}", r["id"].as_str().unwrap()));
    }
    let mut out = Vec::new();
    for p in paths {
        let v = app.get_json(&p).await;
        out.push((p, v));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: CALLHOOK_TEST_POSTGRES_URL"]
async fn a_copied_installation_answers_the_api_as_it_did() {
    let (pg, _guard) = required_postgres_database().await;
    let rx = TestReceiver::start(vec![], Reply::status(200)).await;
    let toml = format!(
        "allow_private_subscribers = true\n[[subscribers]]\nname = \"crm\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\n",
        rx.url
    );
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("old.db");
    let app = spawn_app_on(dir, path.clone(), &toml).await;
    for kind in [
        "aliyun-call-report",
        "aliyun-call-notes",
        "itnio-call-record",
        "longlonglong-inbound",
        "laaffic-voice-report",
    ] {
        app.push_ok(kind, sample(kind)).await;
    }
    let (status, _) = app.push("aliyun-call-report", b"{not json".to_vec()).await;
    assert_eq!(status, 400);
    let end = Instant::now() + Duration::from_secs(15);
    while rx.acknowledged().len() < 5 {
        assert!(Instant::now() < end, "events not delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = answers(&app).await;
    let found = |a: &[(String, serde_json::Value)]| {
        a.iter()
            .find(|(p, _)| p.ends_with("text=bright%20finance"))
            .map(|(_, v)| v["items"].as_array().unwrap().len())
    };
    assert_eq!(found(&before), Some(1), "the itnio sample's transcript");
    let stopped = app.stop().await;

    let from = format!("sqlite://{}", path.display());
    let copy = || {
        vec![
            "copy".to_owned(),
            "--from".into(),
            from.clone(),
            "--to".into(),
            pg.clone(),
        ]
    };
    let (code, out, err) = run(copy()).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("copied ") && !out.contains("copied 0 rows"),
        "{out}"
    );
    let (code, out, err2) = run(copy()).await;
    assert_eq!(
        (code, out.contains("copied 0 rows")),
        (Some(0), true),
        "a second run resumes past everything: {out}{err2}"
    );

    let copied = spawn_app_on_database(&pg, &toml).await;
    let after = answers(&copied).await;
    assert_eq!(before.len(), after.len());
    for ((p, a), (_, b)) in before.iter().zip(&after) {
        assert_eq!(a, b, "{p} differs after the copy");
    }
    // The copy keeps working: a new push on PostgreSQL continues the event sequence.
    copied
        .push_ok(
            "itnio-call-record",
            crate::support::fixture("itnio-call-record", "array_with_bad_records.json"),
        )
        .await;
    drop(stopped);
}

/// `true` when `out` says "schema at version N (N migrations applied now)".
fn all_migrations_applied(out: &str) -> bool {
    let Some((_, rest)) = out.split_once("schema at version ") else {
        return false;
    };
    let Some((version, rest)) = rest.split_once(" (") else {
        return false;
    };
    rest.starts_with(&format!("{version} migrations applied now)"))
        && version.parse::<usize>().is_ok_and(|v| v > 6)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_brings_a_database_up_to_date_once() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let (code, out, err) = run(migrate(&db)).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(all_migrations_applied(&out), "{out}");
    let (_, out, _) = run(migrate(&db)).await;
    assert!(out.contains("(0 migrations applied now)"), "{out}");
}

fn migrate(db: &str) -> Vec<String> {
    vec!["--database".to_owned(), db.to_owned(), "migrate".into()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: CALLHOOK_TEST_POSTGRES_URL"]
async fn migrate_brings_a_postgres_database_up_to_date_and_copy_refuses_it_into_sqlite() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let (pg, _guard) = required_postgres_database().await;
    let (code, out, err) = run(migrate(&pg)).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(all_migrations_applied(&out), "{out}");
    let (_, out, _) = run(migrate(&pg)).await;
    assert!(out.contains("(0 migrations applied now)"), "{out}");
    let (code, _, err) = run(vec![
        "copy".into(),
        "--from".into(),
        pg.clone(),
        "--to".into(),
        db,
    ])
    .await;
    assert_eq!(code, Some(2));
    assert!(err.contains("SQLite installation into PostgreSQL"), "{err}");
}
