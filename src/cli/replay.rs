//! `callhook replay [--status S | --id ID]`: stored receipts re-projected
//! one by one with their adapters as they are now (after an adapter fix, or
//! a config change), oldest first, with a progress bar and a summary of the
//! new statuses. `callhook reproject` does the same in batches, by source,
//! kind and time.

use crate::app::open_store;
use crate::config::Config;
use crate::ingest::{Ingestor, ReplayError};
use crate::storage::ReceiptStatus;
use indicatif::ProgressBar;
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

pub async fn run(
    config: Config,
    status: Option<&str>,
    id: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let status = status
        .map(ReceiptStatus::parse)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let store = open_store(&config).await?;
    let ids = match id {
        Some(id) => vec![id.to_owned()],
        None => store.receipt_ids(status).await?,
    };
    let ingestor = Ingestor::new(store, Arc::new(config));
    let bar = ProgressBar::new(ids.len() as u64);
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut failed = 0;
    for id in &ids {
        match ingestor.replay(id).await {
            Ok(r) => {
                *counts
                    .entry(r.status.map_or("unknown", ReceiptStatus::as_str))
                    .or_default() += 1
            }
            Err(
                e @ (ReplayError::NotFound(_)
                | ReplayError::SourceGone { .. }
                | ReplayError::Pending(_)),
            ) => {
                failed += 1;
                bar.println(format!("skipped: {e}"));
            }
            Err(ReplayError::Store(e)) => return Err(e.into()),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    println!(
        "replayed {}: {}; {} skipped",
        super::count(ids.len() - failed, "receipt", "receipts"),
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        },
        failed
    );
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
