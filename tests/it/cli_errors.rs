//! Errors and output a person can act on, from the real binary: config
//! errors naming their `CALLHOOK_*` variable and the nearest key, a busy
//! port, commands that refuse to create a database they only work on,
//! `--kind` suggestions, plurals, help lines, what `serve` prints when it
//! starts, and a database newer than this binary.

use crate::process::{Binary, Server};
use crate::support::sample;
use std::path::Path;
use std::process::Output;
use tempfile::TempDir;

fn text(out: &Output) -> (Option<i32>, String, String) {
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `callhook check-config` with `vars` set and `file` as the configuration.
fn check_config(dir: &Path, file: Option<&str>, vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Binary::command(dir);
    if let Some(toml) = file {
        let path = dir.join("callhook.toml");
        std::fs::write(&path, toml).unwrap();
        cmd.arg("--config").arg(path);
    }
    cmd.arg("check-config").envs(vars.iter().copied());
    let (code, _, err) = text(&Binary::finish(&mut cmd, &["check-config"]));
    (code, err)
}

fn sqlite(dir: &Path, name: &str) -> String {
    format!("sqlite://{}", dir.join(name).display())
}

#[test]
fn config_errors_name_their_variable_and_the_nearest_key() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let (code, err) = check_config(d, Some("lisen = \"127.0.0.1:9000\"\n"), &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("unknown key `lisen`, did you mean `listen`?")
            && err.contains("callhook.toml"),
        "{err}"
    );
    let (code, err) = check_config(d, Some("[limits]\nack_budgt = \"1s\"\n"), &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("unknown key `ack_budgt` in [limits], did you mean `ack_budget`?"),
        "{err}"
    );
    let (code, err) = check_config(d, None, &[("CALLHOOK_RETENTION_DAYS", "soon")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("environment variable CALLHOOK_RETENTION_DAYS:"),
        "{err}"
    );
    let (code, err) = check_config(d, None, &[("CALLHOOK_LIMITS_ACK_BUDGET", "fast")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("environment variable CALLHOOK_LIMITS_ACK_BUDGET:") && err.contains("fast"),
        "{err}"
    );
    let (code, err) = check_config(d, None, &[("CALLHOOK_LIMITS_ACK_BUDGT", "1s")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("CALLHOOK_LIMITS_ACK_BUDGT")
            && err.contains("did you mean `ack_budget` (CALLHOOK_LIMITS_ACK_BUDGET)?"),
        "{err}"
    );
    let (code, err) = check_config(
        d,
        Some("[[sources]]\nname = \"a\"\nkind = \"aliyun-call-reprot\"\n"),
        &[],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("sources.0.kind") && err.contains("did you mean `aliyun-call-report`?"),
        "{err}"
    );
    // A value that reads but is not valid names its variable too.
    let (code, err) = check_config(d, None, &[("CALLHOOK_RETENTION_DAYS", "0")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "environment variable CALLHOOK_RETENTION_DAYS: retention_days: must be at least 1"
        ),
        "{err}"
    );
    let (code, err) = check_config(d, None, &[("CALLHOOK_DATABASE", "mysql://db")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("environment variable CALLHOOK_DATABASE: database `mysql://db`"),
        "{err}"
    );
    let (code, err) = check_config(d, Some("retention_days = 0\n"), &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(!err.contains("CALLHOOK_RETENTION_DAYS"), "{err}");
    // Nothing near: the keys it could be.
    let (code, err) = check_config(d, Some("zzzzzz = 1\n"), &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("expected one of") && err.contains("`listen`"),
        "{err}"
    );
}

#[test]
fn a_busy_port_is_said_once_naming_the_address_and_listen() {
    let dir = TempDir::new().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let db = sqlite(dir.path(), "busy.db");
    let out = Binary::run(dir.path(), &["serve", "--listen", &addr, "--database", &db]);
    let (code, _, err) = text(&out);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("{addr} is already in use")) && err.contains("--listen"),
        "{err}"
    );
    assert_eq!(err.matches("in use").count(), 1, "said once: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn commands_on_a_database_refuse_a_missing_sqlite_file_instead_of_creating_it() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("missing.db");
    let db = format!("sqlite://{}", path.display());
    let commands: &[&[&str]] = &[
        &["export", "--format", "csv"],
        &["deliveries", "list"],
        &["deliveries", "retry"],
        &["deliveries", "enable", "--subscriber", "crm"],
        &["recordings", "status"],
        &["recordings", "fetch"],
        &["replay", "--status", "rejected"],
        &["reproject", "--dry-run"],
        &["purge", "--older-than-days", "30", "--dry-run"],
    ];
    for args in commands {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--database", &db]);
        let (code, out, err) = text(&Binary::run(dir.path(), &all));
        assert_eq!(code, Some(2), "{args:?}: {out} {err}");
        assert!(
            err.contains(&format!("no database at {}", path.display()))
                && err.contains(&format!("`callhook {}", args[..1].join(" "))),
            "{args:?}: {err}"
        );
        assert!(!path.exists(), "{args:?} created {}", path.display());
    }
    // A bad flag is still named first.
    let (code, _, err) = text(&Binary::run(
        dir.path(),
        &[
            "export",
            "--format",
            "csv",
            "--since",
            "soon",
            "--database",
            &db,
        ],
    ));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--since"), "{err}");
    let (code, _, err) = text(&Binary::run(
        dir.path(),
        &["recordings", "fetch", "--since", "soon", "--database", &db],
    ));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--since `soon`"), "{err}");
    assert!(!path.exists());
    // Also when the file is the default one (no --database).
    let (code, _, err) = text(&Binary::run(dir.path(), &["recordings", "status"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no database at callhook.db"), "{err}");
    assert!(!dir.path().join("callhook.db").exists());
}

#[test]
fn kind_suggests_the_nearest_kind() {
    let dir = TempDir::new().unwrap();
    let db = sqlite(dir.path(), "k.db");
    let (code, _, err) = text(&Binary::run(dir.path(), &["migrate", "--database", &db]));
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = text(&Binary::run(
        dir.path(),
        &[
            "reproject",
            "--kind",
            "itnio-call-recrod",
            "--database",
            &db,
        ],
    ));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--kind: unknown kind `itnio-call-recrod`, did you mean `itnio-call-record`?"),
        "{err}"
    );
    let (code, _, err) = text(&Binary::run(
        dir.path(),
        &["reproject", "--kind", "fax", "--database", &db],
    ));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("expected one of") && err.contains("`bland-call`"),
        "{err}"
    );
}

#[test]
fn simulate_kind_suggests_the_nearest_kind() {
    let dir = TempDir::new().unwrap();
    let (code, _, err) = text(&Binary::run(
        dir.path(),
        &[
            "simulate",
            "--kind",
            "bland-cal",
            "--url",
            "http://127.0.0.1:9/hooks/x",
        ],
    ));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--kind"), "{err}");
    assert!(
        err.contains("unknown kind `bland-cal`, did you mean `bland-call`?"),
        "{err}"
    );
}

#[test]
fn summaries_say_one_call_and_two_calls() {
    let dir = TempDir::new().unwrap();
    let db = sqlite(dir.path(), "p.db");
    let file = dir.path().join("one.json");
    std::fs::write(&file, sample("itnio-call-record")).unwrap();
    let (code, out, err) = text(&Binary::run(
        dir.path(),
        &[
            "import",
            "--source",
            "itnio-call-record",
            "--database",
            &db,
            file.to_str().unwrap(),
        ],
    ));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("imported 1 body, 1 record:"), "{out}");
    let (code, _, err) = text(&Binary::run(
        dir.path(),
        &["export", "--format", "ndjson", "--database", &db],
    ));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("exported 1 call to stdout"), "{err}");
    let (code, out, err) = text(&Binary::run(
        dir.path(),
        &["reproject", "--dry-run", "--database", &db],
    ));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("reprojected 1 receipt: 1 call examined"),
        "{out}"
    );
    let (_, out, _) = text(&Binary::run(
        dir.path(),
        &["deliveries", "list", "--database", &db],
    ));
    assert_eq!(out.trim(), "no deliveries match");
    let (code, out, err) = text(&Binary::run(
        dir.path(),
        &[
            "purge",
            "--older-than-days",
            "1",
            "--dry-run",
            "--database",
            &db,
        ],
    ));
    assert_eq!(code, Some(0), "{err}");
    // The sample call started long ago; its receipt came in just now.
    assert!(
        out.contains("would delete 1 call, 0 receipts, 0 events") && out.contains("(1 day)"),
        "{out}"
    );
}

/// The subcommands listed under "Commands:" in `help`.
fn subcommands(help: &str) -> Vec<String> {
    help.split("Commands:")
        .nth(1)
        .map(|rest| {
            rest.lines()
                .skip(1)
                .take_while(|l| l.starts_with("  "))
                .filter_map(|l| l.split_whitespace().next())
                .filter(|c| *c != "help")
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Every command path: `["serve"]`, `["deliveries", "list"]`, …
fn command_paths(dir: &Path, path: Vec<String>) -> Vec<Vec<String>> {
    let mut args = path.clone();
    args.push("--help".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (_, help, _) = text(&Binary::run(dir, &args));
    let mut all = vec![path.clone()];
    for sub in subcommands(&help) {
        let mut p = path.clone();
        p.push(sub);
        all.extend(command_paths(dir, p));
    }
    all
}

#[test]
fn every_flag_has_a_help_line_and_database_is_only_where_one_is_used() {
    let dir = TempDir::new().unwrap();
    let paths = command_paths(dir.path(), vec![]);
    assert!(paths.len() > 15, "{paths:?}");
    let uses_db = [
        "serve",
        "import",
        "export",
        "replay",
        "reproject",
        "migrate",
        "check-config",
        "purge",
        "deliveries",
        "recordings",
    ];
    for path in &paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("-h");
        let (code, help, err) = text(&Binary::run(dir.path(), &args));
        assert_eq!(code, Some(0), "{path:?}: {err}");
        let options = help.split("Options:").nth(1).unwrap_or_default();
        // Each option: `--flag <VALUE>`, then its help on the same line
        // (after two spaces) or on the lines below, indented further.
        let mut flags: Vec<(String, String)> = Vec::new();
        for line in options.lines() {
            let t = line.trim_start();
            if t.starts_with('-') {
                let flag = t.split("  ").next().unwrap().to_owned();
                let rest = t[flag.len()..].to_owned();
                flags.push((flag, rest));
            } else if let Some((_, help)) = flags.last_mut() {
                help.push(' ');
                help.push_str(t);
            }
        }
        let seen = flags.len();
        for (flag, help_text) in &flags {
            // `[env: …]`, `[default: …]`, `[possible values: …]` are not help.
            let words: String = help_text
                .split('[')
                .map(|part| part.split_once(']').map_or(part, |(_, after)| after))
                .collect();
            assert!(
                !words.trim().is_empty(),
                "{path:?}: `{flag}` has no help line\n{help}"
            );
        }
        assert!(seen > 0, "{path:?}\n{help}");
        let has_db = options.contains("--database");
        let wants_db = path.first().is_some_and(|c| uses_db.contains(&c.as_str()));
        assert_eq!(
            has_db, wants_db,
            "{path:?}: --database shown: {has_db}\n{help}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_prints_the_dashboard_and_each_push_url_with_tokens_masked() {
    let dir = TempDir::new().unwrap();
    let config = dir.path().join("callhook.toml");
    std::fs::write(
        &config,
        "[[sources]]\nname = \"ali\"\nkind = \"aliyun-call-report\"\ntoken = \"t0ps3cret\"\n\n\
         [[sources]]\nname = \"bland\"\nkind = \"bland-call\"\n",
    )
    .unwrap();
    let db = sqlite(dir.path(), "serve.db");
    let server = Server::start_with(dir.path(), &db, Some(&config)).await;
    // /healthz may answer a moment before the lines are printed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !server.log().contains("/hooks/bland") && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let log = server.log();
    assert!(
        log.contains(&format!("dashboard: {}/", server.base)),
        "{log}"
    );
    assert!(
        log.contains(&format!("{}/hooks/ali/<token>", server.base)),
        "{log}"
    );
    assert!(
        log.contains(&format!("{}/hooks/bland", server.base)),
        "{log}"
    );
    assert!(!log.contains("t0ps3cret"), "{log}");
}

#[test]
fn a_database_newer_than_this_binary_is_refused() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("new.db");
    let db = format!("sqlite://{}", path.display());
    let (code, _, err) = text(&Binary::run(dir.path(), &["migrate", "--database", &db]));
    assert_eq!(code, Some(0), "{err}");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let known: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    conn.pragma_update(None, "user_version", known + 1).unwrap();
    drop(conn);
    let port = crate::process::free_port().to_string();
    let listen = format!("127.0.0.1:{port}");
    for args in [
        vec!["serve", "--listen", &listen],
        vec!["migrate"],
        vec!["export", "--format", "csv"],
    ] {
        let mut all = args.clone();
        all.extend(["--database", &db]);
        let (code, _, err) = text(&Binary::run(dir.path(), &all));
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("schema is at version {}", known + 1))
                && err.contains(&format!("newer than this callhook knows (version {known}")),
            "{args:?}: {err}"
        );
    }
}

#[test]
#[ignore = "needs PostgreSQL: CALLHOOK_TEST_POSTGRES_URL"]
fn a_postgres_database_newer_than_this_binary_is_refused() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (db, _guard) = rt.block_on(crate::backend::required_postgres_database());
    let dir = TempDir::new().unwrap();
    let (code, _, err) = text(&Binary::run(dir.path(), &["migrate", "--database", &db]));
    assert_eq!(code, Some(0), "{err}");
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&db, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(
                "INSERT INTO callhook_schema (version) SELECT max(version) + 1 FROM callhook_schema",
            )
            .await
            .unwrap();
    });
    let (code, _, err) = text(&Binary::run(dir.path(), &["migrate", "--database", &db]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("newer than this callhook knows"), "{err}");
}
