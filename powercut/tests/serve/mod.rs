//! Helpers for the `callhook serve` power-cut test: a minimal HTTP/1.1
//! client and webhook receiver on `std::net`, and the `callhook` processes.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// An HTTP answer: status, headers (names lower-cased), body.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "answer {} is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// One request on a fresh connection (`Connection: close`), with `timeout`
/// for connecting, each read and each write.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
    timeout: Duration,
) -> io::Result<Answer> {
    let sock = addr
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut s = TcpStream::connect_timeout(&sock, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(b) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    if let Some(b) = body {
        s.write_all(b)?;
    }
    let mut r = BufReader::new(s);
    let (status, headers) = read_head(&mut r)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "no answer"))?;
    let status: u16 = status
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, status.clone()))?;
    let body = read_body(&mut r, &headers, true)?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// The start line and headers of a message; `None` at a clean end of stream.
/// A message's start line and headers.
type Head = (String, Vec<(String, String)>);

fn read_head(r: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let start = line.trim_end().to_owned();
    let mut headers = Vec::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            return Ok(Some((start, headers)));
        }
        if let Some((n, v)) = l.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
}

/// A message body: `Content-Length`, chunked, or (answers only) to the end.
fn read_body(
    r: &mut impl BufRead,
    headers: &[(String, String)],
    to_end: bool,
) -> io::Result<Vec<u8>> {
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if let Some(len) = get("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "content-length"))?;
        body.resize(len, 0);
        r.read_exact(&mut body)?;
    } else if get("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut line = String::new();
            r.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "chunk size"))?;
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if to_end {
        r.read_to_end(&mut body)?;
    }
    Ok(body)
}

/// What the webhook receiver got, by `webhook-id` (the event id): how many
/// times, and the last body.
#[derive(Default)]
pub struct Received {
    pub count: HashMap<String, u32>,
    pub body: HashMap<String, Vec<u8>>,
}

/// A webhook subscriber that answers 200 to every POST and counts
/// `webhook-id`s; serves until the test ends.
pub struct Receiver {
    pub addr: String,
    pub got: Arc<Mutex<Received>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
        let addr = l.local_addr().unwrap().to_string();
        let got = Arc::new(Mutex::new(Received::default()));
        let g = got.clone();
        thread::spawn(move || {
            for s in l.incoming().flatten() {
                let g = g.clone();
                thread::spawn(move || {
                    let _ = serve_conn(s, &g);
                });
            }
        });
        Receiver { addr, got }
    }
}

fn serve_conn(s: TcpStream, got: &Mutex<Received>) -> io::Result<()> {
    let mut w = s.try_clone()?;
    let mut r = BufReader::new(s);
    while let Some((_, headers)) = read_head(&mut r)? {
        let body = read_body(&mut r, &headers, false)?;
        if let Some((_, id)) = headers.iter().find(|(n, _)| n == "webhook-id") {
            let mut g = got.lock().unwrap();
            *g.count.entry(id.clone()).or_default() += 1;
            g.body.insert(id.clone(), body);
        }
        w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")?;
    }
    Ok(())
}

/// The callhook binary: `CALLHOOK_BIN`, else `../target/debug/callhook`
/// beside this crate.
pub fn callhook_bin() -> PathBuf {
    let p = std::env::var_os("CALLHOOK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/callhook"));
    assert!(
        p.is_file(),
        "no callhook binary at {} (build it with `cargo build` at the repository root, or set CALLHOOK_BIN)",
        p.display()
    );
    p
}

/// A `callhook` command with no inherited `CALLHOOK_*` variable, in `dir`.
pub fn command(dir: &Path) -> Command {
    let mut cmd = Command::new(callhook_bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("CALLHOOK_") {
            cmd.env_remove(k);
        }
    }
    cmd.current_dir(dir).stdin(Stdio::null());
    cmd
}

/// Runs a one-shot `callhook` command to completion (killed after `limit`).
pub fn run(dir: &Path, args: &[&str], limit: Duration) -> Output {
    let log = dir.join("oneshot.log");
    let mut child = command(dir)
        .args(args)
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(dir.join("oneshot.err")).unwrap())
        .spawn()
        .expect("run callhook");
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("callhook {args:?} did not finish in {limit:?}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: std::fs::read(&log).unwrap_or_default(),
        stderr: std::fs::read(dir.join("oneshot.err")).unwrap_or_default(),
    }
}

/// Sends `signal` to a child (no-op when it has exited).
pub fn signal(child: &Child, signal: i32) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
}

/// Kills (SIGKILL) and reaps a child.
pub fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A `callhook serve` child; SIGKILLed when dropped.
pub struct Serve {
    pub child: Child,
    pub addr: String,
    pub log: PathBuf,
}

impl Serve {
    /// Starts `callhook serve` on a free port over `db` (a file path) with
    /// `config`, logging into `dir` (off the mount), and waits for `/healthz`.
    pub fn start(dir: &Path, db: &Path, config: &Path, what: &str) -> Serve {
        Serve::start_with(dir, db, config, what, &[])
    }

    /// [`Serve::start`] with extra environment variables (`LD_PRELOAD`, …).
    pub fn start_with(
        dir: &Path,
        db: &Path,
        config: &Path,
        what: &str,
        env: &[(&str, &str)],
    ) -> Serve {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let log = dir.join(format!("serve-{port}.log"));
        let f = std::fs::File::create(&log).unwrap();
        let child = command(dir)
            .args(["serve", "--listen", &addr])
            .arg("--database")
            .arg(format!("sqlite://{}", db.display()))
            .arg("--config")
            .arg(config)
            .envs(env.iter().copied())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .expect("spawn callhook serve");
        let mut s = Serve { child, addr, log };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(a) = s.get("/healthz") {
                if a.status == 200 {
                    return s;
                }
            }
            if let Ok(Some(st)) = s.child.try_wait() {
                panic!("{what}: callhook serve exited with {st}: {}", s.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "{what}: callhook serve did not answer /healthz in 60 s: {}",
                s.log_text()
            );
            thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn log_text(&self) -> String {
        let t = std::fs::read_to_string(&self.log).unwrap_or_default();
        let n = t.len().saturating_sub(4000);
        t[t.floor_char_boundary_compat(n)..].to_owned()
    }

    pub fn get(&self, path: &str) -> io::Result<Answer> {
        request(&self.addr, "GET", path, None, Duration::from_secs(30))
    }

    /// Polls `path` (a list) until its `items` are empty; panics after `secs`.
    pub fn wait_empty(&self, path: &str, secs: u64, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Ok(a) = self.get(path) {
                if a.status == 200 && a.json()["items"].as_array().is_some_and(|i| i.is_empty()) {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{what}: {path} still not empty after {secs} s: {}",
                self.log_text()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then SIGKILL if it has not exited within `secs`.
    pub fn stop(mut self, secs: u64) -> Option<ExitStatus> {
        signal(&self.child, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            thread::sleep(Duration::from_millis(20));
        }
        kill(&mut self.child);
        None
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

trait CharBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl CharBoundary for String {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        while i > 0 && !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

/// The bytes a [`FileServer`] serves at `/rec/{n}`: `len` bytes from a
/// generator seeded by `n` (each file different, reproducible).
pub fn file_bytes(n: u64, len: usize) -> Vec<u8> {
    let mut x = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A vendor's recording server: `GET /rec/{n}/{len}` answers 200 with
/// [`file_bytes`]`(n, len)` and its `Content-Length`, sent in 64 KiB
/// pieces `pause` apart (so a download takes a while); counts requests.
pub struct FileServer {
    pub addr: String,
    pub requests: Arc<Mutex<u64>>,
}

impl FileServer {
    pub fn start(pause: Duration) -> FileServer {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind the file server");
        let addr = l.local_addr().unwrap().to_string();
        let requests = Arc::new(Mutex::new(0));
        let count = requests.clone();
        thread::spawn(move || {
            for s in l.incoming().flatten() {
                let count = count.clone();
                thread::spawn(move || {
                    let _ = serve_file(s, &count, pause);
                });
            }
        });
        FileServer { addr, requests }
    }

    /// The URL of file `n` of `len` bytes.
    pub fn url(&self, n: u64, len: usize) -> String {
        format!("http://{}/rec/{n}/{len}", self.addr)
    }
}

fn serve_file(s: TcpStream, count: &Mutex<u64>, pause: Duration) -> io::Result<()> {
    let mut w = s.try_clone()?;
    let mut r = BufReader::new(s);
    let Some((start, _)) = read_head(&mut r)? else {
        return Ok(());
    };
    *count.lock().unwrap() += 1;
    let path = start.split(' ').nth(1).unwrap_or("");
    let parts: Vec<u64> = path
        .trim_start_matches("/rec/")
        .split('/')
        .filter_map(|p| p.parse().ok())
        .collect();
    let [n, len] = parts[..] else {
        return w.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
    };
    let body = file_bytes(n, len as usize);
    w.write_all(
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: audio/wav\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )?;
    for piece in body.chunks(64 * 1024) {
        w.write_all(piece)?;
        thread::sleep(pause);
    }
    Ok(())
}
