//! The real `callhook` binary for the CLI and restart tests: one-shot
//! commands ([`Binary`]) and a `serve` child killed on drop ([`Server`]).

#![allow(dead_code)]

use reqwest::{Client, StatusCode};
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
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run callhook");
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().expect("wait").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let out = child.wait_with_output().expect("reap");
                panic!(
                    "callhook {what:?} did not exit: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().expect("output")
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
        let port = free_port();
        let stderr = dir.join(format!("serve-{port}.log"));
        let log = std::fs::File::create(&stderr).expect("log file");
        let child = Binary::command(dir)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--database", database])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
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
