//! Storage faults answer 503 (the vendor retries) and heal by themselves:
//! the database's disk fills up mid-run, then space comes back.
//! A locked database is in `limits.rs` (acknowledgement budget).
//!
//! The disk is a 24 MiB tmpfs this test mounts (it needs root, as CI and
//! the development machine have), or the directory named by
//! `CALLHOOK_TEST_SMALL_DISK` on a small filesystem the test may fill; so
//! it is `#[ignore]`d, and `cargo test -- --include-ignored` runs it.

use crate::load::Pushers;
use crate::support::spawn_app_on;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// A small filesystem, unmounted on drop when this test mounted it.
struct SmallDisk {
    dir: PathBuf,
    mounted: Option<TempDir>,
}

impl SmallDisk {
    fn get() -> SmallDisk {
        if let Ok(dir) = std::env::var("CALLHOOK_TEST_SMALL_DISK") {
            let dir = PathBuf::from(dir).join(format!("faults-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("CALLHOOK_TEST_SMALL_DISK is writable");
            return SmallDisk { dir, mounted: None };
        }
        let tmp = TempDir::new().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=24m", "tmpfs"])
            .arg(tmp.path())
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "could not mount a tmpfs to fill ({}); run the tests as root, or set \
             CALLHOOK_TEST_SMALL_DISK to a directory on a small filesystem",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        SmallDisk {
            dir: tmp.path().to_owned(),
            mounted: Some(tmp),
        }
    }

    /// Writes a file until the disk is full; its path.
    fn fill(&self) -> PathBuf {
        let path = self.dir.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while f.write_all(&chunk).and_then(|_| f.sync_data()).is_ok() {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if let Some(tmp) = &self.mounted {
            let _ = Command::new("umount").arg("-l").arg(tmp.path()).status();
        }
    }
}

fn fill_check(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs root (to mount a tmpfs) or CALLHOOK_TEST_SMALL_DISK"]
async fn a_full_disk_answers_503_then_recovers_with_nothing_acknowledged_lost() {
    let disk = SmallDisk::get();
    let db_path = disk.dir.join("callhook.db");
    let app = spawn_app_on(TempDir::new().unwrap(), db_path.clone(), "").await;
    let url = app.url("/hooks/aliyun-call-report");
    let pushers = Pushers::start(&url, "disk", 4);
    pushers
        .wait_for(60, "50 acknowledged pushes", |t| t.acked.len() >= 50)
        .await;

    let filler = disk.fill();
    assert!(fill_check(&filler) > 0);
    pushers
        .wait_for(60, "a 503 on the full disk", |t| {
            t.refused.iter().any(|(s, _)| *s == 503)
        })
        .await;
    let acked_when_full = pushers.acked();

    std::fs::remove_file(&filler).unwrap();
    pushers
        .wait_for(60, "200s again after space came back", |t| {
            t.acked.len() >= acked_when_full + 50
        })
        .await;
    let tally = pushers.stop().await;
    eprintln!(
        "disk full: {} acknowledged, {} refused with 503",
        tally.acked.len(),
        tally.refused.len()
    );
    assert!(
        tally.refused.iter().all(|(s, _)| *s == 503),
        "refusals other than 503: {:?}",
        &tally.refused[..tally.refused.len().min(5)]
    );
    assert!(tally.dropped.is_empty(), "{:?}", tally.dropped);

    // Every acknowledged push is there, now and after a restart.
    let app = app.stop().await.restart("").await;
    app.settle().await;
    let stored: std::collections::BTreeSet<String> = {
        let stats = app.get_json("/api/v1/stats?group_by=vendor").await;
        let total = stats["rows"][0]["calls"].as_u64().unwrap() as usize;
        let ids = app.call_ids(&format!("limit={}", total.min(1000))).await;
        assert!(total <= 1000, "more calls than one page: {total}");
        ids.into_iter().collect()
    };
    let lost: Vec<_> = tally.acked.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but missing: {lost:?}");
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
