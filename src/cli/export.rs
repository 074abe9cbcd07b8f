//! `callhook export --format csv|ndjson|parquet [--output FILE]
//! [--mask-numbers] [filters]`: the calls matching the list filters of
//! `GET /api/v1/calls`, newest first, to stdout or to FILE
//! ([`crate::export`]; `docs/export.md`).
//!
//! A file is written as `FILE.partial`, synced, and renamed to FILE only
//! once the export is complete (then its directory is synced), so a
//! failed, interrupted or power-cut export never leaves a file that looks
//! whole (the partial one is removed), and an export that has exited 0
//! survives a power cut. A progress bar on
//! stderr counts calls against the total of the stats; a last line on
//! stderr says what was written. A closed stdout (`| head`) ends the
//! export quietly with exit code 0.

use crate::app::open_store;
use crate::config::Config;
use crate::export::{export_stream, Chunk, ExportError, ExportOptions, Format};
use crate::storage::{CallFilter, FilterText, GroupBy, Store};
use anyhow::{bail, Context};
use futures::{Stream, StreamExt};
use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget};
use std::ffi::OsString;
use std::fs::File;
use std::io::{ErrorKind, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The flags of `callhook export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// File format.
    #[arg(long, env = "CALLHOOK_FORMAT")]
    pub format: Format,
    /// Write to this file (through FILE.partial, renamed when complete)
    /// instead of stdout.
    #[arg(long, env = "CALLHOOK_OUTPUT")]
    pub output: Option<PathBuf>,
    /// Mask customer numbers (138****5678) everywhere in the output.
    #[arg(long, env = "CALLHOOK_MASK_NUMBERS")]
    pub mask_numbers: bool,
    /// IANA zone of the local-time columns (started_at_local, …);
    /// default `display_timezone`.
    #[arg(long, env = "CALLHOOK_EXPORT_TIMEZONE")]
    pub timezone: Option<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// The list filters of `GET /api/v1/calls`, as flags.
#[derive(Debug, Default, clap::Args)]
pub struct FilterArgs {
    /// Only this vendor's calls (aliyun, itnio, longlonglong, laaffic, vapi,
    /// retell, bland, or a mapped source's vendor).
    #[arg(long, env = "CALLHOOK_VENDOR")]
    pub vendor: Option<String>,
    /// Only calls last changed through this source.
    #[arg(long, env = "CALLHOOK_SOURCE")]
    pub source: Option<String>,
    /// outbound or inbound.
    #[arg(long, env = "CALLHOOK_DIRECTION")]
    pub direction: Option<String>,
    /// Only this outcome (answered, no_answer, busy, …).
    #[arg(long, env = "CALLHOOK_OUTCOME")]
    pub outcome: Option<String>,
    /// Only calls of this vendor task or campaign id.
    #[arg(long, env = "CALLHOOK_TASK_ID")]
    pub task_id: Option<String>,
    /// Only calls with this `out_id` (the caller's own id of the call).
    #[arg(long, env = "CALLHOOK_OUT_ID")]
    pub out_id: Option<String>,
    /// Only calls with this customer phone number.
    #[arg(long, env = "CALLHOOK_CUSTOMER_NUMBER")]
    pub customer_number: Option<String>,
    /// Only the call with this vendor call id.
    #[arg(long, env = "CALLHOOK_VENDOR_CALL_ID")]
    pub vendor_call_id: Option<String>,
    /// Calls started at or after this RFC 3339 time.
    #[arg(long, env = "CALLHOOK_SINCE")]
    pub since: Option<String>,
    /// Calls started before this RFC 3339 time.
    #[arg(long, env = "CALLHOOK_UNTIL")]
    pub until: Option<String>,
    /// One value matched exactly against the customer number, out_id,
    /// vendor call id and call id (the API's `q`).
    #[arg(long, env = "CALLHOOK_SEARCH")]
    pub search: Option<String>,
    /// Full-text search: calls whose transcript, summary tags, intent or
    /// tags contain this text, case-insensitively (the API's `text`; at
    /// most 200 characters).
    #[arg(long, env = "CALLHOOK_TEXT")]
    pub text: Option<String>,
}

impl FilterArgs {
    /// The filter, by the API's rules. Errors: a message naming the flag.
    pub fn filter(&self) -> anyhow::Result<CallFilter> {
        let text = FilterText {
            vendor: self.vendor.as_deref(),
            source: self.source.as_deref(),
            direction: self.direction.as_deref(),
            outcome: self.outcome.as_deref(),
            task_id: self.task_id.as_deref(),
            out_id: self.out_id.as_deref(),
            customer_number: self.customer_number.as_deref(),
            vendor_call_id: self.vendor_call_id.as_deref(),
            since: self.since.as_deref(),
            until: self.until.as_deref(),
            search: self.search.as_deref(),
            text: self.text.as_deref(),
        };
        text.parse().map_err(|e| anyhow::Error::msg(e.for_flag()))
    }
}

/// Where the bytes go.
enum Sink {
    Stdout,
    File {
        file: File,
        partial: PathBuf,
        path: PathBuf,
    },
}

/// `fsync` of the directory holding `path`, so its new name survives a
/// power cut once the command has exited.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// `path` with `.partial` appended to its file name.
fn partial_of(path: &Path) -> PathBuf {
    let mut p = OsString::from(path.as_os_str());
    p.push(".partial");
    PathBuf::from(p)
}

/// Why writing stopped.
enum Stop {
    /// stdout was closed by its reader: end quietly.
    Closed,
    Failed(anyhow::Error),
}

impl Sink {
    /// stdout, or a new `FILE.partial` for `output`. Errors: the partial
    /// file cannot be created.
    fn open(output: Option<&Path>) -> anyhow::Result<Sink> {
        let Some(path) = output else {
            return Ok(Sink::Stdout);
        };
        let partial = partial_of(path);
        let file =
            File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
        Ok(Sink::File {
            file,
            partial,
            path: path.to_owned(),
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        match self {
            Sink::Stdout => match std::io::stdout().lock().write_all(bytes) {
                Err(e) if e.kind() == ErrorKind::BrokenPipe => Err(Stop::Closed),
                other => other.context("writing to stdout").map_err(Stop::Failed),
            },
            Sink::File { file, partial, .. } => file
                .write_all(bytes)
                .with_context(|| format!("writing {}", partial.display()))
                .map_err(Stop::Failed),
        }
    }

    /// Makes the export visible: flushes stdout, or syncs the partial file
    /// and renames it to its name.
    fn complete(self) -> Result<(), Stop> {
        match self {
            Sink::Stdout => match std::io::stdout().lock().flush() {
                Err(e) if e.kind() == ErrorKind::BrokenPipe => Err(Stop::Closed),
                other => other.context("writing to stdout").map_err(Stop::Failed),
            },
            Sink::File {
                file,
                partial,
                path,
            } => {
                let done = file
                    .sync_all()
                    .and_then(|()| std::fs::rename(&partial, &path))
                    .and_then(|()| sync_parent(&path))
                    .with_context(|| format!("completing {}", path.display()));
                if done.is_err() {
                    let _ = std::fs::remove_file(&partial);
                }
                done.map_err(Stop::Failed)
            }
        }
    }

    /// Removes the partial file of a failed export.
    fn abandon(self) {
        if let Sink::File { file, partial, .. } = self {
            drop(file);
            let _ = std::fs::remove_file(partial);
        }
    }
}

fn progress(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(super::bar_style(
        "{bar:40} {pos}/{len} calls  {rate}  eta {eta}",
    ));
    if std::env::var_os("CI").is_some() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

/// Runs `callhook export`. Exit code 0 (also when stdout was closed early);
/// errors (exit 2): a bad flag value (named), Parquet to a terminal, a store
/// that cannot be opened or read, a file that cannot be written.
pub async fn run(config: Config, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let filter = args.filter.filter()?;
    let opts = export_options(&config, args)?;
    if args.output.is_none() && args.format == Format::Parquet && std::io::stdout().is_terminal() {
        bail!("--format parquet is binary: give --output FILE or redirect stdout");
    }
    let store = open_store(&config).await?;
    let total = count_calls(&*store, &filter).await?;
    let sink = Sink::open(args.output.as_deref())?;
    let chunks = export_stream(store, filter, opts);
    match write_with_progress(chunks, sink, total).await {
        Ok(written) => report(args, &written),
        Err(Stop::Closed) => {}
        Err(Stop::Failed(e)) => return Err(e),
    }
    Ok(ExitCode::SUCCESS)
}

/// The format, masking and time zone of the export. Errors: an unknown
/// `--timezone`.
fn export_options(config: &Config, args: &ExportArgs) -> anyhow::Result<ExportOptions> {
    let timezone = match &args.timezone {
        Some(name) => {
            crate::config::display::zone(name).map_err(|e| anyhow::anyhow!("--timezone: {e}"))?
        }
        None => config.display_zone(),
    };
    Ok(ExportOptions {
        format: args.format,
        // `mask_numbers = true` in the configuration masks every export.
        mask_numbers: args.mask_numbers || config.mask_numbers,
        timezone,
    })
}

/// How many calls `filter` selects (the progress bar's total), from the
/// stats.
async fn count_calls(store: &dyn Store, filter: &CallFilter) -> anyhow::Result<u64> {
    Ok(store
        .stats(GroupBy::Vendor, filter, &jiff::tz::TimeZone::UTC)
        .await
        .context("counting the calls to export")?
        .iter()
        .map(|r| r.calls)
        .sum())
}

/// What a complete export wrote.
#[derive(Debug, Default)]
struct Written {
    calls: u64,
    bytes: u64,
}

/// Writes `chunks` to `sink` under a progress bar counting against `total`
/// calls, then completes the sink, or abandons it when writing stopped.
async fn write_with_progress(
    chunks: impl Stream<Item = Result<Chunk, ExportError>>,
    mut sink: Sink,
    total: u64,
) -> Result<Written, Stop> {
    let bar = progress(total);
    let copied = copy_chunks(chunks, &mut sink, &bar).await;
    bar.finish_and_clear();
    match copied {
        Ok(written) => sink.complete().map(|()| written),
        Err(stop) => {
            sink.abandon();
            Err(stop)
        }
    }
}

/// Writes every chunk to `sink`, moving `bar` to the calls written, until
/// the stream ends, fails, the sink stops, or Ctrl-C interrupts it.
async fn copy_chunks(
    chunks: impl Stream<Item = Result<Chunk, ExportError>>,
    sink: &mut Sink,
    bar: &ProgressBar,
) -> Result<Written, Stop> {
    let mut chunks = Box::pin(chunks);
    let mut written = Written::default();
    let mut interrupt = Box::pin(tokio::signal::ctrl_c());
    loop {
        let next = tokio::select! {
            next = chunks.next() => next,
            _ = &mut interrupt => {
                return Err(Stop::Failed(anyhow::anyhow!("interrupted")));
            }
        };
        match next {
            None => return Ok(written),
            Some(Err(e)) => return Err(Stop::Failed(e.into())),
            Some(Ok(chunk)) => {
                sink.write(&chunk.bytes)?;
                written.calls = chunk.calls;
                written.bytes += chunk.bytes.len() as u64;
                bar.set_position(written.calls);
            }
        }
    }
}

/// The last line on stderr: how many calls went where, in what format and
/// size.
fn report(args: &ExportArgs, written: &Written) {
    let to = args
        .output
        .as_ref()
        .map_or("stdout".to_owned(), |p| p.display().to_string());
    eprintln!(
        "exported {} to {to} ({}, {})",
        super::count(written.calls, "call", "calls"),
        args.format,
        HumanBytes(written.bytes)
    );
}
