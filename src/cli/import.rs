//! `callhook import --source NAME FILE…`: saved push bodies through the same
//! path as HTTP (parse, receipt, calls, one durable transaction each; up to
//! 64 in flight so commits are grouped), with a progress bar and a summary.
//! Exits 1 when any body was rejected, so scripts notice.

use crate::app::open_store;
use crate::config::Config;
use crate::ingest::Ingestor;
use crate::storage::ReceiptStatus;
use anyhow::Context;
use futures::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

const IN_FLIGHT: usize = 64;

/// The bodies in a file: the whole file when it is one JSON document, else
/// each non-blank line.
pub fn bodies(text: &[u8]) -> Vec<Vec<u8>> {
    if serde_json::from_slice::<serde::de::IgnoredAny>(text).is_ok() {
        return vec![text.to_vec()];
    }
    text.split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
        .map(<[u8]>::to_vec)
        .collect()
}

/// Totals of an import.
#[derive(Debug, Default)]
pub struct Summary {
    pub bodies: usize,
    pub records: usize,
    pub accepted: usize,
    pub duplicate: usize,
    pub partial: usize,
    pub rejected: usize,
    pub created: usize,
    pub updated: usize,
    pub analyzed: usize,
}

pub async fn run(config: Config, source: &str, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let src = config
        .source(source)
        .cloned()
        .with_context(|| format!("unknown source `{source}` (see `callhook sources`)"))?;
    let mut work = Vec::new();
    for f in files {
        let text = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        work.extend(bodies(&text).into_iter().map(|b| (f.clone(), b)));
    }
    let store = open_store(&config).await?;
    let ingestor = Ingestor {
        store,
        config: Arc::new(config),
    };
    let bar = ProgressBar::new(work.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} bodies  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut summary = Summary {
        bodies: work.len(),
        ..Summary::default()
    };
    let mut results = stream::iter(work)
        .map(|(file, body)| {
            let (ingestor, src) = (ingestor.clone(), &src);
            async move {
                (
                    ingestor.push(src, body.into(), remote(&file), None).await,
                    file,
                )
            }
        })
        .buffered(IN_FLIGHT);
    while let Some((result, file)) = results.next().await {
        bar.inc(1);
        let r = result.with_context(|| format!("storing a body of {}", file.display()))?;
        let o = r.outcome;
        match o.status {
            Some(ReceiptStatus::Accepted) => summary.accepted += 1,
            Some(ReceiptStatus::Duplicate) => summary.duplicate += 1,
            Some(ReceiptStatus::Partial) => summary.partial += 1,
            Some(ReceiptStatus::Rejected) | None => {
                summary.rejected += 1;
                bar.println(format!(
                    "rejected: {}: {}",
                    file.display(),
                    r.rejection.map(|r| r.message).unwrap_or_default()
                ));
            }
        }
        summary.records += o.created + o.updated + o.analyzed + o.unchanged;
        summary.created += o.created;
        summary.updated += o.updated;
        summary.analyzed += o.analyzed;
    }
    bar.finish_and_clear();
    let s = &summary;
    println!(
        "imported {} bodies, {} records: {} accepted, {} duplicate, {} partial, {} rejected; calls: {} created, {} updated, {} analyzed",
        s.bodies, s.records, s.accepted, s.duplicate, s.partial, s.rejected, s.created, s.updated, s.analyzed
    );
    Ok(if s.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn remote(file: &Path) -> String {
    format!("import:{}", file.display())
}
