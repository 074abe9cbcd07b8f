//! Where the power goes off in `serve_survives_power_cuts`: each [`Mode`]
//! loads a running `callhook serve` its own way and cuts at a seeded moment.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::Rng;
use crate::load::{aliyun_batch, push, push_retrying, recent_local, Ack, Load};
use crate::serve::{command, request, Serve};
use crate::verify::{snapshot, Snapshot};
use powercut::{Mounted, PowerCutFs};
use rusqlite::Connection;

/// Records in one batch of the projection cut.
const BIG: usize = 600;

/// Where the power goes off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
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

pub const MODES: [Mode; 5] = [
    Mode::Push,
    Mode::Projection,
    Mode::Checkpoint,
    Mode::Purge,
    Mode::Reproject,
];

/// What one cut needs: the mounted disk, the running server (`None` once
/// the power is off) and the configuration files.
pub struct Cut<'a> {
    pub n: usize,
    pub what: &'a str,
    pub m: &'a Mounted,
    pub fs: PowerCutFs,
    pub server: Option<Serve>,
    pub work: &'a Path,
    pub db: &'a Path,
    pub cfg: &'a Path,
    /// `serve` purging calls older than a day every 200 ms.
    pub cfg_retention: &'a Path,
    /// `reproject --since` of this cut.
    pub since: &'a str,
}

/// What happened up to the cut.
#[derive(Default)]
pub struct Loaded {
    pub acks: Vec<Ack>,
    pub sent: u64,
    /// The cut's moment, in words.
    pub moment: String,
    /// A one-shot command running at the cut (killed by the caller).
    pub child: Option<Child>,
    /// The calls before a `reproject` cut.
    pub before: Option<Snapshot>,
    /// A checkpoint cut saw the database file grow.
    pub checkpoint_hit: bool,
}

impl Cut<'_> {
    fn addr(&self) -> String {
        self.server.as_ref().expect("serve running").addr.clone()
    }

    /// Loads the server as `mode` says and cuts the power.
    pub fn run(&mut self, mode: Mode, rng: &mut Rng) -> Loaded {
        let l = match mode {
            Mode::Push => self.push(rng),
            Mode::Projection => self.projection(rng),
            Mode::Checkpoint => self.checkpoint(rng),
            Mode::Purge => self.purge(rng),
            Mode::Reproject => self.reproject(rng),
        };
        assert!(self.fs.is_cut(), "{}: not cut", self.what);
        l
    }

    fn push(&mut self, rng: &mut Rng) -> Loaded {
        let load = Load::start(&self.addr(), &self.fs, rng, self.n, false);
        let ms = rng.range(50, 801);
        thread::sleep(Duration::from_millis(ms));
        let (acks, sent) = load.finish_and_cut(self.m, &mut self.server);
        Loaded {
            acks,
            sent,
            moment: format!("{ms} ms into pushes"),
            ..Loaded::default()
        }
    }

    fn projection(&mut self, rng: &mut Rng) -> Loaded {
        let (addr, n) = (self.addr(), rng.range(2, 5));
        let cut = self.n;
        let threads: Vec<_> = (0..n)
            .map(|t| {
                let (addr, fs) = (addr.clone(), self.fs.clone());
                thread::spawn(move || {
                    let ids = (0..BIG).map(|k| format!("c{cut}-big{t}-{k}")).collect();
                    push(&addr, &fs, aliyun_batch(ids, &recent_local()), false, cut)
                })
            })
            .collect();
        let acks: Vec<Ack> = threads
            .into_iter()
            .filter_map(|t| t.join().unwrap())
            .collect();
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
        self.m.cut();
        Loaded {
            moment: format!(
                "{ms} ms after {} batches of {BIG} acknowledged, {pending} receipts pending",
                acks.len()
            ),
            acks,
            sent: n,
            ..Loaded::default()
        }
    }

    fn checkpoint(&mut self, rng: &mut Rng) -> Loaded {
        let load = Load::start(&self.addr(), &self.fs, rng, self.n, true);
        let ms = rng.range(50, 401);
        thread::sleep(Duration::from_millis(ms));
        let size = || std::fs::metadata(self.db).map(|m| m.len()).unwrap_or(0);
        let base = size();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut grew = false;
        while Instant::now() < deadline && !grew {
            grew = size() != base;
            thread::sleep(Duration::from_millis(1));
        }
        let (acks, sent) = load.finish_and_cut(self.m, &mut self.server);
        Loaded {
            acks,
            sent,
            moment: match grew {
                true => {
                    format!("as the database file grew past {base} bytes (checkpoint), {ms} ms in")
                }
                false => format!("{ms} ms + 5 s of heavy pushes, no checkpoint seen"),
            },
            checkpoint_hit: grew,
            ..Loaded::default()
        }
    }

    /// Old-dated calls, settled first, then a purge: half the time `serve`'s
    /// own (restarted with `retention_days = 1`), half `callhook purge`;
    /// half the cuts at a random moment, half right after the purge's first
    /// batch committed (the others still to come).
    fn purge(&mut self, rng: &mut Rng) -> Loaded {
        let (cut, what, addr) = (self.n, self.what, self.addr());
        let mut acks = Vec::new();
        for k in 0..3 {
            let ids = (0..200).map(|j| format!("old-c{cut}-{k}-{j}")).collect();
            let b = aliyun_batch(ids, "2025-06-01 10:00:00");
            let a = push_retrying(&addr, &self.fs, b, true, cut, 5)
                .unwrap_or_else(|e| panic!("{what}: old batch {k} not acknowledged: {e}"));
            acks.push(a);
        }
        let s = self.server.as_ref().unwrap();
        s.wait_empty("/api/v1/receipts?status=pending&limit=1", 120, what);
        let olds = old_calls(&addr).unwrap_or(0);
        let follow = rng.range(0, 2) == 0;
        let mut l = match rng.range(0, 2) == 0 {
            true => self.purge_in_serve(rng, olds, follow),
            false => self.purge_command(rng, olds, follow),
        };
        acks.append(&mut l.acks);
        l.acks = acks;
        l.sent += 3;
        l
    }

    fn purge_in_serve(&mut self, rng: &mut Rng, olds: i64, follow: bool) -> Loaded {
        self.server.take().unwrap().stop(30);
        let s = Serve::start(self.work, self.db, self.cfg_retention, self.what);
        let load = Load::start(&s.addr, &self.fs, rng, self.n, false);
        let addr = s.addr.clone();
        self.server = Some(s);
        let ms = rng.range(20, 1500);
        let seen = match follow {
            true => first_purge_commit(&addr, olds),
            false => {
                thread::sleep(Duration::from_millis(ms));
                false
            }
        };
        let (acks, sent) = load.finish_and_cut(self.m, &mut self.server);
        Loaded {
            acks,
            sent,
            moment: match follow {
                true => format!(
                    "after serve's first purge commit (seen: {seen}; {olds} old calls before), under pushes"
                ),
                false => format!(
                    "{ms} ms after serve restarted with retention_days = 1 (purging every 200 ms), under pushes"
                ),
            },
            ..Loaded::default()
        }
    }

    fn purge_command(&mut self, rng: &mut Rng, olds: i64, follow: bool) -> Loaded {
        let addr = self.addr();
        let load = Load::start(&addr, &self.fs, rng, self.n, false);
        let mut p = self
            .oneshot(&["purge", "--older-than-days", "1"])
            .spawn()
            .expect("spawn callhook purge");
        // It takes about 300 ms from spawn to commit (debug build).
        let ms = rng.range(20, 450);
        let seen = follow && first_purge_commit(&addr, olds);
        let done = match follow {
            true => None,
            false => wait_at_most(&mut p, ms),
        };
        let (acks, sent) = load.finish_and_cut(self.m, &mut self.server);
        Loaded {
            acks,
            sent,
            moment: match done {
                _ if follow => format!(
                    "after callhook purge's first commit (seen: {seen}; {olds} old calls before), under pushes"
                ),
                Some(d) => format!("{ms} ms after callhook purge started (it had finished: {d})"),
                None => format!("{ms} ms into callhook purge, under pushes"),
            },
            child: Some(p),
            ..Loaded::default()
        }
    }

    /// Pushes for 300 ms, lets them settle, stops `serve`, and cuts while
    /// `callhook reproject --since` rebuilds this cut's calls.
    fn reproject(&mut self, rng: &mut Rng) -> Loaded {
        let load = Load::start(&self.addr(), &self.fs, rng, self.n, false);
        thread::sleep(Duration::from_millis(300));
        let (acks, sent) = load.finish();
        let s = self.server.take().unwrap();
        s.wait_empty("/api/v1/receipts?status=pending&limit=1", 120, self.what);
        s.stop(30);
        let before = Some(snapshot(&Connection::open(self.db).unwrap()));
        let mut p = self
            .oneshot(&["reproject", "--since", self.since])
            .spawn()
            .expect("spawn callhook reproject");
        let ms = rng.range(20, 1500);
        let done = wait_at_most(&mut p, ms);
        self.m.cut();
        Loaded {
            acks,
            sent,
            moment: match done {
                Some(d) => format!("{ms} ms after reproject started (it had finished: {d})"),
                None => format!("{ms} ms into reproject"),
            },
            child: Some(p),
            before,
            ..Loaded::default()
        }
    }

    /// `callhook <args> --config <cfg> --database <db>`, output discarded.
    fn oneshot(&self, args: &[&str]) -> std::process::Command {
        let mut c = command(self.work);
        c.args(args)
            .arg("--config")
            .arg(self.cfg)
            .arg("--database")
            .arg(sqlite_url(self.db))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    }
}

/// `sqlite://<path>`.
pub fn sqlite_url(db: &Path) -> String {
    format!("sqlite://{}", db.display())
}

/// Waits up to `ms` for `p` to exit; how and when it did, if it did.
fn wait_at_most(p: &mut Child, ms: u64) -> Option<String> {
    let spawned = Instant::now();
    while spawned.elapsed() < Duration::from_millis(ms) {
        if let Some(st) = p.try_wait().unwrap() {
            return Some(format!("{st} in {:?}", spawned.elapsed()));
        }
        thread::sleep(Duration::from_millis(2));
    }
    None
}

/// Calls started before 2025-06-02 (the old-dated ones), by the rollups.
pub fn old_calls(addr: &str) -> Option<i64> {
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

/// The configuration file `dir/name`: webhooks to `receiver`, recordings
/// off; `extra` goes first (top-level keys).
pub fn config(dir: &Path, name: &str, receiver: &str, extra: &str) -> PathBuf {
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

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
