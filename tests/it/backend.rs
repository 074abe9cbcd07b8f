//! Which store the black-box tests run on: SQLite always; PostgreSQL when
//! `CALLHOOK_TEST_BACKEND=postgres` (with `CALLHOOK_TEST_POSTGRES_URL`), each
//! app on a database of its own, dropped when the app is.

use std::path::Path;

/// A PostgreSQL database made for one test app; dropped with it.
pub struct PgDatabase {
    server: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (server, sql) = (
            self.server.clone(),
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
        // Drop runs inside the test's runtime: a thread of its own runs the statement.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(admin(&server, &sql));
        })
        .join();
    }
}

async fn admin(server: &str, sql: &str) {
    let (client, conn) = tokio_postgres::connect(server, tokio_postgres::NoTls)
        .await
        .expect("CALLHOOK_TEST_POSTGRES_URL reachable");
    tokio::spawn(conn);
    client.batch_execute(sql).await.expect("admin statement");
}

/// Whether the black-box tests run on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("CALLHOOK_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// A new PostgreSQL database on `CALLHOOK_TEST_POSTGRES_URL` whatever the
/// backend of the run; `None` (the caller skips) when that is not set.
pub async fn postgres_database() -> Option<(String, PgDatabase)> {
    let server = std::env::var("CALLHOOK_TEST_POSTGRES_URL").ok()?;
    let name = format!(
        "callhook_it_{}",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    admin(&server, &format!("CREATE DATABASE {name}")).await;
    let mut url = url::Url::parse(&server).expect("CALLHOOK_TEST_POSTGRES_URL is a URL");
    url.set_path(&name);
    Some((url.to_string(), PgDatabase { server, name }))
}

/// What an `#[ignore]`d PostgreSQL test says when run without a server.
pub const NEEDS_POSTGRES: &str =
    "this test needs PostgreSQL: set CALLHOOK_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test)";

/// A new PostgreSQL database for a test marked
/// `#[ignore = "needs PostgreSQL: CALLHOOK_TEST_POSTGRES_URL"]`: run on
/// purpose (`--include-ignored`), it fails rather than pass unchecked.
pub async fn required_postgres_database() -> (String, PgDatabase) {
    postgres_database().await.expect(NEEDS_POSTGRES)
}

/// The `database` URL of a fresh app: a new PostgreSQL database (and its
/// guard) when [`on_postgres`], else `sqlite://<dir>/callhook.db`.
pub async fn fresh_database(dir: &Path) -> (String, Option<PgDatabase>) {
    if !on_postgres() {
        return (
            format!("sqlite://{}", dir.join("callhook.db").display()),
            None,
        );
    }
    let (url, db) = postgres_database()
        .await
        .expect("CALLHOOK_TEST_BACKEND=postgres needs CALLHOOK_TEST_POSTGRES_URL");
    (url, Some(db))
}
