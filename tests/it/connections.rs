//! Connection-level limits: slow request bodies on the dashboard and API
//! are cut off by `body_read_timeout` and never take a push's admission
//! slot (pushes are a class of their own); a connection that sends no
//! complete request head within `header_read_timeout` is closed, even if
//! it sent nothing; one peer address cannot hold more than
//! `max_connections_per_ip` connections while others still get `/healthz`.

use crate::load::{parse_answer, report};
use crate::support::{body, spawn_app_with, TestApp};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

fn addr(app: &TestApp) -> SocketAddr {
    app.base.trim_start_matches("http://").parse().unwrap()
}

/// A `POST /login` whose headers promise 100 body bytes and whose body
/// sends one.
async fn slow_login(app: &TestApp) -> TcpStream {
    let mut s = TcpStream::connect(addr(app)).await.unwrap();
    let head =
        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                Content-Length: 100\r\n\r\nt";
    s.write_all(head.as_bytes()).await.unwrap();
    s
}

/// Reads until the server closes: status (0 for none) and body.
async fn answer_of(mut s: TcpStream, within: Duration) -> (u16, String) {
    let mut raw = Vec::new();
    let read = tokio::time::timeout(within, s.read_to_end(&mut raw)).await;
    assert!(read.is_ok(), "the server kept the connection open");
    parse_answer(&raw)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_login_bodies_fill_only_their_class_and_pushes_still_succeed() {
    let app = spawn_app_with(
        "[limits]\nmax_concurrent_api_requests = 2\nmax_concurrent_requests = 2\nbody_read_timeout = \"3s\"\n",
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(slow_login(&app).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The dashboard class is full: another dashboard request is refused…
    let page = app.client.get(app.url("/calls")).send().await.unwrap();
    assert_eq!(page.status(), 503);
    // …and pushes do not care.
    for i in 0..3 {
        let push = body(&Value::Array(vec![report(&format!("during-{i}"))]));
        app.push_ok("aliyun-call-report", push).await;
    }
    // The held bodies are cut off by the body read timeout.
    let started = Instant::now();
    let mut statuses = Vec::new();
    for s in held {
        statuses.push(answer_of(s, Duration::from_secs(15)).await.0);
    }
    assert!(statuses.contains(&408), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 408 || *s == 503),
        "{statuses:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(15));
    let page = app.client.get(app.url("/calls")).send().await.unwrap();
    assert_eq!(page.status(), 200, "the class has room again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_api_or_form_body_is_408() {
    let app = spawn_app_with("[limits]\nbody_read_timeout = \"300ms\"\n").await;
    let started = Instant::now();
    let (status, text) = answer_of(slow_login(&app).await, Duration::from_secs(10)).await;
    assert_eq!(status, 408, "{text}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(
        b"POST /api/v1/deliveries/retry HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{",
    )
    .await
    .unwrap();
    let (status, text) = answer_of(s, Duration::from_secs(10)).await;
    assert_eq!(status, 408, "{text}");
    assert!(text.contains("\"timeout\""), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_after_the_header_timeout() {
    let app = spawn_app_with("[limits]\nheader_read_timeout = \"300ms\"\n").await;
    let started = Instant::now();
    let silent = TcpStream::connect(addr(&app)).await.unwrap();
    let mut partial = TcpStream::connect(addr(&app)).await.unwrap();
    partial.write_all(b"G").await.unwrap();
    assert_eq!(answer_of(silent, Duration::from_secs(5)).await.0, 0);
    assert_eq!(answer_of(partial, Duration::from_secs(5)).await.0, 0);
    assert!(started.elapsed() >= Duration::from_millis(250));
    // A kept-alive connection idle after its first answer is closed too.
    let mut kept = TcpStream::connect(addr(&app)).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (status, _) = answer_of(kept, Duration::from_secs(5)).await;
    assert_eq!(status, 200);
}

async fn healthz_from(local: &str, to: SocketAddr) -> u16 {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{local}:0").parse().unwrap()).unwrap();
    let mut s = socket.connect(to).await.unwrap();
    // A refused connection may be closed before the request is written.
    let _ = s
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await;
    answer_of(s, Duration::from_secs(5)).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_peer_cannot_hold_more_than_its_connections_and_others_still_get_healthz() {
    let app =
        spawn_app_with("[limits]\nmax_connections_per_ip = 3\nheader_read_timeout = \"20s\"\n")
            .await;
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(TcpStream::connect(addr(&app)).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The fourth from the same address is closed at once, unanswered.
    assert_eq!(healthz_from("127.0.0.1", addr(&app)).await, 0);
    // Another peer is served.
    assert_eq!(healthz_from("127.0.0.2", addr(&app)).await, 200);
    // A closed connection gives its place back.
    drop(idle.pop());
    let mut status = 0;
    for _ in 0..50 {
        status = healthz_from("127.0.0.1", addr(&app)).await;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200);
}
