//! Power cuts around the files callhook writes outside SQLite (binary at
//! `CALLHOOK_BIN`, default `../target/debug/callhook`): a file renamed into
//! place must be complete or absent after a cut, and present once the
//! command that wrote it has said so.
//!
//! - `callhook export --output FILE` writes `FILE.partial` and renames it;
//!   the power goes off at a seeded moment of the export.
//! - `serve`'s recordings archive downloads to `tmp/<ulid>.partial` and
//!   renames to `<aa>/<bb>/<sha256>`; the power goes off while recordings
//!   are being fetched.
//!
//! `POWERCUT_SEED` (default from the clock, printed) and `POWERCUT_FILE_CUTS`
//! (default 10 of each).

mod common;
mod load;
mod serve;
mod verify;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use common::{dirs, env_seed, mount, Rng};
use load::{aliyun_batch, bland_call, push_retrying, recent_local};
use serve::{file_bytes, kill, request, run, FileServer, Serve};
use sha2::{Digest, Sha256};

fn cuts() -> usize {
    std::env::var("POWERCUT_FILE_CUTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
}

fn write_config(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("callhook.toml");
    std::fs::write(&p, body).unwrap();
    p
}

/// `callhook export` of 3,000 stored calls to a file on the mount, cut at
/// a seeded moment between its start and 3 times its usual length (off the
/// mount): the
/// file is then absent or byte-identical to an uncut export, and present
/// whenever the command had exited 0 before the cut.
#[test]
fn an_export_is_complete_or_absent_after_a_cut() {
    let seed = env_seed("an_export_is_complete_or_absent_after_a_cut");
    let mut rng = Rng::from_seed(seed);
    let d = dirs();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let cfg = write_config(work, "[recordings]\nenabled = false\n");
    // The calls, in a database off the mount.
    let db = work.join("calls.db");
    let s = Serve::start(work, &db, &cfg, "export setup");
    for b in 0..15 {
        let ids = (0..200).map(|k| format!("x{b}-{k}")).collect();
        let body = aliyun_batch(ids, &recent_local());
        let a = request(
            &s.addr,
            "POST",
            body.path,
            Some(&body.json),
            Duration::from_secs(20),
        );
        assert_eq!(
            a.map(|a| a.status).ok(),
            Some(200),
            "export setup: batch {b}"
        );
    }
    s.wait_empty(
        "/api/v1/receipts?status=pending&limit=1",
        120,
        "export setup",
    );
    drop(s);
    let url = format!("sqlite://{}", db.display());
    let export = |out: &Path| {
        let mut c = serve::command(work);
        c.args(["export", "--format", "ndjson", "--output"])
            .arg(out)
            .args(["--config", cfg.to_str().unwrap(), "--database", &url])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    // Reference: two uncut exports, identical, and how long one takes.
    let t = Instant::now();
    for name in ["ref1.ndjson", "ref2.ndjson"] {
        assert!(export(&work.join(name)).status().unwrap().success());
    }
    let usual = t.elapsed() / 2;
    let reference = std::fs::read(work.join("ref1.ndjson")).unwrap();
    assert_eq!(reference, std::fs::read(work.join("ref2.ndjson")).unwrap());
    assert_eq!(reference.iter().filter(|b| **b == b'\n').count(), 3000);

    let (mut whole, mut absent, mut finished) = (0, 0, 0);
    for n in 0..cuts() {
        let m = mount(&d);
        let out = d.mnt.join(format!("export-{n}.ndjson"));
        let ms = rng.range(0, (usual.as_millis() as u64 * 3).max(2));
        let mut child = export(&out).spawn().unwrap();
        let started = Instant::now();
        let mut exited = None;
        while started.elapsed() < Duration::from_millis(ms) {
            if let Some(st) = child.try_wait().unwrap() {
                exited = Some(st);
                break;
            }
            thread::sleep(Duration::from_millis(1));
        }
        m.cut();
        kill(&mut child);
        m.unmount().unwrap();
        let kept = d.backing.join(format!("export-{n}.ndjson"));
        let what = format!("seed {seed} export cut {n} at {ms} ms (exited before: {exited:?})");
        match std::fs::read(&kept) {
            Ok(bytes) => {
                assert!(
                    bytes == reference,
                    "{what}: the export file survived with {} of {} bytes",
                    bytes.len(),
                    reference.len()
                );
                whole += 1;
            }
            Err(_) => {
                assert!(
                    !exited.is_some_and(|st| st.success()),
                    "{what}: the export had finished with 0, its file is gone after the cut"
                );
                absent += 1;
            }
        }
        finished += usize::from(exited.is_some_and(|st| st.success()));
        println!("{what}: {}", if kept.exists() { "whole" } else { "absent" });
    }
    println!(
        "an_export_is_complete_or_absent_after_a_cut: seed {seed}: {} cuts (export takes {usual:?}): {whole} whole, {absent} absent, {finished} had finished before the cut; none partial",
        cuts()
    );
}

/// Recordings: Bland calls whose `recording_url` points at a slow local
/// server (256 KiB–2 MiB files, 64 KiB every 20 ms), `serve` archiving them onto the mount, cut
/// at a seeded moment. On the surviving disk every archived file's SHA-256
/// equals its name and every row saying `archived` has its file; after the
/// reboot `serve` archives every recording, byte-identical.
#[test]
fn archived_recordings_are_complete_after_a_cut() {
    let seed = env_seed("archived_recordings_are_complete_after_a_cut");
    let mut rng = Rng::from_seed(seed);
    let d = dirs();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let files = FileServer::start(Duration::from_millis(20));
    let cfg = write_config(
        work,
        "[recordings]\nenabled = true\nconcurrency = 4\n\
         allow_private_networks = [\"127.0.0.0/8\"]\n",
    );
    let db = d.mnt.join("callhook.db");
    let mut expected: Vec<(String, Vec<u8>)> = Vec::new();
    let (mut checked_files, mut archived_rows) = (0, 0);
    for n in 0..cuts() {
        let what = format!("seed {seed} recordings cut {n}");
        let m = mount(&d);
        let s = Serve::start(work, &db, &cfg, &what);
        let fs = m.fs().clone();
        for k in 0..6 {
            let id = format!("r{n}-{k}");
            let len = rng.range(256 * 1024, 2 * 1024 * 1024) as usize;
            let file = (n * 100 + k) as u64;
            let mut call = bland_call(&id);
            call["recording_url"] = files.url(file, len).into();
            let b = load::Body {
                path: "/hooks/bland-call",
                vendor: "bland",
                calls: vec![id.clone()],
                json: serde_json::to_vec(&call).unwrap(),
            };
            push_retrying(&s.addr, &fs, b, false, n, 5)
                .unwrap_or_else(|e| panic!("{what}: push {k} not acknowledged: {e}"));
            expected.push((id, file_bytes(file, len)));
        }
        let ms = rng.range(0, 1500);
        thread::sleep(Duration::from_millis(ms));
        m.cut();
        drop(s);
        m.unmount().unwrap();

        // The disk as it survived.
        let root = d.backing.join("recordings");
        let (on_disk, rows) = archive_on_disk(&root, &d.backing, work, &what);
        checked_files += on_disk;
        archived_rows += rows;

        // Reboot: every recording is fetched again or was kept.
        let m = mount(&d);
        let s = Serve::start(work, &db, &cfg, &what);
        for (id, bytes) in &expected {
            let got = kept_recording(&s, id, &what);
            assert!(
                got == *bytes,
                "{what}: call {id}'s kept recording has {} bytes, the vendor's {}",
                got.len(),
                bytes.len()
            );
        }
        drop(s);
        m.unmount().unwrap();
        println!("{what}: cut {ms} ms after 6 pushes; {on_disk} files on the disk, all whole; {rows} rows said archived");
    }
    let url = format!("sqlite://{}", db.display());
    let _ = run(
        work,
        &["recordings", "status", "--database", &url],
        Duration::from_secs(5),
    );
    println!(
        "archived_recordings_are_complete_after_a_cut: seed {seed}: {} cuts, {checked_files} files checked whole, {archived_rows} archived rows with their file, {} recordings kept after reboots",
        cuts(),
        expected.len()
    );
}

/// Checks the archive under `root` as the disk holds it: each file's
/// SHA-256 is its name, and each `archived` row of the database has its
/// file. How many files and rows it checked.
fn archive_on_disk(root: &Path, backing: &Path, scratch: &Path, what: &str) -> (usize, usize) {
    let mut files = 0;
    for aa in read_dir(root)
        .into_iter()
        .filter(|p| p.file_name().unwrap().len() == 2)
    {
        for bb in read_dir(&aa) {
            for f in read_dir(&bb) {
                let name = f.file_name().unwrap().to_string_lossy().into_owned();
                let sum = format!("{:x}", Sha256::digest(std::fs::read(&f).unwrap()));
                assert_eq!(
                    sum,
                    name,
                    "{what}: {} is not whole after the cut",
                    f.display()
                );
                files += 1;
            }
        }
    }
    let c = verify::open_copy(backing, scratch);
    let shas = verify::strings(
        &c,
        "SELECT sha256 FROM recordings WHERE status = 'archived'",
    );
    for sha in &shas {
        let f = root.join(&sha[0..2]).join(&sha[2..4]).join(sha);
        assert!(
            f.is_file(),
            "{what}: a row says archived, {} is missing; the archive holds {:?}",
            f.display(),
            tree(root)
        );
    }
    (files, shas.len())
}

/// Every path under `p`, relative to it.
fn tree(p: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in read_dir(p) {
        out.push(e.strip_prefix(p).unwrap().display().to_string());
        if e.is_dir() {
            out.extend(
                tree(&e)
                    .into_iter()
                    .map(|s| format!("{}/{s}", e.file_name().unwrap().to_string_lossy())),
            );
        }
    }
    out
}

fn read_dir(p: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(p)
        .map(|r| r.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

/// The kept recording of Bland call `id`, waiting (at most 60 s) until
/// it is archived.
fn kept_recording(s: &Serve, id: &str, what: &str) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let call = loop {
        let items = s
            .get(&format!("/api/v1/calls?vendor_call_id={id}&limit=1"))
            .map(|a| a.json()["items"].clone())
            .unwrap_or_default();
        if let Some(c) = items.get(0) {
            break c["id"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "{what}: call {id} not listed");
        thread::sleep(Duration::from_millis(50));
    };
    loop {
        let path = format!("/api/v1/calls/{call}/recording");
        if let Ok(a) = request(&s.addr, "GET", &path, None, Duration::from_secs(30)) {
            if a.status == 200 {
                return a.body;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{what}: call {id}'s recording not archived in 60 s: {}",
            s.log_text()
        );
        thread::sleep(Duration::from_millis(100));
    }
}
