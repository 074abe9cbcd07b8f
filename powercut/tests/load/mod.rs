//! The load of the `serve` power-cut tests: vendor bodies (Alibaba call
//! report batches of mixed sizes, Bland calls) and `PUSHERS` threads
//! pushing them, recording which pushes were acknowledged before the cut.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crate::common::Rng;
use crate::serve::{request, Serve};
use powercut::PowerCutFs;
use serde_json::{json, Value};

/// Threads pushing at once.
pub const PUSHERS: u64 = 4;

/// An acknowledged push (200 before the cut).
#[derive(Debug, Clone)]
pub struct Ack {
    pub receipt: String,
    pub vendor: &'static str,
    pub calls: Vec<String>,
    /// Old-dated calls, which a purge may delete.
    pub old: bool,
    pub cut: usize,
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) an hour ago: Alibaba's format, recent in
/// any zone.
pub fn recent_local() -> String {
    let t = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(3600);
    t.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// RFC 3339 (UTC, whole seconds) for `secs_ago` seconds ago.
pub fn recent_rfc3339(secs_ago: i64) -> String {
    let t = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(secs_ago);
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn aliyun_record(call_id: &str, start: &str) -> Value {
    json!({
        "taskId": "T-PC", "callId": call_id, "outId": call_id,
        "callee": "13900000000", "caller": "057100000000",
        "startTime": start, "endTime": start,
        "duration": 42, "statusCode": "200000", "smartStatusCode": "ANSWERED",
        "statusMsg": "answered"
    })
}

pub fn bland_call(call_id: &str) -> Value {
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
pub struct Body {
    pub path: &'static str,
    pub vendor: &'static str,
    /// The vendor call ids in it.
    pub calls: Vec<String>,
    pub json: Vec<u8>,
}

/// An Alibaba call-report batch of one record per id, started at `start`.
pub fn aliyun_batch(ids: Vec<String>, start: &str) -> Body {
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
pub fn body(rng: &mut Rng, prefix: &str, n: u64, heavy: bool) -> Body {
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
pub fn push(addr: &str, fs: &PowerCutFs, b: Body, old: bool, cut: usize) -> Option<Ack> {
    try_push(addr, fs, &b).ok().map(|receipt| Ack {
        receipt,
        vendor: b.vendor,
        calls: b.calls,
        old,
        cut,
    })
}

/// Pushes `b` as a vendor does: again after a second while it is not
/// acknowledged (an error, a timeout, a 503 under load), at most `tries`
/// times. The [`Ack`], or every failure in words.
pub fn push_retrying(
    addr: &str,
    fs: &PowerCutFs,
    b: Body,
    old: bool,
    cut: usize,
    tries: usize,
) -> Result<Ack, String> {
    let mut failures = Vec::new();
    for _ in 0..tries {
        match try_push(addr, fs, &b) {
            Ok(receipt) => {
                return Ok(Ack {
                    receipt,
                    vendor: b.vendor,
                    calls: b.calls,
                    old,
                    cut,
                })
            }
            Err(e) => failures.push(e),
        }
        thread::sleep(Duration::from_secs(1));
    }
    Err(failures.join("; "))
}

/// One push: the receipt id of a 200 read before the cut, else why not.
fn try_push(addr: &str, fs: &PowerCutFs, b: &Body) -> Result<String, String> {
    let a = request(addr, "POST", b.path, Some(&b.json), Duration::from_secs(20))
        .map_err(|e| format!("request: {e}"))?;
    // Checked after the answer arrived: a 200 read before the cut was sent
    // before it. After the cut the server lives on and may still answer 200
    // (SQLite takes a failed directory open for "cannot fsync directories"):
    // nobody would see that answer on a real machine.
    if fs.is_cut() {
        return Err("answered after the cut".into());
    }
    if a.status != 200 {
        return Err(format!(
            "{}: {}",
            a.status,
            String::from_utf8_lossy(&a.body[..a.body.len().min(200)])
        ));
    }
    Ok(a.header("callhook-receipt-id")
        .expect("a 200 without Callhook-Receipt-Id")
        .to_owned())
}

/// `PUSHERS` threads pushing until `stop`.
pub struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<thread::JoinHandle<()>>,
    acks: Arc<Mutex<Vec<Ack>>>,
    sent: Arc<AtomicU64>,
}

impl Load {
    pub fn start(addr: &str, fs: &PowerCutFs, rng: &mut Rng, cut: usize, heavy: bool) -> Load {
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
    pub fn finish(self) -> (Vec<Ack>, u64) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            t.join().unwrap();
        }
        let acks = std::mem::take(&mut *self.acks.lock().unwrap());
        (acks, self.sent.load(Ordering::SeqCst))
    }
}

impl Load {
    /// [`Load::finish`]'s recording stops, then the power goes off; then
    /// the threads are joined (their requests fail once the server dies).
    pub fn finish_and_cut(
        self,
        m: &powercut::Mounted,
        server: &mut Option<Serve>,
    ) -> (Vec<Ack>, u64) {
        self.stop.store(true, Ordering::SeqCst);
        m.cut();
        drop(server.take());
        self.finish()
    }
}
