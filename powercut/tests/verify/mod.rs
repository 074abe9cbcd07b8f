//! The checks after a power cut and reboot of `callhook serve`: through
//! its API (every acknowledged receipt is there and projected, its calls
//! listed) and on the disk through SQLite directly (integrity, nothing lost,
//! nothing doubled, rollups equal to the calls, every event delivered).
//! Each check returns the problems it found instead of panicking, so a
//! test can also show that a broken build is caught.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use crate::load::Ack;
use crate::serve::{Received, Serve};
use rusqlite::Connection;

/// What the checks found wrong after one cut.
#[derive(Debug, Default)]
pub struct Problems {
    /// Acknowledged receipts the database does not hold.
    pub lost_receipts: usize,
    /// Calls of acknowledged receipts the database does not hold.
    pub lost_calls: usize,
    /// Events the database holds that never reached the subscriber.
    pub lost_events: usize,
    /// Every problem in words (the counts above included).
    pub found: Vec<String>,
}

impl Problems {
    fn add(&mut self, problem: String) {
        self.found.push(problem);
    }

    /// Panics naming every problem, if there is any.
    pub fn assert_none(&self, what: &str) {
        assert!(self.found.is_empty(), "{what}: {}", self.found.join("\n  "));
    }
}

/// The calls' columns a reproject must give back unchanged.
pub type Snapshot = BTreeMap<String, String>;

pub fn snapshot(c: &Connection) -> Snapshot {
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
pub fn open_copy(backing: &Path, scratch: &Path) -> Connection {
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

pub fn one_i64(c: &Connection, sql: &str) -> i64 {
    c.query_row(sql, [], |r| r.get(0)).unwrap_or(-1)
}

pub fn strings(c: &Connection, sql: &str) -> Vec<String> {
    let Ok(mut st) = c.prepare(sql) else {
        return Vec::new();
    };
    let v = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    v
}

/// Through the restarted `serve`: each acknowledged receipt of this cut is
/// stored and no longer pending, and (unless old-dated, which a purge may
/// delete) its first call is listed.
pub fn api(s: &Serve, acks: &[Ack], p: &mut Problems) {
    for a in acks {
        let r = match s.get(&format!("/api/v1/receipts/{}", a.receipt)) {
            Ok(r) => r,
            Err(e) => return p.add(format!("GET receipt {}: {e}", a.receipt)),
        };
        if r.status != 200 {
            p.add(format!(
                "acknowledged receipt {} ({} {} calls) missing after the cut",
                a.receipt,
                a.vendor,
                a.calls.len()
            ));
            continue;
        }
        if r.json()["status"].as_str() == Some("pending") {
            p.add(format!("receipt {} still pending", a.receipt));
        }
        if !a.old {
            let q = format!("/api/v1/calls?vendor_call_id={}&limit=1", a.calls[0]);
            let items = s
                .get(&q)
                .map_or(0, |r| r.json()["items"].as_array().map_or(0, Vec::len));
            if items != 1 {
                p.add(format!(
                    "call {} of acknowledged receipt {} not listed",
                    a.calls[0], a.receipt
                ));
            }
        }
    }
}

/// The disk as SQLite reads it: intact, every acknowledged receipt of the
/// run (`all`) and its calls present, nothing stored twice, no link to a
/// deleted call, the rollups counting `stats_calls` = the calls held, the
/// outbox empty, every event received and nothing received the database
/// does not hold (old-dated calls' events may be purged since).
pub fn disk(c: &Connection, all: &[Ack], stats_calls: i64, got: &Received, p: &mut Problems) {
    let tables = one_i64(c, "SELECT count(*) FROM sqlite_master WHERE name = 'calls'");
    if tables != 1 {
        p.lost_receipts += all.len();
        return p.add(format!(
            "the database holds no schema: all {} acknowledged receipts lost",
            all.len()
        ));
    }
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap_or_else(|e| e.to_string());
    if ok != "ok" {
        p.add(format!("integrity_check: {ok}"));
    }
    let receipts: HashSet<String> = strings(c, "SELECT id FROM receipts").into_iter().collect();
    let calls: HashSet<String> = strings(c, "SELECT vendor || '|' || vendor_call_id FROM calls")
        .into_iter()
        .collect();
    let lost_r: Vec<(&str, usize)> = all
        .iter()
        .filter(|a| !receipts.contains(&a.receipt))
        .map(|a| (a.receipt.as_str(), a.cut))
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
    p.lost_receipts += lost_r.len();
    p.lost_calls += lost_c.len();
    if !lost_r.is_empty() {
        p.add(format!(
            "{} acknowledged receipts lost (receipt, acknowledged before cut): {:?}",
            lost_r.len(),
            &lost_r[..lost_r.len().min(10)]
        ));
    }
    if !lost_c.is_empty() {
        p.add(format!(
            "{} calls of acknowledged receipts lost (receipt, vendor, call): {:?}",
            lost_c.len(),
            &lost_c[..lost_c.len().min(10)]
        ));
    }
    links(c, all, p);
    doubles(c, p);
    let total_calls = one_i64(c, "SELECT count(*) FROM calls");
    if stats_calls != total_calls {
        p.add(format!(
            "the rollups count {stats_calls} calls, the table holds {total_calls}"
        ));
    }
    let undelivered = one_i64(
        c,
        "SELECT count(*) FROM deliveries WHERE status != 'delivered'",
    );
    if undelivered != 0 {
        p.add(format!(
            "{undelivered} deliveries not delivered after recovery"
        ));
    }
    events(c, got, p);
}

/// Each acknowledged receipt links exactly the calls it carried.
fn links(c: &Connection, all: &[Ack], p: &mut Problems) {
    let links = HashMap::<String, i64>::from_iter(
        c.prepare("SELECT receipt_id, count(*) FROM call_receipts GROUP BY receipt_id")
            .map(|mut st| {
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default(),
    );
    for a in all.iter().filter(|a| !a.old) {
        let n = links.get(&a.receipt).copied().unwrap_or(0);
        if n != a.calls.len() as i64 && !a.calls.is_empty() {
            p.add(format!(
                "receipt {} links {n} calls, pushed {}",
                a.receipt,
                a.calls.len()
            ));
        }
    }
}

/// Nothing stored twice; no receipt link to a call that is gone.
fn doubles(c: &Connection, p: &mut Problems) {
    let pairs = [
        (
            "SELECT count(*) FROM calls",
            "SELECT count(DISTINCT vendor || '|' || vendor_call_id) FROM calls",
            "a vendor call stored twice",
        ),
        (
            "SELECT count(*) FROM receipts",
            "SELECT count(DISTINCT id) FROM receipts",
            "a receipt stored twice",
        ),
    ];
    for (all, distinct, what) in pairs {
        if one_i64(c, all) != one_i64(c, distinct) {
            p.add(what.to_owned());
        }
    }
    let dangling = one_i64(
        c,
        "SELECT count(*) FROM call_receipts WHERE call_id NOT IN (SELECT id FROM calls)",
    );
    if dangling != 0 {
        p.add(format!("{dangling} receipt links to calls that are gone"));
    }
}

/// Outbox: every event reached the receiver, and nothing it got is unknown
/// (an event delivered before its commit was durable).
fn events(c: &Connection, got: &Received, p: &mut Problems) {
    let events: HashSet<String> = strings(c, "SELECT id FROM events").into_iter().collect();
    let lost: Vec<&String> = events
        .iter()
        .filter(|e| !got.count.contains_key(*e))
        .collect();
    p.lost_events += lost.len();
    if !lost.is_empty() {
        p.add(format!(
            "{} events never delivered, e.g. {:?}",
            lost.len(),
            &lost[..lost.len().min(5)]
        ));
    }
    let phantom: Vec<&String> = got
        .count
        .keys()
        .filter(|e| !events.contains(*e))
        .filter(|e| !String::from_utf8_lossy(&got.body[*e]).contains("old-"))
        .collect();
    if !phantom.is_empty() {
        p.add(format!(
            "the subscriber got {} events the database does not hold, e.g. {:?}",
            phantom.len(),
            &phantom[..phantom.len().min(5)]
        ));
    }
}

/// A reproject cut: the calls before it are unchanged after the reproject
/// finished on the rebooted disk, and it made none (but old-dated calls a
/// purge deleted while keeping their recent receipt).
pub fn reprojected(before: &Snapshot, after: &Snapshot, p: &mut Problems) {
    let changed: Vec<&String> = before
        .iter()
        .filter(|(k, v)| after.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .collect();
    if !changed.is_empty() {
        p.add(format!(
            "reproject after the cut changed or lost {} calls, e.g. {:?}",
            changed.len(),
            &changed[..changed.len().min(5)]
        ));
    }
    let made: Vec<&String> = after
        .iter()
        .filter(|(k, _)| !before.contains_key(*k))
        .map(|(_, v)| v)
        .filter(|v| !v.starts_with("aliyun|old-"))
        .collect();
    if !made.is_empty() {
        p.add(format!(
            "reproject made {} calls, e.g. {:?}",
            made.len(),
            &made[..made.len().min(5)]
        ));
    }
}
