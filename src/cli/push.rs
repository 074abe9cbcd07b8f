//! `callhook push`: plays a vendor against any receiver (STUB, being built).

/// Flags of `callhook push`.
#[derive(Debug, clap::Args)]
pub struct PushArgs {}

/// Runs `callhook push`. Errors: unreadable files, an unusable URL.
pub async fn run(_args: &PushArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("not built yet")
}
