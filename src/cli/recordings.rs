//! `callhook recordings`: the recordings archive from the command line
//! (docs/recordings.md).
//!
//! - `status`: rows per status, bytes kept, the backlog, where the archive is;
//! - `fetch [--since T] [--backfill]`: makes every recording not archived
//!   (received at or after `T`) due now and downloads them in this process,
//!   with a progress bar on stderr and a summary on stdout. `--backfill`
//!   first writes jobs for calls stored before the archive existed (calls
//!   started at or after `T`). Safe beside a running `serve`: jobs are
//!   leased, so none is fetched twice at once.

use crate::app::open_store;
use crate::config::Config;
use crate::domain::RecordingStatus;
use crate::recordings::archiver::{Archiver, PassReport};
use crate::recordings::ArchiveLocation;
use crate::storage::recordings::{links_of, RecordingJob};
use crate::storage::{CallFilter, PageRequest, Store};
use anyhow::Context;
use indicatif::ProgressBar;
use jiff::Timestamp;
use std::process::ExitCode;
use std::sync::Arc;

/// `callhook recordings …`.
#[derive(Debug, clap::Subcommand)]
pub enum RecordingsCommand {
    /// Rows per status, bytes kept, the backlog and where the archive is.
    Status,
    /// Download now every recording not archived yet (failed, expired or
    /// waiting for a retry), in this process.
    Fetch(FetchArgs),
}

/// The flags of `callhook recordings fetch`.
#[derive(Debug, clap::Args)]
pub struct FetchArgs {
    /// Only recordings received at or after this time (RFC 3339, or a
    /// date `YYYY-MM-DD` meaning its midnight UTC).
    #[arg(long, env = "CALLHOOK_SINCE")]
    pub since: Option<String>,
    /// First write download jobs for calls stored before the archive
    /// existed (calls started at or after `--since`).
    #[arg(long, env = "CALLHOOK_BACKFILL")]
    pub backfill: bool,
}

/// Runs `callhook recordings …`.
///
/// Errors (exit 2): an unreadable `--since`, an unreachable store.
pub async fn run(config: Config, command: &RecordingsCommand) -> anyhow::Result<ExitCode> {
    let store = open_store(&config).await?;
    match command {
        RecordingsCommand::Status => status(&config, &*store).await,
        RecordingsCommand::Fetch(args) => fetch(&config, store, args).await,
    }
}

/// `2026-05-01` (midnight UTC) or an RFC 3339 time.
pub(super) fn parse_since(text: &str) -> anyhow::Result<Timestamp> {
    let t = text.trim();
    if let Ok(d) = t.parse::<jiff::civil::Date>() {
        return Ok(d.to_zoned(jiff::tz::TimeZone::UTC)?.timestamp());
    }
    t.parse::<Timestamp>().with_context(|| {
        format!("--since `{text}`: expected an RFC 3339 time (2026-05-01T00:00:00Z) or a date (2026-05-01)")
    })
}

async fn status(config: &Config, store: &dyn Store) -> anyhow::Result<ExitCode> {
    let counts = store.recording_counts().await?;
    let location = ArchiveLocation::of(config);
    println!("archive: {}", location.describe());
    if !config.recordings.enabled {
        println!("(recordings.enabled = false: serve downloads nothing)");
    }
    for s in RecordingStatus::ALL {
        println!("{:>10}  {}", counts.count(s), s.as_str());
    }
    println!("kept: {}", human_bytes(counts.archived_bytes));
    match counts.oldest_due {
        Some(t) => println!("first pending download due at {t}"),
        None => println!("nothing pending"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `1.5 MB`, `320 KB`, `12 B` (powers of 1,000).
pub fn human_bytes(n: u64) -> String {
    match n {
        0..=999 => format!("{n} B"),
        1_000..=999_999 => format!("{:.1} KB", n as f64 / 1e3),
        1_000_000..=999_999_999 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.2} GB", n as f64 / 1e9),
    }
}

async fn fetch(
    config: &Config,
    store: Arc<dyn Store>,
    args: &FetchArgs,
) -> anyhow::Result<ExitCode> {
    let since = args.since.as_deref().map(parse_since).transpose()?;
    if args.backfill {
        let n = backfill(&*store, since).await?;
        eprintln!("backfill: {n} recording links of stored calls queued");
    }
    let now = Timestamp::now();
    let due = store.refetch_recordings(since, now).await?;
    let location = Arc::new(ArchiveLocation::of(config));
    let archiver = Archiver::new(&config.recordings, location.clone(), store.clone())
        .map_err(anyhow::Error::msg)?;
    let bar = ProgressBar::new(due);
    bar.set_style(super::bar_style(
        "fetching {bar:40} {pos}/{len} recordings {msg}",
    ));
    let mut total = PassReport::default();
    loop {
        // Only what was due when the command started: a retry scheduled
        // later is left to `serve`.
        let pass = archiver.pass(now).await?;
        if pass.attempted == 0 {
            break;
        }
        bar.inc(pass.attempted as u64);
        total.attempted += pass.attempted;
        total.archived += pass.archived;
        total.retrying += pass.retrying;
        total.given_up += pass.given_up;
    }
    bar.finish_and_clear();
    println!(
        "{} attempted: {} archived, {} to retry later, {} given up ({})",
        total.attempted,
        total.archived,
        total.retrying,
        total.given_up,
        location.describe()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes jobs for the recording links of every stored call (started at
/// or after `since`); returns how many rows changed.
async fn backfill(store: &dyn Store, since: Option<Timestamp>) -> anyhow::Result<u64> {
    let filter = CallFilter {
        since,
        ..CallFilter::default()
    };
    let mut page = PageRequest {
        limit: 500,
        cursor: None,
    };
    let mut queued = 0;
    loop {
        let calls = store.list_calls(&filter, &page).await?;
        let jobs: Vec<RecordingJob> = calls
            .items
            .iter()
            .flat_map(|c| {
                links_of(c).into_iter().map(|(link, url)| RecordingJob {
                    call_id: c.id.clone(),
                    link,
                    expires_at: crate::domain::link_expiry::url_expiry(&url),
                    url,
                    vendor: c.vendor,
                    source: c.source.clone(),
                    received_at: c.updated_at,
                })
            })
            .collect();
        queued += store.enqueue_recordings(jobs).await?;
        match calls.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => return Ok(queued),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_date_or_a_time_and_names_the_flag_otherwise() {
        assert_eq!(
            parse_since("2026-05-01").unwrap(),
            "2026-05-01T00:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(
            parse_since("2026-05-01T08:00:00+08:00").unwrap(),
            "2026-05-01T00:00:00Z".parse::<Timestamp>().unwrap()
        );
        let e = parse_since("yesterday").unwrap_err().to_string();
        assert!(e.contains("--since `yesterday`"), "{e}");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(44_144), "44.1 KB");
        assert_eq!(human_bytes(2_500_000), "2.5 MB");
        assert_eq!(human_bytes(3_000_000_000), "3.00 GB");
    }
}
