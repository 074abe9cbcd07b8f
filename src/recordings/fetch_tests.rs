use super::*;
use axum::body::Body;
use axum::extract::Path as UrlPath;
use axum::http::{header, StatusCode as Status};
use axum::response::{IntoResponse, Response as AxumResponse};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use tempfile::TempDir;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

/// A recording's bytes: a WAV header and `samples` 16-bit samples of a
/// pattern (the fetcher does not look inside; the integration tests play
/// a real tone).
fn wav(samples: u32) -> Vec<u8> {
    let mut out = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
    out.extend((0..samples * 2).map(|i| (i * 7 % 251) as u8));
    out
}

const MAX_BYTES: u64 = 256 * 1024;

async fn big_chunked() -> AxumResponse {
    let chunks = (0..64).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![7u8; 16 * 1024])));
    Body::from_stream(futures::stream::iter(chunks)).into_response()
}

async fn redirect_loop(UrlPath(n): UrlPath<u32>) -> AxumResponse {
    let to = format!("/loop/{}", n + 1);
    (Status::FOUND, [(header::LOCATION, to)]).into_response()
}

fn found(to: String) -> AxumResponse {
    (Status::FOUND, [(header::LOCATION, to)]).into_response()
}

/// The test server on 127.0.0.1; `/to-127-0-0-2` redirects to `other`.
async fn serve(other: SocketAddr) -> SocketAddr {
    let app = Router::new()
        .route(
            "/rec.wav",
            get(|| async { ([(header::CONTENT_TYPE, "audio/wav")], wav(8000)) }),
        )
        .route("/missing", get(|| async { Status::NOT_FOUND }))
        .route("/forbidden", get(|| async { Status::FORBIDDEN }))
        .route("/gone", get(|| async { Status::GONE }))
        .route("/broken", get(|| async { Status::BAD_GATEWAY }))
        .route("/big", get(big_chunked))
        .route("/loop/{n}", get(redirect_loop))
        .route("/to-wav", get(|| async { found("/rec.wav".to_owned()) }))
        .route(
            "/to-private",
            get(|| async { found("http://10.255.255.1/x".to_owned()) }),
        )
        .route(
            "/to-metadata",
            get(|| async { found("http://169.254.169.254/latest".to_owned()) }),
        )
        .route(
            "/to-127-0-0-2",
            get(move || async move { found(format!("http://{other}/x")) }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                "late"
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// A raw server that answers `Content-Length: 2147483648`, sends 4 bytes
/// and then stalls for 30 s.
async fn serve_huge() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\n\
                            Content-Length: 2147483648\r\n\r\nRIFF";
                let _ = socket.write_all(head.as_bytes()).await;
                tokio::time::sleep(Duration::from_secs(30)).await;
            });
        }
    });
    addr
}

/// A listener on 127.0.0.2 counting the connections it accepts.
async fn counting_listener() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.2:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    (addr, count)
}

fn options(tmp: &TempDir, allow: &[&str]) -> FetchOptions {
    FetchOptions {
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(3),
        max_bytes: MAX_BYTES,
        allow_private_networks: allow.iter().map(|n| n.parse().unwrap()).collect(),
        max_redirects: 5,
        tmp_dir: tmp.path().join("tmp"),
    }
}

struct Setup {
    tmp: TempDir,
    fetcher: Fetcher,
    base: String,
    other: Arc<AtomicUsize>,
}

async fn setup() -> Setup {
    let tmp = TempDir::new().unwrap();
    let (other_addr, other) = counting_listener().await;
    let addr = serve(other_addr).await;
    let fetcher = Fetcher::new(options(&tmp, &["127.0.0.1/32"])).unwrap();
    Setup {
        tmp,
        fetcher,
        base: format!("http://{addr}"),
        other,
    }
}

fn partials(tmp: &TempDir) -> usize {
    std::fs::read_dir(tmp.path().join("tmp"))
        .map(|d| d.count())
        .unwrap_or(0)
}

async fn failure(s: &Setup, path: &str) -> FetchFailure {
    match s.fetcher.fetch(&format!("{}{path}", s.base)).await {
        Ok(f) => panic!("{path} was fetched: {f:?}"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn a_wav_is_saved_with_its_size_and_sha256() {
    let s = setup().await;
    let body = wav(8000);
    let got = s
        .fetcher
        .fetch(&format!("{}/rec.wav", s.base))
        .await
        .unwrap();
    assert_eq!(got.bytes, body.len() as u64);
    assert_eq!(got.sha256, hex::encode(Sha256::digest(&body)));
    assert_eq!(got.content_type.as_deref(), Some("audio/wav"));
    assert!(got.path.starts_with(s.tmp.path().join("tmp")));
    assert!(got.path.to_string_lossy().ends_with(".partial"));
    assert_eq!(std::fs::read(&got.path).unwrap(), body);
    let again = s
        .fetcher
        .fetch(&format!("{}/to-wav", s.base))
        .await
        .unwrap();
    assert_eq!(again.sha256, got.sha256);
    assert_ne!(again.path, got.path);
}

#[tokio::test]
async fn statuses_are_classified() {
    let s = setup().await;
    for (path, reason, status) in [
        ("/missing", FailureReason::NotFound, 404),
        ("/forbidden", FailureReason::Forbidden, 403),
        ("/gone", FailureReason::Gone, 410),
        ("/broken", FailureReason::Http, 502),
    ] {
        let f = failure(&s, path).await;
        assert_eq!((f.reason, f.http_status), (reason, Some(status)), "{path}");
        assert!(f.reason.retryable());
    }
    let f = failure(&s, "/missing").await;
    let host = s.base.trim_start_matches("http://");
    assert_eq!(f.detail, format!("HTTP 404 Not Found from {host}"));
    assert_eq!(partials(&s.tmp), 0);
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_without_reading() {
    let tmp = TempDir::new().unwrap();
    let addr = serve_huge().await;
    let fetcher = Fetcher::new(options(&tmp, &["127.0.0.1/32"])).unwrap();
    let started = Instant::now();
    let f = fetcher
        .fetch(&format!("http://{addr}/r.wav"))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(f.reason, FailureReason::TooLarge, "{f:?}");
    assert!(f.detail.contains("2147483648"), "{}", f.detail);
    assert!(!f.reason.retryable());
    assert_eq!(partials(&tmp), 0);
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_cut_off_and_removed() {
    let s = setup().await;
    let f = failure(&s, "/big").await;
    assert_eq!(f.reason, FailureReason::TooLarge, "{f:?}");
    assert_eq!(partials(&s.tmp), 0);
}

#[tokio::test]
async fn redirects_to_private_or_metadata_addresses_are_refused_before_connecting() {
    let s = setup().await;
    for path in ["/to-private", "/to-metadata", "/to-127-0-0-2"] {
        let started = Instant::now();
        let f = failure(&s, path).await;
        assert_eq!(f.reason, FailureReason::Refused, "{path}: {f:?}");
        assert!(f.detail.starts_with("refused: "), "{}", f.detail);
        // Connecting to a black-holed address would have waited for the
        // 3 s connect timeout.
        assert!(started.elapsed() < Duration::from_secs(1), "{path}");
    }
    assert_eq!(
        s.other.load(Ordering::SeqCst),
        0,
        "127.0.0.2 was connected to"
    );
}

#[tokio::test]
async fn private_addresses_need_allowing() {
    let tmp = TempDir::new().unwrap();
    let (other_addr, _) = counting_listener().await;
    let addr = serve(other_addr).await;
    let strict = Fetcher::new(options(&tmp, &[])).unwrap();
    let f = strict
        .fetch(&format!("http://{addr}/rec.wav"))
        .await
        .unwrap_err();
    assert_eq!(f.reason, FailureReason::Refused, "{f:?}");
    let by_name = format!("http://localhost:{}/rec.wav", addr.port());
    let f = strict.fetch(&by_name).await.unwrap_err();
    assert_eq!(f.reason, FailureReason::Refused, "{f:?}");
    assert!(f.detail.contains("loopback"), "{}", f.detail);
}

#[tokio::test]
async fn too_many_redirects_fail() {
    let s = setup().await;
    let f = failure(&s, "/loop/0").await;
    assert_eq!((f.reason, f.http_status), (FailureReason::Http, Some(302)));
    assert!(
        f.detail.starts_with("gave up after 5 redirects"),
        "{}",
        f.detail
    );
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let tmp = TempDir::new().unwrap();
    let (other_addr, _) = counting_listener().await;
    let addr = serve(other_addr).await;
    let mut opts = options(&tmp, &["127.0.0.1/32"]);
    opts.timeout = Duration::from_millis(500);
    let fetcher = Fetcher::new(opts).unwrap();
    let started = Instant::now();
    let f = fetcher
        .fetch(&format!("http://{addr}/slow"))
        .await
        .unwrap_err();
    assert_eq!(f.reason, FailureReason::Timeout, "{f:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(f.reason.retryable());
}

#[tokio::test]
async fn bad_urls() {
    let s = setup().await;
    for url in ["not a url", "ftp://8.8.8.8/r.wav", "file:///etc/passwd"] {
        let f = s.fetcher.fetch(url).await.unwrap_err();
        assert_eq!(f.reason, FailureReason::BadUrl, "{url}: {f:?}");
    }
}

#[test]
fn labels_and_finality() {
    let all = [
        (FailureReason::NotFound, "not_found", true),
        (FailureReason::Gone, "gone", true),
        (FailureReason::Forbidden, "forbidden", true),
        (FailureReason::TooLarge, "too_large", false),
        (FailureReason::Refused, "refused", false),
        (FailureReason::Http, "http", true),
        (FailureReason::Timeout, "timeout", true),
        (FailureReason::Network, "network", true),
        (FailureReason::BadUrl, "bad_url", false),
        (FailureReason::Io, "io", true),
    ];
    for (reason, label, retry) in all {
        assert_eq!((reason.as_str(), reason.retryable()), (label, retry));
    }
}

#[test]
fn leftover_partials_are_swept() {
    let tmp = TempDir::new().unwrap();
    assert_eq!(sweep_partials(&tmp.path().join("none")).unwrap(), 0);
    for name in ["a.partial", "b.partial", "keep.wav"] {
        std::fs::write(tmp.path().join(name), b"x").unwrap();
    }
    assert_eq!(sweep_partials(tmp.path()).unwrap(), 2);
    assert!(tmp.path().join("keep.wav").exists());
    assert!(!tmp.path().join("a.partial").exists());
}
