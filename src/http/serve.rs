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
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
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
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(20)));
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
        let permit = match conns.admit(peer.ip()) {
            Ok(p) => p,
            Err(why) => {
                tracing::debug!(%peer, reason = %why, "connection refused");
                let reason = match why {
                    Refused::Total(_) => "total",
                    Refused::PerIp(_) => "per_ip",
                };
                metrics::counter!(CONNECTIONS_REFUSED, "reason" => reason).increment(1);
                continue; // dropping the stream closes it
            }
        };
        // The first complete request head must arrive by then.
        let deadline = Instant::now() + limits.header_read_timeout;
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let seen = Arc::new(AtomicBool::new(false));
        let service = {
            let seen = seen.clone();
            hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                seen.store(true, Ordering::Relaxed);
                req.extensions_mut().insert(ConnectInfo(peer));
                router.clone().oneshot(req.map(axum::body::Body::new))
            })
        };
        let Some(tls) = tls.clone() else {
            let conn = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .into_owned();
            let conn = graceful.watch(conn);
            tokio::spawn(async move {
                if let Some(Err(e)) = first_request_by(conn, deadline, &seen, permit).await {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
            });
            continue;
        };
        // The handshake must not hold up the accept loop, and the
        // connection must still be watched for the graceful stop.
        let (builder, watcher) = (builder.clone(), graceful.watcher());
        tokio::spawn(async move {
            let stream = match tokio::time::timeout_at(deadline, tls.accept(stream)).await {
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
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let conn = watcher.watch(conn.into_owned());
            if let Some(Err(e)) = first_request_by(conn, deadline, &seen, permit).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("stopped accepting; finishing requests in progress");
    if tokio::time::timeout(limits.shutdown_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            timeout = ?limits.shutdown_timeout,
            "connections still open after the shutdown timeout; stopping anyway"
        );
    }
    Ok(())
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
