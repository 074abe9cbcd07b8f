//! An acknowledged push survives `kill -9`: the real binary is killed with
//! SIGKILL and started again on the same database (docs/http-contract.md:
//! 200 only after the push is durable).

use crate::process::Server;
use crate::support::{body, receipt_statuses, sample};
use crate::vendors_other::itnio_record;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;

async fn push(client: &Client, server: &Server, source: &str, body: Vec<u8>) {
    let resp = client
        .post(format!("{}/hooks/{source}", server.base))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("push");
    assert_eq!(resp.status(), StatusCode::OK);
    let receipt = crate::support::receipt_header(&resp).expect("receipt id header");
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"code": 0, "msg": "ok"})
    );
    // Projected behind the answer: wait for the receipt, never sleep blind.
    for _ in 0..6000 {
        let r = get(client, server, &format!("/api/v1/receipts/{receipt}")).await;
        if r["status"] != "pending" {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("receipt {receipt} not projected in 30 s");
}

async fn get(client: &Client, server: &Server, path: &str) -> Value {
    let resp = client
        .get(format!("{}{path}", server.base))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    resp.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_push_survives_sigkill() {
    let dir = TempDir::new().unwrap();
    let database = format!("sqlite://{}", dir.path().join("x.db").display());
    let client = Client::new();

    let server = Server::start(dir.path(), &database).await;
    push(
        &client,
        &server,
        "aliyun-call-report",
        sample("aliyun-call-report"),
    )
    .await;
    push(
        &client,
        &server,
        "aliyun-call-notes",
        sample("aliyun-call-notes"),
    )
    .await;
    push(
        &client,
        &server,
        "longlonglong-inbound",
        sample("longlonglong-inbound"),
    )
    .await;
    push(
        &client,
        &server,
        "laaffic-voice-report",
        sample("laaffic-voice-report"),
    )
    .await;
    push(
        &client,
        &server,
        "itnio-call-record",
        body(&itnio_record("itn-kill")),
    )
    .await;
    let batch: Vec<Value> = (0..50)
        .map(|i| {
            json!({"callId": format!("kill-{i}"), "smartStatusCode": "NO_ANSWER",
            "originateTime": format!("2025-06-01 10:{i:02}:00")})
        })
        .collect();
    push(
        &client,
        &server,
        "aliyun-call-report",
        body(&Value::Array(batch)),
    )
    .await;
    let rejected = client
        .post(format!("{}/hooks/laaffic-voice-report", server.base))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), StatusCode::BAD_REQUEST);
    let before = get(&client, &server, "/api/v1/calls?limit=1000").await;
    server.kill();

    let server = Server::start(dir.path(), &database).await;
    let after = get(&client, &server, "/api/v1/calls?limit=1000").await;
    assert_eq!(after, before, "the calls changed across the restart");
    let items = after["items"].as_array().unwrap();
    assert_eq!(items.len(), 55);
    let ids: Vec<&str> = items
        .iter()
        .map(|c| c["vendor_call_id"].as_str().unwrap())
        .collect();
    for id in [
        "10000161****^1000018****",
        "155***********^142**************",
        "3e7ff3fb-2e65-4a51-b322-a01db56f8a90",
        "260326152224160100152",
        "itn-kill",
        "kill-0",
        "kill-49",
    ] {
        assert!(ids.contains(&id), "{id} lost");
    }
    // The whole call, found in the list by its vendor id.
    let detail = |vendor_call_id: &str| {
        let listed = items
            .iter()
            .find(|c| c["vendor_call_id"] == vendor_call_id)
            .unwrap_or_else(|| panic!("{vendor_call_id} not listed"));
        let path = format!("/api/v1/calls/{}", listed["id"].as_str().unwrap());
        let (client, server) = (&client, &server);
        async move { get(client, server, &path).await }
    };
    let call = detail("155***********^142**************").await;
    assert_eq!(call["analyses"][0]["score"], 15.0);
    let call = detail("itn-kill").await;
    assert_eq!(call["turns"].as_array().unwrap().len(), 3);

    let receipts = get(&client, &server, "/api/v1/receipts?limit=100").await;
    let statuses = receipt_statuses(&receipts);
    assert_eq!(statuses.len(), 7);
    assert_eq!(statuses[0], "rejected");

    // The restarted server still takes pushes.
    push(
        &client,
        &server,
        "laaffic-voice-report",
        sample("laaffic-voice-report"),
    )
    .await;
    let dup = get(&client, &server, "/api/v1/receipts?status=duplicate").await;
    assert_eq!(dup["items"].as_array().unwrap().len(), 1);
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_private_to_one_connection_is_refused() {
    // SQLite gives each connection its own `:memory:` (or empty-named)
    // database: pushes would be acknowledged, then never readable.
    for database in ["sqlite::memory:", "sqlite://:memory:", "sqlite://"] {
        let mut config = callhook::config::Config::defaults();
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.database = database.to_owned();
        assert!(
            callhook::app::App::start(config).await.is_err(),
            "{database} accepted"
        );

        let dir = TempDir::new().unwrap();
        let out = crate::process::Binary::run(
            dir.path(),
            &["serve", "--listen", "127.0.0.1:0", "--database", database],
        );
        assert_eq!(out.status.code(), Some(2), "{database}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("sqlite://FILE"), "{database}: {stderr}");
    }
}
