//! `callhook deliveries`: list and retry outbound deliveries (STUB, being built).

use crate::config::Config;

/// Subcommands of `callhook deliveries`.
#[derive(Debug, clap::Subcommand)]
pub enum DeliveriesCommand {}

/// Runs `callhook deliveries …`. Errors: the store cannot be opened.
pub async fn run(
    _config: Config,
    _cmd: &DeliveriesCommand,
) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("not built yet")
}
