//! Turning one HTTP exchange into a [`SendResult`]: status classes, the
//! body excerpt, `Retry-After`, and readable transport errors.

use crate::worker::{SendKind, SendResult};
use std::error::Error as _;
use std::fmt::Write as _;
use std::time::Duration;

/// At most this much of a response body is read.
pub(super) const MAX_BODY_BYTES: usize = 64 * 1024;
/// At most this many characters of the body go into the error.
pub(super) const EXCERPT_CHARS: usize = 200;
/// `Retry-After` is capped at this.
pub(super) const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// A failed attempt with no response (or none worth reading).
pub(super) fn failed(error: String) -> SendResult {
    SendResult {
        kind: SendKind::Failed,
        status: None,
        error: Some(error),
        retry_after: None,
    }
}

/// Classifies a response: 2xx delivered, 410 gone, anything else failed
/// with `HTTP <status>: <excerpt>`; `Retry-After` is read on every
/// non-2xx answer. Reads at most [`MAX_BODY_BYTES`] of the body (all of it
/// a 2xx sends, up to that, so the connection can be reused). `now` is
/// when the request was sent; `timeout` the client's, for messages.
pub(super) async fn classify(
    mut response: reqwest::Response,
    now: jiff::Timestamp,
    timeout: Option<Duration>,
) -> SendResult {
    let status = response.status();
    let (body, body_error) = read_prefix(&mut response).await;
    if status.is_success() {
        return SendResult {
            kind: SendKind::Delivered,
            status: Some(status.as_u16()),
            error: None,
            retry_after: None,
        };
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, now));
    let mut error = format!("HTTP {}", status.as_u16());
    if status.is_redirection() {
        let location = response.headers().get(reqwest::header::LOCATION);
        let location = location.and_then(|v| v.to_str().ok()).unwrap_or("nowhere");
        let _ = write!(
            error,
            " (redirect to {} not followed)",
            excerpt(location.as_bytes())
        );
    }
    let text = excerpt(&body);
    if !text.is_empty() {
        let _ = write!(error, ": {text}");
    }
    if let Some(e) = body_error {
        let _ = write!(
            error,
            " (reading the body failed: {})",
            describe(e, timeout)
        );
    }
    let kind = if status == reqwest::StatusCode::GONE {
        SendKind::Gone
    } else {
        SendKind::Failed
    };
    SendResult {
        kind,
        status: Some(status.as_u16()),
        error: Some(error),
        retry_after,
    }
}

/// Up to [`MAX_BODY_BYTES`] of the body, and the error that cut it short.
async fn read_prefix(response: &mut reqwest::Response) -> (Vec<u8>, Option<reqwest::Error>) {
    let mut body = Vec::new();
    while body.len() < MAX_BODY_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_BODY_BYTES - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) => break,
            Err(e) => return (body, Some(e)),
        }
    }
    (body, None)
}

/// The first [`EXCERPT_CHARS`] characters of `bytes` (lossy UTF-8), with
/// runs of whitespace and control characters folded to one space.
pub(super) fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    let mut pending_space = false;
    for c in text.chars().take(EXCERPT_CHARS) {
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// A `Retry-After` value as a delay from `now`: delta-seconds, or an
/// HTTP-date (IMF-fixdate, or any RFC 2822 date; the obsolete RFC 850 and
/// asctime forms are not read). A date in the past is zero; everything is
/// capped at 24 hours; anything unreadable is `None`.
pub fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: too many of them only means "very long".
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    static PARSER: jiff::fmt::rfc2822::DateTimeParser = jiff::fmt::rfc2822::DateTimeParser::new();
    let at = PARSER.parse_timestamp(value).ok()?;
    let delay = at.duration_since(now);
    if delay.is_negative() {
        return Some(Duration::ZERO);
    }
    Some(Duration::try_from(delay).ok()?.min(MAX_RETRY_AFTER))
}

/// A transport error as one line: `timed out after 15s` for timeouts,
/// otherwise every cause in the chain joined by `: ` (so a refusal from
/// [`crate::worker::ssrf::GuardedResolver`] shows). `timeout` is the
/// client's; `None` when unknown. The URL is left out (it may carry a
/// token in its query).
pub(super) fn describe(error: reqwest::Error, timeout: Option<Duration>) -> String {
    if error.is_timeout() {
        return match timeout {
            Some(t) => format!("timed out after {}", human(t)),
            None => "timed out".to_owned(),
        };
    }
    let error = error.without_url();
    let mut parts = vec![error.to_string()];
    let mut cause = error.source();
    while let Some(e) = cause {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cause = e.source();
    }
    parts.join(": ")
}

/// `15s`, `200ms`, `1.5s`.
fn human(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_caps_them() {
        let now = at("2024-03-05T10:00:00Z");
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("999999999999999999999999", now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(parse_retry_after("90000", now), Some(MAX_RETRY_AFTER));
        let date = "Tue, 05 Mar 2024 10:02:00 GMT";
        assert_eq!(parse_retry_after(date, now), Some(Duration::from_secs(120)));
        let offset = "Tue, 05 Mar 2024 11:00:30 +0100";
        assert_eq!(
            parse_retry_after(offset, now),
            Some(Duration::from_secs(30))
        );
        let past = "Mon, 04 Mar 2024 10:00:00 GMT";
        assert_eq!(parse_retry_after(past, now), Some(Duration::ZERO));
        let far = "Fri, 05 Apr 2024 10:00:00 GMT";
        assert_eq!(parse_retry_after(far, now), Some(MAX_RETRY_AFTER));
        for bad in ["", "-1", "1.5", "soon", "Tuesday, 05-Mar-24 10:02:00 GMT"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn excerpt_keeps_200_characters_on_one_line() {
        assert_eq!(
            excerpt(b"  down\n\tfor   maintenance \r\n"),
            "down for maintenance"
        );
        let long = "\u{00e9}".repeat(300);
        let cut = excerpt(long.as_bytes());
        assert_eq!(cut.chars().count(), EXCERPT_CHARS);
        assert_eq!(excerpt(b"ok \xff\xfe"), "ok \u{fffd}\u{fffd}");
        assert_eq!(excerpt(b""), "");
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human(Duration::from_secs(15)), "15s");
        assert_eq!(human(Duration::from_millis(200)), "200ms");
        assert_eq!(human(Duration::from_millis(1500)), "1.5s");
    }
}
