//! `callhook deliveries list|retry|enable|disable` on the database of a
//! stopped app, then the restarted app delivers what was retried.

use crate::process::Binary;
use crate::receiver::{Reply, TestReceiver, SECRET};
use crate::support::{sample, spawn_app_with};
use std::time::{Duration, Instant};

fn toml(url: &str) -> String {
    format!(
        "allow_private_subscribers = true\n[[subscribers]]\nname = \"crm\"\nurl = \"{url}\"\nsecret = \"{SECRET}\"\nretry_schedule = [\"20ms\"]\n"
    )
}

/// Runs `callhook --config <dir>/c.toml --database <database> ARGS…`: (exit code, stdout, stderr).
async fn cli(
    dir: &std::path::Path,
    database: &str,
    config: &str,
    args: &[&str],
) -> (Option<i32>, String, String) {
    std::fs::write(dir.join("c.toml"), config).unwrap();
    let mut all = vec![
        "--config".to_owned(),
        dir.join("c.toml").display().to_string(),
        "--database".to_owned(),
        database.to_owned(),
    ];
    all.extend(args.iter().map(|s| s.to_string()));
    let dir = dir.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        Binary::run(&dir, &args)
    })
    .await
    .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_and_retried_from_the_command_line() {
    let rx = TestReceiver::start(vec![], Reply::status(500)).await;
    let config = toml(&rx.url);
    let app = spawn_app_with(&config).await;
    app.push_ok("aliyun-call-report", sample("aliyun-call-report"))
        .await;
    rx.until(Duration::from_secs(10), "the retry", |g| g.len() == 2)
        .await;
    // The second failure was the last retry: wait for it to be recorded.
    let end = Instant::now() + Duration::from_secs(10);
    while app.get_json("/api/v1/deliveries?status=dead").await["items"]
        .as_array()
        .unwrap()
        .is_empty()
    {
        assert!(Instant::now() < end, "no dead letter");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stopped = app.stop().await;
    let (dir, db) = (stopped.dir.path(), stopped.database.as_str());

    let (code, out, err) = cli(
        dir,
        db,
        &config,
        &["deliveries", "list", "--status", "dead"],
    )
    .await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("crm") && out.contains("call.created") && out.contains("dead"),
        "{out}"
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("ID ") && lines[0].contains("SUBSCRIBER") && lines.len() == 2,
        "a header, then one row: {out}"
    );
    let at = lines[0].find("ATTEMPTS").unwrap();
    assert!(lines[1][at..].starts_with("2 "), "ATTEMPTS aligned: {out}");
    let at = lines[0].find("STATUS").unwrap();
    assert!(lines[1][at..].starts_with("dead "), "STATUS aligned: {out}");
    assert!(out.contains("500"), "{out}");
    assert!(err.contains("1 delivery"), "{err}");

    let (code, _, err) = cli(
        dir,
        db,
        &config,
        &["deliveries", "retry", "--subscriber", "nobody"],
    )
    .await;
    assert_eq!(code, Some(2));
    assert!(
        err.contains("no subscriber named `nobody`") && err.contains("crm"),
        "{err}"
    );
    let (code, out, err) = cli(
        dir,
        db,
        &config,
        &["deliveries", "retry", "--subscriber", "crm"],
    )
    .await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "retried 1 delivery");
    let (code, out, _) = cli(
        dir,
        db,
        &config,
        &["deliveries", "disable", "--subscriber", "crm"],
    )
    .await;
    assert_eq!((code, out.trim()), (Some(0), "disabled crm"));

    rx.answer(Reply::status(200));
    let app = stopped.restart(&config).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.got().len(), 2, "a disabled subscriber is sent nothing");
    let (status, _) = app.post_api("/api/v1/subscribers/crm/enable").await;
    assert_eq!(status, 200);
    rx.until(Duration::from_secs(10), "the retried delivery", |g| {
        g.iter().any(|r| r.answered == 200)
    })
    .await;
    let end = Instant::now() + Duration::from_secs(10);
    while app.get_json("/api/v1/deliveries?status=delivered").await["items"]
        .as_array()
        .unwrap()
        .len()
        != 1
    {
        assert!(Instant::now() < end, "not recorded as delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
