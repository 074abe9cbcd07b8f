//! `callhook deliveries list|retry|enable|disable`: the outbound deliveries
//! and dead letters, on the configured database (the same operations as
//! `/api/v1/deliveries` and `/api/v1/subscribers`). A running `serve` picks
//! up retried deliveries within a second.

use crate::app::open_store;
use crate::config::Config;
use crate::storage::{Delivery, DeliveryFilter, DeliveryStatus, PageRequest};
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
    match cmd {
        DeliveriesCommand::List {
            subscriber,
            status,
            limit,
        } => list(&config, subscriber.as_deref(), status.as_deref(), *limit).await?,
        DeliveriesCommand::Retry {
            id,
            subscriber,
            status,
        } => {
            retry(
                &config,
                id.as_deref(),
                subscriber.as_deref(),
                status.as_deref(),
            )
            .await?
        }
        DeliveriesCommand::Enable { subscriber } => {
            set_disabled(&config, subscriber, false).await?
        }
        DeliveriesCommand::Disable { subscriber } => {
            set_disabled(&config, subscriber, true).await?
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The `--status` value, if given. Errors: a status that is not pending,
/// delivered or dead.
fn parse_status(status: Option<&str>) -> anyhow::Result<Option<DeliveryStatus>> {
    status
        .map(DeliveryStatus::parse)
        .transpose()
        .map_err(anyhow::Error::msg)
}

/// `deliveries list`: prints at most `limit` deliveries of `subscriber`
/// and `status` as a table on stdout, and their count on stderr.
async fn list(
    config: &Config,
    subscriber: Option<&str>,
    status: Option<&str>,
    limit: usize,
) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let filter = DeliveryFilter {
        subscriber: subscriber.map(str::to_owned),
        status: parse_status(status)?,
    };
    let page = PageRequest {
        limit,
        cursor: None,
    };
    let items = store.list_deliveries(&filter, &page).await?.items;
    let rows: Vec<[String; 7]> = items.iter().map(list_row).collect();
    if rows.is_empty() {
        println!("no deliveries match");
    } else {
        print!("{}", table(LIST_HEADER, &rows));
    }
    eprintln!("{}", super::count(items.len(), "delivery", "deliveries"));
    Ok(())
}

/// A delivery's cells under [`LIST_HEADER`] (`-` for a time or result it
/// does not have).
fn list_row(d: &Delivery) -> [String; 7] {
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
}

/// The status `deliveries retry` makes due again: `status`, dead by
/// default. Errors: an unknown status, or delivered.
fn retry_status(status: Option<&str>) -> anyhow::Result<DeliveryStatus> {
    let status = parse_status(status)?.unwrap_or(DeliveryStatus::Dead);
    if status == DeliveryStatus::Delivered {
        bail!("--status delivered: delivered deliveries cannot be retried (use dead or pending)");
    }
    Ok(status)
}

/// `deliveries retry`: makes delivery `id`, or those of `subscriber` with
/// `status`, due now, and prints how many. Errors: an unknown status or
/// subscriber, an `id` that is unknown or already delivered.
async fn retry(
    config: &Config,
    id: Option<&str>,
    subscriber: Option<&str>,
    status: Option<&str>,
) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let status = retry_status(status)?;
    if let Some(s) = subscriber {
        known(config, s)?;
    }
    let filter = match id {
        Some(_) => DeliveryFilter::default(),
        None => DeliveryFilter {
            subscriber: subscriber.map(str::to_owned),
            status: Some(status),
        },
    };
    let n = store
        .retry_deliveries(id, &filter, Timestamp::now())
        .await
        .context("retrying deliveries")?;
    if let (Some(id), 0) = (id, n) {
        bail!("delivery `{id}` is unknown or already delivered");
    }
    println!("retried {}", super::count(n, "delivery", "deliveries"));
    Ok(())
}

/// `deliveries enable|disable`: enables or (`disable`) disables
/// `subscriber`. Errors: a subscriber not in the configuration.
async fn set_disabled(config: &Config, subscriber: &str, disable: bool) -> anyhow::Result<()> {
    known(config, subscriber)?;
    let store = open_store(config).await?;
    let reason = disable.then(|| "disabled with `callhook deliveries disable`".to_owned());
    let verb = if disable { "disabled" } else { "enabled" };
    store
        .set_target_disabled(subscriber, reason, Timestamp::now())
        .await?;
    println!("{verb} {subscriber}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_takes_dead_by_default_and_refuses_delivered() {
        assert_eq!(retry_status(None).unwrap(), DeliveryStatus::Dead);
        assert_eq!(
            retry_status(Some("pending")).unwrap(),
            DeliveryStatus::Pending
        );
        let delivered = retry_status(Some("delivered")).unwrap_err().to_string();
        assert!(delivered.starts_with("--status delivered:"), "{delivered}");
        assert!(retry_status(Some("sent")).is_err());
    }
}
