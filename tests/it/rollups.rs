//! Rollups kept at ingest answer the stats exactly as a scan of every call
//! does, after creates and after updates that move calls between keys
//! (outcome, currency, QA score, talk time), on both backends.

use crate::support::{body, spawn_app, TestApp};
use callhook::config::{Config, Overrides};
use callhook::storage::rollup::{Dim, RollupFilter};
use callhook::storage::{CallFilter, GroupBy, StatsRow, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::sync::Arc;

const STATUSES: [&str; 5] = [
    "ANSWERED",
    "NO_ANSWER",
    "USER_BUSY",
    "POWERED_OFF",
    "ANSWERED",
];

fn report(rng: &mut StdRng, id: usize) -> Value {
    let status = STATUSES[rng.random_range(0..STATUSES.len())];
    let day = rng.random_range(1..=4);
    let hour = rng.random_range(0..24);
    let talk = if status == "ANSWERED" {
        rng.random_range(0..900)
    } else {
        0
    };
    json!({"callId": format!("R-{id}"), "taskId": format!("T{}", rng.random_range(1..=3)),
           "callee": format!("1390000{id:04}"), "smartStatusCode": status,
           "originateTime": format!("2025-06-0{day} {hour:02}:00:00"), "duration": talk})
}

fn laaffic(rng: &mut StdRng, id: usize) -> Value {
    let base = 1_748_736_000_000_i64 + rng.random_range(0..4 * 86_400_000_i64);
    let desc = [1, 6, 8][rng.random_range(0..3)];
    let currency = ["USD", "EUR"][rng.random_range(0..2)];
    json!({"voiceId": format!("L-{id}"), "taskId": rng.random_range(500..503), "callee": format!("65{id}"),
           "callTime": base, "hangupTime": base + 60_000, "callDescription": desc,
           "callDuration": if desc == 1 { rng.random_range(1..700) } else { 0 },
           "cost": format!("0.{:03}", rng.random_range(1..999)), "currency": currency})
}

fn notes(rng: &mut StdRng, id: usize) -> Value {
    let item = |score: u32| json!({"item": "Greeting", "score": score, "full_score": 7, "problem": "", "suggestion": ""});
    json!({"call_id": format!("R-{id}"), "biz_id": format!("n{id}-{}", rng.random_range(0..1000)),
           "success": true, "type": "Call Quality Inspection",
           "report_time": format!("2025-06-05 {:02}:00:00", rng.random_range(0..24)),
           "result": json!([item(rng.random_range(0..=7))]).to_string()})
}

/// Pushes creates, then updates of some of the same calls.
async fn fill(app: &TestApp, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for round in 0..2 {
        let ids: Vec<usize> = if round == 0 {
            (0..240).collect()
        } else {
            (0..240).step_by(3).collect()
        };
        for chunk in ids.chunks(40) {
            let r: Vec<Value> = chunk.iter().map(|i| report(&mut rng, *i)).collect();
            app.push_ok("aliyun-call-report", body(&json!(r))).await;
            let l: Vec<Value> = chunk.iter().map(|i| laaffic(&mut rng, *i)).collect();
            app.push_ok("laaffic-voice-report", body(&json!({"array": l})))
                .await;
        }
        let n: Vec<Value> = (0..240)
            .step_by(2 + round)
            .map(|i| notes(&mut rng, i))
            .collect();
        app.push_ok("aliyun-call-notes", body(&json!(n))).await;
    }
}

async fn store_of(app: &TestApp) -> Arc<dyn Store> {
    let overrides = Overrides {
        listen: None,
        database: Some(app.database.clone()),
    };
    let config = Config::load(None, &overrides).expect("config");
    callhook::app::open_store(&config)
        .await
        .expect("store opens")
}

fn assert_same(got: &[StatsRow], want: &[StatsRow], what: &str) {
    let keys = |rows: &[StatsRow]| rows.iter().map(|r| r.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(got), keys(want), "{what}: keys");
    for (g, w) in got.iter().zip(want) {
        let at = format!("{what}, key {:?}", w.key);
        assert_eq!(
            (g.calls, g.answered, g.talk_seconds),
            (w.calls, w.answered, w.talk_seconds),
            "{at}"
        );
        assert_eq!(g.cost, w.cost, "{at}: cost");
        let close = |a: Option<f64>, b: Option<f64>, f: &str| match (a, b) {
            (Some(a), Some(b)) => assert!((a - b).abs() < 1e-6, "{at}: {f} {a} vs {b}"),
            (a, b) => assert_eq!(a, b, "{at}: {f}"),
        };
        close(Some(g.answer_rate), Some(w.answer_rate), "answer_rate");
        close(g.avg_talk_seconds, w.avg_talk_seconds, "avg_talk_seconds");
        close(g.avg_qa_score, w.avg_qa_score, "avg_qa_score");
    }
}

fn day(d: u32) -> jiff::Timestamp {
    format!("2025-06-0{d}T00:00:00Z").parse().unwrap()
}

#[tokio::test]
async fn rollups_answer_the_stats_exactly_as_a_scan_does() {
    let app = spawn_app().await;
    fill(&app, 7).await;
    let store = store_of(&app).await;
    let filters = [
        CallFilter::default(),
        CallFilter {
            vendor: Some(callhook::domain::Vendor::Laaffic),
            ..Default::default()
        },
        CallFilter {
            since: Some(day(2)),
            until: Some(day(4)),
            ..Default::default()
        },
        CallFilter {
            task_id: Some("T2".into()),
            outcome: Some(callhook::domain::Outcome::Answered),
            ..Default::default()
        },
        CallFilter {
            source: Some("aliyun-call-notes".into()),
            direction: Some(callhook::domain::Direction::Outbound),
            ..Default::default()
        },
    ];
    let mut rows_seen = 0;
    for f in &filters {
        assert!(RollupFilter::of(f).is_some(), "{f:?} is served by rollups");
        for g in [
            GroupBy::Vendor,
            GroupBy::Source,
            GroupBy::Outcome,
            GroupBy::Day,
            GroupBy::TaskId,
        ] {
            let got = store.stats(g, f, &jiff::tz::TimeZone::UTC).await.unwrap();
            let want = store
                .scan_stats(g, f, &jiff::tz::TimeZone::UTC)
                .await
                .unwrap();
            assert_same(&got, &want, &format!("{f:?} by {}", g.as_str()));
            rows_seen += want.len();
        }
    }
    assert!(rows_seen > 50, "the data spans many groups: {rows_seen}");
}

#[tokio::test]
async fn talk_time_buckets_count_every_answered_call_once() {
    let app = spawn_app().await;
    fill(&app, 11).await;
    let store = store_of(&app).await;
    let rows = store
        .rollup(&[Dim::Outcome], &RollupFilter::default())
        .await
        .unwrap();
    let mut answered_with_talk = 0;
    let mut cursor = String::new();
    loop {
        let page = app
            .get_json(&format!("/api/v1/calls?limit=1000{cursor}"))
            .await;
        for c in page["items"].as_array().unwrap() {
            if c["outcome"] == "answered" && c["talk_seconds"].is_i64() {
                answered_with_talk += 1;
            }
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    let answered = rows.iter().find(|r| r.key == ["answered"]).unwrap();
    assert_eq!(
        answered.sums.talk_buckets.iter().sum::<i64>(),
        answered_with_talk
    );
    for r in rows.iter().filter(|r| r.key != ["answered"]) {
        assert_eq!(r.sums.talk_buckets.iter().sum::<i64>(), 0, "{:?}", r.key);
    }
}

#[tokio::test]
async fn an_sqlite_database_from_before_rollups_gets_them_filled_from_its_calls() {
    if crate::backend::on_postgres() {
        return; // `copy_cli` checks PostgreSQL's fill (`REBUILD_ROLLUPS`).
    }
    let app = spawn_app().await;
    fill(&app, 13).await;
    let want: Vec<_> = {
        let store = store_of(&app).await;
        let mut all = Vec::new();
        for g in [GroupBy::Vendor, GroupBy::Day, GroupBy::TaskId] {
            all.push(
                store
                    .scan_stats(g, &CallFilter::default(), &jiff::tz::TimeZone::UTC)
                    .await
                    .unwrap(),
            );
        }
        all
    };
    let stopped = app.stop().await;
    {
        // Back to schema 3: no rollup tables (and none of what the later
        // migrations add; bodies are stored verbatim before migration 6).
        // Migration 4 makes the single table again, migration 7 the levels,
        // migration 12 the levels with outcome columns, migration 13 the day
        // totals, then every level is filled from the calls.
        let c = rusqlite::Connection::open(&stopped.db_path).unwrap();
        c.execute_batch(
            "DROP TABLE rollup_days; DROP TABLE rollup_hours; DROP TABLE rollup_task_days;
             DROP TABLE rollup_day_totals;
             DROP TABLE rollup_task_hours; DROP TABLE rollup_task_intents;
             DROP TABLE alerts; DROP TRIGGER calls_ad_text; DROP TABLE call_fts;
             DROP TABLE call_text; DROP TABLE recordings; DROP TABLE recording_orphans;
             DROP INDEX receipts_pending;
             UPDATE receipts SET body = CAST('{}' AS BLOB);
             ALTER TABLE receipts DROP COLUMN body_codec;
             ALTER TABLE receipts DROP COLUMN body_bytes;
             ALTER TABLE calls DROP COLUMN last_seq;
             PRAGMA user_version = 3;",
        )
        .unwrap();
    }
    let app = stopped.restart("").await;
    let store = store_of(&app).await;
    for (g, want) in [GroupBy::Vendor, GroupBy::Day, GroupBy::TaskId]
        .into_iter()
        .zip(&want)
    {
        let got = store
            .stats(g, &CallFilter::default(), &jiff::tz::TimeZone::UTC)
            .await
            .unwrap();
        assert_same(&got, want, &format!("migrated, by {}", g.as_str()));
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: CALLHOOK_TEST_POSTGRES_URL"]
async fn postgres_folds_past_days_shards_without_changing_an_answer() {
    let (url, _db) = crate::backend::required_postgres_database().await;
    let app = crate::support::spawn_app_on_database(&url, "").await;
    fill(&app, 17).await;
    let store = store_of(&app).await;
    let before: Vec<_> = {
        let mut all = Vec::new();
        for g in [GroupBy::Day, GroupBy::TaskId, GroupBy::Outcome] {
            all.push(
                store
                    .stats(g, &CallFilter::default(), &jiff::tz::TimeZone::UTC)
                    .await
                    .unwrap(),
            );
        }
        all
    };
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let count = |sql: &'static str| {
        let client = &client;
        async move { client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    let sharded =
        count("SELECT count(*) FROM rollup_days WHERE shard <> 0 AND day < '2025-06-03'").await;
    assert!(sharded > 0, "pushes spread over shards");
    let keys = count(
        "SELECT (SELECT count(DISTINCT (day, vendor, source, direction, currency))
            FROM rollup_day_totals WHERE shard <> 0 AND day < '2025-06-03')
          + (SELECT count(DISTINCT (day, vendor, source, direction, currency, outcome))
            FROM rollup_days WHERE shard <> 0 AND day < '2025-06-03')
          + (SELECT count(DISTINCT (hour, vendor, source, direction, currency))
            FROM rollup_hours WHERE shard <> 0 AND hour < '2025-06-03')
          + (SELECT count(DISTINCT (day, task_id, intent))
            FROM rollup_task_intents WHERE shard <> 0 AND day < '2025-06-03')
          + (SELECT count(DISTINCT (day, task_id, vendor, currency))
            FROM rollup_task_days WHERE shard <> 0 AND day < '2025-06-03')
          + (SELECT count(DISTINCT (hour, task_id, vendor, currency))
            FROM rollup_task_hours WHERE shard <> 0 AND hour < '2025-06-03')",
    )
    .await;
    let pg = callhook::storage::postgres::PgStore::open(&url, &Default::default(), Vec::new())
        .await
        .unwrap();
    let folded = pg.compact_rollups("2025-06-03").await.unwrap();
    assert_eq!(
        folded as i64, keys,
        "one shard-0 row written per key folded"
    );
    assert_eq!(
        count(
            "SELECT (SELECT count(*) FROM rollup_days WHERE shard <> 0 AND day < '2025-06-03')
                + (SELECT count(*) FROM rollup_task_hours WHERE shard <> 0 AND hour < '2025-06-03')"
        )
        .await,
        0
    );
    assert!(
        count("SELECT count(*) FROM rollup_days WHERE shard <> 0 AND day >= '2025-06-03'").await
            > 0,
        "later days keep their shards"
    );
    for (g, want) in [GroupBy::Day, GroupBy::TaskId, GroupBy::Outcome]
        .into_iter()
        .zip(&before)
    {
        let got = store
            .stats(g, &CallFilter::default(), &jiff::tz::TimeZone::UTC)
            .await
            .unwrap();
        assert_same(&got, want, &format!("compacted, by {}", g.as_str()));
        assert_same(
            &got,
            &store
                .scan_stats(g, &CallFilter::default(), &jiff::tz::TimeZone::UTC)
                .await
                .unwrap(),
            "compacted vs scan",
        );
    }
}
