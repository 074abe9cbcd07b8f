//! `callhook serve`.

use crate::app::App;
use crate::config::Config;
use std::process::ExitCode;

pub async fn run(config: Config, insecure: bool) -> anyhow::Result<ExitCode> {
    config.check_exposure(insecure)?;
    let app = App::start(config).await?;
    let config = &app.state.config;
    let database = crate::config::redact::url_text(&config.database);
    let scheme = config.scheme();
    tracing::info!(addr = %app.addr, %database, %scheme, "callhook listening");
    for s in &config.sources {
        tracing::info!(source = %s.name, kind = %s.kind, url = %format!("{scheme}://{}/hooks/{}", app.addr, s.name), "source ready");
    }
    app.run_until_signal().await?;
    Ok(ExitCode::SUCCESS)
}
