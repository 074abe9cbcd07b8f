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
    /// Print deliveries, newest first, one line each.
    List {
        /// Only this subscriber's (or `nats`).
        #[arg(long)]
        subscriber: Option<String>,
        /// Only pending, delivered or dead.
        #[arg(long)]
        status: Option<String>,
        /// At most this many lines.
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
        #[arg(long)]
        subscriber: String,
    },
    /// Disable a subscriber: its deliveries wait, none is attempted.
    Disable {
        #[arg(long)]
        subscriber: String,
    },
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
            for d in &items {
                let last = d.last_result().unwrap_or_else(|| "-".into());
                let when = d
                    .next_attempt_at
                    .or(d.delivered_at)
                    .map_or("-".into(), |t| t.to_string());
                println!(
                    "{}  {:<12} {:<14} {:<9} attempts={:<2} {}  {}",
                    d.id,
                    d.subscriber,
                    d.event_type,
                    d.status.as_str(),
                    d.attempts,
                    when,
                    last
                );
            }
            eprintln!("{} deliveries", items.len());
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
            println!("retried {n} deliveries");
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
