//! The real `callhook` binary for the CLI and restart tests: one-shot
//! commands ([`Binary`]) and a `serve` child killed on drop ([`Server`]).

#![allow(dead_code)]

use reqwest::{Client, StatusCode};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `callhook` binary built for this test run.
pub struct Binary;

impl Binary {
    /// A command for the binary with no `CALLHOOK_*` variable inherited,
    /// running in `dir`.
    pub fn command(dir: &Path) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_callhook"));
        for (k, _) in std::env::vars() {
            if k.starts_with("CALLHOOK_") {
                cmd.env_remove(k);
            }
        }
        cmd.current_dir(dir);
        cmd
    }

    /// Runs the binary with `args` in `dir` to completion. A command that
    /// has not exited after a minute (a `serve` that should have refused to
    /// start) is killed and the test fails, rather than hanging.
    pub fn run(dir: &Path, args: &[&str]) -> Output {
        Binary::finish(Binary::command(dir).args(args), args)
    }

    /// Runs `cmd` (made by [`Binary::command`]) as [`Binary::run`] does.
    pub fn finish(cmd: &mut Command, what: &[&str]) -> Output {
        Binary::wait(cmd, Duration::from_secs(60), what)
    }

    /// Runs `cmd` (made by [`Binary::command`]) to completion; killed, and
    /// the test failed, after two minutes (an export of many calls).
    pub fn capture(cmd: &mut Command) -> Output {
        Binary::wait(cmd, Duration::from_secs(120), &[])
    }

    /// Runs `cmd`, reading its stdout and stderr while it runs (an output
    /// larger than a pipe's buffer must not block it); killed, and the test
    /// failed, when it has not exited within `limit`.
    fn wait(cmd: &mut Command, limit: Duration, what: &[&str]) -> Output {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run callhook");
        let drain = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = r.read_to_end(&mut buf);
                buf
            })
        };
        let out = drain(Box::new(child.stdout.take().expect("stdout")));
        let err = drain(Box::new(child.stderr.take().expect("stderr")));
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let err = err.join().unwrap_or_default();
                panic!(
                    "callhook {what:?} did not exit: {}",
                    String::from_utf8_lossy(&err)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Output {
            status,
            stdout: out.join().expect("stdout read"),
            stderr: err.join().expect("stderr read"),
        }
    }
}

/// A `callhook serve` child process, killed (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    stderr: PathBuf,
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Server {
    /// Starts `callhook serve` on a free port over `database` (a `sqlite://`
    /// URL), logging to a file in `dir`, and waits until `/healthz` answers.
    pub async fn start(dir: &Path, database: &str) -> Server {
        Server::start_with(dir, database, None).await
    }

    /// [`Server::start`] with `--config config` when given.
    pub async fn start_with(dir: &Path, database: &str, config: Option<&Path>) -> Server {
        Server::start_custom(dir, database, config, |_| {}).await
    }

    /// [`Server::start_with`], with `customize` adding arguments or
    /// variables to the command; stdout and stderr both go to the log.
    pub async fn start_custom(
        dir: &Path,
        database: &str,
        config: Option<&Path>,
        customize: impl FnOnce(&mut Command),
    ) -> Server {
        let port = free_port();
        let stderr = dir.join(format!("serve-{port}.log"));
        let log = std::fs::File::create(&stderr).expect("log file");
        let out = log.try_clone().expect("log file");
        let mut cmd = Binary::command(dir);
        cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--database", database])
            .args(config.map(|c| format!("--config={}", c.display())));
        customize(&mut cmd);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(log)
            .spawn()
            .expect("spawn callhook serve");
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            stderr,
        };
        server.wait_healthy().await;
        server
    }

    async fn wait_healthy(&mut self) {
        let client = Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(format!("{}/healthz", self.base)).send().await {
                if r.status() == StatusCode::OK {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("callhook serve exited with {status}: {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "callhook serve did not answer /healthz: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the server wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Sends SIGTERM (graceful shutdown), without waiting.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits up to `secs` for the process to exit; its exit status.
    pub async fn wait_exit(&mut self, secs: u64) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "callhook serve still running {secs} s after SIGTERM: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every `vendor_call_id` listed by `GET /api/v1/calls`, all pages.
    pub async fn all_call_ids(&self) -> std::collections::BTreeSet<String> {
        let client = Client::new();
        self.settle(&client).await;
        let mut ids = std::collections::BTreeSet::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{}/api/v1/calls?limit=1000", self.base);
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={}", crate::support::urlencode(c)));
            }
            let page: serde_json::Value = client
                .get(&url)
                .send()
                .await
                .expect("list calls")
                .json()
                .await
                .expect("JSON page");
            for c in page["items"].as_array().expect("items") {
                ids.insert(c["vendor_call_id"].as_str().expect("id").to_owned());
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return ids,
            }
        }
    }

    /// Waits until no receipt is pending (projected after a restart too);
    /// panics after 60 s.
    pub async fn settle(&self, client: &Client) {
        let url = format!("{}/api/v1/receipts?status=pending&limit=1", self.base);
        for _ in 0..12_000 {
            let page: serde_json::Value = client
                .get(&url)
                .send()
                .await
                .expect("list receipts")
                .json()
                .await
                .expect("JSON page");
            if page["items"].as_array().is_some_and(|a| a.is_empty()) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!("receipts still pending after 60 s");
    }

    /// `GET path` as JSON (asserting 200).
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let resp = Client::new()
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.expect("JSON")
    }

    /// Kills the process with SIGKILL (no graceful shutdown) and reaps it.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
