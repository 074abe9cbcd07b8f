//! `callhook serve`.

use crate::app::{App, StartError};
use crate::config::Config;
use std::process::ExitCode;

/// Runs the service. `announce`: print the dashboard's address and the push
/// URLs on stdout (not with JSON logs, whose stdout and stderr are JSON
/// lines only; the `callhook listening` and `source ready` events say the
/// same).
pub async fn run(config: Config, insecure: bool, announce: bool) -> anyhow::Result<ExitCode> {
    config.check_exposure(insecure)?;
    let app = match App::start(config).await {
        Ok(app) => app,
        Err(StartError::Bind { addr, source })
            if source.kind() == std::io::ErrorKind::AddrInUse =>
        {
            anyhow::bail!(
                "{addr} is already in use (another callhook, or another program, listens there): \
                 stop it, or give another address with --listen (CALLHOOK_LISTEN, or `listen` \
                 in the configuration)"
            );
        }
        Err(StartError::Bind { addr, source }) => {
            anyhow::bail!("cannot listen on {addr} (--listen): {source}");
        }
        Err(e) => return Err(e.into()),
    };
    let config = &app.state.config;
    let database = crate::config::redact::url_text(&config.database);
    let scheme = config.scheme();
    let base = format!("{scheme}://{}", app.addr);
    let dashboard = format!("{base}/");
    tracing::info!(addr = %app.addr, %database, %scheme, %dashboard, "callhook listening");
    for s in &config.sources {
        tracing::info!(source = %s.name, kind = %s.kind, url = %format!("{scheme}://{}/hooks/{}", app.addr, s.name), "source ready");
    }
    // Where to go next, on stdout (logs are on stderr): the dashboard and
    // each source's push URL, tokens masked (`callhook sources
    // --show-secrets` prints them).
    if announce {
        println!("callhook is listening on {base} (database {database})");
        println!("dashboard: {dashboard}");
        println!("push URLs:");
        for line in super::sources::lines(config, Some(&base), false) {
            println!("  {line}");
        }
    }
    app.run_until_signal().await?;
    Ok(ExitCode::SUCCESS)
}
