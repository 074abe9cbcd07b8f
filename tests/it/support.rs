//! Helpers shared by the black-box tests: a started [`App`] on port 0 with a
//! temporary SQLite database ([`spawn_app`], [`spawn_app_with`]), an HTTP
//! client bound to it ([`TestApp`]), vendor sample bodies, and
//! [`assert_call`]. The real binary is in `process.rs`.

#![allow(dead_code)]

use crate::backend::{fresh_database, PgDatabase};
use callhook::app::App;
use callhook::config::{Config, Overrides};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// A started service and everything it needs to stay alive.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub client: Client,
    /// The SQLite file of the app.
    pub db_path: PathBuf,
    /// Sent as `Authorization: Bearer` on `/api` calls when set.
    pub api_token: Option<String>,
    app: Option<App>,
    /// Owns `db_path` (unless the database was given).
    pub dir: TempDir,
    /// The `database` URL the app runs on.
    pub database: String,
    /// The PostgreSQL database of the app, when the tests run on one
    /// (declared last: dropped after the app).
    _pg: Option<PgDatabase>,
}

/// A stopped app's database (and the directory of its SQLite file).
pub struct Stopped {
    pub dir: TempDir,
    pub db_path: PathBuf,
    /// The `database` URL, for the command line.
    pub database: String,
    pg: Option<PgDatabase>,
}

impl Stopped {
    /// A new app configured by `toml` on the same database.
    pub async fn restart(self, toml: &str) -> TestApp {
        let mut app = spawn_app_at(self.dir, self.db_path, self.database, toml).await;
        app._pg = self.pg;
        app
    }
}

/// The app with the built-in configuration (one source per kind, named as
/// its kind, no tokens) on a fresh database.
pub async fn spawn_app() -> TestApp {
    let dir = TempDir::new().expect("temp dir");
    let db_path = dir.path().join("callhook.db");
    let (database, pg) = fresh_database(dir.path()).await;
    let mut config = Config::defaults();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.database = database;
    let mut app = start(config, dir, db_path, None).await;
    app._pg = pg;
    app
}

/// The app configured by the TOML text `toml` (sources, tokens, limits …)
/// on a fresh database; `listen` and `database` are set by the helper.
pub async fn spawn_app_with(toml: &str) -> TestApp {
    let dir = TempDir::new().expect("temp dir");
    let db_path = dir.path().join("callhook.db");
    let (database, pg) = fresh_database(dir.path()).await;
    let mut app = spawn_app_at(dir, db_path, database, toml).await;
    app._pg = pg;
    app
}

/// The app configured by `toml` on `database` (any URL; several apps may
/// share one PostgreSQL database), with a directory of its own.
pub async fn spawn_app_on_database(database: &str, toml: &str) -> TestApp {
    let dir = TempDir::new().expect("temp dir");
    let db_path = dir.path().join("unused.db");
    spawn_app_at(dir, db_path, database.to_owned(), toml).await
}

/// The app configured by `toml` over the existing (or new) database `db_path`;
/// `dir` is kept alive by the returned app.
pub async fn spawn_app_on(dir: TempDir, db_path: PathBuf, toml: &str) -> TestApp {
    let database = format!("sqlite://{}", db_path.display());
    spawn_app_at(dir, db_path, database, toml).await
}

async fn spawn_app_at(dir: TempDir, db_path: PathBuf, database: String, toml: &str) -> TestApp {
    let file = dir.path().join("callhook-test.toml");
    std::fs::write(&file, toml).expect("write config");
    let overrides = Overrides {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        database: Some(database.clone()),
    };
    let config = Config::load(Some(&file), &overrides).expect("test configuration loads");
    let token = config
        .api_token
        .as_ref()
        .map(|t| secrecy::ExposeSecret::expose_secret(t).to_owned());
    start(config, dir, db_path, token).await
}

async fn start(
    mut config: Config,
    dir: TempDir,
    db_path: PathBuf,
    token: Option<String>,
) -> TestApp {
    // Recordings are archived inside the test's directory (on PostgreSQL
    // the default would be the working directory).
    if config.recordings.path.is_none() {
        config.recordings.path = Some(dir.path().join("recordings"));
    }
    let database = config.database.clone();
    let app = App::start(config).await.expect("app starts");
    TestApp {
        database,
        base: format!("http://{}", app.addr),
        client: Client::new(),
        db_path,
        api_token: token,
        app: Some(app),
        dir,
        _pg: None,
    }
}

impl TestApp {
    /// Today's date (`YYYY-MM-DD`) in the app's display zone: the date the
    /// dashboard's date filters mean (not UTC's, which differs for hours
    /// of each day in any other zone).
    pub fn today(&self) -> String {
        let zone = self
            .app
            .as_ref()
            .expect("app running")
            .state
            .config
            .display_zone();
        jiff::Timestamp::now().to_zoned(zone).date().to_string()
    }

    /// The running app's state (its store, configuration, archive).
    pub fn state(&self) -> &callhook::http::AppState {
        &self.app.as_ref().expect("a running app").state
    }

    /// The app's projector (to pause and resume it).
    pub fn projector(&self) -> &callhook::ingest::projector::Projector {
        self.app
            .as_ref()
            .and_then(App::projector)
            .expect("a running app has a projector")
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server gracefully and gives back its database, so another
    /// app can be started on it ([`Stopped::restart`]).
    pub async fn stop(mut self) -> Stopped {
        if let Some(app) = self.app.take() {
            app.shutdown().await.expect("clean shutdown");
        }
        Stopped {
            dir: self.dir,
            db_path: self.db_path,
            database: self.database,
            pg: self._pg,
        }
    }

    /// POSTs `body` (bytes as given) to `/hooks/{source}`: status and JSON answer.
    pub async fn push(&self, source: &str, body: impl Into<Vec<u8>>) -> (StatusCode, Value) {
        self.push_to(&format!("/hooks/{source}"), body).await
    }

    /// POSTs `body` to `path` (a hook URL, maybe with token or query):
    /// status and JSON answer, once the receipt it made (if any) is
    /// projected (see [`TestApp::await_projected`]).
    pub async fn push_to(&self, path: &str, body: impl Into<Vec<u8>>) -> (StatusCode, Value) {
        let resp = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.into())
            .send()
            .await
            .expect("push sent");
        let receipt = receipt_header(&resp);
        let out = answer(resp).await;
        if let Some(id) = receipt {
            self.await_projected(&id).await;
        }
        out
    }

    /// Waits until receipt `id` is no longer `pending` (polls
    /// `GET /api/v1/receipts/{id}`; panics after 30 s); its final summary.
    pub async fn await_projected(&self, id: &str) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let (status, json) = self.get(&format!("/api/v1/receipts/{id}")).await;
            if status == StatusCode::OK && json["status"] != "pending" {
                return json;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "receipt {id} still not projected after 30 s: {status} {json}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Waits until no receipt is `pending` (polls `/readyz`, then the
    /// pending list; panics after 30 s).
    pub async fn settle(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let (_, json) = self.get("/api/v1/receipts?status=pending&limit=1").await;
            if json["items"].as_array().is_some_and(|a| a.is_empty()) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "receipts still pending after 30 s: {json}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Pushes `body` and asserts the vendor-facing success answer exactly.
    pub async fn push_ok(&self, source: &str, body: impl Into<Vec<u8>>) {
        let (status, json) = self.push(source, body).await;
        assert_eq!(status, StatusCode::OK, "{json}");
        assert_eq!(json, serde_json::json!({"code": 0, "msg": "ok"}));
    }

    /// `GET path` with the API token when one is configured: status and JSON.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = &self.api_token {
            req = req.bearer_auth(t);
        }
        answer(req.send().await.expect("GET sent")).await
    }

    /// The text of the dashboard page at `path` (no login: the app has no API token).
    pub async fn page(&self, path: &str) -> String {
        let resp = self.client.get(self.url(path)).send().await.expect("page");
        resp.text().await.expect("page text")
    }

    /// `GET path`, asserting 200; the JSON body.
    pub async fn get_json(&self, path: &str) -> Value {
        let (status, json) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {json}");
        json
    }

    /// `POST path` with no body (API actions): status and JSON.
    pub async fn post_api(&self, path: &str) -> (StatusCode, Value) {
        let mut req = self.client.post(self.url(path));
        if let Some(t) = &self.api_token {
            req = req.bearer_auth(t);
        }
        answer(req.send().await.expect("POST sent")).await
    }

    /// The items of `GET /api/v1/calls?{query}` (one page; asserts 200).
    pub async fn calls(&self, query: &str) -> Vec<Value> {
        let page = self.get_json(&format!("/api/v1/calls?{query}")).await;
        page["items"].as_array().expect("items").clone()
    }

    /// The `vendor_call_id`s of `GET /api/v1/calls?{query}`, in list order.
    pub async fn call_ids(&self, query: &str) -> Vec<String> {
        self.calls(query)
            .await
            .iter()
            .map(|c| {
                c["vendor_call_id"]
                    .as_str()
                    .expect("vendor_call_id")
                    .to_owned()
            })
            .collect()
    }

    /// The one call with `vendor_call_id` of `vendor`, in full (`GET /api/v1/calls/{id}`).
    pub async fn call_by_vendor_id(&self, vendor: &str, vendor_call_id: &str) -> Value {
        let q = format!(
            "vendor={vendor}&vendor_call_id={}",
            urlencode(vendor_call_id)
        );
        let items = self.calls(&q).await;
        assert_eq!(
            items.len(),
            1,
            "calls for {vendor}/{vendor_call_id}: {items:?}"
        );
        let id = items[0]["id"].as_str().expect("id");
        self.get_json(&format!("/api/v1/calls/{id}")).await
    }

    /// callhook's id of the one call `vendor`/`vendor_call_id`.
    pub async fn call_id(&self, vendor: &str, vendor_call_id: &str) -> String {
        let call = self.call_by_vendor_id(vendor, vendor_call_id).await;
        call["id"].as_str().expect("id").to_owned()
    }

    /// Every receipt whose body has the SHA-256 of `body`, newest first.
    pub async fn receipts_of(&self, body: &[u8]) -> Vec<Value> {
        let sha = hex::encode(Sha256::digest(body));
        let list = self.get_json("/api/v1/receipts?limit=1000").await;
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|r| r["sha256"] == sha.as_str())
            .cloned()
            .collect()
    }

    /// The only receipt of `body` (asserts there is exactly one).
    pub async fn receipt_of(&self, body: &[u8]) -> Value {
        let mut rs = self.receipts_of(body).await;
        assert_eq!(rs.len(), 1, "receipts of the body: {rs:?}");
        rs.remove(0)
    }
}

/// The `Callhook-Receipt-Id` of a push answer, if it has one.
pub fn receipt_header(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get("callhook-receipt-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn answer(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = resp.text().await.expect("response body");
    if text.is_empty() {
        return (status, Value::Null);
    }
    assert!(
        content_type.starts_with("application/json"),
        "{status} answered as `{content_type}`: {text}"
    );
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, json)
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `tests/fixtures/<kind>/<name>`, byte for byte.
pub fn fixture(kind: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind)
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The sample body of `kind`: the vendor document's own example where it
/// gives one (`tests/fixtures/<kind>/sample.json`).
pub fn sample(kind: &str) -> Vec<u8> {
    fixture(kind, "sample.json")
}

/// `value` as JSON bytes.
pub fn body(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("serialise")
}

/// Asserts `a` and `b` are within 1e-9 of each other.
/// The `status` of each item of a receipt list answer, in list order.
pub fn receipt_statuses(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["status"].as_str().expect("status"))
        .collect()
}

pub fn assert_close(a: &Value, b: f64, what: &str) {
    let a = a
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {a}"));
    assert!((a - b).abs() < 1e-9, "{what}: {a} != {b}");
}

/// Fields of a call that depend on when the test ran.
const VOLATILE: &[&str] = &[
    "id",
    "started_at",
    "first_received_at",
    "updated_at",
    "receipts",
    // The archive of `recording_url`: how far its download got.
    "recording",
];

/// Finds the call `vendor_call_id` in `GET /api/v1/calls?vendor={vendor}`,
/// reads it whole through `GET /api/v1/calls/{id}`, and asserts every field
/// of `expected` — and that the call has no field outside `expected` but
/// the time-dependent ones. The list item must agree with the whole call.
/// Returns the whole call.
pub async fn assert_call(
    app: &TestApp,
    vendor: &str,
    vendor_call_id: &str,
    expected: Value,
) -> Value {
    let items = app.calls(&format!("vendor={vendor}&limit=1000")).await;
    let item = items
        .iter()
        .find(|i| i["vendor_call_id"] == vendor_call_id)
        .unwrap_or_else(|| panic!("{vendor_call_id} not listed under vendor={vendor}: {items:?}"))
        .clone();
    let id = item["id"].as_str().expect("id").to_owned();
    assert!(
        !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "id is not URL-safe: {id}"
    );
    let call = app.get_json(&format!("/api/v1/calls/{id}")).await;
    let exp = expected.as_object().expect("expected is an object");
    for (k, v) in exp {
        assert_eq!(&call[k], v, "field `{k}` of {vendor_call_id}");
    }
    for k in call.as_object().expect("call object").keys() {
        assert!(
            exp.contains_key(k) || VOLATILE.contains(&k.as_str()),
            "unexpected field `{k}` = {} on {vendor_call_id}",
            call[k]
        );
    }
    for k in ["first_received_at", "updated_at", "started_at"] {
        let t = call[k].as_str().unwrap_or_else(|| panic!("{k} missing"));
        assert!(t.ends_with('Z'), "{k} is not UTC: {t}");
        t.parse::<jiff::Timestamp>()
            .unwrap_or_else(|e| panic!("{k}: {t}: {e}"));
    }
    for (k, v) in item.as_object().expect("item object") {
        // `recording` may move on (a download attempt) between the reads.
        if k == "recording" {
            continue;
        }
        assert_eq!(
            &call[k], v,
            "list item field `{k}` differs from the whole call"
        );
    }
    assert!(call["receipts"].is_array(), "receipts missing");
    call
}

/// Alibaba's call-notes sample re-aimed at the call of the call-report
/// sample (the two vendor samples describe different calls), so pushing
/// both makes one call with an analysis.
pub fn notes_for_report_sample() -> Vec<u8> {
    let report: Value = serde_json::from_slice(&sample("aliyun-call-report")).unwrap();
    let mut notes: Value = serde_json::from_slice(&sample("aliyun-call-notes")).unwrap();
    notes[0]["call_id"] = report[0]["callId"].clone();
    body(&notes)
}
