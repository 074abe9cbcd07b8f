//! Load for the durability, fault and limit tests: pushers that send unique
//! Alibaba call reports until told to stop and remember every answer, and
//! raw-TCP pushes that send their body slowly (requests held in flight).

#![allow(dead_code)]

use reqwest::Client;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One Alibaba call report record for call `call_id` (answered, 42 s).
pub fn report(call_id: &str) -> Value {
    json!({
        "taskId": "T-LOAD", "callId": call_id, "outId": call_id,
        "callee": "13900000000", "caller": "057100000000",
        "startTime": "2025-06-06 09:00:00", "endTime": "2025-06-06 09:00:42",
        "duration": 42, "statusCode": "200000", "smartStatusCode": "ANSWERED",
        "statusMsg": "answered"
    })
}

/// What happened to each push of a [`Pushers`] run, by call id.
#[derive(Debug, Default)]
pub struct Tally {
    /// Answered 200 `{"code":0}`: must be stored.
    pub acked: BTreeSet<String>,
    /// Answered with another status (status, call id).
    pub refused: Vec<(u16, String)>,
    /// The connection could not be made (server not listening).
    pub unconnected: Vec<String>,
    /// Sent, then no answer (connection dropped mid-request), with the error.
    pub dropped: Vec<(String, String)>,
}

enum Outcome {
    Acked,
    Refused(u16),
    Unconnected,
    Dropped(String),
}

impl Tally {
    fn record(&mut self, id: String, outcome: Outcome) {
        match outcome {
            Outcome::Acked => {
                self.acked.insert(id);
            }
            Outcome::Refused(status) => self.refused.push((status, id)),
            Outcome::Unconnected => self.unconnected.push(id),
            Outcome::Dropped(e) => self.dropped.push((id, e)),
        }
    }
}

/// `n` tasks pushing one new call each per request to `url` until
/// [`Pushers::stop`], each on a fresh connection (so a refused connection
/// is told apart from a dropped request).
pub struct Pushers {
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Pushers {
    /// Starts `n` pushers; call ids are `{prefix}-{task}-{seq}`.
    pub fn start(url: &str, prefix: &str, n: usize) -> Pushers {
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Mutex::new(Tally::default()));
        let client = Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let tasks = (0..n)
            .map(|t| {
                let (stop, tally, client) = (stop.clone(), tally.clone(), client.clone());
                let (url, prefix) = (url.to_owned(), prefix.to_owned());
                tokio::spawn(async move {
                    let mut seq = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let id = format!("{prefix}-{t}-{seq}");
                        seq += 1;
                        let body = serde_json::to_vec(&json!([report(&id)])).unwrap();
                        let sent = client
                            .post(&url)
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                            .await;
                        let outcome = match sent {
                            Ok(resp) => {
                                let status = resp.status().as_u16();
                                let json: Value = resp.json().await.unwrap_or(Value::Null);
                                if status == 200 && json == json!({"code": 0, "msg": "ok"}) {
                                    Outcome::Acked
                                } else {
                                    Outcome::Refused(status)
                                }
                            }
                            Err(e) if e.is_connect() => Outcome::Unconnected,
                            Err(e) => Outcome::Dropped(format!("{e:?}")),
                        };
                        let unconnected = matches!(outcome, Outcome::Unconnected);
                        tally.lock().unwrap().record(id, outcome);
                        if unconnected {
                            // A stopped server: back off instead of spinning.
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                })
            })
            .collect();
        Pushers { stop, tally, tasks }
    }

    /// How many pushes were acknowledged so far.
    pub fn acked(&self) -> usize {
        self.tally.lock().unwrap().acked.len()
    }

    /// Snapshot of the refused pushes so far.
    pub fn refused(&self) -> Vec<(u16, String)> {
        self.tally.lock().unwrap().refused.clone()
    }

    /// Waits until `pred` holds on the tally, or panics after `secs`.
    pub async fn wait_for(&self, secs: u64, what: &str, pred: impl Fn(&Tally) -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if pred(&self.tally.lock().unwrap()) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}: {:?}",
                self.summary()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Counts of each outcome, for failure messages.
    pub fn summary(&self) -> (usize, usize, usize, usize) {
        let t = self.tally.lock().unwrap();
        (
            t.acked.len(),
            t.refused.len(),
            t.unconnected.len(),
            t.dropped.len(),
        )
    }

    /// Stops every pusher after its current request and gives the tally.
    pub async fn stop(self) -> Tally {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            t.await.expect("pusher task");
        }
        std::mem::take(&mut *self.tally.lock().unwrap())
    }
}

/// A push over raw TCP whose body is sent in two parts, so the request is
/// held in flight in between.
pub struct SlowPush {
    stream: TcpStream,
    rest: Vec<u8>,
}

impl SlowPush {
    /// Connects to `addr` (`host:port`), sends the headers of a push of
    /// `body` to `path` and the first `sent` bytes of the body.
    pub async fn begin(addr: &str, path: &str, body: &[u8], sent: usize) -> SlowPush {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Connection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&body[..sent]).await.unwrap();
        stream.flush().await.unwrap();
        SlowPush {
            stream,
            rest: body[sent..].to_vec(),
        }
    }

    /// Sends the rest of the body and reads the answer: status and body.
    pub async fn finish(mut self) -> (u16, String) {
        let rest = std::mem::take(&mut self.rest);
        self.stream.write_all(&rest).await.expect("send the rest");
        self.answer().await
    }

    /// Reads the answer without sending more: status and body text (status
    /// 0 when the connection closed without an answer).
    pub async fn answer(mut self) -> (u16, String) {
        let mut raw = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(60), self.stream.read_to_end(&mut raw)).await;
        assert!(read.is_ok(), "no answer within 60 s");
        parse_answer(&raw)
    }
}

/// Status code and body of a raw HTTP/1.1 answer (0 and "" for none).
pub fn parse_answer(raw: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}
