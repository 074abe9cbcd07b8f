//! `callhook export --output FILE` writes FILE only when the export is
//! complete (never a half file: not when the database is unreachable, not
//! when a page fails midway), and a closed stdout ends the export quietly.

use crate::backend::on_postgres;
use crate::export_cli::{export, read_csv, seeded};
use crate::export_data::CALLS;
use crate::process::Binary;
use crate::support::Stopped;
use std::io::Read;
use std::path::Path;
use std::process::Stdio;

/// Makes the stored document of call `id` unreadable, on either backend.
async fn corrupt(stopped: &Stopped, id: &str) {
    if on_postgres() {
        let (client, conn) = tokio_postgres::connect(&stopped.database, tokio_postgres::NoTls)
            .await
            .expect("the test database");
        tokio::spawn(conn);
        let n = client
            .execute("UPDATE calls SET doc = 'not a call' WHERE id = $1", &[&id])
            .await
            .expect("update");
        assert_eq!(n, 1);
    } else {
        let db = rusqlite::Connection::open(&stopped.db_path).expect("the SQLite file");
        let n = db
            .execute("UPDATE calls SET doc = 'not a call' WHERE id = ?1", [id])
            .expect("update");
        assert_eq!(n, 1);
    }
}

fn partial(path: &Path) -> std::path::PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".partial");
    p.into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_is_written_only_when_the_export_is_complete() {
    let (items, app) = seeded().await;
    let stopped = app.stop().await;
    let dir = stopped.dir.path();
    let file = dir.join("calls.csv");
    let path = file.display().to_string();

    // Unreachable databases: nothing is created, an older file is kept.
    std::fs::write(&file, "the previous export").unwrap();
    for db in [
        "sqlite:///nonexistent-callhook-dir/x.db",
        "postgres://postgres@127.0.0.1:1/nothing",
    ] {
        let (code, out, err) = export(dir, db, &["--format", "csv", "--output", &path]).await;
        assert_eq!(code, Some(2), "{db}: {err}");
        // A missing SQLite file is refused, not created empty.
        assert!(
            err.contains("storage unavailable")
                || err.contains("no database at /nonexistent-callhook-dir/x.db"),
            "{db}: {err}"
        );
        assert!(out.is_empty());
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "the previous export"
        );
        assert!(!partial(&file).exists(), "{db}: a partial file is left");
    }

    // Success: the whole file, and no partial one.
    let (code, _, err) = export(
        dir,
        &stopped.database,
        &["--format", "csv", "--output", &path],
    )
    .await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains(&format!("exported {CALLS} calls to {path} (csv, ")),
        "{err}"
    );
    let written = std::fs::read(&file).unwrap();
    assert_eq!(read_csv(&written).len(), CALLS);
    assert!(!partial(&file).exists());

    // The oldest call unreadable: the first page is written to the partial
    // file, the second fails; the partial file goes, the older file stays.
    let oldest = items.last().unwrap()["id"].as_str().unwrap().to_owned();
    corrupt(&stopped, &oldest).await;
    for format in ["csv", "ndjson", "parquet"] {
        let (code, _, err) = export(
            dir,
            &stopped.database,
            &["--format", format, "--output", &path],
        )
        .await;
        assert_eq!(code, Some(2), "{format}: {err}");
        assert!(err.contains("unreadable"), "{format}: {err}");
        assert!(!err.contains("exported"), "{err}");
        assert_eq!(
            std::fs::read(&file).unwrap(),
            written,
            "{format}: the file changed"
        );
        assert!(!partial(&file).exists(), "{format}: a partial file is left");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_ends_the_export_quietly() {
    let (_, app) = seeded().await;
    let stopped = app.stop().await;
    let mut cmd = Binary::command(stopped.dir.path());
    cmd.args([
        "--database",
        &stopped.database,
        "export",
        "--format",
        "ndjson",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let out = tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().expect("run callhook");
        // Read a little (as `head -c` would), then close the pipe: the
        // rest of the export (over a megabyte) cannot be written.
        let mut stdout = child.stdout.take().expect("stdout");
        let mut first = [0u8; 100];
        stdout.read_exact(&mut first).expect("the first bytes");
        drop(stdout);
        child.wait_with_output().expect("exit")
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked") && !err.contains("error"), "{err}");
    assert!(!err.contains("exported"), "{err}");
}
