//! A PostgreSQL database of its own for a unit test, on the server named by
//! `CALLHOOK_TEST_POSTGRES_URL`, dropped when the guard is.

/// A test database; dropped (with its connections) when this is.
pub struct TestDb {
    pub url: String,
    server: String,
    name: String,
}

async fn admin(server: &str, sql: &str) {
    let (client, conn) = tokio_postgres::connect(server, tokio_postgres::NoTls)
        .await
        .expect("CALLHOOK_TEST_POSTGRES_URL reachable");
    tokio::spawn(conn);
    client.batch_execute(sql).await.expect("admin statement");
}

/// A new database on the server named by `CALLHOOK_TEST_POSTGRES_URL`.
/// Tests calling this are marked `#[ignore = "needs PostgreSQL: …"]`, so a
/// run without the server reports them as ignored, not passed.
///
/// Panics: when the variable is not set, naming it (the test was run with
/// `--include-ignored` on a machine without the server).
pub async fn fresh() -> TestDb {
    let server = std::env::var("CALLHOOK_TEST_POSTGRES_URL")
        .expect("this test needs PostgreSQL: set CALLHOOK_TEST_POSTGRES_URL");
    let name = format!(
        "callhook_t_{}",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    admin(&server, &format!("CREATE DATABASE {name}")).await;
    let mut url = url::Url::parse(&server).expect("CALLHOOK_TEST_POSTGRES_URL is a URL");
    url.set_path(&name);
    TestDb {
        url: url.to_string(),
        server,
        name,
    }
}

/// Whether the store contract tests run on PostgreSQL
/// (`CALLHOOK_TEST_BACKEND=postgres`).
pub fn on_postgres() -> bool {
    std::env::var("CALLHOOK_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (server, sql) = (
            self.server.clone(),
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
        // Drop may run inside a runtime: a thread of its own runs it.
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(admin(&server, &sql));
        })
        .join();
    }
}
