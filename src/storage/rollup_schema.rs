//! The migrations of the rollup levels (docs/rollups.md). Schema 12 gives
//! every level its outcome columns: the five level tables are dropped and
//! made again — `rollup_task_days` no longer keyed by outcome. Schema 13
//! adds `rollup_day_totals`, and its marker line at the end makes each
//! backend's `migrate` fill every level from the stored calls in the same
//! transaction. One text for both backends, differing only in column types.

/// The summed columns ([`super::levels::SUM_COLUMNS`]), integers typed
/// `$i`, the cost `$cost`.
macro_rules! summed_columns {
    ($i:literal, $cost:literal) => {
        concat!(
            "    calls ",
            $i,
            ", answered ",
            $i,
            ", awaiting_report ",
            $i,
            ",\n",
            "    talk_seconds ",
            $i,
            ", answered_talk_seconds ",
            $i,
            ",\n",
            "    cost ",
            $cost,
            ", qa_micros ",
            $i,
            ", qa_count ",
            $i,
            ",\n",
            "    talk_b0 ",
            $i,
            ", talk_b1 ",
            $i,
            ", talk_b2 ",
            $i,
            ", talk_b3 ",
            $i,
            ",\n",
            "    talk_b4 ",
            $i,
            ", talk_b5 ",
            $i,
            ", talk_b6 ",
            $i,
            ",\n",
            "    outcome_answered ",
            $i,
            ", outcome_voicemail ",
            $i,
            ", outcome_no_answer ",
            $i,
            ",\n",
            "    outcome_busy ",
            $i,
            ", outcome_rejected ",
            $i,
            ", outcome_powered_off ",
            $i,
            ",\n",
            "    outcome_suspended ",
            $i,
            ", outcome_unreachable ",
            $i,
            ",\n",
            "    outcome_invalid_number ",
            $i,
            ", outcome_blocked ",
            $i,
            ", outcome_abandoned ",
            $i,
            ",\n",
            "    outcome_canceled ",
            $i,
            ", outcome_failed ",
            $i,
            ", outcome_other ",
            $i,
            ",\n",
            "    outcome_unknown ",
            $i,
            ",\n",
        )
    };
}

/// One level table: `$name`, key columns `$key` (text typed `$t`), the
/// extra `$shard` column and primary key tail `$pk`, then `$end`.
macro_rules! level_table {
    ($name:literal, [$($key:literal),+], $pk:literal, $t:literal, $i:literal, $cost:literal, $shard:literal, $pk_shard:literal, $end:literal) => {
        concat!(
            "DROP TABLE IF EXISTS ", $name, ";\n",
            "CREATE TABLE ", $name, " (\n",
            $("    ", $key, " ", $t, ",\n",)+
            $shard,
            summed_columns!($i, $cost),
            "    PRIMARY KEY (", $pk, $pk_shard, ")\n)", $end, ";\n",
        )
    };
}

/// The whole migration for one backend's column types.
macro_rules! level_tables {
    ($t:literal, $i:literal, $cost:literal, $shard:literal, $pk_shard:literal, $end:literal) => {
        concat!(
            "-- every grouping but task and hour\n",
            level_table!(
                "rollup_days",
                [
                    "day",
                    "vendor",
                    "source",
                    "direction",
                    "currency",
                    "outcome"
                ],
                "day, vendor, source, direction, currency, outcome",
                $t,
                $i,
                $cost,
                $shard,
                $pk_shard,
                $end
            ),
            "-- answer rate by hour, partial days, days in other time zones\n",
            level_table!(
                "rollup_hours",
                ["hour", "vendor", "source", "direction", "currency"],
                "hour, vendor, source, direction, currency",
                $t,
                $i,
                $cost,
                $shard,
                $pk_shard,
                $end
            ),
            "-- calls per intent label of a task\n",
            level_table!(
                "rollup_task_intents",
                ["day", "task_id", "intent"],
                "task_id, day, intent",
                $t,
                $i,
                $cost,
                $shard,
                $pk_shard,
                $end
            ),
            "-- a task by day (its outcome mix in the outcome columns)\n",
            level_table!(
                "rollup_task_days",
                ["day", "task_id", "vendor", "currency"],
                "task_id, day, vendor, currency",
                $t,
                $i,
                $cost,
                $shard,
                $pk_shard,
                $end
            ),
            "-- a task by hour\n",
            level_table!(
                "rollup_task_hours",
                ["hour", "task_id", "vendor", "currency"],
                "task_id, hour, vendor, currency",
                $t,
                $i,
                $cost,
                $shard,
                $pk_shard,
                $end
            ),
        )
    };
}

/// Migration 13: the day totals (no outcome in the key; the outcome mix in
/// the outcome columns), the smallest level, then every level refilled
/// from the stored calls.
macro_rules! day_totals {
    ($t:literal, $i:literal, $cost:literal, $shard:literal, $pk_shard:literal, $end:literal) => {
        concat!(
            "-- every grouping but outcome, task and hour\n",
            level_table!(
                "rollup_day_totals",
                ["day", "vendor", "source", "direction", "currency"],
                "day, vendor, source, direction, currency",
                $t,
                $i,
                $cost,
                $shard,
                $pk_shard,
                $end
            ),
            "-- then: rebuild rollups\n",
        )
    };
}

/// SQLite's migration 12. Money is decimal text summed by `dec_sum`.
pub const SQLITE: &str = level_tables!(
    "TEXT NOT NULL",
    "INTEGER NOT NULL",
    "TEXT NOT NULL",
    "",
    "",
    " WITHOUT ROWID"
);

/// PostgreSQL's migration 12: text sorting by bytes, and `shard`.
pub const POSTGRES: &str = level_tables!(
    "TEXT COLLATE \"C\" NOT NULL",
    "BIGINT NOT NULL",
    "NUMERIC NOT NULL",
    "    shard SMALLINT NOT NULL,\n",
    ", shard",
    ""
);

/// SQLite's migration 13.
pub const SQLITE_DAY_TOTALS: &str = day_totals!(
    "TEXT NOT NULL",
    "INTEGER NOT NULL",
    "TEXT NOT NULL",
    "",
    "",
    " WITHOUT ROWID"
);

/// PostgreSQL's migration 13.
pub const POSTGRES_DAY_TOTALS: &str = day_totals!(
    "TEXT COLLATE \"C\" NOT NULL",
    "BIGINT NOT NULL",
    "NUMERIC NOT NULL",
    "    shard SMALLINT NOT NULL,\n",
    ", shard",
    ""
);

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
}
