//! The migrations of the rollup levels (docs/rollups.md). Schema 12 gives
//! every level its outcome columns: the five level tables are dropped and
//! made again — `rollup_task_days` no longer keyed by outcome. Schema 13
//! adds `rollup_day_totals`, and its marker line at the end makes each
//! backend's `migrate` fill every level from the stored calls in the same
//! transaction. One text for both backends, differing only in column types.

/// A column type or table clause of backend `$b` (`sqlite` or
/// `postgres`): `text` for keys (PostgreSQL sorts them by bytes), `int`
/// for counts, `money` for the cost sum (SQLite keeps decimal text summed
/// by `dec_sum`), `shard` and `pk_shard` for PostgreSQL's shard column,
/// `end` after the table's closing parenthesis.
macro_rules! ty {
    (sqlite, text) => {
        "TEXT NOT NULL"
    };
    (sqlite, int) => {
        "INTEGER NOT NULL"
    };
    (sqlite, money) => {
        "TEXT NOT NULL"
    };
    (sqlite, shard) => {
        ""
    };
    (sqlite, pk_shard) => {
        ""
    };
    (sqlite, end) => {
        " WITHOUT ROWID"
    };
    (postgres, text) => {
        "TEXT COLLATE \"C\" NOT NULL"
    };
    (postgres, int) => {
        "BIGINT NOT NULL"
    };
    (postgres, money) => {
        "NUMERIC NOT NULL"
    };
    (postgres, shard) => {
        "    shard SMALLINT NOT NULL,\n"
    };
    (postgres, pk_shard) => {
        ", shard"
    };
    (postgres, end) => {
        ""
    };
}

/// The summed columns ([`super::levels::SUM_COLUMNS`]) of backend `$b`,
/// three or four to a line.
macro_rules! summed_columns {
    ($b:ident) => {
        summed_lines!($b;
            ["calls", "answered", "awaiting_report"],
            ["talk_seconds", "answered_talk_seconds"],
            ["cost", "qa_micros", "qa_count"],
            ["talk_b0", "talk_b1", "talk_b2", "talk_b3"],
            ["talk_b4", "talk_b5", "talk_b6"],
            ["outcome_answered", "outcome_voicemail", "outcome_no_answer"],
            ["outcome_busy", "outcome_rejected", "outcome_powered_off"],
            ["outcome_suspended", "outcome_unreachable"],
            ["outcome_invalid_number", "outcome_blocked", "outcome_abandoned"],
            ["outcome_canceled", "outcome_failed", "outcome_other"],
            ["outcome_unknown"]
        )
    };
}

/// Lines of summed columns: `cost` typed as money, the rest as counts.
macro_rules! summed_lines {
    ($b:ident; $([$first:tt $(, $rest:tt)*]),+) => {
        concat!($("    ", summed_column!($b, $first) $(, ", ", summed_column!($b, $rest))*, ",\n",)+)
    };
}

/// One summed column with its type.
macro_rules! summed_column {
    ($b:ident, "cost") => {
        concat!("cost ", ty!($b, money))
    };
    ($b:ident, $c:tt) => {
        concat!($c, " ", ty!($b, int))
    };
}

/// One level table of backend `$b`: `$name`, key columns `$key`, primary
/// key `$pk` (PostgreSQL adds its shard).
macro_rules! level_table {
    ($b:ident, $name:literal, [$($key:literal),+], $pk:literal) => {
        concat!(
            "DROP TABLE IF EXISTS ", $name, ";\n",
            "CREATE TABLE ", $name, " (\n",
            $("    ", $key, " ", ty!($b, text), ",\n",)+
            ty!($b, shard),
            summed_columns!($b),
            "    PRIMARY KEY (", $pk, ty!($b, pk_shard), ")\n)", ty!($b, end), ";\n",
        )
    };
}

/// Migration 12 for backend `$b`: the five level tables of that schema.
macro_rules! level_tables {
    ($b:ident) => {
        concat!(
            "-- every grouping but task and hour\n",
            level_table!(
                $b,
                "rollup_days",
                [
                    "day",
                    "vendor",
                    "source",
                    "direction",
                    "currency",
                    "outcome"
                ],
                "day, vendor, source, direction, currency, outcome"
            ),
            "-- answer rate by hour, partial days, days in other time zones\n",
            level_table!(
                $b,
                "rollup_hours",
                ["hour", "vendor", "source", "direction", "currency"],
                "hour, vendor, source, direction, currency"
            ),
            "-- calls per intent label of a task\n",
            level_table!(
                $b,
                "rollup_task_intents",
                ["day", "task_id", "intent"],
                "task_id, day, intent"
            ),
            "-- a task by day (its outcome mix in the outcome columns)\n",
            level_table!(
                $b,
                "rollup_task_days",
                ["day", "task_id", "vendor", "currency"],
                "task_id, day, vendor, currency"
            ),
            "-- a task by hour\n",
            level_table!(
                $b,
                "rollup_task_hours",
                ["hour", "task_id", "vendor", "currency"],
                "task_id, hour, vendor, currency"
            ),
        )
    };
}

/// Migration 13 for backend `$b`: the day totals (no outcome in the key;
/// the outcome mix in the outcome columns), the smallest level, then every
/// level refilled from the stored calls.
macro_rules! day_totals {
    ($b:ident) => {
        concat!(
            "-- every grouping but outcome, task and hour\n",
            level_table!(
                $b,
                "rollup_day_totals",
                ["day", "vendor", "source", "direction", "currency"],
                "day, vendor, source, direction, currency"
            ),
            "-- then: rebuild rollups\n",
        )
    };
}

/// SQLite's migration 12. Money is decimal text summed by `dec_sum`.
pub const SQLITE: &str = level_tables!(sqlite);

/// PostgreSQL's migration 12: text sorting by bytes, and `shard`.
pub const POSTGRES: &str = level_tables!(postgres);

/// SQLite's migration 13.
pub const SQLITE_DAY_TOTALS: &str = day_totals!(sqlite);

/// PostgreSQL's migration 13.
pub const POSTGRES_DAY_TOTALS: &str = day_totals!(postgres);

#[cfg(test)]
mod tests {
    use super::super::levels::{LEVELS, SUM_COLUMNS};

    #[test]
    fn each_level_table_has_its_key_and_every_summed_column() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for level in &LEVELS {
            conn.execute_batch(&format!("CREATE TABLE {} (x)", level.table))
                .unwrap();
        }
        conn.execute_batch(super::SQLITE).unwrap();
        conn.execute_batch(super::SQLITE_DAY_TOTALS).unwrap();
        for level in &LEVELS {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT name FROM pragma_table_info('{}')",
                    level.table
                ))
                .unwrap();
            let got: Vec<String> = stmt
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let want: Vec<&str> = level.key_columns().into_iter().chain(SUM_COLUMNS).collect();
            assert_eq!(got, want, "{}", level.table);
        }
        assert!(super::POSTGRES.contains("shard SMALLINT NOT NULL"));
        assert!(super::POSTGRES_DAY_TOTALS.contains("shard SMALLINT NOT NULL"));
    }

    /// A migration that has run must never change: a database migrated
    /// with the old text would differ from one migrated with the new.
    #[test]
    fn the_migration_texts_are_frozen() {
        use sha2::{Digest, Sha256};
        let digest = |text: &str| hex::encode(Sha256::digest(text.as_bytes()));
        let frozen = [
            (
                super::SQLITE,
                "5cb47bffc16f9df77837e478cce35b93a6751fccfa6411f2e36385103403061d",
            ),
            (
                super::POSTGRES,
                "4a56649adea962ce86e166c0a20be24afc7ed2afe91ae8f19e6d8090c786d9c3",
            ),
            (
                super::SQLITE_DAY_TOTALS,
                "09c9658542674f7cc42bdd9b6e1f2128a061ba627f25d3a80e0a0c626fc4c889",
            ),
            (
                super::POSTGRES_DAY_TOTALS,
                "a2e1c25e5f3bea2e800fc62c3b1821498d46bc6f00b3e714b5c92e5877a07465",
            ),
        ];
        for (text, want) in frozen {
            assert_eq!(digest(text), want, "{text}");
        }
    }
}
