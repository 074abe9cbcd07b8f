//! One push delivered the way a vendor does: sent, judged by the vendor's
//! rule, and sent again after each delay of its retry schedule until it is
//! accepted or the schedule runs out.

use super::Profile;
use crate::signature::Signer;
use std::time::{Duration, Instant};

/// How the simulated vendor authenticates: a source token
/// (`Authorization: Bearer`) and, for the signed kinds, a signature made
/// afresh for each attempt (Retell's timestamp must be recent).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub token: Option<String>,
    pub signer: Option<Signer>,
}

/// One attempt, as `callhook simulate` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first send.
    pub number: usize,
    /// The HTTP status, if an answer came in time.
    pub status: Option<u16>,
    /// Why the vendor would count it failed; `None` when accepted.
    pub error: Option<String>,
    /// From sending to the end of the answer (or the timeout).
    pub elapsed: Duration,
    /// The wait before the next attempt (already scaled); `None` when this
    /// was the last.
    pub next_in: Option<Duration>,
}

/// How a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub accepted: bool,
    pub attempts: Vec<Attempt>,
}

/// Sends `body` to `url` as `profile`'s vendor would, retrying on its
/// schedule with every delay multiplied by `time_scale` (the request
/// timeout is not scaled), and calls `on_attempt` after each attempt.
/// `auth` says what is sent to authenticate each attempt.
pub async fn deliver(
    client: &reqwest::Client,
    url: &str,
    auth: &Credentials,
    profile: &Profile,
    body: Vec<u8>,
    time_scale: f64,
    mut on_attempt: impl FnMut(&Attempt),
) -> Outcome {
    let mut attempts = Vec::new();
    for number in 1..=profile.retry_schedule.len() + 1 {
        let started = Instant::now();
        let (status, error) = send(client, url, auth, profile, body.clone()).await;
        let next_in = match error {
            None => None,
            Some(_) => profile
                .retry_schedule
                .get(number - 1)
                .map(|d| d.mul_f64(time_scale.max(0.0))),
        };
        let attempt = Attempt {
            number,
            status,
            error,
            elapsed: started.elapsed(),
            next_in,
        };
        on_attempt(&attempt);
        let accepted = attempt.error.is_none();
        attempts.push(attempt);
        match (accepted, next_in) {
            (true, _) => {
                return Outcome {
                    accepted: true,
                    attempts,
                }
            }
            (false, Some(wait)) => tokio::time::sleep(wait).await,
            (false, None) => break,
        }
    }
    Outcome {
        accepted: false,
        attempts,
    }
}

async fn send(
    client: &reqwest::Client,
    url: &str,
    auth: &Credentials,
    profile: &Profile,
    body: Vec<u8>,
) -> (Option<u16>, Option<String>) {
    let mut req = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, profile.content_type)
        .timeout(profile.timeout);
    if let Some(s) = &auth.signer {
        for (name, value) in s.sign(&body, jiff::Timestamp::now()) {
            req = req.header(name, value);
        }
    }
    req = req.body(body);
    if let Some(t) = &auth.token {
        req = req.bearer_auth(t);
    }
    let answer = async {
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await?;
        Ok::<_, reqwest::Error>((status, bytes))
    };
    match answer.await {
        Ok((status, bytes)) => (Some(status), profile.judge(status, &bytes).err()),
        Err(e) if e.is_timeout() => (
            None,
            Some(format!("no answer within {:?}", profile.timeout)),
        ),
        Err(e) => {
            let mut msg = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                msg.push_str(&format!(": {c}"));
                cause = c.source();
            }
            (None, Some(msg))
        }
    }
}
