//! The migration that adds the outcome columns (schema 12 on both
//! backends) fills the rebuilt levels from the calls already stored: an
//! upgraded database's rollups equal a scan of its calls.

use crate::domain::{Call, CallUpdate, Direction, Money, Outcome, Vendor};
use crate::storage::doc_codec::pack_doc;
use crate::storage::rollup::check::mismatches;
use crate::storage::rollup::{schema, Dim, RollupFilter};
use crate::storage::{postgres, sqlite, Store};
use jiff::{SignedDuration, Timestamp};

/// Calls of every outcome over two days, two vendors, two tasks (and
/// none), some with a cost; the first awaits its report.
fn calls() -> Vec<Call> {
    let base: Timestamp = "2025-06-01T00:00:00Z".parse().unwrap();
    (0..Outcome::ALL.len() * 2)
        .map(|i| {
            let vendor = [Vendor::Aliyun, Vendor::Laaffic][i % 2];
            let u = CallUpdate::new(vendor, format!("old-{i}"), Direction::Outbound);
            let at = base + SignedDuration::from_mins(i as i64 * 181);
            let mut c = Call::from_update(&u, "src", at);
            if i > 0 {
                c.outcome = Outcome::ALL[i % Outcome::ALL.len()];
                c.vendor_status = c.outcome.as_str().to_owned();
                c.talk_seconds = Some(i as i64 * 7);
            }
            c.task_id = [Some("T1".to_owned()), Some("T2".to_owned()), None][i % 3].clone();
            c.cost = (i % 4 != 0).then(|| Money::new(format!("0.{i:02}").parse().unwrap(), "usd"));
            c
        })
        .collect()
}

/// The columns of a stored call (its document packed by the caller).
fn row(c: &Call) -> (String, String, String, Option<String>, i64) {
    let at = c.started_at.as_millisecond();
    let outcome = c.outcome.as_str().to_owned();
    (
        c.id.clone(),
        c.vendor.as_str().to_owned(),
        outcome,
        c.task_id.clone(),
        at,
    )
}

fn doc(c: &Call) -> crate::storage::doc_codec::StoredDoc {
    pack_doc(&serde_json::to_string(c).unwrap())
}

const INSERT: &str = "INSERT INTO calls (id, vendor, vendor_call_id, source, direction, outcome,
     task_id, started_at, doc) VALUES ($1, $2, $1, 'src', 'outbound', $3, $4, $5, $6)";

/// How many migrations come before the outcome columns' one.
fn before(all: &[&str], this: &str) -> usize {
    all.iter().position(|m| *m == this).expect("the migration")
}

/// Every level and a campaign's outcome mix equal a scan.
async fn rollups_equal_a_scan(store: &dyn Store) {
    let task = RollupFilter {
        task_id: Some("T1".into()),
        ..Default::default()
    };
    for f in [RollupFilter::default(), task] {
        let off = mismatches(store, &f).await.unwrap();
        assert!(off.is_empty(), "{f:?}: {off:#?}");
    }
    let all = RollupFilter::default();
    let rows = store.rollup(&[Dim::Vendor], &all).await.unwrap();
    let per_outcome: i64 = rows
        .iter()
        .map(|r| r.sums.outcomes.iter().sum::<i64>())
        .sum();
    assert_eq!(per_outcome, calls().len() as i64);
    let failed: i64 = rows
        .iter()
        .map(|r| r.sums.of_outcome(Outcome::Failed))
        .sum();
    assert_eq!(failed, 2);
}

#[tokio::test]
async fn sqlite_upgrade_refills_the_levels_with_outcome_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        sqlite::schema::configure(&conn).unwrap();
        let all = sqlite::schema::MIGRATIONS;
        let n = before(all, schema::SQLITE);
        for sql in &all[..n] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", n as i64).unwrap();
        let insert = INSERT.replace('$', "?");
        for c in calls() {
            let (id, vendor, outcome, task, at) = row(&c);
            conn.execute(
                &insert,
                rusqlite::params![id, vendor, outcome, task, at, doc(&c)],
            )
            .unwrap();
        }
    }
    let store = sqlite::SqliteStore::open(&path).unwrap();
    rollups_equal_a_scan(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: CALLHOOK_TEST_POSTGRES_URL"]
async fn postgres_upgrade_refills_the_levels_with_outcome_columns() {
    let db = postgres::testdb::fresh().await;
    {
        let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .batch_execute("CREATE TABLE callhook_schema (version INTEGER NOT NULL)")
            .await
            .unwrap();
        let all = postgres::schema::MIGRATIONS;
        for (i, sql) in all[..before(all, schema::POSTGRES)].iter().enumerate() {
            client.batch_execute(sql).await.unwrap();
            client
                .execute(
                    "INSERT INTO callhook_schema VALUES ($1)",
                    &[&(i as i32 + 1)],
                )
                .await
                .unwrap();
        }
        for c in calls() {
            let (id, vendor, outcome, task, at) = row(&c);
            let doc = doc(&c).into_bytes();
            client
                .execute(INSERT, &[&id, &vendor, &outcome, &task, &at, &doc])
                .await
                .unwrap();
        }
    }
    let store = postgres::PgStore::open(&db.url, &Default::default(), vec![])
        .await
        .unwrap();
    rollups_equal_a_scan(&store).await;
}
