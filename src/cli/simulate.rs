//! `callhook simulate --kind KIND --url URL [FILE…]` (alias `callhook
//! push`): plays a vendor against any receiver ([`crate::simulator`]).
//! Each body is sent the way that vendor sends it, retried on its schedule
//! (`--time-scale` compresses the waits), and each attempt is printed. With `--generate` it is a load generator:
//! bodies of new, unique calls made from the files (or the kind's sample),
//! `--concurrency` at a time, paced at `--rate` per second, for `--count`
//! bodies or `--duration`; it prints retries, failures and a summary.
//! Exit code 0 when every body was accepted, 1 when any was given up on.

use super::import::bodies;
use crate::config::SignatureConfig;
use crate::domain::SourceKind;
use crate::signature::Signer;
use crate::simulator::{deliver, Attempt, Credentials, Generator, Outcome, Profile};
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Flags of `callhook simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// The vendor message kind to play (aliyun-call-report, aliyun-call-notes,
    /// itnio-call-record, longlonglong-inbound, laaffic-voice-report,
    /// vapi-end-of-call-report, retell-call-event, bland-call, mapped).
    #[arg(long, env = "CALLHOOK_KIND", value_parser = super::kind_of)]
    pub kind: SourceKind,
    /// The receiver's push URL, e.g. http://127.0.0.1:8080/hooks/aliyun-call-report.
    #[arg(long, env = "CALLHOOK_URL")]
    pub url: String,
    /// Bodies to send: a file holds one body, or one body per line. With
    /// --generate they are templates (default: the kind's sample body).
    pub files: Vec<PathBuf>,
    /// Sent as `Authorization: Bearer`.
    #[arg(long, env = "CALLHOOK_TOKEN")]
    pub token: Option<String>,
    /// Signs each attempt as the vendor does (Vapi, Retell, Bland): the
    /// source's `secret`.
    #[arg(long, env = "CALLHOOK_SECRET")]
    pub secret: Option<String>,
    /// Vapi only: `secret-header` (default), `bearer` or `hmac` (Vapi's
    /// defaults: `x-signature` over `{timestamp}.{body}`, `x-timestamp`).
    #[arg(long, env = "CALLHOOK_SIGNATURE_SCHEME")]
    pub signature_scheme: Option<String>,
    /// Multiplies every retry delay (0.001 makes Alibaba's 1 minute 60 ms);
    /// the request timeout is not scaled.
    #[arg(long, env = "CALLHOOK_TIME_SCALE", default_value_t = 1.0)]
    pub time_scale: f64,
    /// Load mode: send bodies of new, unique calls made from the templates.
    #[arg(long, env = "CALLHOOK_GENERATE")]
    pub generate: bool,
    /// Load mode: how many bodies (default 1000 unless --duration is given).
    #[arg(long, env = "CALLHOOK_COUNT")]
    pub count: Option<u64>,
    /// Load mode: stop starting bodies after this long, e.g. 10s.
    #[arg(long, env = "CALLHOOK_DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Bodies started per second (default: as fast as --concurrency allows).
    #[arg(long, env = "CALLHOOK_RATE")]
    pub rate: Option<f64>,
    /// Bodies in flight at once (default 1, or 16 with --generate).
    #[arg(long, env = "CALLHOOK_CONCURRENCY")]
    pub concurrency: Option<usize>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d: jiff::SignedDuration = s
        .parse()
        .map_err(|e| format!("`{s}` is not a duration such as 10s: {e}"))?;
    Duration::try_from(d).map_err(|_| format!("`{s}`: must not be negative"))
}

/// The token and signer of `--token`, `--secret` and `--signature-scheme`.
///
/// Errors: `--secret` for a kind that is not signed, a scheme that is not
/// Vapi's, `--signature-scheme` without `--secret`.
fn credentials(args: &SimulateArgs) -> anyhow::Result<Credentials> {
    let settings = args
        .signature_scheme
        .as_ref()
        .map(|scheme| SignatureConfig {
            scheme: scheme.clone(),
            ..SignatureConfig::default()
        });
    let signer = match &args.secret {
        Some(secret) => Some(
            Signer::new(args.kind, secret.clone().into(), settings.as_ref())
                .map_err(|e| anyhow::anyhow!("--{}", e.replacen("signature.", "signature-", 1)))?,
        ),
        None if settings.is_some() => bail!("--signature-scheme needs --secret"),
        None => None,
    };
    Ok(Credentials {
        token: args.token.clone(),
        signer,
    })
}

/// Where and how bodies are sent; cloned into each body's task.
#[derive(Clone)]
struct Player {
    client: reqwest::Client,
    url: Arc<str>,
    auth: Arc<Credentials>,
    profile: Arc<Profile>,
    time_scale: f64,
}

impl Player {
    async fn play(&self, body: Vec<u8>, on_attempt: impl FnMut(&Attempt)) -> Outcome {
        deliver(
            &self.client,
            &self.url,
            &self.auth,
            &self.profile,
            body,
            self.time_scale,
            on_attempt,
        )
        .await
    }
}

/// One attempt as printed: `body 2/5 attempt 1: HTTP 503 in 3 ms: failed (HTTP 503), retry in 60ms`.
fn line(label: &str, a: &Attempt) -> String {
    let status = a
        .status
        .map_or("no answer".to_owned(), |s| format!("HTTP {s}"));
    let verdict = match (&a.error, a.next_in) {
        (None, _) => "accepted".to_owned(),
        (Some(e), Some(wait)) => format!("failed ({e}), retry in {wait:?}"),
        (Some(e), None) => format!("failed ({e}), gave up"),
    };
    format!(
        "{label} attempt {}: {status} in {} ms: {verdict}",
        a.number,
        a.elapsed.as_millis()
    )
}

/// Prints `text` on stdout; a closed stdout (`callhook simulate … | head -1`)
/// is not an error worth a panic: the pushes go on.
fn say(text: impl std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{text}");
}

/// Runs `callhook simulate`. Errors (exit 2): unreadable files, bad templates,
/// an unusable URL or flag.
pub async fn run(args: &SimulateArgs) -> anyhow::Result<ExitCode> {
    if !(args.time_scale.is_finite() && args.time_scale >= 0.0) {
        bail!("--time-scale: must be a number ≥ 0");
    }
    if args.rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
        bail!("--rate: must be a number above 0");
    }
    if args.concurrency == Some(0) {
        bail!("--concurrency: must be at least 1");
    }
    reqwest::Url::parse(&args.url).with_context(|| format!("--url `{}`", args.url))?;
    let mut files = Vec::new();
    for f in &args.files {
        let text = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        files.extend(bodies(&text));
    }
    let profile = Profile::of(args.kind);
    let player = Player {
        client: reqwest::Client::builder().build()?,
        url: args.url.as_str().into(),
        auth: Arc::new(credentials(args)?),
        profile: Arc::new(profile.clone()),
        time_scale: args.time_scale,
    };
    if args.generate {
        if files.is_empty() {
            let sample = crate::simulator::generate::sample(args.kind).with_context(|| {
                format!("{} has no built-in sample: give template FILEs", args.kind)
            })?;
            files.push(sample.as_bytes().to_vec());
        }
        let generator = Generator::new(args.kind, &files).map_err(anyhow::Error::msg)?;
        return load(args, player, generator).await;
    }
    if files.is_empty() {
        bail!("give at least one FILE of bodies to send, or --generate");
    }
    say(format!(
        "playing {} ({}) against {}",
        args.kind, profile.source, args.url
    ));
    let total = files.len();
    let limit = Arc::new(Semaphore::new(args.concurrency.unwrap_or(1)));
    let mut tasks = Vec::new();
    for (i, body) in files.into_iter().enumerate() {
        let permit = limit.clone().acquire_owned().await?;
        let player = player.clone();
        tasks.push(tokio::spawn(async move {
            let label = format!("body {}/{total}", i + 1);
            let out = player.play(body, |a| say(line(&label, a))).await;
            drop(permit);
            out.accepted
        }));
    }
    let mut given_up = 0;
    for t in tasks {
        if !t.await? {
            given_up += 1;
        }
    }
    say(format!(
        "{} of {total} bodies accepted, {given_up} given up",
        total - given_up
    ));
    Ok(if given_up == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Totals of a load run.
#[derive(Default)]
struct Totals {
    sent: u64,
    accepted: u64,
    given_up: u64,
    retries: u64,
    /// First-attempt latency of each body.
    latency: Vec<Duration>,
}

impl Totals {
    /// Counts one body's outcome.
    fn add(&mut self, out: &Outcome) {
        self.sent += 1;
        self.retries += out.attempts.len() as u64 - 1;
        if out.accepted {
            self.accepted += 1
        } else {
            self.given_up += 1
        }
        if let Some(first) = out.attempts.first() {
            self.latency.push(first.elapsed);
        }
    }
}

async fn load(
    args: &SimulateArgs,
    player: Player,
    mut generator: Generator,
) -> anyhow::Result<ExitCode> {
    let count = args.count.or(if args.duration.is_some() {
        None
    } else {
        Some(1000)
    });
    let concurrency = args.concurrency.unwrap_or(16);
    let bar = match count {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::no_length(),
    };
    bar.set_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} bodies {per_sec} {elapsed}",
    )?);
    let totals = Arc::new(Mutex::new(Totals::default()));
    let limit = Arc::new(Semaphore::new(concurrency));
    let mut tick = args
        .rate
        .map(|r| tokio::time::interval(Duration::from_secs_f64(1.0 / r)));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut n = 0u64;
    loop {
        if count.is_some_and(|c| n >= c) || args.duration.is_some_and(|d| started.elapsed() >= d) {
            break;
        }
        if let Some(t) = tick.as_mut() {
            t.tick().await;
        }
        let permit = limit.clone().acquire_owned().await?;
        n += 1;
        let body = generator.next_body();
        let (player, totals, bar) = (player.clone(), totals.clone(), bar.clone());
        tasks.spawn(async move {
            let label = format!("body {n}");
            let out = player
                .play(body, |a| {
                    if a.error.is_some() {
                        bar.println(line(&label, a));
                    }
                })
                .await;
            drop(permit);
            totals.lock().unwrap_or_else(|e| e.into_inner()).add(&out);
            bar.inc(1);
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let mut t = totals.lock().unwrap_or_else(|e| e.into_inner());
    t.latency.sort();
    let pct = |p: f64| {
        t.latency
            .get(((t.latency.len().max(1) - 1) as f64 * p).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    say(format!(
        "sent {} {} bodies in {secs:.1} s ({:.0} bodies/s, {concurrency} in flight): {} accepted, {} given up, {} retries; first-attempt latency ms p50 {:.1} p99 {:.1} max {:.1}",
        t.sent, args.kind, t.sent as f64 / secs, t.accepted, t.given_up, t.retries, pct(0.5), pct(0.99), pct(1.0)
    ));
    Ok(if t.given_up == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
