//! SQLite schema and its migrations, applied in order at open and recorded in
//! `PRAGMA user_version`.

use rusqlite::Connection;

/// Each entry migrates from version `index` to `index + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE receipts (
    id           TEXT PRIMARY KEY,           -- ULID
    source       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    received_at  INTEGER NOT NULL,           -- epoch ms
    remote_addr  TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    status       TEXT NOT NULL,
    record_count INTEGER NOT NULL,
    errors       TEXT NOT NULL,              -- JSON array of {index, path, message}
    warnings     TEXT NOT NULL,              -- JSON array of {index, path, message}
    replay_count INTEGER NOT NULL DEFAULT 0,
    replayed_at  INTEGER,                    -- epoch ms
    body         BLOB NOT NULL               -- verbatim
);
CREATE INDEX receipts_by_status ON receipts(status, id);
CREATE INDEX receipts_by_source ON receipts(source, id);
CREATE INDEX receipts_by_sha ON receipts(sha256);

CREATE TABLE calls (
    id              TEXT PRIMARY KEY,        -- call_id_for(vendor, vendor_call_id)
    vendor          TEXT NOT NULL,
    vendor_call_id  TEXT NOT NULL,
    source          TEXT NOT NULL,
    direction       TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    task_id         TEXT,
    out_id          TEXT,
    customer_number TEXT,
    started_at      INTEGER NOT NULL,        -- epoch ms
    talk_seconds    INTEGER,
    cost_amount     TEXT,                    -- decimal string
    cost_currency   TEXT,
    qa_score        REAL,                    -- percent
    doc             TEXT NOT NULL            -- the canonical call, JSON
);
CREATE UNIQUE INDEX calls_by_vendor_id ON calls(vendor, vendor_call_id);
CREATE INDEX calls_by_started ON calls(started_at DESC, id DESC);
CREATE INDEX calls_by_task ON calls(task_id, started_at);
CREATE INDEX calls_by_out_id ON calls(out_id);
CREATE INDEX calls_by_customer ON calls(customer_number);

CREATE TABLE call_receipts (
    call_id    TEXT NOT NULL,
    receipt_id TEXT NOT NULL,
    PRIMARY KEY (call_id, receipt_id)
) WITHOUT ROWID;
CREATE INDEX call_receipts_by_receipt ON call_receipts(receipt_id);
"#,
    // 2: every index costs a random page write per record in each commit. The
    // call id is a hash of (vendor, vendor_call_id), so the primary key already
    // finds a call by vendor id; nothing looks receipts up by hash.
    r#"
DROP INDEX calls_by_vendor_id;
DROP INDEX receipts_by_sha;
"#,
    // 3: the outbox. An event per changed call, written in the push's
    // transaction; a delivery per event and matching target (subscriber or
    // NATS), fanned out in the same transaction.
    r#"
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT, -- the order events were made
    id         TEXT NOT NULL,              -- evt_ + ULID
    type       TEXT NOT NULL,              -- call.created | call.updated | call.analyzed
    vendor     TEXT NOT NULL,
    call_id    TEXT NOT NULL,
    created_at INTEGER NOT NULL,           -- epoch ms
    payload    TEXT NOT NULL               -- the exact body sent
);

CREATE TABLE deliveries (
    id                   TEXT PRIMARY KEY,  -- dlv_ + ULID
    target               TEXT NOT NULL,     -- subscriber name, or nats
    event_seq            INTEGER NOT NULL,
    call_id              TEXT NOT NULL,
    status               TEXT NOT NULL,     -- pending | delivered | dead
    attempts             INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,  -- epoch ms
    next_attempt_at      INTEGER,           -- epoch ms; pending only
    lease_until          INTEGER,           -- epoch ms; while a worker sends it
    last_attempt_at      INTEGER,
    last_response_status INTEGER,
    last_error           TEXT,
    delivered_at         INTEGER
);
CREATE INDEX deliveries_due ON deliveries(target, next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_call_order ON deliveries(target, call_id, event_seq) WHERE status = 'pending';
CREATE INDEX deliveries_by_target ON deliveries(target, status, id);

CREATE TABLE targets (
    name            TEXT PRIMARY KEY,
    disabled_at     INTEGER,               -- epoch ms; NULL when enabled
    disabled_reason TEXT
);
"#,
    // 4: rollups (`storage/rollup.rs`), kept at ingest; filled here from
    // the calls already stored. Money is decimal text summed by `dec_sum`.
    r#"
CREATE TABLE rollups (
    day                   TEXT NOT NULL,     -- UTC date of started_at, YYYY-MM-DD
    vendor                TEXT NOT NULL,
    source                TEXT NOT NULL,
    direction             TEXT NOT NULL,
    outcome               TEXT NOT NULL,
    task_id               TEXT NOT NULL,     -- '' without one
    currency              TEXT NOT NULL,     -- '' without cost
    calls                 INTEGER NOT NULL,
    answered              INTEGER NOT NULL,
    talk_seconds          INTEGER NOT NULL,
    answered_talk_seconds INTEGER NOT NULL,
    cost                  TEXT NOT NULL,     -- decimal string, in currency
    qa_micros             INTEGER NOT NULL,  -- sum of QA scores, millionths of a percent
    qa_count              INTEGER NOT NULL,
    talk_b0 INTEGER NOT NULL, talk_b1 INTEGER NOT NULL, talk_b2 INTEGER NOT NULL,
    talk_b3 INTEGER NOT NULL, talk_b4 INTEGER NOT NULL, talk_b5 INTEGER NOT NULL,
    talk_b6 INTEGER NOT NULL,
    PRIMARY KEY (day, vendor, source, direction, outcome, task_id, currency)
) WITHOUT ROWID;
INSERT INTO rollups
SELECT strftime('%Y-%m-%d', started_at / 1000, 'unixepoch'), vendor, source, direction, outcome,
    COALESCE(task_id, ''), COALESCE(cost_currency, ''),
    COUNT(*), SUM(outcome = 'answered'), COALESCE(SUM(talk_seconds), 0),
    COALESCE(SUM(CASE WHEN outcome = 'answered' THEN talk_seconds END), 0),
    dec_sum(cost_amount), COALESCE(SUM(CAST(ROUND(qa_score * 1000000) AS INTEGER)), 0),
    COUNT(qa_score),
    SUM(outcome = 'answered' AND talk_seconds < 10),
    SUM(outcome = 'answered' AND talk_seconds >= 10 AND talk_seconds < 30),
    SUM(outcome = 'answered' AND talk_seconds >= 30 AND talk_seconds < 60),
    SUM(outcome = 'answered' AND talk_seconds >= 60 AND talk_seconds < 120),
    SUM(outcome = 'answered' AND talk_seconds >= 120 AND talk_seconds < 300),
    SUM(outcome = 'answered' AND talk_seconds >= 300 AND talk_seconds < 600),
    SUM(outcome = 'answered' AND talk_seconds >= 600)
FROM calls GROUP BY 1, 2, 3, 4, 5, 6, 7;
"#,
    // 5: retention (`storage/purge.rs`) finds old receipts and events by
    // time, a call's events, and an event's deliveries. Times and sequence
    // numbers grow, so three of the four only ever append to their index.
    PURGE_INDEXES,
    // 6: log-first ingest. A receipt is appended `pending` with its body
    // compressed (`body_codec` 1 = zstd; `body_bytes` the verbatim length,
    // NULL on older rows, whose body is verbatim) and projected later in
    // rowid (log) order; a call keeps the highest receipt rowid applied to
    // it, so a receipt projected out of order rebuilds the call.
    r#"
ALTER TABLE receipts ADD COLUMN body_codec INTEGER NOT NULL DEFAULT 0;
ALTER TABLE receipts ADD COLUMN body_bytes INTEGER;
ALTER TABLE calls ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX receipts_pending ON receipts(status) WHERE status = 'pending';
"#,
    // 7: rollup levels (`storage/rollup_levels.rs`, docs/rollups.md)
    // replace the single `rollups` table: each keyed by a UTC hour or day
    // and only the dimensions its questions use, all with the same sums
    // (`awaiting_report` new). Money is decimal text summed by `dec_sum`.
    // Migration 12 makes them again with outcome columns and fills them
    // from the stored calls (this step once did, with the sums of then).
    r#"
DROP TABLE rollups;
-- every grouping but task and hour
CREATE TABLE rollup_days (
    day                   TEXT NOT NULL,
    vendor                TEXT NOT NULL,
    source                TEXT NOT NULL,
    direction             TEXT NOT NULL,
    currency              TEXT NOT NULL,
    outcome               TEXT NOT NULL,
    calls INTEGER NOT NULL, answered INTEGER NOT NULL, awaiting_report INTEGER NOT NULL,
    talk_seconds INTEGER NOT NULL, answered_talk_seconds INTEGER NOT NULL,
    cost TEXT NOT NULL, qa_micros INTEGER NOT NULL, qa_count INTEGER NOT NULL,
    talk_b0 INTEGER NOT NULL, talk_b1 INTEGER NOT NULL, talk_b2 INTEGER NOT NULL, talk_b3 INTEGER NOT NULL,
    talk_b4 INTEGER NOT NULL, talk_b5 INTEGER NOT NULL, talk_b6 INTEGER NOT NULL,
    PRIMARY KEY (day, vendor, source, direction, currency, outcome)
) WITHOUT ROWID;
-- answer rate by hour, partial days, days in other time zones
CREATE TABLE rollup_hours (
    hour                  TEXT NOT NULL,
    vendor                TEXT NOT NULL,
    source                TEXT NOT NULL,
    direction             TEXT NOT NULL,
    currency              TEXT NOT NULL,
    calls INTEGER NOT NULL, answered INTEGER NOT NULL, awaiting_report INTEGER NOT NULL,
    talk_seconds INTEGER NOT NULL, answered_talk_seconds INTEGER NOT NULL,
    cost TEXT NOT NULL, qa_micros INTEGER NOT NULL, qa_count INTEGER NOT NULL,
    talk_b0 INTEGER NOT NULL, talk_b1 INTEGER NOT NULL, talk_b2 INTEGER NOT NULL, talk_b3 INTEGER NOT NULL,
    talk_b4 INTEGER NOT NULL, talk_b5 INTEGER NOT NULL, talk_b6 INTEGER NOT NULL,
    PRIMARY KEY (hour, vendor, source, direction, currency)
) WITHOUT ROWID;
-- calls per intent label of a task
CREATE TABLE rollup_task_intents (
    day                   TEXT NOT NULL,
    task_id               TEXT NOT NULL,
    intent                TEXT NOT NULL,
    calls INTEGER NOT NULL, answered INTEGER NOT NULL, awaiting_report INTEGER NOT NULL,
    talk_seconds INTEGER NOT NULL, answered_talk_seconds INTEGER NOT NULL,
    cost TEXT NOT NULL, qa_micros INTEGER NOT NULL, qa_count INTEGER NOT NULL,
    talk_b0 INTEGER NOT NULL, talk_b1 INTEGER NOT NULL, talk_b2 INTEGER NOT NULL, talk_b3 INTEGER NOT NULL,
    talk_b4 INTEGER NOT NULL, talk_b5 INTEGER NOT NULL, talk_b6 INTEGER NOT NULL,
    PRIMARY KEY (task_id, day, intent)
) WITHOUT ROWID;
-- a task by day
CREATE TABLE rollup_task_days (
    day                   TEXT NOT NULL,
    task_id               TEXT NOT NULL,
    vendor                TEXT NOT NULL,
    currency              TEXT NOT NULL,
    outcome               TEXT NOT NULL,
    calls INTEGER NOT NULL, answered INTEGER NOT NULL, awaiting_report INTEGER NOT NULL,
    talk_seconds INTEGER NOT NULL, answered_talk_seconds INTEGER NOT NULL,
    cost TEXT NOT NULL, qa_micros INTEGER NOT NULL, qa_count INTEGER NOT NULL,
    talk_b0 INTEGER NOT NULL, talk_b1 INTEGER NOT NULL, talk_b2 INTEGER NOT NULL, talk_b3 INTEGER NOT NULL,
    talk_b4 INTEGER NOT NULL, talk_b5 INTEGER NOT NULL, talk_b6 INTEGER NOT NULL,
    PRIMARY KEY (task_id, day, vendor, currency, outcome)
) WITHOUT ROWID;
-- a task by hour
CREATE TABLE rollup_task_hours (
    hour                  TEXT NOT NULL,
    task_id               TEXT NOT NULL,
    vendor                TEXT NOT NULL,
    currency              TEXT NOT NULL,
    calls INTEGER NOT NULL, answered INTEGER NOT NULL, awaiting_report INTEGER NOT NULL,
    talk_seconds INTEGER NOT NULL, answered_talk_seconds INTEGER NOT NULL,
    cost TEXT NOT NULL, qa_micros INTEGER NOT NULL, qa_count INTEGER NOT NULL,
    talk_b0 INTEGER NOT NULL, talk_b1 INTEGER NOT NULL, talk_b2 INTEGER NOT NULL, talk_b3 INTEGER NOT NULL,
    talk_b4 INTEGER NOT NULL, talk_b5 INTEGER NOT NULL, talk_b6 INTEGER NOT NULL,
    PRIMARY KEY (task_id, hour, vendor, currency)
) WITHOUT ROWID;
-- filled by migration 12, which makes these tables again with their
-- outcome columns (this step's own fill could not write those)
"#,
    // 8: the deliveries page's health table: each target's newest
    // delivered time and newest failed attempt, read from the end of two
    // partial indexes (`storage/page_reads.rs`); built from the rows
    // already stored.
    crate::storage::page_reads::ACTIVITY_INDEXES,
    // 9: the firings of `[[alerts]]` rules (`storage/alerts.rs`), kept
    // across restarts so a restart does not fire again. At most one firing
    // row per rule (the partial unique index): evaluation is idempotent.
    // Nothing to fill from older rows.
    ALERTS_TABLE,
    // 10: full-text search (`storage/search.rs`, docs/search.md): each call's
    // searchable text, folded to lower case, in `call_text` (an INTEGER
    // PRIMARY KEY, so VACUUM keeps the rowids the index refers to), indexed
    // by the FTS5 `trigram` table `call_fts` (external content: the text
    // is stored once). Triggers keep the index in step with `call_text`,
    // and drop a call's text with the call (retention, `DELETE`). The
    // projector writes `call_text`; `migrate` fills it for the calls
    // already stored (the marker below), as the text comes from the
    // packed documents.
    r#"
-- callhook:fill-call-text
CREATE TABLE call_text (
    id      INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL UNIQUE,
    body    TEXT NOT NULL                    -- storage/search.rs index_text
);
CREATE VIRTUAL TABLE call_fts USING fts5(
    body, content = 'call_text', content_rowid = 'id', tokenize = 'trigram', detail = 'full'
);
CREATE TRIGGER call_text_ai AFTER INSERT ON call_text BEGIN
    INSERT INTO call_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER call_text_ad AFTER DELETE ON call_text BEGIN
    INSERT INTO call_fts (call_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER call_text_au AFTER UPDATE ON call_text BEGIN
    INSERT INTO call_fts (call_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO call_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER calls_ad_text AFTER DELETE ON calls BEGIN
    DELETE FROM call_text WHERE call_id = old.id;
END;
"#,
    // 11: the recordings archive (`storage/recordings.rs`,
    // docs/recordings.md): a job per recording link, written by the
    // projector from now on. Calls stored before keep no job until
    // `callhook recordings fetch --backfill` makes them.
    crate::storage::recordings::MIGRATION,
    // 12: every rollup row counts its calls per outcome (`outcome_<name>`
    // columns) and `rollup_task_days` is no longer keyed by outcome: the
    // five levels are made again, empty (filled by step 13; docs/rollups.md).
    crate::storage::rollup::schema::SQLITE,
    // 13: `rollup_day_totals`, day × vendor × source × direction ×
    // currency: the smallest level, answering every grouping but outcome,
    // task and hour; then every level is refilled from the stored calls.
    crate::storage::rollup::schema::SQLITE_DAY_TOTALS,
];
/// The `alerts` table (PostgreSQL's migration spells the same columns).
const ALERTS_TABLE: &str = r#"
CREATE TABLE alerts (
    id                TEXT PRIMARY KEY,           -- alr_ + ULID
    rule              TEXT NOT NULL,
    kind              TEXT NOT NULL,
    state             TEXT NOT NULL,              -- firing | resolved
    value             DOUBLE PRECISION NOT NULL,  -- measured when it fired
    threshold         DOUBLE PRECISION NOT NULL,
    message           TEXT NOT NULL,
    fired_at          BIGINT NOT NULL,            -- epoch ms
    resolved_at       BIGINT,                     -- epoch ms
    fired_channels    TEXT NOT NULL DEFAULT '[]', -- JSON array of channel names
    resolved_channels TEXT NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX alerts_one_firing ON alerts(rule) WHERE state = 'firing';
CREATE INDEX alerts_by_state ON alerts(state, id);
"#;

/// The first line of the migration that creates `call_text`: after its
/// SQL, [`migrate`] fills it from the stored calls ([`super::search::fill`]).
pub const FILL_CALL_TEXT: &str = "-- callhook:fill-call-text";

/// The indexes retention needs (SQLite migration 5, PostgreSQL 4).
pub const PURGE_INDEXES: &str = r#"
CREATE INDEX IF NOT EXISTS receipts_by_received ON receipts(received_at);
CREATE INDEX IF NOT EXISTS events_by_created ON events(created_at);
CREATE INDEX IF NOT EXISTS events_by_call ON events(call_id);
CREATE INDEX IF NOT EXISTS deliveries_by_event ON deliveries(event_seq);
"#;

/// The line of a migration after which [`migrate`] fills the rollup
/// levels from the stored calls, in the same transaction.
pub const REBUILD_ROLLUPS: &str = "-- then: rebuild rollups";

/// Brings the database to the newest version, one transaction per step;
/// returns how many steps were applied.
///
/// Errors: the SQLite error of the failing step (nothing of it is applied).
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<usize> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let mut applied = 0;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        if sql.contains(REBUILD_ROLLUPS) {
            super::rollups::rebuild(&tx)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        }
        if sql.trim_start().starts_with(FILL_CALL_TEXT) {
            super::search::fill(&tx)?;
        }
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        applied += 1;
    }
    Ok(applied)
}

/// The newest schema version this build knows.
pub fn latest() -> usize {
    MIGRATIONS.len()
}

/// The decimal functions (`decimal_fns.rs`) and pragmas of every
/// connection: WAL, `synchronous=FULL` (a commit is on disk
/// before it returns, so an acknowledged push survives power loss), and a
/// busy timeout instead of immediate `SQLITE_BUSY`.
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    super::decimal_fns::register(conn)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA busy_timeout = 5000;
         PRAGMA foreign_keys = OFF;
         PRAGMA temp_store = MEMORY;",
    )
}

/// Writer cache size in KiB (SQLite's negative `cache_size`): large enough
/// that a group of thousands of records neither re-reads nor spills pages
/// before its commit. Counted in the service's peak RSS.
const WRITER_CACHE_KIB: i64 = 16 * 1024;

/// [`configure`], plus what only the write connection needs: commits without
/// fsync (made durable by the syncer), a large page cache, a rare automatic
/// checkpoint, and the statement journal of each push's savepoint in memory
/// (`temp_store`, above) rather than in a temporary file.
pub fn configure_writer(conn: &Connection) -> rusqlite::Result<()> {
    configure(conn)?;
    // Commits write the WAL without fsync; `syncer.rs` fsyncs it before any
    // push of the commit is answered (the guarantee of FULL, pipelined).
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
    // Checkpoints run on their own thread (`checkpoint.rs`); the writer
    // checkpoints only if the WAL passes 64 MiB anyway.
    conn.pragma_update(None, "wal_autocheckpoint", 16_384)
}
