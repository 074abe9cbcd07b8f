//! `callhook mapping test --config F [--source NAME] BODY.json`: what a
//! mapped source would make of a body, without a store: the canonical
//! calls (as `GET /api/v1/calls/{id}` would show them after this one push),
//! the unusable records and the warnings, as JSON on stdout. The body goes
//! through the same screening and adapter as a push.

use crate::config::{Config, SourceConfig};
use crate::domain::{Call, SourceKind};
use crate::ingest::{body_limits, read_body};
use crate::storage::BodyResult;
use anyhow::{bail, Context};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

/// `callhook mapping …`.
#[derive(Debug, clap::Subcommand)]
pub enum MappingCommand {
    /// Print the canonical calls a body would make through a mapped source.
    Test {
        /// The mapped source to use; needed when the configuration has several.
        #[arg(long)]
        source: Option<String>,
        /// A body as the vendor would push it.
        body: PathBuf,
    },
}

/// Runs `callhook mapping test`: exit 0 when the body makes at least one
/// call, 1 when it would be refused (the reason on stdout, as JSON).
///
/// Errors (exit 2): no mapped source, several without `--source`, an
/// unknown `--source`, an unreadable body file.
pub fn run(config: &Config, command: &MappingCommand) -> anyhow::Result<ExitCode> {
    let MappingCommand::Test { source, body } = command;
    let source = pick(config, source.as_deref())?;
    let bytes = std::fs::read(body).with_context(|| format!("reading {}", body.display()))?;
    let reading = read_body(
        source.kind,
        &bytes,
        &source.context(),
        body_limits(&config.limits),
    );
    let now = jiff::Timestamp::now();
    let (out, code) = match reading.result {
        BodyResult::Rejected(issue) => (
            json!({"source": source.name, "status": "rejected", "error": issue}),
            ExitCode::from(1),
        ),
        BodyResult::Parsed {
            record_count,
            updates,
            errors,
            warnings,
        } => {
            let mut calls: Vec<Call> = Vec::new();
            for u in &updates {
                match calls
                    .iter_mut()
                    .find(|c| c.vendor == u.vendor && c.vendor_call_id == u.vendor_call_id)
                {
                    Some(c) => {
                        c.apply(u, &source.name, now);
                    }
                    None => calls.push(Call::from_update(u, &source.name, now)),
                }
            }
            let status = if errors.is_empty() {
                "accepted"
            } else {
                "partial"
            };
            (
                json!({
                    "source": source.name,
                    "status": status,
                    "record_count": record_count,
                    "calls": calls,
                    "errors": errors,
                    "warnings": warnings,
                }),
                ExitCode::SUCCESS,
            )
        }
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(code)
}

fn pick<'a>(config: &'a Config, name: Option<&str>) -> anyhow::Result<&'a SourceConfig> {
    let mapped: Vec<&SourceConfig> = config
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::Mapped)
        .collect();
    match name {
        Some(n) => match config.source(n) {
            Some(s) => Ok(s),
            None => bail!("--source: no source named `{n}` in the configuration"),
        },
        None => match mapped.as_slice() {
            [one] => Ok(one),
            [] => bail!(
                "the configuration has no `mapped` source (give --config with one, or --source)"
            ),
            many => bail!(
                "several mapped sources ({}): say which with --source",
                many.iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
}
