//! `callhook reproject [--source S] [--kind K] [--since T] [--until T]
//! [--dry-run]`: reads the matching receipts again with the adapters and
//! source settings as they are now (after an adapter fix or a source's
//! timezone change) and rebuilds every call they touch from all of that
//! call's receipts, in batches, with a progress bar on stderr and a summary
//! on stdout. A call whose canonical form changed gets one event
//! (`call.updated`, or `call.analyzed`); an unchanged call gets none.
//! `--dry-run` reports what would change and writes nothing.

use crate::app::open_store;
use crate::config::Config;
use crate::ingest::Ingestor;
use crate::storage::{ReprojectFilter, ReprojectReport};
use indicatif::ProgressBar;
use std::process::ExitCode;
use std::sync::Arc;

/// Receipts read again per transaction.
const BATCH: usize = 200;

/// The flags of `callhook reproject`.
#[derive(Debug, clap::Args)]
pub struct ReprojectArgs {
    /// Only receipts pushed to this source.
    #[arg(long, env = "CALLHOOK_SOURCE")]
    pub source: Option<String>,
    /// Only receipts stored as this kind (e.g. aliyun-call-report).
    #[arg(long, env = "CALLHOOK_KIND")]
    pub kind: Option<String>,
    /// Only receipts received at or after this instant (RFC 3339, e.g.
    /// 2026-03-01T00:00:00Z).
    #[arg(long, env = "CALLHOOK_SINCE")]
    pub since: Option<jiff::Timestamp>,
    /// Only receipts received before this instant (RFC 3339).
    #[arg(long, env = "CALLHOOK_UNTIL")]
    pub until: Option<jiff::Timestamp>,
    /// Report what would change; write nothing.
    #[arg(long, env = "CALLHOOK_DRY_RUN")]
    pub dry_run: bool,
}

impl ReprojectArgs {
    /// The store filter of these flags.
    ///
    /// Errors: an unknown kind, or a source that is not configured.
    pub(super) fn filter(&self, config: &Config) -> anyhow::Result<ReprojectFilter> {
        if let Some(s) = &self.source {
            anyhow::ensure!(
                config.source(s).is_some(),
                "unknown source `{s}` (see `callhook sources`)"
            );
        }
        let kind = self.kind.as_deref().map(super::parse_kind).transpose()?;
        Ok(ReprojectFilter {
            ids: None,
            source: self.source.clone(),
            kind,
            since: self.since,
            until: self.until,
        })
    }
}

/// Runs `callhook reproject`.
///
/// Errors (exit 2): bad flags, an unreachable store, a failed batch (the
/// batches before it stay applied; running it again is safe).
pub async fn run(config: Config, args: &ReprojectArgs) -> anyhow::Result<ExitCode> {
    let filter = args.filter(&config)?;
    let store = open_store(&config).await?;
    let ingestor = Ingestor::new(store.clone(), Arc::new(config));
    let total = store.count_reprojectable(&filter).await?;
    let bar = ProgressBar::new(total);
    bar.set_style(super::bar_style(
        "{bar:40} {pos}/{len} receipts  {rate}  eta {eta}",
    ));
    let at = jiff::Timestamp::now().round(jiff::Unit::Millisecond)?;
    let mut sum = ReprojectReport::default();
    let mut after = 0;
    loop {
        let r = store
            .reproject(&filter, after, BATCH, ingestor.reader(), at, args.dry_run)
            .await?;
        let Some(last) = r.last_seq else { break };
        after = last;
        bar.inc(r.receipts as u64);
        sum.receipts += r.receipts;
        sum.calls_examined += r.calls_examined;
        sum.calls_changed += r.calls_changed;
    }
    bar.finish_and_clear();
    let verb = if args.dry_run {
        "would change"
    } else {
        "changed"
    };
    println!(
        "reprojected {}: {} examined, {} {verb}{}",
        super::count(sum.receipts, "receipt", "receipts"),
        super::count(sum.calls_examined, "call", "calls"),
        sum.calls_changed,
        if args.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}
