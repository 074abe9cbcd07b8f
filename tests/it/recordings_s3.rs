//! The recordings archive on S3: a round trip against moto in server mode,
//! started here on a free port. It needs moto (`pip install "moto[server]"`),
//! so it is `#[ignore]`d: `cargo test -- --include-ignored` runs it (as
//! `.ci/run` does, which installs moto), and fails it without moto.

use callhook::recordings::{Archive, ArchiveError};
use futures::TryStreamExt;
use sha2::{Digest, Sha256};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const INSTALL: &str = r#"pip install "moto[server]""#;

/// A moto server, killed when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import moto.server"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A started moto answering on its endpoint.
async fn start_moto() -> Moto {
    assert!(moto_installed(), "this test needs moto: {INSTALL}");
    let port = crate::process::free_port();
    let child = Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m moto.server starts");
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(&moto.endpoint).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "moto did not answer on {} within 30 s",
            moto.endpoint
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    moto
}

fn options(endpoint: &str) -> Vec<(String, String)> {
    [
        ("aws_access_key_id", "testing"),
        ("aws_secret_access_key", "testing"),
        ("aws_region", "us-east-1"),
        ("aws_endpoint_url", endpoint),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A file of `len` patterned bytes, and its SHA-256.
fn sample(dir: &std::path::Path, len: usize) -> (std::path::PathBuf, String, Vec<u8>) {
    let body: Vec<u8> = (0..len).map(|i| (i * 31 % 253) as u8).collect();
    let path = dir.join(format!("r-{len}.wav"));
    std::fs::write(&path, &body).unwrap();
    (path, hex::encode(Sha256::digest(&body)), body)
}

async fn read(archive: &Archive, sha: &str, range: Option<std::ops::Range<u64>>) -> Vec<u8> {
    let got = archive.get(sha, range).await.unwrap();
    let chunks: Vec<bytes::Bytes> = got.stream.try_collect().await.unwrap();
    chunks.concat()
}

#[tokio::test]
#[ignore = "needs moto: pip install \"moto[server]\""]
async fn recordings_round_trip_through_s3() {
    let moto = start_moto().await;
    let created = reqwest::Client::new()
        .put(format!("{}/recordings", moto.endpoint))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{}", created.status());
    let archive =
        Archive::open_s3_with("s3://recordings/callhook/prod", &options(&moto.endpoint)).unwrap();
    assert_eq!(archive.describe(), "s3://recordings/callhook/prod");

    let dir = tempfile::tempdir().unwrap();
    // One put, and one multipart upload (over 8 MiB: three parts).
    for len in [20_000, 11 * 1024 * 1024] {
        let (file, sha, body) = sample(dir.path(), len);
        assert!(!archive.exists(&sha).await.unwrap());
        archive.put_file(&file, &sha).await.unwrap();
        archive.put_file(&file, &sha).await.unwrap();
        assert!(archive.exists(&sha).await.unwrap());

        let whole = archive.get(&sha, None).await.unwrap();
        assert_eq!(
            (whole.size, whole.range.clone()),
            (len as u64, 0..len as u64)
        );
        assert!(
            read(&archive, &sha, None).await == body,
            "{len} bytes differ"
        );
        let part = archive.get(&sha, Some(1000..5000)).await.unwrap();
        assert_eq!((part.size, part.range.clone()), (len as u64, 1000..5000));
        assert_eq!(
            read(&archive, &sha, Some(1000..5000)).await,
            &body[1000..5000]
        );
        assert!(matches!(
            archive.get(&sha, Some(len as u64..len as u64 + 10)).await,
            Err(ArchiveError::BadRange { .. })
        ));

        archive.delete(&sha).await.unwrap();
        assert!(!archive.exists(&sha).await.unwrap());
        archive.delete(&sha).await.unwrap();
        assert!(matches!(
            archive.get(&sha, None).await,
            Err(ArchiveError::NotFound { .. })
        ));
    }
}
