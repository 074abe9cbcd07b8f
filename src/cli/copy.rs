//! `callhook migrate` (the schema of `--database`, alone) and
//! `callhook copy --from sqlite://FILE --to postgres://…` (an SQLite
//! installation into PostgreSQL, with a progress bar per table; run it
//! again to resume an interrupted copy).

use crate::app::migrate_store;
use crate::config::{Config, StoreUrl};
use crate::storage::copy::{sqlite_to_postgres, Progress};
use anyhow::bail;
use indicatif::ProgressBar;
use std::process::ExitCode;

/// Runs `callhook migrate`. Errors (exit 2): the database cannot be
/// reached or a step fails.
pub async fn migrate(config: &Config) -> anyhow::Result<ExitCode> {
    let (applied, latest) = migrate_store(config).await?;
    println!(
        "{}: schema at version {latest} ({} applied now)",
        redacted(&config.database),
        super::count(applied, "migration", "migrations")
    );
    Ok(ExitCode::SUCCESS)
}

/// `url` without its password.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

struct Bars {
    bar: Option<ProgressBar>,
}

impl Progress for Bars {
    fn table(&mut self, table: &str, todo: u64) {
        if let Some(b) = self.bar.take() {
            b.finish();
        }
        let bar = ProgressBar::new(todo);
        bar.set_style(super::bar_style(
            "{prefix:>14} {bar:40} {pos}/{len} rows {rate}",
        ));
        bar.set_prefix(table.to_owned());
        self.bar = Some(bar);
    }

    fn copied(&mut self, rows: u64) {
        if let Some(b) = &self.bar {
            b.inc(rows);
        }
    }
}

/// Runs `callhook copy`. Errors (exit 2): other directions than SQLite to
/// PostgreSQL, unreachable databases, a failed batch (run again to resume).
pub async fn copy(from: &str, to: &str) -> anyhow::Result<ExitCode> {
    let url = |u: &str| -> anyhow::Result<StoreUrl> {
        let mut c = Config::defaults();
        c.database = u.to_owned();
        c.store_url().map_err(anyhow::Error::msg)
    };
    let (StoreUrl::Sqlite(path), StoreUrl::Postgres(dest)) = (url(from)?, url(to)?) else {
        bail!("copy moves an SQLite installation into PostgreSQL: --from sqlite://FILE --to postgres://…");
    };
    if !std::path::Path::new(&path).exists() {
        bail!("--from: {path} does not exist");
    }
    let mut bars = Bars { bar: None };
    let rows = sqlite_to_postgres(std::path::Path::new(&path), &dest, &mut bars).await?;
    if let Some(b) = bars.bar.take() {
        b.finish();
    }
    println!(
        "copied {} from {from} to {}",
        super::count(rows, "row", "rows"),
        redacted(to)
    );
    Ok(ExitCode::SUCCESS)
}
