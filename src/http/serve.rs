//! The accept loop: hyper-util's HTTP/1 and HTTP/2 server over the router,
//! with `limits.header_read_timeout` against slow and idle clients (a
//! connection without a complete request head that long after accept is
//! closed, even if it sent nothing; hyper's own timer covers the waits
//! between requests of a kept-alive HTTP/1 connection), the open
//! connection caps of [`super::conn_limits`], and a graceful
//! stop: on shutdown the listener closes, idle connections close, requests
//! in progress finish and are answered (up to `limits.shutdown_timeout`).
//! axum's own `serve` has no header timeout, hence this module. With a
//! TLS acceptor ([`super::tls`]) each connection's handshake runs in its
//! own task, bounded by `limits.header_read_timeout`.

use super::conn_limits::{ConnLimits, ConnPermit, Refused};
use crate::config::Limits;
use crate::telemetry::names::CONNECTIONS_REFUSED;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower::util::Oneshot;
use tower::ServiceExt;

/// Serves `router` on `listener` (HTTPS when `tls` is given) until `stop`
/// completes, then stops gracefully. Always returns `Ok` once stopped; accept errors (e.g. out of
/// file descriptors) are logged and retried after a short pause. A
/// connection over the caps of `conns` is closed at once.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    conns: ConnLimits,
    tls: Option<TlsAcceptor>,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let builder = connection_builder(&limits);
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed; pausing");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let Some(permit) = admit(&conns, peer) else {
            continue; // dropping the stream closes it
        };
        let conn = Admitted {
            peer,
            permit,
            deadline: Instant::now() + limits.header_read_timeout,
            router: router.clone(),
            seen: Arc::new(AtomicBool::new(false)),
        };
        let _ = stream.set_nodelay(true);
        match tls.clone() {
            None => serve_plain(&builder, &graceful, stream, conn),
            Some(tls) => serve_tls(tls, builder.clone(), graceful.watcher(), stream, conn),
        }
    }
    drop(listener);
    finish_in_progress(graceful, limits.shutdown_timeout).await;
    Ok(())
}

/// HTTP/1 with `limits.header_read_timeout`, HTTP/2 with a keep-alive
/// ping every 20 s.
fn connection_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(20)));
    builder
}

/// A permit for a connection from `peer`, or `None` when it is over a cap
/// of `conns` (counted in `callhook_connections_refused_total`).
fn admit(conns: &ConnLimits, peer: SocketAddr) -> Option<ConnPermit> {
    match conns.admit(peer.ip()) {
        Ok(p) => Some(p),
        Err(why) => {
            tracing::debug!(%peer, reason = %why, "connection refused");
            metrics::counter!(CONNECTIONS_REFUSED, "reason" => refusal_label(&why)).increment(1);
            None
        }
    }
}

/// The `reason` label of a refused connection.
fn refusal_label(why: &Refused) -> &'static str {
    match why {
        Refused::Total(_) => "total",
        Refused::PerIp(_) => "per_ip",
    }
}

/// An admitted connection, before it is served.
struct Admitted {
    peer: SocketAddr,
    /// Held as long as the connection is open.
    permit: ConnPermit,
    /// The first complete request head must arrive by then.
    deadline: Instant,
    router: Router,
    /// Whether a request has arrived.
    seen: Arc<AtomicBool>,
}

impl Admitted {
    /// The connection's service: each request marks it `seen`, gets the
    /// peer's address (`ConnectInfo`) and is answered by the router.
    fn service(
        &self,
    ) -> impl Fn(hyper::Request<Incoming>) -> Oneshot<Router, axum::extract::Request> + Clone {
        let (router, peer, seen) = (self.router.clone(), self.peer, self.seen.clone());
        move |mut req: hyper::Request<Incoming>| {
            seen.store(true, Ordering::Relaxed);
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req.map(axum::body::Body::new))
        }
    }

    /// Runs `conn`, the served connection, to its end ([`first_request_by`]).
    async fn run<E: std::fmt::Display>(self, conn: impl Future<Output = Result<(), E>>) {
        let peer = self.peer;
        if let Some(Err(e)) = first_request_by(conn, self.deadline, &self.seen, self.permit).await {
            tracing::debug!(%peer, error = %e, "connection ended with an error");
        }
    }
}

/// Serves a plain-text connection in a task of its own.
fn serve_plain(
    builder: &auto::Builder<TokioExecutor>,
    graceful: &GracefulShutdown,
    stream: TcpStream,
    conn: Admitted,
) {
    let served = builder
        .serve_connection_with_upgrades(TokioIo::new(stream), service_fn(conn.service()))
        .into_owned();
    let served = graceful.watch(served);
    tokio::spawn(conn.run(served));
}

/// Serves a TLS connection in a task of its own, the handshake included:
/// it must not hold up the accept loop, and the connection must still be
/// watched for the graceful stop.
fn serve_tls(
    tls: TlsAcceptor,
    builder: auto::Builder<TokioExecutor>,
    watcher: Watcher,
    stream: TcpStream,
    conn: Admitted,
) {
    tokio::spawn(async move {
        let peer = conn.peer;
        let stream = match tokio::time::timeout_at(conn.deadline, tls.accept(stream)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        };
        let served = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service_fn(conn.service()));
        let served = watcher.watch(served.into_owned());
        conn.run(served).await;
    });
}

/// Once the listener is closed: waits up to `timeout` for the requests in
/// progress to be answered (idle connections close at once).
async fn finish_in_progress(graceful: GracefulShutdown, timeout: Duration) {
    tracing::info!("stopped accepting; finishing requests in progress");
    if tokio::time::timeout(timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            timeout = ?timeout,
            "connections still open after the shutdown timeout; stopping anyway"
        );
    }
}

/// Runs `conn` to its end, unless no request has been `seen` by
/// `deadline`: then the connection is dropped (closed) and `None` is
/// returned. `permit` is held as long as the connection is open.
async fn first_request_by<F: Future>(
    conn: F,
    deadline: Instant,
    seen: &AtomicBool,
    permit: ConnPermit,
) -> Option<F::Output> {
    let _permit = permit;
    tokio::pin!(conn);
    tokio::select! {
        out = &mut conn => Some(out),
        () = tokio::time::sleep_until(deadline) => {
            if seen.load(Ordering::Relaxed) {
                Some(conn.await)
            } else {
                tracing::debug!("no request head within header_read_timeout; closing");
                None
            }
        }
    }
}
