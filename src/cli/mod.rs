//! The command line (docs/interfaces.md): `serve`, `sources`,
//! `import`, `export`, `replay`, `reproject`, `push`, `deliveries`, `migrate`, `copy`,
//! `check-config`, `purge`, `mapping test`, `recordings status|fetch`.
//! Every flag also reads `CALLHOOK_<FLAG>`.

mod check_config;
mod copy;
mod deliveries;
mod export;
mod import;
mod mapping;
mod purge;
mod recordings;
mod replay;
mod reproject;
mod serve;
mod simulate;
mod sources;

use crate::config::{Config, Overrides};
use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "callhook",
    version,
    about = "Receives AI voice-calling vendors' push reports and serves them back as canonical calls"
)]
pub struct Cli {
    /// TOML configuration file (sources and settings).
    #[arg(long, global = true, env = "CALLHOOK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database URL, e.g. sqlite://callhook.db.
    #[arg(long, global = true, env = "CALLHOOK_DATABASE")]
    pub database: Option<String>,
    /// Log format.
    #[arg(
        long,
        global = true,
        env = "CALLHOOK_LOG_FORMAT",
        default_value = "text"
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, env = "CALLHOOK_LISTEN")]
        listen: Option<SocketAddr>,
        /// Listen on a non-loopback address even though a source has no token.
        #[arg(long, env = "CALLHOOK_INSECURE")]
        insecure: bool,
    },
    /// Print each source's push URL, ready to paste into the vendor's console.
    Sources {
        /// The public base URL vendors reach callhook at (default: `http://<listen>`, `https://` with TLS).
        #[arg(long, env = "CALLHOOK_BASE_URL")]
        base_url: Option<String>,
        /// Print tokens in the URLs instead of `<token>`.
        #[arg(long)]
        show_secrets: bool,
    },
    /// Ingest saved push bodies through the same path as HTTP. A file holds
    /// one body, or one body per line.
    Import {
        /// The configured source the bodies were pushed to.
        #[arg(long)]
        source: String,
        /// Files to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write the calls matching the list filters to stdout or a file, as
    /// CSV, NDJSON or Parquet, newest first.
    Export(export::ExportArgs),
    /// Run stored receipts through their adapters again.
    Replay {
        /// Only receipts with this status (accepted, duplicate, partial, rejected; pending ones are
        /// projected by `serve` and skipped here).
        #[arg(long)]
        status: Option<String>,
        /// Only this receipt.
        #[arg(long, conflicts_with = "status")]
        id: Option<String>,
    },
    /// Read stored receipts again with the adapters and source settings as
    /// they are now, and rebuild the calls they touch (after an adapter fix
    /// or a source's timezone change).
    Reproject(reproject::ReprojectArgs),
    /// Act as a vendor: send bodies the way that vendor does, with its retry
    /// schedule, to test a receiver; or generate load.
    #[command(visible_alias = "push")]
    Simulate(simulate::SimulateArgs),
    /// Bring the database's schema up to date, and nothing else (every
    /// start does it too).
    Migrate,
    /// Move an SQLite installation into PostgreSQL; run again to resume.
    Copy {
        /// The SQLite database: sqlite://FILE.
        #[arg(long)]
        from: String,
        /// The PostgreSQL database: postgres://user@host/db (empty).
        #[arg(long)]
        to: String,
    },
    /// Validate the configuration (file, CALLHOOK_* variables) and print it
    /// as it takes effect, secrets redacted; exit 2 naming what is wrong.
    CheckConfig,
    /// Delete receipts, calls and finished outbound events older than the
    /// retention window (`--older-than-days`, else `retention_days`).
    Purge(purge::PurgeArgs),
    /// List outbound deliveries and retry dead letters.
    Deliveries {
        #[command(subcommand)]
        command: deliveries::DeliveriesCommand,
    },
    /// The recordings archive: its status, and downloading what is missing.
    Recordings {
        #[command(subcommand)]
        command: recordings::RecordingsCommand,
    },
    /// Try a mapped source's `[sources.mapping]` on a body.
    Mapping {
        #[command(subcommand)]
        command: mapping::MappingCommand,
    },
}

impl Cli {
    /// The configuration of this invocation.
    fn load_config(&self, listen: Option<SocketAddr>) -> anyhow::Result<Config> {
        let overrides = Overrides {
            listen,
            database: self.database.clone(),
        };
        Ok(Config::load(self.config.as_deref(), &overrides)?)
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    match &cli.command {
        Command::Serve { listen, insecure } => {
            serve::run(cli.load_config(*listen)?, *insecure).await
        }
        Command::Sources {
            base_url,
            show_secrets,
        } => sources::run(&cli.load_config(None)?, base_url.as_deref(), *show_secrets),
        Command::Import { source, files } => {
            import::run(cli.load_config(None)?, source, files).await
        }
        Command::Export(args) => export::run(cli.load_config(None)?, args).await,
        Command::Replay { status, id } => {
            replay::run(cli.load_config(None)?, status.as_deref(), id.as_deref()).await
        }
        Command::Reproject(args) => reproject::run(cli.load_config(None)?, args).await,
        Command::Simulate(args) => simulate::run(args).await,
        Command::Migrate => copy::migrate(&cli.load_config(None)?).await,
        Command::CheckConfig => check_config::run(&cli),
        Command::Copy { from, to } => copy::copy(from, to).await,
        Command::Purge(args) => purge::run(cli.load_config(None)?, args).await,
        Command::Deliveries { command } => deliveries::run(cli.load_config(None)?, command).await,
        Command::Mapping { command } => mapping::run(&cli.load_config(None)?, command),
        Command::Recordings { command } => recordings::run(cli.load_config(None)?, command).await,
    }
}
