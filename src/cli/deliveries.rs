//! `callhook deliveries list|retry|enable|disable`: the outbound deliveries
//! and dead letters, on the configured database (the same operations as
//! `/api/v1/deliveries` and `/api/v1/subscribers`). A running `serve` picks
//! up retried deliveries within a second.

use crate::app::open_store;
use crate::config::Config;
use crate::storage::{DeliveryFilter, DeliveryStatus, PageRequest};
use anyhow::{bail, Context};
use jiff::Timestamp;
use std::process::ExitCode;

/// Subcommands of `callhook deliveries`.
#[derive(Debug, clap::Subcommand)]
pub enum DeliveriesCommand {
    /// Print deliveries, newest first, as a table with a header.
    List {
        /// Only this subscriber's (or `nats`).
        #[arg(long)]
        subscriber: Option<String>,
        /// Only pending, delivered or dead.
        #[arg(long)]
        status: Option<String>,
        /// At most this many rows.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Make dead letters (or pending deliveries) due now with a fresh
    /// retry schedule.
    Retry {
        /// Only this delivery.
        #[arg(long, conflicts_with_all = ["subscriber", "status"])]
        id: Option<String>,
        /// Only this subscriber's.
        #[arg(long)]
        subscriber: Option<String>,
        /// dead (the default) or pending.
        #[arg(long)]
        status: Option<String>,
    },
    /// Enable a subscriber disabled by a 410 Gone (or by hand): its pending
    /// deliveries are due at once.
    Enable {
        /// The subscriber's name in the configuration (or `nats`).
        #[arg(long)]
        subscriber: String,
    },
    /// Disable a subscriber: its deliveries wait, none is attempted.
    Disable {
        /// The subscriber's name in the configuration (or `nats`).
        #[arg(long)]
        subscriber: String,
    },
}

/// The columns of `deliveries list`.
const LIST_HEADER: [&str; 7] = [
    "ID",
    "SUBSCRIBER",
    "EVENT",
    "STATUS",
    "ATTEMPTS",
    "NEXT / DELIVERED AT",
    "LAST RESULT",
];

/// `rows` under `header`, each column as wide as its widest cell (counted
/// in characters), two spaces apart; the last column is not padded.
fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == N {
                l.push_str(cell);
            } else {
                l.push_str(cell);
                l.push_str(&" ".repeat(w - cell.chars().count() + 2));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

fn known(config: &Config, name: &str) -> anyhow::Result<()> {
    let names = config.target_names();
    if !names.iter().any(|n| n == name) {
        bail!(
            "no subscriber named `{name}` in the configuration (configured: {})",
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            }
        );
    }
    Ok(())
}

/// Runs `callhook deliveries …`. Exit code 0; errors (exit 2): an unknown
/// subscriber or status, a store that cannot be opened.
pub async fn run(config: Config, cmd: &DeliveriesCommand) -> anyhow::Result<ExitCode> {
    let parse = |s: &Option<String>| {
        s.as_deref()
            .map(DeliveryStatus::parse)
            .transpose()
            .map_err(anyhow::Error::msg)
    };
    match cmd {
        DeliveriesCommand::List {
            subscriber,
            status,
            limit,
        } => {
            let store = open_store(&config).await?;
            let filter = DeliveryFilter {
                subscriber: subscriber.clone(),
                status: parse(status)?,
            };
            let page = PageRequest {
                limit: *limit,
                cursor: None,
            };
            let items = store.list_deliveries(&filter, &page).await?.items;
            let rows: Vec<[String; 7]> = items
                .iter()
                .map(|d| {
                    let when = d
                        .next_attempt_at
                        .or(d.delivered_at)
                        .map_or("-".into(), |t| t.to_string());
                    [
                        d.id.to_string(),
                        d.subscriber.to_string(),
                        d.event_type.to_string(),
                        d.status.as_str().to_owned(),
                        d.attempts.to_string(),
                        when,
                        d.last_result().unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            if rows.is_empty() {
                println!("no deliveries match");
            } else {
                print!("{}", table(LIST_HEADER, &rows));
            }
            eprintln!("{}", super::count(items.len(), "delivery", "deliveries"));
        }
        DeliveriesCommand::Retry {
            id,
            subscriber,
            status,
        } => {
            let store = open_store(&config).await?;
            let status = parse(status)?.unwrap_or(DeliveryStatus::Dead);
            if status == DeliveryStatus::Delivered {
                bail!("--status delivered: delivered deliveries cannot be retried (use dead or pending)");
            }
            if let Some(s) = subscriber {
                known(&config, s)?;
            }
            let filter = match id {
                Some(_) => DeliveryFilter::default(),
                None => DeliveryFilter {
                    subscriber: subscriber.clone(),
                    status: Some(status),
                },
            };
            let n = store
                .retry_deliveries(id.as_deref(), &filter, Timestamp::now())
                .await
                .context("retrying deliveries")?;
            if id.is_some() && n == 0 {
                bail!(
                    "delivery `{}` is unknown or already delivered",
                    id.as_deref().unwrap_or_default()
                );
            }
            println!("retried {}", super::count(n, "delivery", "deliveries"));
        }
        DeliveriesCommand::Enable { subscriber } | DeliveriesCommand::Disable { subscriber } => {
            known(&config, subscriber)?;
            let store = open_store(&config).await?;
            let reason = matches!(cmd, DeliveriesCommand::Disable { .. })
                .then(|| "disabled with `callhook deliveries disable`".to_owned());
            let verb = if reason.is_some() {
                "disabled"
            } else {
                "enabled"
            };
            store
                .set_target_disabled(subscriber, reason, Timestamp::now())
                .await?;
            println!("{verb} {subscriber}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
