//! Power cuts under the real `callhook serve` (binary at `CALLHOOK_BIN`,
//! default `../target/debug/callhook`): its SQLite database lives on a
//! powercut mount whose backing directory is "the disk". Each cut: mount,
//! start `serve`, load it (pushes, a large batch being projected, heavy
//! pushes through a WAL checkpoint, a `callhook purge`, a `callhook
//! reproject`), cut the power at a seeded moment, kill the processes,
//! remount, restart and check that nothing acknowledged is lost, nothing is
//! doubled, the database is intact and every event reaches the subscriber.
//!
//! `POWERCUT_SEED` (default: from the clock, printed) and `POWERCUT_CUTS`
//! (default 30). Timing still varies between runs of one seed: the seed fixes
//! the moments and loads, not the scheduler.

mod common;
mod serve;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{dirs, env_seed, mount, Rng};
use powercut::PowerCutFs;
use rusqlite::Connection;
use serde_json::{json, Value};
use serve::{kill, request, run, Receiver, Serve};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PUSHERS: u64 = 4;
/// Records in one batch of the projection cut.
const BIG: usize = 600;

/// Where the power goes off.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Concurrent pushes (receipt-log appends), 50–800 ms in.
    Push,
    /// Right after large batches were acknowledged, while they are projected.
    Projection,
    /// Heavy pushes; the cut lands when the database file grows (a
    /// checkpoint copying WAL frames into it).
    Checkpoint,
    /// While `callhook purge --older-than-days 1` deletes old calls, under pushes.
    Purge,
    /// While `callhook reproject` rebuilds the calls.
    Reproject,
}

const MODES: [Mode; 5] = [
    Mode::Push,
    Mode::Projection,
    Mode::Checkpoint,
    Mode::Purge,
    Mode::Reproject,
];

/// An acknowledged push (200 before the cut).
#[derive(Debug, Clone)]
struct Ack {
    receipt: String,
    vendor: &'static str,
    calls: Vec<String>,
    /// Old-dated calls, which a purge may delete.
    old: bool,
    cut: usize,
}

/// Totals over the run.
#[derive(Default)]
struct Figures {
    acked: usize,
    records: usize,
    lost_receipts: usize,
    lost_calls: usize,
    lost_events: usize,
    resent: u64,
    checkpoint_hits: usize,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// `(year, month, day, hour, minute, second)` of a Unix time in seconds (UTC).
fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

/// `YYYY-MM-DD HH:MM:SS` an hour ago (Alibaba's format; recent in any zone).
fn recent_local() -> String {
    let (y, mo, d, h, mi, s) = civil(now_ms() / 1000 - 3600);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// RFC 3339 for `secs_ago` seconds ago.
fn recent_rfc3339(secs_ago: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(now_ms() / 1000 - secs_ago);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

fn aliyun_record(call_id: &str, start: &str) -> Value {
    json!({
        "taskId": "T-PC", "callId": call_id, "outId": call_id,
        "callee": "13900000000", "caller": "057100000000",
        "startTime": start, "endTime": start,
        "duration": 42, "statusCode": "200000", "smartStatusCode": "ANSWERED",
        "statusMsg": "answered"
    })
}

fn bland_call(call_id: &str) -> Value {
    json!({
        "call_id": call_id, "c_id": call_id, "call_length": 0.75,
        "to": "+15551234567", "from": "+15559876543", "completed": true,
        "created_at": recent_rfc3339(3700), "started_at": recent_rfc3339(3690),
        "end_at": recent_rfc3339(3600), "inbound": false, "queue_status": "complete",
        "answered_by": "human", "status": "completed", "price": 0.068,
        "corrected_duration": "45", "concatenated_transcript": "user: Hello?",
        "summary": "power cut test"
    })
}

/// A body to push.
struct Body {
    path: &'static str,
    vendor: &'static str,
    /// The vendor call ids in it.
    calls: Vec<String>,
    json: Vec<u8>,
}

/// An Alibaba call-report batch of one record per id, started at `start`.
fn aliyun_batch(ids: Vec<String>, start: &str) -> Body {
    let recs: Vec<Value> = ids.iter().map(|id| aliyun_record(id, start)).collect();
    Body {
        path: "/hooks/aliyun-call-report",
        vendor: "aliyun",
        calls: ids,
        json: serde_json::to_vec(&Value::Array(recs)).unwrap(),
    }
}

/// A random body: a Bland call, or an Alibaba batch of 1–20 records or a
/// large one (50–200; 100–400 when `heavy`, which is all large batches).
fn body(rng: &mut Rng, prefix: &str, n: u64, heavy: bool) -> Body {
    let pick = if heavy { 2 } else { rng.range(0, 8) };
    match pick {
        0 | 1 => {
            let id = format!("{prefix}-b{n}");
            Body {
                path: "/hooks/bland-call",
                vendor: "bland",
                json: serde_json::to_vec(&bland_call(&id)).unwrap(),
                calls: vec![id],
            }
        }
        _ => {
            let count = if pick == 2 {
                if heavy {
                    rng.range(100, 401)
                } else {
                    rng.range(50, 201)
                }
            } else {
                rng.range(1, 21)
            };
            let ids = (0..count).map(|k| format!("{prefix}-a{n}-{k}")).collect();
            aliyun_batch(ids, &recent_local())
        }
    }
}

/// Pushes one body; an [`Ack`] if it was answered 200 with a receipt id
/// while the power was still on.
fn push(addr: &str, fs: &PowerCutFs, b: Body, old: bool, cut: usize) -> Option<Ack> {
    let a = request(addr, "POST", b.path, Some(&b.json), Duration::from_secs(20)).ok()?;
    // Checked after the answer arrived: a 200 read before the cut was sent
    // before it. After the cut the server lives on and may still answer 200
    // (SQLite takes a failed directory open for "cannot fsync directories"):
    // nobody would see that answer on a real machine.
    if a.status != 200 || fs.is_cut() {
        return None;
    }
    let receipt = a
        .header("callhook-receipt-id")
        .expect("a 200 without Callhook-Receipt-Id")
        .to_owned();
    Some(Ack {
        receipt,
        vendor: b.vendor,
        calls: b.calls,
        old,
        cut,
    })
}

/// `PUSHERS` threads pushing until `stop`.
struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<thread::JoinHandle<()>>,
    acks: Arc<Mutex<Vec<Ack>>>,
    sent: Arc<AtomicU64>,
}

impl Load {
    fn start(addr: &str, fs: &PowerCutFs, rng: &mut Rng, cut: usize, heavy: bool) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let acks = Arc::new(Mutex::new(Vec::new()));
        let sent = Arc::new(AtomicU64::new(0));
        let threads = (0..PUSHERS)
            .map(|t| {
                let (stop, acks, sent) = (stop.clone(), acks.clone(), sent.clone());
                let (addr, fs) = (addr.to_owned(), fs.clone());
                let mut rng = Rng::from_seed(rng.next());
                thread::spawn(move || {
                    let mut n = 0;
                    while !stop.load(Ordering::SeqCst) && !fs.is_cut() {
                        n += 1;
                        let prefix = format!("c{cut}-t{t}");
                        let b = body(&mut rng, &prefix, n, heavy);
                        sent.fetch_add(1, Ordering::SeqCst);
                        if let Some(a) = push(&addr, &fs, b, false, cut) {
                            acks.lock().unwrap().push(a);
                        }
                    }
                })
            })
            .collect();
        Load {
            stop,
            threads,
            acks,
            sent,
        }
    }

    /// Stops recording (the caller cuts right after) and returns the
    /// acknowledged pushes once the threads are done.
    fn finish(self) -> (Vec<Ack>, u64) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            t.join().unwrap();
        }
        let acks = std::mem::take(&mut *self.acks.lock().unwrap());
        (acks, self.sent.load(Ordering::SeqCst))
    }
}

/// The configuration file, named `name`; `extra` goes first (top-level keys).
fn config(dir: &Path, name: &str, receiver: &str, extra: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!(
            "{extra}allow_private_subscribers = true\n\n[recordings]\nenabled = false\n\n\
             [[subscribers]]\nname = \"crm\"\nurl = \"http://{receiver}/x\"\nsecret = \"{SECRET}\"\n"
        ),
    )
    .unwrap();
    p
}

/// The calls' columns a reproject must give back unchanged.
type Snapshot = BTreeMap<String, String>;

fn snapshot(c: &Connection) -> Snapshot {
    let mut st = c
        .prepare(
            "SELECT id, vendor || '|' || vendor_call_id || '|' || source || '|' || direction \
             || '|' || outcome || '|' || coalesce(task_id, '') || '|' || coalesce(out_id, '') \
             || '|' || coalesce(customer_number, '') || '|' || started_at || '|' \
             || coalesce(talk_seconds, '') || '|' || coalesce(cost_amount, '') FROM calls",
        )
        .unwrap();
    let rows = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows
}

/// Opens a copy of the database as the disk holds it (after unmount).
fn open_copy(backing: &Path, scratch: &Path) -> Connection {
    let dst = scratch.join("copy");
    let _ = std::fs::remove_dir_all(&dst);
    std::fs::create_dir(&dst).unwrap();
    for suffix in ["", "-wal"] {
        let src = backing.join(format!("callhook.db{suffix}"));
        if src.exists() {
            std::fs::copy(&src, dst.join(format!("callhook.db{suffix}"))).unwrap();
        }
    }
    Connection::open(dst.join("callhook.db")).unwrap()
}

fn one_i64(c: &Connection, sql: &str) -> i64 {
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn strings(c: &Connection, sql: &str) -> Vec<String> {
    let mut st = c.prepare(sql).unwrap();
    let v = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    v
}

/// Calls started before 2025-06-02 (the old-dated ones), by the rollups.
fn old_calls(addr: &str) -> Option<i64> {
    let a = request(
        addr,
        "GET",
        "/api/v1/stats?group_by=vendor&until=2025-06-02T00:00:00Z",
        None,
        Duration::from_secs(5),
    )
    .ok()?;
    if a.status != 200 {
        return None;
    }
    let rows = a.json()["rows"].as_array()?.clone();
    Some(rows.iter().map(|r| r["calls"].as_i64().unwrap_or(0)).sum())
}

/// Waits (at most 5 s) until the old calls are fewer than `from`: a purge
/// batch has committed. Whether it saw that.
fn first_purge_commit(addr: &str, from: i64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if old_calls(addr).is_some_and(|n| n < from) {
            return true;
        }
        thread::sleep(Duration::from_millis(5));
    }
    false
}

fn cuts() -> usize {
    std::env::var("POWERCUT_CUTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30)
}

#[test]
fn serve_survives_power_cuts() {
    let t0 = Instant::now();
    let seed = env_seed("serve_survives_power_cuts");
    let mut rng = Rng::from_seed(seed);
    let cuts = cuts();
    let d = dirs();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let receiver = Receiver::start();
    let cfg = config(work, "callhook.toml", &receiver.addr, "");
    // `serve` purging calls older than a day every 200 ms.
    let cfg_retention = config(
        work,
        "retention.toml",
        &receiver.addr,
        "retention_days = 1\nretention_interval = \"200ms\"\n",
    );
    let db = d.mnt.join("callhook.db");
    let mut all: Vec<Ack> = Vec::new();
    let mut fig = Figures::default();
    let mut resent_before = 0u64;
    let offset = rng.range(0, MODES.len() as u64) as usize;

    for cut in 0..cuts {
        let mode = MODES[(cut + offset) % MODES.len()];
        let what = format!("seed {seed} cut {cut} ({mode:?})");
        let t_cut = Instant::now();
        // Reproject only this cut's receipts: all of them grows with the run
        // (minutes for thousands of calls through the mount in a debug build).
        let since = recent_rfc3339(2);
        let m = mount(&d);
        let fs = m.fs().clone();
        let mut server = Some(Serve::start(work, &db, &cfg, &what));
        let addr = server.as_ref().unwrap().addr.clone();
        let mut acks: Vec<Ack> = Vec::new();
        let sent: u64;
        let mut child = None;
        let mut before: Option<Snapshot> = None;
        let mut moment;
        match mode {
            Mode::Push => {
                let load = Load::start(&addr, &fs, &mut rng, cut, false);
                let ms = rng.range(50, 801);
                thread::sleep(Duration::from_millis(ms));
                (acks, sent) = load.finish_and_cut(&m, &mut server);
                moment = format!("{ms} ms into pushes");
            }
            Mode::Projection => {
                let n = rng.range(2, 5);
                let threads: Vec<_> = (0..n)
                    .map(|t| {
                        let (addr, fs) = (addr.clone(), fs.clone());
                        thread::spawn(move || {
                            let ids = (0..BIG).map(|k| format!("c{cut}-big{t}-{k}")).collect();
                            push(&addr, &fs, aliyun_batch(ids, &recent_local()), false, cut)
                        })
                    })
                    .collect();
                acks = threads
                    .into_iter()
                    .filter_map(|t| t.join().unwrap())
                    .collect();
                sent = n;
                let ms = rng.range(0, 150);
                thread::sleep(Duration::from_millis(ms));
                let pending = request(
                    &addr,
                    "GET",
                    "/api/v1/receipts?status=pending&limit=1000",
                    None,
                    Duration::from_secs(5),
                )
                .map(|a| a.json()["items"].as_array().map_or(0, Vec::len))
                .unwrap_or(0);
                m.cut();
                moment = format!(
                    "{ms} ms after {} batches of {BIG} acknowledged, {pending} receipts pending",
                    acks.len()
                );
            }
            Mode::Checkpoint => {
                let load = Load::start(&addr, &fs, &mut rng, cut, true);
                let ms = rng.range(50, 401);
                thread::sleep(Duration::from_millis(ms));
                let size = || std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
                let base = size();
                let deadline = Instant::now() + Duration::from_secs(5);
                let mut grew = false;
                while Instant::now() < deadline {
                    if size() != base {
                        grew = true;
                        break;
                    }
                    thread::sleep(Duration::from_millis(1));
                }
                (acks, sent) = load.finish_and_cut(&m, &mut server);
                if grew {
                    fig.checkpoint_hits += 1;
                }
                moment = if grew {
                    format!("as the database file grew past {base} bytes (checkpoint), {ms} ms in")
                } else {
                    format!("{ms} ms + 5 s of heavy pushes, no checkpoint seen")
                };
            }
            Mode::Purge => {
                // Old-dated calls to purge, settled first.
                for k in 0..3 {
                    let ids = (0..200).map(|j| format!("old-c{cut}-{k}-{j}")).collect();
                    let b = aliyun_batch(ids, "2025-06-01 10:00:00");
                    let a = push(&addr, &fs, b, true, cut)
                        .unwrap_or_else(|| panic!("{what}: old batch {k} not acknowledged"));
                    acks.push(a);
                }
                server.as_ref().unwrap().wait_empty(
                    "/api/v1/receipts?status=pending&limit=1",
                    120,
                    &what,
                );
                let olds = old_calls(&addr).unwrap_or(0);
                // Half the purge cuts at a random moment, half right after
                // its first batch committed (the others still to come).
                let follow = rng.range(0, 2) == 0;
                if rng.range(0, 2) == 0 {
                    // `serve`'s own purge: restarted with `retention_days = 1`.
                    server.take().unwrap().stop(30);
                    let s = Serve::start(work, &db, &cfg_retention, &what);
                    let load = Load::start(&s.addr, &fs, &mut rng, cut, false);
                    server = Some(s);
                    let ms = rng.range(20, 1500);
                    let seen = if follow {
                        first_purge_commit(&server.as_ref().unwrap().addr, olds)
                    } else {
                        thread::sleep(Duration::from_millis(ms));
                        false
                    };
                    let (more, s) = load.finish_and_cut(&m, &mut server);
                    acks.extend(more);
                    sent = s + 3;
                    moment = if follow {
                        format!("after serve's first purge commit (seen: {seen}; {olds} old calls before), under pushes")
                    } else {
                        format!("{ms} ms after serve restarted with retention_days = 1 (purging every 200 ms), under pushes")
                    };
                } else {
                    let load = Load::start(&addr, &fs, &mut rng, cut, false);
                    let mut c = serve::command(work);
                    c.args(["purge", "--older-than-days", "1", "--config"])
                        .arg(&cfg)
                        .arg("--database")
                        .arg(format!("sqlite://{}", db.display()))
                        .stdout(std::process::Stdio::null())
                        .stderr(std::process::Stdio::null());
                    let spawned = Instant::now();
                    let mut p = c.spawn().expect("spawn callhook purge");
                    // It takes about 300 ms from spawn to commit (debug build).
                    let ms = rng.range(20, 450);
                    let mut done = None;
                    let seen = follow && first_purge_commit(&addr, olds);
                    while !follow && spawned.elapsed() < Duration::from_millis(ms) {
                        if let Some(st) = p.try_wait().unwrap() {
                            done = Some((st, spawned.elapsed()));
                            break;
                        }
                        thread::sleep(Duration::from_millis(2));
                    }
                    let (more, s) = load.finish_and_cut(&m, &mut server);
                    acks.extend(more);
                    sent = s + 3;
                    moment = match done {
                        _ if follow => format!(
                            "after callhook purge's first commit (seen: {seen}; {olds} old calls before), under pushes"
                        ),
                        Some((st, t)) => format!(
                            "{ms} ms after callhook purge started (it had finished in {t:?}: {st})"
                        ),
                        None => format!("{ms} ms into callhook purge, under pushes"),
                    };
                    child = Some(p);
                }
            }
            Mode::Reproject => {
                let load = Load::start(&addr, &fs, &mut rng, cut, false);
                thread::sleep(Duration::from_millis(300));
                (acks, sent) = load.finish();
                let s = server.take().unwrap();
                s.wait_empty("/api/v1/receipts?status=pending&limit=1", 120, &what);
                s.stop(30);
                before = Some(snapshot(&Connection::open(&db).unwrap()));
                let mut c = serve::command(work);
                c.args(["reproject", "--since", &since, "--config"])
                    .arg(&cfg)
                    .arg("--database")
                    .arg(format!("sqlite://{}", db.display()))
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null());
                let spawned = Instant::now();
                let mut p = c.spawn().expect("spawn callhook reproject");
                let ms = rng.range(20, 1500);
                let mut done = None;
                while spawned.elapsed() < Duration::from_millis(ms) {
                    if let Some(st) = p.try_wait().unwrap() {
                        done = Some((st, spawned.elapsed()));
                        break;
                    }
                    thread::sleep(Duration::from_millis(2));
                }
                m.cut();
                moment = match done {
                    Some((st, t)) => {
                        format!("{ms} ms after reproject started (it had finished in {t:?}: {st})")
                    }
                    None => format!("{ms} ms into reproject"),
                };
                child = Some(p);
            }
        }
        assert!(fs.is_cut(), "{what}: not cut");
        // The power is off: nothing runs on.
        if let Some(mut c) = child.take() {
            kill(&mut c);
        }
        drop(server.take());
        m.unmount()
            .unwrap_or_else(|e| panic!("{what}: unmount after the cut: {e}"));

        // Reboot.
        let t_load = t_cut.elapsed();
        let t_boot = Instant::now();
        let m = mount(&d);
        if mode == Mode::Reproject {
            let out = run(
                work,
                &[
                    "reproject",
                    "--since",
                    &since,
                    "--config",
                    cfg.to_str().unwrap(),
                    "--database",
                    &format!("sqlite://{}", db.display()),
                ],
                Duration::from_secs(300),
            );
            assert!(
                out.status.success(),
                "{what}: reproject after the cut failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let s = Serve::start(work, &db, &cfg, &what);
        s.wait_empty("/api/v1/receipts?status=pending&limit=1", 120, &what);
        let t_projected = t_boot.elapsed();
        s.wait_empty("/api/v1/deliveries?status=pending&limit=1", 120, &what);
        let t_delivered = t_boot.elapsed();
        for a in &acks {
            let r = s
                .get(&format!("/api/v1/receipts/{}", a.receipt))
                .unwrap_or_else(|e| panic!("{what}: GET receipt {}: {e}", a.receipt));
            assert_eq!(
                r.status,
                200,
                "{what}: acknowledged receipt {} ({} {} calls) missing after the cut",
                a.receipt,
                a.vendor,
                a.calls.len()
            );
            let status = r.json()["status"].as_str().unwrap_or("").to_owned();
            assert_ne!(
                status, "pending",
                "{what}: receipt {} still pending",
                a.receipt
            );
            if !a.old {
                let q = format!("/api/v1/calls?vendor_call_id={}&limit=1", a.calls[0]);
                let items = s.get(&q).unwrap().json()["items"]
                    .as_array()
                    .map_or(0, Vec::len);
                assert_eq!(
                    items, 1,
                    "{what}: call {} of acknowledged receipt {} not listed",
                    a.calls[0], a.receipt
                );
            }
        }
        let stats = s.get("/api/v1/stats?group_by=vendor").unwrap().json();
        let stats_calls: i64 = stats["rows"]
            .as_array()
            .unwrap_or(&Vec::new())
            .iter()
            .map(|r| r["calls"].as_i64().unwrap_or(0))
            .sum();
        let _ = s.stop(30);
        m.unmount()
            .unwrap_or_else(|e| panic!("{what}: unmount: {e}"));

        // The disk as it is now, through SQLite directly.
        fig.acked += acks.len();
        fig.records += acks.iter().map(|a| a.calls.len()).sum::<usize>();
        all.extend(acks.iter().cloned());
        let c = open_copy(&d.backing, work);
        let ok: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok", "{what}: integrity_check after the cut");
        let receipts: HashSet<String> =
            strings(&c, "SELECT id FROM receipts").into_iter().collect();
        let calls: HashSet<String> =
            strings(&c, "SELECT vendor || '|' || vendor_call_id FROM calls")
                .into_iter()
                .collect();
        let lost_r: Vec<&Ack> = all
            .iter()
            .filter(|a| !receipts.contains(&a.receipt))
            .collect();
        let lost_c: Vec<(&str, &str, &String)> = all
            .iter()
            .filter(|a| !a.old)
            .flat_map(|a| {
                a.calls
                    .iter()
                    .map(move |id| (a.receipt.as_str(), a.vendor, id))
            })
            .filter(|(_, vendor, id)| !calls.contains(&format!("{vendor}|{id}")))
            .collect();
        fig.lost_receipts += lost_r.len();
        let lost_r: Vec<(&str, usize)> =
            lost_r.iter().map(|a| (a.receipt.as_str(), a.cut)).collect();
        fig.lost_calls += lost_c.len();
        assert!(
            lost_r.is_empty(),
            "{what}: acknowledged receipts lost (receipt, acknowledged before cut): {lost_r:?}"
        );
        assert!(
            lost_c.is_empty(),
            "{what}: calls of acknowledged receipts lost (receipt, vendor, call): {:?}",
            &lost_c[..lost_c.len().min(20)]
        );
        let links = HashMap::<String, i64>::from_iter(
            c.prepare("SELECT receipt_id, count(*) FROM call_receipts GROUP BY receipt_id")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap),
        );
        for a in all.iter().filter(|a| !a.old) {
            let n = links.get(&a.receipt).copied().unwrap_or(0);
            assert_eq!(
                n,
                a.calls.len() as i64,
                "{what}: receipt {} links {n} calls, pushed {}",
                a.receipt,
                a.calls.len()
            );
        }
        assert_eq!(
            one_i64(&c, "SELECT count(*) FROM calls"),
            one_i64(
                &c,
                "SELECT count(DISTINCT vendor || '|' || vendor_call_id) FROM calls"
            ),
            "{what}: a vendor call stored twice"
        );
        assert_eq!(
            one_i64(&c, "SELECT count(*) FROM receipts"),
            one_i64(&c, "SELECT count(DISTINCT id) FROM receipts"),
            "{what}: a receipt stored twice"
        );
        assert_eq!(
            one_i64(
                &c,
                "SELECT count(*) FROM call_receipts WHERE call_id NOT IN (SELECT id FROM calls)"
            ),
            0,
            "{what}: receipt links to calls that are gone"
        );
        let total_calls = one_i64(&c, "SELECT count(*) FROM calls");
        assert_eq!(
            stats_calls, total_calls,
            "{what}: the rollups count {stats_calls} calls, the table holds {total_calls}"
        );
        assert_eq!(
            one_i64(
                &c,
                "SELECT count(*) FROM deliveries WHERE status != 'delivered'"
            ),
            0,
            "{what}: deliveries not delivered after recovery"
        );
        // Outbox: every event reached the receiver, and nothing it got is
        // unknown (an event delivered before its commit was durable).
        let events: HashSet<String> = strings(&c, "SELECT id FROM events").into_iter().collect();
        let got = receiver.got.lock().unwrap();
        let lost_e: Vec<&String> = events
            .iter()
            .filter(|e| !got.count.contains_key(*e))
            .collect();
        fig.lost_events += lost_e.len();
        assert!(
            lost_e.is_empty(),
            "{what}: {} events never delivered, e.g. {:?}",
            lost_e.len(),
            &lost_e[..lost_e.len().min(5)]
        );
        let phantom: Vec<&String> = got
            .count
            .keys()
            .filter(|e| !events.contains(*e))
            .filter(|e| !String::from_utf8_lossy(&got.body[*e]).contains("old-"))
            .collect();
        assert!(
            phantom.is_empty(),
            "{what}: the subscriber got events the database does not hold: {phantom:?}"
        );
        let resent: u64 = got.count.values().map(|n| u64::from(n - 1)).sum();
        drop(got);
        if let Some(before) = before {
            let after = snapshot(&c);
            let changed: Vec<&String> = before
                .iter()
                .filter(|(k, v)| after.get(*k) != Some(*v))
                .map(|(k, _)| k)
                .collect();
            assert!(
                changed.is_empty(),
                "{what}: reproject after the cut changed or lost {} calls, e.g. {:?}",
                changed.len(),
                &changed[..changed.len().min(5)]
            );
            let made: Vec<&String> = after
                .iter()
                .filter(|(k, _)| !before.contains_key(*k))
                .map(|(_, v)| v)
                // A reproject rebuilds the calls of every receipt it reads,
                // also those a purge deleted while keeping the (recent)
                // receipt: a clean reproject gives them back too.
                .filter(|v| !v.starts_with("aliyun|old-"))
                .collect();
            assert!(
                made.is_empty(),
                "{what}: reproject made {} calls, e.g. {:?}",
                made.len(),
                &made[..made.len().min(5)]
            );
        }
        if mode == Mode::Purge {
            let left = one_i64(
                &c,
                &format!("SELECT count(*) FROM calls WHERE vendor_call_id LIKE 'old-c{cut}-%'"),
            );
            moment.push_str(&format!(" ({left} of this cut's 600 old calls left)"));
        }
        drop(c);
        println!(
            "{what}: cut {moment}; {sent} pushes sent, {} acknowledged ({} records), {} re-sent events, {} calls in total; \
             load {t_load:.1?}, recovered {t_projected:.1?}, delivered {t_delivered:.1?}, checked {:.1?}",
            acks.len(),
            acks.iter().map(|a| a.calls.len()).sum::<usize>(),
            resent - resent_before,
            total_calls,
            t_boot.elapsed()
        );
        fig.resent = resent;
        resent_before = resent;
    }
    println!(
        "serve_survives_power_cuts: seed {seed}: {cuts} cuts, {} acknowledged pushes ({} records) checked, lost: {} receipts, {} calls, {} events; {} events re-sent; {} checkpoint cuts hit a growing database file; {:.1} s",
        fig.acked, fig.records, fig.lost_receipts, fig.lost_calls, fig.lost_events, fig.resent, fig.checkpoint_hits,
        t0.elapsed().as_secs_f64()
    );
}

impl Load {
    /// [`Load::finish`]'s recording stops, then the power goes off; then
    /// the threads are joined (their requests fail once the server dies).
    fn finish_and_cut(self, m: &powercut::Mounted, server: &mut Option<Serve>) -> (Vec<Ack>, u64) {
        self.stop.store(true, Ordering::SeqCst);
        m.cut();
        drop(server.take());
        self.finish()
    }
}
