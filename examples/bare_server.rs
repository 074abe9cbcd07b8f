//! The baseline for `bench/load.sh`: a bare hyper server that reads the whole
//! request body and answers 200 `{"code":0,"msg":"ok"}`, doing nothing else.
//! It serves connections the way callhook's `src/http/serve.rs` does
//! (hyper-util's auto HTTP/1+2 builder, TCP_NODELAY, a multi-threaded tokio
//! runtime), so the gap between the two is callhook's own work: routing,
//! limits, parsing, storing, committing.
//!
//! Usage: `bare_server [ADDR]` (default `127.0.0.1:0`); the first line on
//! stdout is `listening on IP:PORT`.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::time::Duration;
use tokio::net::TcpListener;

const ACK: &[u8] = br#"{"code":0,"msg":"ok"}"#;

async fn ack(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    // Read the body to its end, as callhook must before it can answer.
    req.into_body().collect().await?;
    let mut res = Response::new(Full::new(Bytes::from_static(ACK)));
    res.headers_mut().insert(
        CONTENT_TYPE,
        "application/json".parse().expect("valid header"),
    );
    Ok(res)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = TcpListener::bind(&addr).await?;
    // stdout is line-buffered: the line reaches a pipe as soon as it is printed.
    println!("listening on {}", listener.local_addr()?);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: wait, as axum::serve does,
            // instead of exiting in the middle of a benchmark.
            Err(e) => {
                eprintln!("accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let builder = auto::Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection(TokioIo::new(stream), service_fn(ack));
            // A client that goes away mid-request is not the server's problem.
            let _ = conn.await;
        });
    }
}
