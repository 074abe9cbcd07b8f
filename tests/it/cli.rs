//! The command line: `import`, `sources`, `replay` (the README's Interfaces,
//! Command line), run as the real binary on a temporary database and read
//! back through a started app.

use crate::process::{Binary, Server};
use crate::support::{body, sample, spawn_app_on};
use serde_json::json;
use std::path::Path;
use std::process::Output;
use tempfile::TempDir;

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn describe(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        stdout(out),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn database(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("cli.db").display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_reads_one_body_files_and_ndjson_files() {
    let dir = TempDir::new().unwrap();
    let one = dir.path().join("report.json");
    std::fs::write(&one, sample("aliyun-call-report")).unwrap();
    let line = |id: &str, minute: u32| {
        String::from_utf8(body(&json!([{"callId": id, "smartStatusCode": "NO_ANSWER",
            "originateTime": format!("2025-06-01 12:{minute:02}:00")}])))
        .unwrap()
    };
    let ndjson = dir.path().join("pushes.ndjson");
    let text = [
        line("nd-1", 1),
        line("nd-2", 2),
        String::new(),
        line("nd-3", 3),
        line("nd-1", 1),
    ]
    .join("\n");
    std::fs::write(&ndjson, text + "\n").unwrap();

    let db = database(dir.path());
    let out = Binary::run(
        dir.path(),
        &[
            "--database",
            &db,
            "import",
            "--source",
            "aliyun-call-report",
            one.to_str().unwrap(),
            ndjson.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let summary = stdout(&out);
    assert!(summary.contains("imported 5 bodies"), "{summary}");
    assert!(summary.contains("4 accepted, 1 duplicate"), "{summary}");

    let db_path = dir.path().join("cli.db");
    let app = spawn_app_on(dir, db_path, "").await;
    let mut ids = app.call_ids("vendor=aliyun").await;
    ids.sort();
    assert_eq!(ids, ["10000161****^1000018****", "nd-1", "nd-2", "nd-3"]);
    let call = app
        .call_by_vendor_id("aliyun", "10000161****^1000018****")
        .await;
    assert_eq!(call["answered_at"], "2025-06-01T02:00:00Z");
    assert_eq!(call["source"], "aliyun-call-report");
    let nd1 = app.call_by_vendor_id("aliyun", "nd-1").await;
    assert_eq!(nd1["receipts"].as_array().unwrap().len(), 2);
    let receipt = app.receipt_of(&sample("aliyun-call-report")).await;
    assert_eq!(
        receipt["remote_addr"],
        format!("import:{}", one.display()),
        "{receipt}"
    );
    assert_eq!(
        app.get_json("/api/v1/receipts").await["items"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_prints_each_push_url() {
    let dir = TempDir::new().unwrap();
    let out = Binary::run(dir.path(), &["sources"]);
    assert!(out.status.success(), "{}", describe(&out));
    let text = stdout(&out);
    for kind in [
        "aliyun-call-report",
        "aliyun-call-notes",
        "itnio-call-record",
        "longlonglong-inbound",
        "laaffic-voice-report",
    ] {
        let url = format!("http://127.0.0.1:8080/hooks/{kind}");
        assert!(
            text.lines().any(|l| l.trim_end().ends_with(&url)),
            "{url} missing:\n{text}"
        );
    }

    let config = dir.path().join("callhook.toml");
    std::fs::write(
        &config,
        r#"
        [[sources]]
        name = "ali"
        kind = "aliyun-call-report"
        token = "s3cret"

        [[sources]]
        name = "lf"
        kind = "laaffic-voice-report"
        "#,
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let args = [
        "--config",
        cfg,
        "sources",
        "--base-url",
        "https://hooks.example.com/",
    ];
    let out = Binary::run(dir.path(), &args);
    assert!(out.status.success(), "{}", describe(&out));
    let text = stdout(&out);
    assert!(
        text.contains("https://hooks.example.com/hooks/ali/<token>"),
        "{text}"
    );
    assert!(
        text.contains("https://hooks.example.com/hooks/lf"),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "the token leaked:\n{text}");
    let (table, kinds) = text
        .split_once("\n\n")
        .expect("a blank line before the kinds");
    assert!(
        !table.contains("aliyun-call-notes"),
        "only configured sources:\n{text}"
    );
    for kind in [
        "aliyun-call-notes",
        "vapi-end-of-call-report",
        "retell-call-event",
        "bland-call",
        "mapped",
    ] {
        assert!(kinds.contains(kind), "every kind is listed: {kind}\n{text}");
    }

    let out = Binary::run(dir.path(), &["--config", cfg, "sources", "--show-secrets"]);
    assert!(
        stdout(&out).contains("http://127.0.0.1:8080/hooks/ali/s3cret"),
        "{}",
        describe(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_rejected_runs_stored_bodies_through_the_fixed_source() {
    let dir = TempDir::new().unwrap();
    let db = database(dir.path());
    let write = |name: &str, kind: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!("[[sources]]\nname = \"feed\"\nkind = \"{kind}\"\n"),
        )
        .unwrap();
        path.to_str().unwrap().to_owned()
    };
    let wrong = write("wrong.toml", "laaffic-voice-report");
    let fixed = write("fixed.toml", "longlonglong-inbound");
    let pushed = dir.path().join("inbound.json");
    std::fs::write(&pushed, sample("longlonglong-inbound")).unwrap();

    // Imported to a source of the wrong kind: rejected, and the exit code says so.
    let args = [
        "--config",
        &wrong,
        "--database",
        &db,
        "import",
        "--source",
        "feed",
    ];
    let out = Binary::run(
        dir.path(),
        &[&args[..], &[pushed.to_str().unwrap()]].concat(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(stdout(&out).contains("1 rejected"), "{}", describe(&out));

    let replay_rejected = || {
        Binary::run(
            dir.path(),
            &[
                "--config",
                &fixed,
                "--database",
                &db,
                "replay",
                "--status",
                "rejected",
            ],
        )
    };
    let out = replay_rejected();
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        stdout(&out).contains("replayed 1 receipt: 1 accepted"),
        "{}",
        describe(&out)
    );

    // Nothing is left to replay.
    let out = replay_rejected();
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        stdout(&out).contains("replayed 0 receipts"),
        "{}",
        describe(&out)
    );

    let db_path = dir.path().join("cli.db");
    let toml = std::fs::read_to_string(&fixed).unwrap();
    let app = spawn_app_on(dir, db_path, &toml).await;
    let call = app
        .call_by_vendor_id("longlonglong", "3e7ff3fb-2e65-4a51-b322-a01db56f8a90")
        .await;
    assert_eq!(call["source"], "feed");
    assert_eq!(call["talk_seconds"], 43);
    let receipt = app.receipt_of(&sample("longlonglong-inbound")).await;
    assert_eq!(receipt["status"], "accepted");
    assert_eq!(receipt["replay_count"], 1);
    assert_eq!(receipt["errors"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_a_public_address_while_a_source_has_no_token() {
    let dir = TempDir::new().unwrap();
    let db = database(dir.path());
    let out = Binary::run(
        dir.path(),
        &["serve", "--listen", "0.0.0.0:0", "--database", &db],
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--insecure"), "{stderr}");
    assert!(
        !dir.path().join("cli.db").exists(),
        "nothing opened before refusing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_read_callhook_environment_variables_and_bad_keys_are_named() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("notes.json");
    std::fs::write(&file, sample("aliyun-call-notes")).unwrap();
    let db = database(dir.path());
    let args = [
        "import",
        "--source",
        "aliyun-call-notes",
        file.to_str().unwrap(),
    ];
    let out = Binary::finish(
        Binary::command(dir.path())
            .env("CALLHOOK_DATABASE", &db)
            .args(args),
        &args,
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        dir.path().join("cli.db").exists(),
        "CALLHOOK_DATABASE ignored"
    );
    assert!(
        !dir.path().join("callhook.db").exists(),
        "the default database was used"
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[sources]]\nname = \"x\"\nkind = \"aliyun-call-report\"\ncolour = \"red\"\n",
    )
    .unwrap();
    let out = Binary::run(dir.path(), &["--config", bad.to_str().unwrap(), "sources"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("colour"),
        "{}",
        describe(&out)
    );

    let db_path = dir.path().join("cli.db");
    let app = spawn_app_on(dir, db_path, "").await;
    let call = app
        .call_by_vendor_id("aliyun", "155***********^142**************")
        .await;
    assert_eq!(call["analyses"][0]["full_score"], 15.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_prints_the_effective_configuration_without_a_secret() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("callhook.toml");
    std::fs::write(
        &file,
        r#"api_token = "api-SECRET-1"
database = "postgres://app:db-SECRET-2@127.0.0.1:5432/x"
allow_private_subscribers = true
mask_numbers = true

[limits]
ack_budget = "300ms"

[[api_tokens]]
name = "grafana"
token = "read-SECRET-5"

[[sources]]
name = "ali"
kind = "aliyun-call-report"
token = "src-SECRET-3"

[[subscribers]]
name = "crm"
url = "http://127.0.0.1:9/hook?token=url-SECRET-4"
secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
"#,
    )
    .unwrap();
    let args = ["--config", file.to_str().unwrap(), "check-config"];
    let out = Binary::finish(
        Binary::command(dir.path())
            .env("CALLHOOK_LIMITS_MAX_JSON_DEPTH", "32")
            .args(args),
        &args,
    );
    assert!(out.status.success(), "{}", describe(&out));
    let text = stdout(&out);
    let all = format!("{text}{}", String::from_utf8_lossy(&out.stderr));
    for secret in ["SECRET", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"] {
        assert!(!all.contains(secret), "{secret} shown:\n{all}");
    }
    let shown: toml::Table = text.parse().expect("the output is TOML");
    assert_eq!(shown["api_token"].as_str(), Some("<redacted>"));
    assert_eq!(shown["api_tokens"][0]["token"].as_str(), Some("<redacted>"));
    assert_eq!(
        shown["api_tokens"][0]["scope"].as_str(),
        Some("read"),
        "default scope"
    );
    assert_eq!(shown["mask_numbers"].as_bool(), Some(true));
    assert_eq!(
        shown["database"].as_str(),
        Some("postgres://app:REDACTED@127.0.0.1:5432/x")
    );
    assert_eq!(shown["limits"]["ack_budget"].as_str(), Some("300ms"));
    assert_eq!(
        shown["limits"]["max_json_depth"].as_integer(),
        Some(32),
        "the environment is applied"
    );
    assert_eq!(
        shown["limits"]["body_read_timeout"].as_str(),
        Some("30s"),
        "defaults are filled in"
    );
    let source = &shown["sources"][0];
    assert_eq!(source["token"].as_str(), Some("<redacted>"));
    assert_eq!(
        source["timezone"].as_str(),
        Some("Asia/Shanghai"),
        "resolved default"
    );
    assert_eq!(
        shown["subscribers"][0]["secret"][0].as_str(),
        Some("<redacted>")
    );
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("configuration is valid: 1 source, 1 subscriber"));

    std::fs::write(&file, "[limits]\nack_budgett = \"1s\"\n").unwrap();
    let out = Binary::run(dir.path(), &args);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ack_budgett") && err.contains("limits"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_show_secrets_prints_push_urls_that_work_whatever_the_token() {
    let dir = TempDir::new().unwrap();
    let config = dir.path().join("callhook.toml");
    // A token with every character a URL path gives a meaning to.
    let token = "a/b?c#d e%f+g&h";
    std::fs::write(
        &config,
        format!(
            "[[sources]]\nname = \"ali\"\nkind = \"aliyun-call-report\"\ntoken = {}\n",
            toml_string(token)
        ),
    )
    .unwrap();
    let db = database(dir.path());
    let server = Server::start_with(dir.path(), &db, Some(&config)).await;
    let cfg = config.to_str().unwrap();
    let args = [
        "--config",
        cfg,
        "sources",
        "--base-url",
        &server.base,
        "--show-secrets",
    ];
    let out = Binary::run(dir.path(), &args);
    assert!(out.status.success(), "{}", describe(&out));
    let text = stdout(&out);
    let expected = format!("{}/hooks/ali/a%2Fb%3Fc%23d%20e%25f%2Bg%26h", server.base);
    let url = text
        .lines()
        .find(|l| l.starts_with("ali "))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("no line for `ali`:\n{text}"));
    assert_eq!(url, expected, "{text}");

    // Pasted into a vendor's console, the URL is accepted as is.
    let body = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aliyun-call-report/sample.json"),
    )
    .unwrap();
    let client = reqwest::Client::new();
    let answer = client.post(url).body(body.clone()).send().await.unwrap();
    assert_eq!(answer.status(), 200, "{}", server.log());
    // And a wrong token is still refused.
    let wrong = format!("{}/hooks/ali/a", server.base);
    let answer = client.post(wrong).body(body).send().await.unwrap();
    assert_eq!(answer.status(), 401);
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
