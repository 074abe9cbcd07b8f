//! `callhook purge [--older-than-days N] [--dry-run]`: deletes receipts,
//! calls and finished outbound events older than N days (default: the
//! configuration's `retention_days`) as the background job of `serve`
//! does, in batches, with a progress bar on stderr and a summary on
//! stdout. `--dry-run` counts what would go and deletes nothing. Without a
//! window: exit 2 saying how to give one.

use crate::app::open_store;
use crate::config::Config;
use crate::retention::{purge_all, Purged, BATCH};
use crate::storage::purge::cutoff;
use crate::storage::PurgeCounts;
use anyhow::bail;
use indicatif::ProgressBar;
use std::process::ExitCode;
use std::time::Duration;

/// The flags of `callhook purge`.
#[derive(Debug, clap::Args)]
pub struct PurgeArgs {
    /// Delete what is older than this many days (at least 1); default: the
    /// configuration's `retention_days`.
    #[arg(long, env = "CALLHOOK_OLDER_THAN_DAYS",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub older_than_days: Option<u32>,
    /// Count what would be deleted; delete nothing.
    #[arg(long, env = "CALLHOOK_DRY_RUN")]
    pub dry_run: bool,
}

/// How long to wait before trying again while another instance purges.
const BUSY_WAIT: Duration = Duration::from_secs(1);

/// `n` calls, receipts and events as the summary says them.
fn said(n: &PurgeCounts) -> String {
    format!(
        "{}, {}, {}",
        super::count(n.calls, "call", "calls"),
        super::count(n.receipts, "receipt", "receipts"),
        super::count(n.events, "event", "events")
    )
}

/// Runs `callhook purge`.
///
/// Errors (exit 2): no window (neither `--older-than-days` nor
/// `retention_days`), an unreachable store, a failed batch (what earlier
/// batches deleted stays deleted; run it again).
pub async fn run(config: Config, args: &PurgeArgs) -> anyhow::Result<ExitCode> {
    let Some(days) = args.older_than_days.or(config.retention_days) else {
        bail!(
            "no retention window: pass --older-than-days N (or CALLHOOK_OLDER_THAN_DAYS) \
             or set retention_days in the configuration"
        );
    };
    let cutoff = cutoff(jiff::Timestamp::now(), days);
    let store = open_store(&config).await?;
    let due = store.count_purgeable(cutoff).await?;
    if args.dry_run {
        println!(
            "would delete {} older than {cutoff} ({})",
            said(&due),
            super::count(days, "day", "days")
        );
        return Ok(ExitCode::SUCCESS);
    }
    let bar = ProgressBar::new(due.total());
    bar.set_style(super::bar_style(
        "purging {bar:40} {pos}/{len} rows {rate} {msg}",
    ));
    let mut done = PurgeCounts::default();
    let never = || false;
    loop {
        let mut on_batch = |b: PurgeCounts| bar.inc(b.total());
        match purge_all(&*store, cutoff, BATCH, &never, &mut on_batch).await? {
            Purged::Done(n) => {
                done.add(n);
                break;
            }
            Purged::Busy(n) => {
                done.add(n);
                bar.set_message("another instance is purging; waiting");
                tokio::time::sleep(BUSY_WAIT).await;
            }
        }
    }
    bar.finish_and_clear();
    println!(
        "deleted {} older than {cutoff} ({})",
        said(&done),
        super::count(days, "day", "days")
    );
    Ok(ExitCode::SUCCESS)
}
