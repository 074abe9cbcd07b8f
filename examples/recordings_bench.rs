//! Recordings archive benchmark (docs/recordings.md): how fast the
//! archiver downloads and keeps recordings from a vendor server on this
//! machine, and the memory it holds while `FILES` downloads run at once,
//! against a bare download (reqwest writing the same bytes to files, no
//! hashing, no archive, no database) in the same run.
//!
//! Usage: `cargo run --release --example recordings_bench` (env `FILES`
//! 100 recordings, `MB` 10 per file, `CONCURRENCY` 100 downloads at once).
//!
//! The vendor server (in this process, on 127.0.0.1) generates each file's
//! bytes as it sends them (a pattern seeded by the path, in 64 KiB chunks),
//! so it holds no file in memory and every file has its own SHA-256. Memory
//! is the process's resident set, sampled every 10 ms, above what it was
//! before the run.

use axum::body::Body;
use axum::extract::Path;
use axum::http::header;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use callhook::config::RecordingsConfig;
use callhook::domain::Vendor;
use callhook::recordings::archiver::Archiver;
use callhook::recordings::ArchiveLocation;
use callhook::storage::recordings::RecordingJob;
use callhook::storage::sqlite::SqliteStore;
use callhook::storage::Store;
use futures::StreamExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHUNK: usize = 64 * 1024;

fn env(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Resident memory of this process, bytes (`/proc/self/statm`).
fn rss() -> u64 {
    let text = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = text
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Samples the resident set until dropped; `peak` is the highest seen.
struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
}

impl RssSampler {
    fn start() -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(rss()));
        let (s, p) = (stop.clone(), peak.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        RssSampler { stop, peak }
    }

    fn peak(&self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.peak.load(Ordering::Relaxed)
    }
}

/// A vendor server sending `bytes`-long files generated on the fly.
async fn vendor(bytes: u64) -> String {
    let app = Router::new().route(
        "/{name}",
        get(move |Path(name): Path<String>| async move {
            let seed = name
                .bytes()
                .fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
            let chunks = bytes.div_ceil(CHUNK as u64);
            let stream = futures::stream::iter(0..chunks).map(move |i| {
                let len = (bytes - i * CHUNK as u64).min(CHUNK as u64) as usize;
                let start = (i as usize).wrapping_mul(CHUNK);
                let chunk: Vec<u8> = (0..len)
                    .map(|j| ((start + j) as u8).wrapping_mul(seed) ^ seed)
                    .collect();
                Ok::<_, std::io::Error>(bytes::Bytes::from(chunk))
            });
            let mut r = Response::new(Body::from_stream(stream));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, "audio/wav".parse().unwrap());
            r.headers_mut()
                .insert(header::CONTENT_LENGTH, bytes.to_string().parse().unwrap());
            r
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// Downloads every URL with plain reqwest into files of `dir`.
async fn bare(urls: &[String], dir: &std::path::Path, concurrency: usize) {
    let client = reqwest::Client::new();
    futures::stream::iter(urls.iter().enumerate())
        .map(|(i, u)| {
            let client = client.clone();
            let path = dir.join(format!("{i}.wav"));
            async move {
                let mut resp = client.get(u).send().await.unwrap();
                let mut f = tokio::fs::File::create(&path).await.unwrap();
                while let Some(c) = resp.chunk().await.unwrap() {
                    tokio::io::AsyncWriteExt::write_all(&mut f, &c)
                        .await
                        .unwrap();
                }
                f.sync_all().await.unwrap();
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<()>>()
        .await;
}

fn report(what: &str, files: u64, bytes: u64, took: Duration, before: u64, peak: u64) {
    let secs = took.as_secs_f64();
    println!(
        "{what:<28} {files} files in {secs:.2} s: {:.1} files/s, {:.1} MB/s; peak RSS +{:.1} MB",
        files as f64 / secs,
        (files * bytes) as f64 / 1e6 / secs,
        peak.saturating_sub(before) as f64 / 1e6
    );
}

#[tokio::main]
async fn main() {
    let files = env("FILES", 100);
    let bytes = env("MB", 10) * 1_000_000;
    let concurrency = env("CONCURRENCY", 100) as usize;
    let base = vendor(bytes).await;
    let dir = tempfile::tempdir().unwrap();
    println!(
        "{files} recordings of {} MB, {concurrency} at once, vendor server on {base}",
        bytes / 1_000_000
    );

    let urls: Vec<String> = (0..files).map(|i| format!("{base}/r{i}.wav")).collect();
    let bare_dir = dir.path().join("bare");
    std::fs::create_dir_all(&bare_dir).unwrap();
    let before = rss();
    let sampler = RssSampler::start();
    let t = Instant::now();
    bare(&urls, &bare_dir, concurrency).await;
    report(
        "bare reqwest to files",
        files,
        bytes,
        t.elapsed(),
        before,
        sampler.peak(),
    );
    std::fs::remove_dir_all(&bare_dir).unwrap();

    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("bench.db")).expect("store"));
    let config = RecordingsConfig {
        concurrency,
        max_bytes: bytes * 2,
        allow_private_networks: vec!["127.0.0.1/32".parse().unwrap()],
        path: Some(dir.path().join("archive")),
        ..RecordingsConfig::default()
    };
    let now = jiff::Timestamp::now();
    let jobs: Vec<RecordingJob> = urls
        .iter()
        .enumerate()
        .map(|(i, u)| RecordingJob {
            call_id: format!("bench-{i}"),
            link: "recording_url",
            url: u.clone(),
            vendor: Vendor::Bland,
            source: "bench".into(),
            received_at: now,
            expires_at: None,
        })
        .collect();
    store.enqueue_recordings(jobs).await.unwrap();
    let location = Arc::new(ArchiveLocation::new(&config, None));
    let archiver = Archiver::new(&config, location, store.clone()).unwrap();
    let before = rss();
    let sampler = RssSampler::start();
    let t = Instant::now();
    let mut archived = 0;
    loop {
        let pass = archiver.pass(jiff::Timestamp::now()).await.unwrap();
        archived += pass.archived;
        if pass.attempted == 0 {
            break;
        }
    }
    let took = t.elapsed();
    assert_eq!(archived as u64, files, "every file archived");
    report(
        "archiver (hash, keep, row)",
        files,
        bytes,
        took,
        before,
        sampler.peak(),
    );
}
