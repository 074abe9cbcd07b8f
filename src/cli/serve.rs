//! `callhook serve`.

use crate::app::App;
use crate::config::Config;
use std::process::ExitCode;

pub async fn run(config: Config, insecure: bool) -> anyhow::Result<ExitCode> {
    config.check_exposure(insecure)?;
    let app = App::start(config).await?;
    tracing::info!(addr = %app.addr, database = %app.state.config.database, "callhook listening");
    for s in &app.state.config.sources {
        tracing::info!(source = %s.name, kind = %s.kind, url = %format!("http://{}/hooks/{}", app.addr, s.name), "source ready");
    }
    app.run_until_signal().await?;
    Ok(ExitCode::SUCCESS)
}
