//! The `callhook` binary: parses the command line and runs it.

use callhook::cli::{run, Cli, LogFormat};
use clap::Parser;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// mimalloc: glibc's allocator spent a tenth of the request threads' time
/// under load (arena locking, `malloc_consolidate`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Every worker returns freed memory when it goes idle (at most once a
    // second): after a burst of large pushes, RSS falls back.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(callhook::memory::release_if_due)
        .build();
    match runtime {
        Ok(rt) => rt.block_on(async_main()),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::from(2)
        }
    }
}

async fn async_main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_env("CALLHOOK_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Both formats print the fields of the spans an event is in: inside a
    // request, its `request_id`, `method` and redacted `path`
    // (`http::request`); JSON under `span` (the innermost) and `spans`.
    match cli.log_format {
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
        // Control characters in values (a vendor's, a client's) are escaped.
        LogFormat::Text => logs
            .fmt_fields(callhook::telemetry::escape::fields())
            .init(),
    }
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
