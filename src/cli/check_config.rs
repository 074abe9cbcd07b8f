//! `callhook check-config`: loads the configuration as `serve` would (the
//! `--config` file, `CALLHOOK_*` variables, flags), validates it, and prints
//! the effective configuration as TOML with every secret redacted. Exit 0
//! when it is valid; 2 with the reason (an unknown key named with its path,
//! a bad value, TLS files that cannot be used) when not.

use super::{count, Cli, DatabaseArg};
use std::process::ExitCode;

/// Runs the command.
///
/// Errors: none of its own: an invalid configuration is reported on stderr
/// with exit code 2.
pub fn run(cli: &Cli, db: &DatabaseArg) -> anyhow::Result<ExitCode> {
    let config = match cli.load_config(None, Some(db)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("callhook: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let tls = config.tls_files().ok().flatten();
    if let Some(Err(e)) = tls.map(|(cert, key)| crate::http::tls::acceptor(cert, key)) {
        eprintln!("callhook: configuration: {e}");
        return Ok(ExitCode::from(2));
    }
    match config.effective_toml() {
        Ok(text) => {
            print!("{text}");
            eprintln!(
                "configuration is valid: {}, {}{}{}",
                count(config.sources.len(), "source", "sources"),
                count(config.subscribers.len(), "subscriber", "subscribers"),
                if config.nats.is_some() { ", NATS" } else { "" },
                match (config.alerts.len(), config.alert_channels.len()) {
                    (0, 0) => String::new(),
                    (rules, channels) => format!(
                        ", {}, {}",
                        count(rules, "alert rule", "alert rules"),
                        count(channels, "alert channel", "alert channels")
                    ),
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("callhook: the configuration cannot be printed: {e}");
            Ok(ExitCode::from(2))
        }
    }
}
