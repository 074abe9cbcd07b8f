//! Power cuts under the real `callhook serve` (binary at `CALLHOOK_BIN`,
//! default `../target/debug/callhook`): its SQLite database lives on a
//! powercut mount whose backing directory is "the disk". Each cut: mount,
//! start `serve`, load it (`modes/`: pushes, a large batch being projected,
//! heavy pushes through a WAL checkpoint, a purge, a `callhook reproject`),
//! cut the power at a seeded moment, kill the processes, remount, restart
//! and check (`verify/`) that nothing acknowledged is lost, nothing is
//! doubled, the database is intact and every event reaches the subscriber.
//!
//! `POWERCUT_SEED` (default: from the clock, printed) and `POWERCUT_CUTS`
//! (default 30). Timing still varies between runs of one seed: the seed fixes
//! the moments and loads, not the scheduler.

mod common;
mod load;
mod modes;
mod serve;
mod verify;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{dirs, env_seed, mount, Dirs, Rng};
use load::{recent_rfc3339, Ack};
use modes::{config, sqlite_url, Cut, Loaded, Mode, MODES};
use serve::{kill, run, Receiver, Serve};
use verify::Problems;

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

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A run's fixed parts: the disk, the subscriber, the configuration files.
struct Rig {
    d: Dirs,
    work: tempfile::TempDir,
    receiver: Receiver,
    cfg: std::path::PathBuf,
    cfg_retention: std::path::PathBuf,
    /// Environment of every `serve` (`LD_PRELOAD` for a broken build).
    env: Vec<(&'static str, String)>,
    all: Vec<Ack>,
}

impl Rig {
    fn new() -> Rig {
        let work = tempfile::tempdir().unwrap();
        let receiver = Receiver::start();
        let cfg = config(work.path(), "callhook.toml", &receiver.addr, "");
        let cfg_retention = config(
            work.path(),
            "retention.toml",
            &receiver.addr,
            "retention_days = 1\nretention_interval = \"200ms\"\n",
        );
        Rig {
            d: dirs(),
            work,
            receiver,
            cfg,
            cfg_retention,
            env: Vec::new(),
            all: Vec::new(),
        }
    }

    fn db(&self) -> std::path::PathBuf {
        self.d.mnt.join("callhook.db")
    }

    fn serve(&self, what: &str) -> Serve {
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Serve::start_with(self.work.path(), &self.db(), &self.cfg, what, &env)
    }

    /// One cut: mount, start `serve`, load and cut as `mode` says, reboot
    /// and check. The load and what the checks found.
    fn cut(&mut self, n: usize, mode: Mode, rng: &mut Rng, what: &str) -> (Loaded, Problems) {
        let t_cut = Instant::now();
        // Reproject only this cut's receipts: all of them grows with the run
        // (minutes for thousands of calls through the mount in a debug build).
        let since = recent_rfc3339(2);
        let m = mount(&self.d);
        let db = self.db();
        let mut c = Cut {
            n,
            what,
            m: &m,
            fs: m.fs().clone(),
            server: Some(self.serve(what)),
            work: self.work.path(),
            db: &db,
            cfg: &self.cfg,
            cfg_retention: &self.cfg_retention,
            since: &since,
        };
        let mut l = c.run(mode, rng);
        // The power is off: nothing runs on.
        if let Some(mut child) = l.child.take() {
            kill(&mut child);
        }
        drop(c.server.take());
        m.unmount()
            .unwrap_or_else(|e| panic!("{what}: unmount after the cut: {e}"));
        let t_load = t_cut.elapsed();
        let p = self.reboot(mode, &since, &mut l, what);
        println!(
            "{what}: cut {}; {} pushes sent, {} acknowledged ({} records); load {t_load:.1?}, rebooted and checked {:.1?}",
            l.moment,
            l.sent,
            l.acks.len(),
            l.acks.iter().map(|a| a.calls.len()).sum::<usize>(),
            t_cut.elapsed() - t_load,
        );
        (l, p)
    }

    /// Mounts the disk as it survived, finishes an interrupted reproject,
    /// restarts `serve` until everything is projected and delivered, and
    /// checks through the API and on the disk.
    fn reboot(&mut self, mode: Mode, since: &str, l: &mut Loaded, what: &str) -> Problems {
        let m = mount(&self.d);
        let (work, db) = (self.work.path(), self.db());
        if mode == Mode::Reproject {
            let (cfg, url) = (self.cfg.to_str().unwrap(), sqlite_url(&db));
            let args = [
                "reproject",
                "--since",
                since,
                "--config",
                cfg,
                "--database",
                &url,
            ];
            let out = run(work, &args, Duration::from_secs(300));
            assert!(
                out.status.success(),
                "{what}: reproject after the cut failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let mut p = Problems::default();
        let s = self.serve(what);
        s.wait_empty("/api/v1/receipts?status=pending&limit=1", 120, what);
        s.wait_empty("/api/v1/deliveries?status=pending&limit=1", 120, what);
        verify::api(&s, &l.acks, &mut p);
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
        self.all.extend(l.acks.iter().cloned());
        let c = verify::open_copy(&self.d.backing, work);
        verify::disk(
            &c,
            &self.all,
            stats_calls,
            &self.receiver.got.lock().unwrap(),
            &mut p,
        );
        if let Some(before) = &l.before {
            verify::reprojected(before, &verify::snapshot(&c), &mut p);
        }
        if mode == Mode::Purge {
            let left = verify::one_i64(
                &c,
                &format!(
                    "SELECT count(*) FROM calls WHERE vendor_call_id LIKE 'old-c{}-%'",
                    l.acks[0].cut
                ),
            );
            l.moment
                .push_str(&format!(" ({left} of this cut's 600 old calls left)"));
        }
        p
    }

    /// Events the subscriber got more than once, in all.
    fn resent(&self) -> u64 {
        let got = self.receiver.got.lock().unwrap();
        got.count.values().map(|n| u64::from(n - 1)).sum()
    }
}

#[test]
fn serve_survives_power_cuts() {
    let t0 = Instant::now();
    let seed = env_seed("serve_survives_power_cuts");
    let mut rng = Rng::from_seed(seed);
    let cuts = env_number("POWERCUT_CUTS", 30);
    let mut rig = Rig::new();
    let mut fig = Figures::default();
    let offset = rng.range(0, MODES.len() as u64) as usize;
    for n in 0..cuts {
        let mode = MODES[(n + offset) % MODES.len()];
        let what = format!("seed {seed} cut {n} ({mode:?})");
        let (l, p) = rig.cut(n, mode, &mut rng, &what);
        p.assert_none(&what);
        fig.acked += l.acks.len();
        fig.records += l.acks.iter().map(|a| a.calls.len()).sum::<usize>();
        fig.lost_receipts += p.lost_receipts;
        fig.lost_calls += p.lost_calls;
        fig.lost_events += p.lost_events;
        fig.checkpoint_hits += usize::from(l.checkpoint_hit);
    }
    fig.resent = rig.resent();
    println!(
        "serve_survives_power_cuts: seed {seed}: {cuts} cuts, {} acknowledged pushes ({} records) checked, lost: {} receipts, {} calls, {} events; {} events re-sent; {} checkpoint cuts hit a growing database file; {:.1} s",
        fig.acked, fig.records, fig.lost_receipts, fig.lost_calls, fig.lost_events, fig.resent, fig.checkpoint_hits,
        t0.elapsed().as_secs_f64()
    );
}

/// `libeatmydata` (Debian's `eatmydata`) turns every `fsync`, `fdatasync`
/// and `O_SYNC` of the process it is preloaded into into nothing.
const EATMYDATA: &str = "/usr/lib/x86_64-linux-gnu/libeatmydata.so";

/// The harness catches a build that acknowledges before its data is on the
/// disk: after a normal cut (the database and its schema durable), `serve`
/// runs with every sync turned off (`LD_PRELOAD` of libeatmydata) and loses
/// the pushes it acknowledged before the next cut, and the checks say so.
#[test]
fn a_build_that_skips_fsync_is_caught() {
    assert!(
        Path::new(EATMYDATA).is_file(),
        "{EATMYDATA} is missing: apt-get install eatmydata"
    );
    let seed = env_seed("a_build_that_skips_fsync_is_caught");
    let mut rng = Rng::from_seed(seed);
    let mut rig = Rig::new();
    let what = format!("seed {seed}, fsync on");
    let (first, p) = rig.cut(0, Mode::Push, &mut rng, &what);
    p.assert_none(&what);
    rig.env.push(("LD_PRELOAD", EATMYDATA.to_owned()));
    let what = format!("seed {seed}, fsync off");
    let (l, p) = rig.cut(1, Mode::Push, &mut rng, &what);
    assert!(!l.acks.is_empty(), "{what}: no push acknowledged");
    assert_eq!(
        p.lost_receipts,
        l.acks.len(),
        "{what}: the receipts acknowledged without fsync should be lost and reported: {:?}",
        p.found
    );
    println!(
        "{what}: the checks found {} of {} receipts acknowledged without fsync lost ({} acknowledged before, with fsync, kept): {}",
        p.lost_receipts,
        l.acks.len(),
        first.acks.len(),
        p.found.join("; ")
    );
}
