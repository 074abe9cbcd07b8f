//! `callhook import --source NAME FILE…`: saved push bodies through the same
//! path as HTTP (parse, durable receipt; up to 64 in flight so commits are
//! grouped), then projected into calls before the command returns (by this
//! process, or by a `serve` running on the same database), with progress
//! bars and a summary. Exits 1 when any body was rejected, so scripts
//! notice.

use super::count;
use crate::app::open_store;
use crate::config::Config;
use crate::ingest::Ingestor;
use crate::storage::{IngestOutcome, ReceiptStatus};
use anyhow::Context;
use futures::stream::{self, StreamExt};
use indicatif::ProgressBar;
use std::collections::HashMap;
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
    let ingestor = Ingestor::new(store, Arc::new(config));
    let bar = ProgressBar::new(work.len() as u64);
    bar.set_style(super::bar_style(
        "{bar:40} {pos}/{len} bodies  {rate}  eta {eta}",
    ));
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
    let began = std::time::Instant::now();
    let mut appended = Vec::new();
    while let Some((result, file)) = results.next().await {
        bar.inc(1);
        let r = result.with_context(|| format!("storing a body of {}", file.display()))?;
        if let Some(rej) = &r.rejection {
            summary.rejected += 1;
            bar.println(format!("rejected: {}: {}", file.display(), rej.message));
        } else {
            appended.push(r.receipt_id);
        }
    }
    bar.finish_and_clear();
    let append_s = began.elapsed().as_secs_f64();
    let began = std::time::Instant::now();
    let outcomes = project_all(&ingestor, &appended).await?;
    let project_s = began.elapsed().as_secs_f64();
    for o in outcomes {
        match o.status {
            Some(ReceiptStatus::Accepted) => summary.accepted += 1,
            Some(ReceiptStatus::Duplicate) => summary.duplicate += 1,
            Some(ReceiptStatus::Partial) => summary.partial += 1,
            _ => summary.rejected += 1,
        }
        summary.records += o.created + o.updated + o.analyzed + o.unchanged;
        summary.created += o.created;
        summary.updated += o.updated;
        summary.analyzed += o.analyzed;
    }
    let s = &summary;
    println!(
        "imported {}, {}: {} accepted, {} duplicate, {} partial, {} rejected; calls: {} created, {} updated, {} analyzed",
        count(s.bodies, "body", "bodies"), count(s.records, "record", "records"), s.accepted, s.duplicate, s.partial, s.rejected, s.created, s.updated, s.analyzed
    );
    println!(
        "appended in {append_s:.1} s; projected in {project_s:.1} s ({} records/s)",
        super::rate(s.records as f64 / project_s.max(0.001))
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

/// Projects until every receipt of `ids` is projected, with a progress bar
/// of records; the outcome of each (counts only for those this process
/// projected: a `serve` on the same database may take some).
///
/// Errors: the store's, or a receipt still pending after a minute without
/// progress.
async fn project_all(ingestor: &Ingestor, ids: &[String]) -> anyhow::Result<Vec<IngestOutcome>> {
    let reader = ingestor.reader();
    let batch = ingestor.config.limits.projection_batch_records;
    let bar = ProgressBar::new(ids.len() as u64);
    bar.set_style(super::bar_style(
        "{bar:40} {pos}/{len} projected  {rate}  eta {eta}",
    ));
    let mut seen: HashMap<String, IngestOutcome> = HashMap::new();
    loop {
        let report = ingestor.store.project(reader.clone(), batch).await?;
        if report.receipts.is_empty() {
            break;
        }
        for o in report.receipts {
            bar.inc(1);
            seen.insert(o.receipt_id.clone(), o);
        }
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(o) = seen.remove(id) {
            out.push(o);
            continue;
        }
        let waited = std::time::Instant::now();
        loop {
            let stored = ingestor.store.get_receipt(id).await?;
            let status = stored.map(|r| r.summary.status);
            if status != Some(ReceiptStatus::Pending) {
                bar.inc(1);
                out.push(IngestOutcome {
                    status,
                    ..IngestOutcome::of(id)
                });
                break;
            }
            anyhow::ensure!(
                waited.elapsed() < std::time::Duration::from_secs(60),
                "receipt {id} is still pending after a minute"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    bar.finish_and_clear();
    Ok(out)
}
