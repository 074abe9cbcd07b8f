//! The command line (docs/http-contract.md): `serve`, `sources`,
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

use crate::config::{Config, Overrides, StoreUrl};
use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
    /// Database URL, before the command (as older scripts give it); each
    /// command that uses a database takes `--database` itself.
    #[arg(long, env = "CALLHOOK_DATABASE", hide = true)]
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

/// `--database`, on the commands that use a database.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DatabaseArg {
    /// Database URL: sqlite://FILE (default sqlite://callhook.db) or
    /// postgres://user@host/db; else CALLHOOK_DATABASE.
    // The variable is read by the hidden top-level flag, so that a flag
    // given before the command still wins over it.
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,
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
        #[command(flatten)]
        db: DatabaseArg,
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
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Write the calls matching the list filters to stdout or a file, as
    /// CSV, NDJSON or Parquet, newest first.
    Export {
        #[command(flatten)]
        args: export::ExportArgs,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Run stored receipts through their adapters again.
    Replay {
        /// Only receipts with this status (accepted, duplicate, partial, rejected; pending ones are
        /// projected by `serve` and skipped here).
        #[arg(long)]
        status: Option<String>,
        /// Only this receipt.
        #[arg(long, conflicts_with = "status")]
        id: Option<String>,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Read stored receipts again with the adapters and source settings as
    /// they are now, and rebuild the calls they touch (after an adapter fix
    /// or a source's timezone change).
    Reproject {
        #[command(flatten)]
        args: reproject::ReprojectArgs,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Act as a vendor: send bodies the way that vendor does, with its retry
    /// schedule, to test a receiver; or generate load.
    #[command(visible_alias = "push")]
    Simulate(simulate::SimulateArgs),
    /// Bring the database's schema up to date, and nothing else (every
    /// start does it too).
    Migrate {
        #[command(flatten)]
        db: DatabaseArg,
    },
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
    CheckConfig {
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Delete receipts, calls and finished outbound events older than the
    /// retention window (`--older-than-days`, else `retention_days`).
    Purge {
        #[command(flatten)]
        args: purge::PurgeArgs,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// List outbound deliveries and retry dead letters.
    Deliveries {
        #[command(subcommand)]
        command: deliveries::DeliveriesCommand,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// The recordings archive: its status, and downloading what is missing.
    Recordings {
        #[command(subcommand)]
        command: recordings::RecordingsCommand,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Try a mapped source's `[sources.mapping]` on a body.
    Mapping {
        #[command(subcommand)]
        command: mapping::MappingCommand,
    },
}

impl Cli {
    /// The configuration of this invocation: `db` is the command's own
    /// `--database` (`None` for a command that uses no database).
    fn load_config(
        &self,
        listen: Option<SocketAddr>,
        db: Option<&DatabaseArg>,
    ) -> anyhow::Result<Config> {
        let overrides = Overrides {
            listen,
            database: db
                .and_then(|d| d.database.clone())
                .or_else(|| self.database.clone()),
        };
        Ok(Config::load(self.config.as_deref(), &overrides)?)
    }

    /// [`Cli::load_config`] for a command that only reads: an SQLite
    /// database file that does not exist is refused (rather than created
    /// empty), naming the path.
    fn load_existing(&self, db: &DatabaseArg, command: &str) -> anyhow::Result<Config> {
        let config = self.load_config(None, Some(db))?;
        existing_database(&config, command)?;
        Ok(config)
    }
}

/// Refuses an SQLite database file that does not exist, naming the path,
/// for `command`, which works on an existing database.
fn existing_database(config: &Config, command: &str) -> anyhow::Result<()> {
    if let Ok(StoreUrl::Sqlite(path)) = config.store_url() {
        let path = Path::new(&path);
        if !path.exists() {
            anyhow::bail!(
                "no database at {}: `callhook {command}` works on an existing database and does not \
                 create one (check --database, CALLHOOK_DATABASE or `database` in the configuration; \
                 `callhook serve` or `callhook migrate` creates it)",
                path.display()
            );
        }
    }
    Ok(())
}

/// A `--kind` value, or an error suggesting the nearest kind.
pub fn parse_kind(text: &str) -> anyhow::Result<crate::domain::SourceKind> {
    kind_of(text).map_err(|e| anyhow::anyhow!("--kind: {e}"))
}

/// The kind named `text`. Errors: "unknown kind `text`" with the nearest
/// kind ("did you mean …?") or the list of kinds; for clap's value
/// parsers, which name the flag themselves.
pub fn kind_of(text: &str) -> Result<crate::domain::SourceKind, String> {
    use crate::domain::SourceKind;
    text.parse::<SourceKind>().map_err(|_| {
        let kinds: Vec<&str> = SourceKind::ALL.iter().map(|k| k.as_str()).collect();
        format!(
            "unknown kind `{text}`{}",
            crate::config::explain::suggestion(text, &kinds)
        )
    })
}

/// `n` and the noun, singular for one: "1 call", "2 calls".
pub fn count(n: impl TryInto<u64>, one: &str, many: &str) -> String {
    let n = n.try_into().unwrap_or(u64::MAX);
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A progress bar style from `template`, where `{rate}` is the rate rounded
/// to a whole number per second ("1234/s", not "1234.5678/s").
pub fn bar_style(template: &str) -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}/s", rate(state.per_sec()));
            },
        )
}

/// A rate as shown: whole numbers, thousands grouped ("12,345").
fn rate(per_sec: f64) -> String {
    let n = if per_sec.is_finite() && per_sec > 0.0 {
        per_sec.round() as u64
    } else {
        0
    };
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    match &cli.command {
        Command::Serve {
            listen,
            insecure,
            db,
        } => {
            let announce = matches!(cli.log_format, LogFormat::Text);
            serve::run(cli.load_config(*listen, Some(db))?, *insecure, announce).await
        }
        Command::Sources {
            base_url,
            show_secrets,
        } => sources::run(
            &cli.load_config(None, None)?,
            base_url.as_deref(),
            *show_secrets,
        ),
        Command::Import { source, files, db } => {
            import::run(cli.load_config(None, Some(db))?, source, files).await
        }
        Command::Export { args, db } => {
            // A bad flag is named before a missing database.
            let config = cli.load_config(None, Some(db))?;
            args.filter.filter()?;
            existing_database(&config, "export")?;
            export::run(config, args).await
        }
        Command::Replay { status, id, db } => {
            replay::run(
                cli.load_existing(db, "replay")?,
                status.as_deref(),
                id.as_deref(),
            )
            .await
        }
        Command::Reproject { args, db } => {
            let config = cli.load_config(None, Some(db))?;
            args.filter(&config)?;
            existing_database(&config, "reproject")?;
            reproject::run(config, args).await
        }
        Command::Simulate(args) => simulate::run(args).await,
        Command::Migrate { db } => copy::migrate(&cli.load_config(None, Some(db))?).await,
        Command::CheckConfig { db } => check_config::run(&cli, db),
        Command::Copy { from, to } => copy::copy(from, to).await,
        Command::Purge { args, db } => purge::run(cli.load_existing(db, "purge")?, args).await,
        Command::Deliveries { command, db } => {
            let name = match command {
                deliveries::DeliveriesCommand::List { .. } => "deliveries list",
                deliveries::DeliveriesCommand::Retry { .. } => "deliveries retry",
                deliveries::DeliveriesCommand::Enable { .. } => "deliveries enable",
                deliveries::DeliveriesCommand::Disable { .. } => "deliveries disable",
            };
            deliveries::run(cli.load_existing(db, name)?, command).await
        }
        Command::Mapping { command } => mapping::run(&cli.load_config(None, None)?, command),
        Command::Recordings { command, db } => {
            let name = match command {
                recordings::RecordingsCommand::Status => "recordings status",
                recordings::RecordingsCommand::Fetch(_) => "recordings fetch",
            };
            let config = cli.load_config(None, Some(db))?;
            if let recordings::RecordingsCommand::Fetch(args) = command {
                // A bad flag is named before a missing database.
                args.since
                    .as_deref()
                    .map(recordings::parse_since)
                    .transpose()?;
            }
            existing_database(&config, name)?;
            recordings::run(config, command).await
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rates_are_whole_and_grouped() {
        assert_eq!(super::rate(1234.5678), "1,235");
        assert_eq!(super::rate(0.4), "0");
        assert_eq!(super::rate(f64::NAN), "0");
        assert_eq!(super::rate(999.6), "1,000");
    }
}
