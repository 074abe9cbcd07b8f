//! `callhook reproject` as the real binary (either backend): after a
//! source's timezone changes, the receipts are read again, the calls they
//! describe move, each changed call makes one `call.updated`, and calls
//! the change does not touch make none. `--dry-run` writes nothing.

use crate::process::Binary;
use crate::receiver::{Reply, TestReceiver, SECRET};
use crate::support::{body, sample, spawn_app_with, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

fn config(receiver: &str, timezone: &str) -> String {
    format!(
        "allow_private_subscribers = true\n\
         [[subscribers]]\nname = \"crm\"\nurl = \"{receiver}\"\nsecret = \"{SECRET}\"\n\
         [[sources]]\nname = \"ali\"\nkind = \"aliyun-call-report\"\ntimezone = \"{timezone}\"\n\
         [[sources]]\nname = \"itn\"\nkind = \"itnio-call-record\"\n"
    )
}

/// Runs `callhook --config … --database … ARGS` against the app's files.
async fn reproject(app: &TestApp, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec![
        "--config".to_owned(),
        app.dir
            .path()
            .join("callhook-test.toml")
            .display()
            .to_string(),
        "--database".to_owned(),
        app.database.clone(),
        "reproject".to_owned(),
    ];
    all.extend(args.iter().map(|s| s.to_string()));
    let dir = app.dir.path().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = Binary::command(&dir);
        cmd.args(&all);
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        Binary::finish(&mut cmd, &args)
    })
    .await
    .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

async fn started_at(app: &TestApp, vendor: &str, id: &str) -> jiff::Timestamp {
    let call = app.call_by_vendor_id(vendor, id).await;
    call["started_at"].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timezone_change_reprojected_moves_the_times_with_one_update_per_changed_call() {
    let rx = TestReceiver::start(vec![], Reply::status(200)).await;
    let app = spawn_app_with(&config(&rx.url, "Asia/Shanghai")).await;
    let records: Vec<Value> = (0..3)
        .map(|i| {
            json!({"callId": format!("tz-{i}"), "smartStatusCode": "ANSWERED",
                   "originateTime": format!("2025-06-01 10:0{i}:00"), "duration": 30})
        })
        .collect();
    app.push_ok("ali", body(&Value::Array(records))).await;
    app.push_ok("itn", sample("itnio-call-record")).await;
    let itnio: Vec<String> = app
        .calls("vendor=itnio")
        .await
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!itnio.is_empty());
    let created = 3 + itnio.len();
    rx.until(Duration::from_secs(20), "every call.created", |g| {
        g.len() >= created
    })
    .await;
    let before = started_at(&app, "aliyun", "tz-1").await;
    assert_eq!(
        before.to_string(),
        "2025-06-01T02:01:00Z",
        "10:01 in Shanghai"
    );
    let itnio_before = app.get_json(&format!("/api/v1/calls/{}", itnio[0])).await;

    // The source was really on UTC: fix the config, restart, reproject.
    let app = app.stop().await.restart(&config(&rx.url, "UTC")).await;
    let (code, out, err) = reproject(&app, &["--dry-run"]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("3 would change"), "{out}");
    assert_eq!(
        started_at(&app, "aliyun", "tz-1").await,
        before,
        "dry run wrote"
    );

    let (code, out, err) = reproject(&app, &[]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("reprojected 2 receipts") && out.contains("3 changed"),
        "{out}"
    );
    assert_eq!(
        started_at(&app, "aliyun", "tz-1").await.to_string(),
        "2025-06-01T10:01:00Z",
        "10:01 UTC"
    );
    let mut itnio_after = app.get_json(&format!("/api/v1/calls/{}", itnio[0])).await;
    // The archive of its recording link moves on by itself (a download
    // attempt in between); everything else must be as it was.
    let mut itnio_before = itnio_before;
    for c in [&mut itnio_before, &mut itnio_after] {
        c.as_object_mut().unwrap().remove("recording");
    }
    assert_eq!(
        itnio_after, itnio_before,
        "a call the change does not touch"
    );

    let got = rx
        .until(Duration::from_secs(30), "three call.updated", |g| {
            g.iter()
                .filter(|r| r.event["type"] == "call.updated")
                .count()
                >= 3
        })
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let updated: Vec<_> = rx
        .got()
        .into_iter()
        .filter(|r| r.event["type"] == "call.updated")
        .collect();
    assert_eq!(
        updated.len(),
        3,
        "one per changed call ({} requests)",
        got.len()
    );
    let mut ids: Vec<&str> = updated
        .iter()
        .map(|r| r.event["data"]["vendor_call_id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["tz-0", "tz-1", "tz-2"]);
    assert!(updated.iter().all(|r| r.event["data"]["started_at"]
        .as_str()
        .unwrap()
        .contains("T10:0")));

    // Again: nothing left to change, no event.
    let (code, out, _) = reproject(&app, &["--source", "ali"]).await;
    assert_eq!(code, Some(0));
    assert!(out.contains("0 changed"), "{out}");
}
