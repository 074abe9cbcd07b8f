use super::*;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// A file of `len` patterned bytes in `dir`, and its SHA-256.
fn sample(dir: &Path, len: usize) -> (PathBuf, String, Vec<u8>) {
    let body: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    let path = dir.join(format!("sample-{len}"));
    std::fs::write(&path, &body).unwrap();
    (path, hex::encode(Sha256::digest(&body)), body)
}

async fn read_all(read: ObjectRead) -> Vec<u8> {
    let chunks: Vec<Bytes> = read.stream.try_collect().await.unwrap();
    chunks.concat()
}

fn local() -> (TempDir, Archive) {
    let dir = TempDir::new().unwrap();
    let archive = Archive::open(&dir.path().join("archive"), None).unwrap();
    (dir, archive)
}

#[tokio::test]
async fn put_then_get_whole_and_a_range() {
    let (dir, archive) = local();
    let (file, sha, body) = sample(dir.path(), 10_000);
    archive.put_file(&file, &sha).await.unwrap();
    let stored = dir
        .path()
        .join("archive")
        .join(&sha[0..2])
        .join(&sha[2..4])
        .join(&sha);
    assert_eq!(std::fs::read(stored).unwrap(), body);
    assert!(archive.exists(&sha).await.unwrap());

    let whole = archive.get(&sha, None).await.unwrap();
    assert_eq!((whole.size, whole.range.clone()), (10_000, 0..10_000));
    assert_eq!(read_all(whole).await, body);

    let part = archive.get(&sha, Some(100..250)).await.unwrap();
    assert_eq!((part.size, part.range.clone()), (10_000, 100..250));
    assert_eq!(read_all(part).await, &body[100..250]);

    let tail = archive.get(&sha, Some(9_990..20_000)).await.unwrap();
    assert_eq!(tail.range, 9_990..10_000);
    assert_eq!(read_all(tail).await, &body[9_990..]);
}

#[tokio::test]
async fn ranges_outside_the_object_are_bad_ranges() {
    let (dir, archive) = local();
    let (file, sha, _) = sample(dir.path(), 100);
    archive.put_file(&file, &sha).await.unwrap();
    for range in [100..200, 500..600, 10..10] {
        match archive.get(&sha, Some(range.clone())).await {
            Err(ArchiveError::BadRange { size: 100, .. }) => {}
            other => panic!("{range:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_local_put_moves_the_file_in_and_the_same_content_again_changes_nothing() {
    let (dir, archive) = local();
    let (file, sha, body) = sample(dir.path(), 11 * 1024 * 1024);
    let again = dir.path().join("again");
    std::fs::copy(&file, &again).unwrap();
    archive.put_file(&file, &sha).await.unwrap();
    // Moved in, not copied through memory: the source is gone.
    assert!(!file.exists());
    archive.put_file(&again, &sha).await.unwrap();
    assert!(
        again.exists(),
        "the same content is kept once; the caller deletes its copy"
    );
    let read = archive.get(&sha, None).await.unwrap();
    assert_eq!(read.size, body.len() as u64);
    assert!(read_all(read).await == body);
}

#[tokio::test]
async fn delete_and_missing_objects() {
    let (dir, archive) = local();
    let (file, sha, _) = sample(dir.path(), 10);
    archive.put_file(&file, &sha).await.unwrap();
    archive.delete(&sha).await.unwrap();
    assert!(!archive.exists(&sha).await.unwrap());
    archive.delete(&sha).await.unwrap();
    match archive.get(&sha, None).await {
        Err(ArchiveError::NotFound { sha256 }) => assert_eq!(sha256, sha),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        archive.get(&sha, Some(0..5)).await,
        Err(ArchiveError::NotFound { .. })
    ));
}

#[tokio::test]
async fn keys_must_be_sha256_hex() {
    let (_dir, archive) = local();
    for bad in ["", "../../etc/passwd", &"A".repeat(64), &"a".repeat(63)] {
        assert!(matches!(
            archive.exists(bad).await,
            Err(ArchiveError::BadKey(_))
        ));
    }
}

#[test]
fn urls_and_descriptions() {
    let dir = TempDir::new().unwrap();
    let local = Archive::open(dir.path(), None).unwrap();
    assert!(
        local.describe().starts_with("directory /"),
        "{}",
        local.describe()
    );
    let options = [
        ("aws_region".to_owned(), "us-east-1".to_owned()),
        (
            "AWS_ENDPOINT_URL".to_owned(),
            "http://127.0.0.1:9".to_owned(),
        ),
    ];
    let s3 = Archive::open_s3_with("s3://recs/call/audio/", &options).unwrap();
    assert_eq!(s3.describe(), "s3://recs/call/audio");
    let sha = "ab".repeat(32);
    assert_eq!(
        s3.key(&sha).unwrap().as_ref(),
        format!("call/audio/ab/ab/{sha}")
    );
    let bare = Archive::open_s3_with("s3://recs", &options).unwrap();
    assert_eq!(bare.key(&sha).unwrap().as_ref(), format!("ab/ab/{sha}"));
    for (url, want) in [
        ("gs://recs/x", "unsupported archive URL scheme `gs`"),
        ("s3:///x", "no bucket"),
        ("not a url", "not a URL"),
    ] {
        let err = Archive::open(dir.path(), Some(url))
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{url}: {err}");
    }
    let bad_option = [("aws_colour".to_owned(), "blue".to_owned())];
    let err = Archive::open_s3_with("s3://recs", &bad_option).unwrap_err();
    assert!(
        err.to_string().contains("unknown S3 option `aws_colour`"),
        "{err}"
    );
}
