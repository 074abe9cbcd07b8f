//! PostgreSQL schema and its migrations, applied at open under an advisory
//! lock (several instances may start at once) and recorded in
//! `callhook_schema`. Times are epoch milliseconds (`BIGINT`), as in SQLite,
//! so both backends read and write the same values; documents are `TEXT`
//! so an event's body is sent byte for byte as it was made. Every text
//! column sorts by bytes (`COLLATE "C"`), as SQLite does: lists, stats keys
//! and cursors come out in the same order on both backends.

use crate::storage::StoreError;
use tokio_postgres::Client;

/// The advisory lock key held while migrating ("callhook" in ASCII).
const MIGRATION_LOCK: i64 = 0x6361_6c6c_686f_6f6b;

/// Each entry migrates from version `index` to `index + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE receipts (
    id           TEXT COLLATE "C" PRIMARY KEY,
    source       TEXT COLLATE "C" NOT NULL,
    kind         TEXT COLLATE "C" NOT NULL,
    received_at  BIGINT NOT NULL,
    remote_addr  TEXT COLLATE "C" NOT NULL,
    sha256       TEXT COLLATE "C" NOT NULL,
    status       TEXT COLLATE "C" NOT NULL,
    record_count BIGINT NOT NULL,
    errors       TEXT COLLATE "C" NOT NULL,
    warnings     TEXT COLLATE "C" NOT NULL,
    replay_count BIGINT NOT NULL DEFAULT 0,
    replayed_at  BIGINT,
    body         BYTEA NOT NULL
);
CREATE INDEX receipts_by_status ON receipts(status, id);
CREATE INDEX receipts_by_source ON receipts(source, id);

CREATE TABLE calls (
    id              TEXT COLLATE "C" PRIMARY KEY,
    vendor          TEXT COLLATE "C" NOT NULL,
    vendor_call_id  TEXT COLLATE "C" NOT NULL,
    source          TEXT COLLATE "C" NOT NULL,
    direction       TEXT COLLATE "C" NOT NULL,
    outcome         TEXT COLLATE "C" NOT NULL,
    task_id         TEXT COLLATE "C",
    out_id          TEXT COLLATE "C",
    customer_number TEXT COLLATE "C",
    started_at      BIGINT NOT NULL,
    talk_seconds    BIGINT,
    cost_amount     TEXT COLLATE "C",
    cost_currency   TEXT COLLATE "C",
    qa_score        DOUBLE PRECISION,
    doc             TEXT COLLATE "C" NOT NULL
);
CREATE INDEX calls_by_started ON calls(started_at DESC, id DESC);
CREATE INDEX calls_by_task ON calls(task_id, started_at);
CREATE INDEX calls_by_out_id ON calls(out_id);
CREATE INDEX calls_by_customer ON calls(customer_number);

CREATE TABLE call_receipts (
    call_id    TEXT COLLATE "C" NOT NULL,
    receipt_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (call_id, receipt_id)
);
CREATE INDEX call_receipts_by_receipt ON call_receipts(receipt_id);

CREATE TABLE events (
    seq        BIGSERIAL PRIMARY KEY,
    id         TEXT COLLATE "C" NOT NULL,
    type       TEXT COLLATE "C" NOT NULL,
    vendor     TEXT COLLATE "C" NOT NULL,
    call_id    TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    payload    TEXT COLLATE "C" NOT NULL
);

CREATE TABLE deliveries (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    target               TEXT COLLATE "C" NOT NULL,
    event_seq            BIGINT NOT NULL,
    call_id              TEXT COLLATE "C" NOT NULL,
    status               TEXT COLLATE "C" NOT NULL,
    attempts             INTEGER NOT NULL DEFAULT 0,
    created_at           BIGINT NOT NULL,
    next_attempt_at      BIGINT,
    lease_until          BIGINT,
    last_attempt_at      BIGINT,
    last_response_status INTEGER,
    last_error           TEXT COLLATE "C",
    delivered_at         BIGINT
);
CREATE INDEX deliveries_due ON deliveries(target, next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_call_order ON deliveries(target, call_id, event_seq) WHERE status = 'pending';
CREATE INDEX deliveries_by_target ON deliveries(target, status, id);

CREATE TABLE targets (
    name            TEXT COLLATE "C" PRIMARY KEY,
    disabled_at     BIGINT,
    disabled_reason TEXT COLLATE "C"
);
"#,
    // 2: rollups (`storage/rollup.rs`), kept at ingest and filled here from
    // the calls already stored. `shard` spreads one hot key over several
    // rows so that instances adding to it at once rarely wait on each
    // other's row lock; reads sum the shards.
    r#"
CREATE TABLE rollups (
    day                   TEXT COLLATE "C" NOT NULL,
    vendor                TEXT COLLATE "C" NOT NULL,
    source                TEXT COLLATE "C" NOT NULL,
    direction             TEXT COLLATE "C" NOT NULL,
    outcome               TEXT COLLATE "C" NOT NULL,
    task_id               TEXT COLLATE "C" NOT NULL,
    currency              TEXT COLLATE "C" NOT NULL,
    shard                 SMALLINT NOT NULL,
    calls                 BIGINT NOT NULL,
    answered              BIGINT NOT NULL,
    talk_seconds          BIGINT NOT NULL,
    answered_talk_seconds BIGINT NOT NULL,
    cost                  NUMERIC NOT NULL,
    qa_micros             BIGINT NOT NULL,
    qa_count              BIGINT NOT NULL,
    talk_b0 BIGINT NOT NULL, talk_b1 BIGINT NOT NULL, talk_b2 BIGINT NOT NULL,
    talk_b3 BIGINT NOT NULL, talk_b4 BIGINT NOT NULL, talk_b5 BIGINT NOT NULL,
    talk_b6 BIGINT NOT NULL,
    PRIMARY KEY (day, vendor, source, direction, outcome, task_id, currency, shard)
);
"#,
    REBUILD_ROLLUPS,
    // 4: retention's indexes (old receipts and events by time, a call's
    // events, an event's deliveries), as SQLite's migration 5.
    crate::storage::sqlite::schema::PURGE_INDEXES,
    // 5: log-first ingest (as SQLite's migration 6). `seq` is the log
    // order (a sequence: it only grows); a call keeps the highest `seq`
    // applied to it; projectors claim pending receipts by `seq`.
    r#"
ALTER TABLE receipts ADD COLUMN body_codec SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE receipts ADD COLUMN body_bytes BIGINT;
ALTER TABLE receipts ADD COLUMN seq BIGSERIAL;
CREATE UNIQUE INDEX receipts_by_seq ON receipts(seq);
CREATE INDEX receipts_pending ON receipts(seq) WHERE status = 'pending';
ALTER TABLE calls ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;
"#,
    // 6: call documents are stored packed (`storage/doc_codec.rs`: a
    // version byte and a zstd frame against a built-in dictionary), as on
    // SQLite. Documents already stored keep their JSON text as bytes (it
    // starts with `{`, never a version byte) and are packed when next
    // written. Already compressed: PostgreSQL need not try again.
    r#"
ALTER TABLE calls ALTER COLUMN doc TYPE BYTEA USING convert_to(doc, 'UTF8');
ALTER TABLE calls ALTER COLUMN doc SET STORAGE EXTERNAL;
"#,
    // 7: rollup levels (`storage/rollup_levels.rs`, docs/rollups.md) replace
    // the single `rollups` table, as SQLite's migration 7: each keyed by a
    // UTC hour or day and only the dimensions its questions use, plus
    // `shard`. Migration 12 makes them again with outcome columns and
    // fills them from the stored calls (this step once did).
    r#"
DROP TABLE rollups;
-- every grouping but task and hour
CREATE TABLE rollup_days (
    day                   TEXT COLLATE "C" NOT NULL,
    vendor                TEXT COLLATE "C" NOT NULL,
    source                TEXT COLLATE "C" NOT NULL,
    direction             TEXT COLLATE "C" NOT NULL,
    currency              TEXT COLLATE "C" NOT NULL,
    outcome               TEXT COLLATE "C" NOT NULL,
    shard                 SMALLINT NOT NULL,
    calls BIGINT NOT NULL, answered BIGINT NOT NULL, awaiting_report BIGINT NOT NULL,
    talk_seconds BIGINT NOT NULL, answered_talk_seconds BIGINT NOT NULL,
    cost NUMERIC NOT NULL, qa_micros BIGINT NOT NULL, qa_count BIGINT NOT NULL,
    talk_b0 BIGINT NOT NULL, talk_b1 BIGINT NOT NULL, talk_b2 BIGINT NOT NULL, talk_b3 BIGINT NOT NULL,
    talk_b4 BIGINT NOT NULL, talk_b5 BIGINT NOT NULL, talk_b6 BIGINT NOT NULL,
    PRIMARY KEY (day, vendor, source, direction, currency, outcome, shard)
);
-- answer rate by hour, partial days, days in other time zones
CREATE TABLE rollup_hours (
    hour                  TEXT COLLATE "C" NOT NULL,
    vendor                TEXT COLLATE "C" NOT NULL,
    source                TEXT COLLATE "C" NOT NULL,
    direction             TEXT COLLATE "C" NOT NULL,
    currency              TEXT COLLATE "C" NOT NULL,
    shard                 SMALLINT NOT NULL,
    calls BIGINT NOT NULL, answered BIGINT NOT NULL, awaiting_report BIGINT NOT NULL,
    talk_seconds BIGINT NOT NULL, answered_talk_seconds BIGINT NOT NULL,
    cost NUMERIC NOT NULL, qa_micros BIGINT NOT NULL, qa_count BIGINT NOT NULL,
    talk_b0 BIGINT NOT NULL, talk_b1 BIGINT NOT NULL, talk_b2 BIGINT NOT NULL, talk_b3 BIGINT NOT NULL,
    talk_b4 BIGINT NOT NULL, talk_b5 BIGINT NOT NULL, talk_b6 BIGINT NOT NULL,
    PRIMARY KEY (hour, vendor, source, direction, currency, shard)
);
-- calls per intent label of a task
CREATE TABLE rollup_task_intents (
    day                   TEXT COLLATE "C" NOT NULL,
    task_id               TEXT COLLATE "C" NOT NULL,
    intent                TEXT COLLATE "C" NOT NULL,
    shard                 SMALLINT NOT NULL,
    calls BIGINT NOT NULL, answered BIGINT NOT NULL, awaiting_report BIGINT NOT NULL,
    talk_seconds BIGINT NOT NULL, answered_talk_seconds BIGINT NOT NULL,
    cost NUMERIC NOT NULL, qa_micros BIGINT NOT NULL, qa_count BIGINT NOT NULL,
    talk_b0 BIGINT NOT NULL, talk_b1 BIGINT NOT NULL, talk_b2 BIGINT NOT NULL, talk_b3 BIGINT NOT NULL,
    talk_b4 BIGINT NOT NULL, talk_b5 BIGINT NOT NULL, talk_b6 BIGINT NOT NULL,
    PRIMARY KEY (task_id, day, intent, shard)
);
-- a task by day
CREATE TABLE rollup_task_days (
    day                   TEXT COLLATE "C" NOT NULL,
    task_id               TEXT COLLATE "C" NOT NULL,
    vendor                TEXT COLLATE "C" NOT NULL,
    currency              TEXT COLLATE "C" NOT NULL,
    outcome               TEXT COLLATE "C" NOT NULL,
    shard                 SMALLINT NOT NULL,
    calls BIGINT NOT NULL, answered BIGINT NOT NULL, awaiting_report BIGINT NOT NULL,
    talk_seconds BIGINT NOT NULL, answered_talk_seconds BIGINT NOT NULL,
    cost NUMERIC NOT NULL, qa_micros BIGINT NOT NULL, qa_count BIGINT NOT NULL,
    talk_b0 BIGINT NOT NULL, talk_b1 BIGINT NOT NULL, talk_b2 BIGINT NOT NULL, talk_b3 BIGINT NOT NULL,
    talk_b4 BIGINT NOT NULL, talk_b5 BIGINT NOT NULL, talk_b6 BIGINT NOT NULL,
    PRIMARY KEY (task_id, day, vendor, currency, outcome, shard)
);
-- a task by hour
CREATE TABLE rollup_task_hours (
    hour                  TEXT COLLATE "C" NOT NULL,
    task_id               TEXT COLLATE "C" NOT NULL,
    vendor                TEXT COLLATE "C" NOT NULL,
    currency              TEXT COLLATE "C" NOT NULL,
    shard                 SMALLINT NOT NULL,
    calls BIGINT NOT NULL, answered BIGINT NOT NULL, awaiting_report BIGINT NOT NULL,
    talk_seconds BIGINT NOT NULL, answered_talk_seconds BIGINT NOT NULL,
    cost NUMERIC NOT NULL, qa_micros BIGINT NOT NULL, qa_count BIGINT NOT NULL,
    talk_b0 BIGINT NOT NULL, talk_b1 BIGINT NOT NULL, talk_b2 BIGINT NOT NULL, talk_b3 BIGINT NOT NULL,
    talk_b4 BIGINT NOT NULL, talk_b5 BIGINT NOT NULL, talk_b6 BIGINT NOT NULL,
    PRIMARY KEY (task_id, hour, vendor, currency, shard)
);
-- filled by migration 12, which makes these tables again with their
-- outcome columns (this step's own fill could not write those)
"#,
    // 8: the deliveries page's health table, as on SQLite: two
    // partial indexes (`storage/page_reads.rs`), built from the rows
    // already stored.
    crate::storage::page_reads::ACTIVITY_INDEXES,
    // 9: the firings of `[[alerts]]` rules, as SQLite's migration of
    // the same name. The partial unique index lets only one instance open
    // a rule's firing (the others' inserts do nothing).
    r#"
CREATE TABLE alerts (
    id                TEXT COLLATE "C" PRIMARY KEY,
    rule              TEXT COLLATE "C" NOT NULL,
    kind              TEXT COLLATE "C" NOT NULL,
    state             TEXT COLLATE "C" NOT NULL,
    value             DOUBLE PRECISION NOT NULL,
    threshold         DOUBLE PRECISION NOT NULL,
    message           TEXT COLLATE "C" NOT NULL,
    fired_at          BIGINT NOT NULL,
    resolved_at       BIGINT,
    fired_channels    TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    resolved_channels TEXT COLLATE "C" NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX alerts_one_firing ON alerts(rule) WHERE state = 'firing';
CREATE INDEX alerts_by_state ON alerts(state, id);
"#,
    // 10: full-text search (`storage/search.rs`, docs/search.md): each call's
    // searchable text, folded to lower case, in `call_text`, with a
    // `pg_trgm` GIN index that answers `LIKE '%…%'` for 3 characters or
    // more, Chinese included (pg_trgm keeps the characters the database's
    // ctype classes as letters: CJK under C.UTF-8 and the usual UTF-8
    // locales). `pg_trgm` is a trusted extension: a role with CREATE on
    // the database may install it. The text goes with its call (ON DELETE
    // CASCADE); the projector writes it; `apply_all` fills it for the
    // calls already stored (the marker below), as the text comes from the
    // packed documents.
    r#"
-- callhook:fill-call-text
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE call_text (
    call_id TEXT COLLATE "C" PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
    body    TEXT COLLATE "C" NOT NULL
);
CREATE INDEX call_text_trgm ON call_text USING gin (body gin_trgm_ops);
"#,
    // 11: the recordings archive (`storage/recordings.rs`,
    // docs/recordings.md): a job per recording link, written by the
    // projector from now on. Calls stored before keep no job until
    // `callhook recordings fetch --backfill` makes them.
    crate::storage::recordings::MIGRATION,
    // 12: every rollup row counts its calls per outcome (`outcome_<name>`
    // columns) and `rollup_task_days` is no longer keyed by outcome: the
    // five levels are made again, empty (filled by step 13; docs/rollups.md).
    crate::storage::rollup::schema::POSTGRES,
    // 13: `rollup_day_totals`, day × vendor × source × direction ×
    // currency: the smallest level, answering every grouping but outcome,
    // task and hour; then every level is refilled from the stored calls.
    crate::storage::rollup::schema::POSTGRES_DAY_TOTALS,
];

/// Brings the database to the newest version, one transaction per step,
/// holding a session advisory lock so that instances starting together
/// migrate one after another (the later ones find nothing to do).
///
/// Errors: the PostgreSQL error of the failing step (nothing of it is
/// applied).
pub async fn migrate(client: &mut Client) -> Result<usize, StoreError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let applied = apply_all(client).await;
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    let applied = applied?;
    unlocked?;
    Ok(applied)
}

async fn apply_all(client: &mut Client) -> Result<usize, StoreError> {
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS callhook_schema (version INTEGER NOT NULL)")
        .await?;
    let current: i64 = client
        .query_one(
            "SELECT coalesce(max(version), 0)::BIGINT FROM callhook_schema",
            &[],
        )
        .await?
        .get(0);
    let mut applied = 0;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = client.transaction().await?;
        tx.batch_execute(sql).await?;
        if sql.contains(crate::storage::sqlite::schema::REBUILD_ROLLUPS) {
            super::rollups::rebuild(&tx).await?;
        }
        if sql.trim_start().starts_with(FILL_CALL_TEXT) {
            super::search::fill(&tx).await?;
        }
        tx.execute(
            "INSERT INTO callhook_schema (version) VALUES ($1)",
            &[&(i as i32 + 1)],
        )
        .await?;
        tx.commit().await?;
        applied += 1;
    }
    Ok(applied)
}

/// Filled the old single rollup table from the stored calls (migration 3;
/// migration 7 replaces that table by the levels).
pub const REBUILD_ROLLUPS: &str = r#"
DELETE FROM rollups;
INSERT INTO rollups
SELECT to_char(to_timestamp(started_at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), vendor, source,
    direction, outcome, COALESCE(task_id, ''), COALESCE(cost_currency, ''), 0,
    COUNT(*), COUNT(*) FILTER (WHERE outcome = 'answered'), COALESCE(SUM(talk_seconds), 0),
    COALESCE(SUM(talk_seconds) FILTER (WHERE outcome = 'answered'), 0),
    COALESCE(SUM(cost_amount::numeric), 0),
    COALESCE(SUM(round((qa_score * 1000000)::numeric)), 0)::BIGINT, COUNT(qa_score),
    COUNT(*) FILTER (WHERE outcome = 'answered' AND talk_seconds < 10),
    COUNT(*) FILTER (WHERE outcome = 'answered' AND talk_seconds >= 10 AND talk_seconds < 30),
    COUNT(*) FILTER (WHERE outcome = 'answered' AND talk_seconds >= 30 AND talk_seconds < 60),
    COUNT(*) FILTER (WHERE outcome = 'answered' AND talk_seconds >= 60 AND talk_seconds < 120),
    COUNT(*) FILTER (WHERE outcome = 'answered' AND talk_seconds >= 120 AND talk_seconds < 300),
    COUNT(*) FILTER (WHERE outcome = 'answered' AND talk_seconds >= 300 AND talk_seconds < 600),
    COUNT(*) FILTER (WHERE outcome = 'answered' AND talk_seconds >= 600)
FROM calls GROUP BY 1, 2, 3, 4, 5, 6, 7;
"#;

/// The first line of the migration that creates `call_text`: after its
/// SQL, [`apply_all`] fills it from the stored calls.
const FILL_CALL_TEXT: &str = crate::storage::sqlite::schema::FILL_CALL_TEXT;

/// The newest schema version this build knows.
pub fn latest() -> usize {
    MIGRATIONS.len()
}
