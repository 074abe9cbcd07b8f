//! [`TestReceiver`]: a webhook subscriber on 127.0.0.1:0 that records every
//! request (headers, body, when) and answers from a script, like Svix's
//! `TestReceiver`. It verifies Standard Webhooks signatures itself.

#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The signing secret the tests configure.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// One answer: status, extra headers, and how long to wait before it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            delay: Duration::ZERO,
            headers: vec![],
            body: "answer".into(),
        }
    }
    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
    pub fn body(mut self, body: &str) -> Reply {
        self.body = body.to_owned();
        self
    }
    pub fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_owned()));
        self
    }
}

/// A request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
    pub body: Vec<u8>,
    pub event: serde_json::Value,
    /// Whether the signature verified with [`SECRET`].
    pub signed: bool,
    pub at: Instant,
    /// The status it was answered (recorded once the answer is sent).
    pub answered: u16,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    then: Option<Reply>,
    got: Vec<Received>,
}

#[derive(Clone)]
pub struct TestReceiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl TestReceiver {
    /// Starts a receiver answering `script` in order, then `then` forever.
    pub async fn start(script: Vec<Reply>, then: Reply) -> TestReceiver {
        let inner = Arc::new(Mutex::new(Inner {
            script: script.into(),
            then: Some(then),
            got: vec![],
        }));
        let app = Router::new()
            .route("/hook", post(handle))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestReceiver { url, inner }
    }

    /// Answers `reply` from now on (after the script).
    pub fn answer(&self, reply: Reply) {
        self.inner.lock().unwrap().then = Some(reply);
    }

    /// Every request so far, in arrival order.
    pub fn got(&self) -> Vec<Received> {
        self.inner.lock().unwrap().got.clone()
    }

    /// Waits (at most `within`) until `cond` holds on the requests.
    pub async fn until(
        &self,
        within: Duration,
        what: &str,
        cond: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let end = Instant::now() + within;
        loop {
            let got = self.got();
            if cond(&got) {
                return got;
            }
            assert!(
                Instant::now() < end,
                "receiver: timed out waiting until {what}; got {} requests",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The requests answered 2xx.
    pub fn acknowledged(&self) -> Vec<Received> {
        self.got()
            .into_iter()
            .filter(|r| (200..300).contains(&r.answered))
            .collect()
    }
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (id, signature) = (h("webhook-id"), h("webhook-signature"));
    let timestamp: i64 = h("webhook-timestamp").parse().unwrap_or(-1);
    let key = callhook::config::secret_key(&SECRET.to_owned().into()).unwrap();
    let signed = callhook::worker::signing::verify(&key, &id, timestamp, &body, &signature);
    let (reply, index) = {
        let mut i = inner.lock().unwrap();
        let reply = i.script.pop_front().or_else(|| i.then.clone()).unwrap();
        i.got.push(Received {
            id,
            timestamp,
            signature,
            event: serde_json::from_slice(&body).unwrap_or_default(),
            body: body.to_vec(),
            signed,
            at: Instant::now(),
            answered: 0,
        });
        (reply, i.got.len() - 1)
    };
    tokio::time::sleep(reply.delay).await;
    inner.lock().unwrap().got[index].answered = reply.status;
    let mut resp = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (k, v) in reply.headers {
        resp.headers_mut().insert(k, v.parse().unwrap());
    }
    resp
}
