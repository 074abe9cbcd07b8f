//! When a signed recording URL stops working, read from its query string,
//! so the call page can say when a link dies and the recordings archive
//! knows until when to retry a download.
//!
//! Understood signatures (query keys compared without regard to case):
//! - Alibaba OSS V1, AWS S3 V2 and CloudFront: `Expires=<epoch seconds>`;
//! - AWS SigV4: `X-Amz-Date=20260326T122200Z` + `X-Amz-Expires=<seconds>`;
//! - Google Cloud Storage V4: `X-Goog-Date` + `X-Goog-Expires`, alike;
//! - Alibaba OSS V4: `x-oss-date` + `x-oss-expires`, alike.
//!
//! None of the built-in vendors documents a separate expiry field for its
//! recording (Alibaba's `recordFile` and Retell's signed URLs carry it in
//! the URL itself), so the URL is the one place looked at.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// The longest lifetime believed (7 days is the most AWS and Google sign
/// for; OSS allows more): a larger value is not a signature's.
const MAX_LIFETIME_SECS: i64 = 366 * 86_400;

/// When the signed `url` expires; `None` when it is not a URL or carries
/// none of the signatures above (or an unreadable one).
pub fn url_expiry(url: &str) -> Option<Timestamp> {
    let u = url::Url::parse(url.trim()).ok()?;
    let mut expires = None;
    let (mut signed_at, mut lifetime) = (None, None);
    for (k, v) in u.query_pairs() {
        let k = k.to_ascii_lowercase();
        match k.as_str() {
            "expires" => expires = v.trim().parse::<i64>().ok(),
            "x-amz-date" | "x-goog-date" | "x-oss-date" => signed_at = compact_utc(&v),
            "x-amz-expires" | "x-goog-expires" | "x-oss-expires" => {
                lifetime = v
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|s| (0..=MAX_LIFETIME_SECS).contains(s))
            }
            _ => {}
        }
    }
    if let (Some(at), Some(secs)) = (signed_at, lifetime) {
        return at.checked_add(SignedDuration::from_secs(secs)).ok();
    }
    expires.and_then(|s| Timestamp::from_second(s).ok())
}

/// `20260326T122200Z` (ISO 8601 basic, UTC) as a time.
fn compact_utc(v: &str) -> Option<Timestamp> {
    let dt = DateTime::strptime("%Y%m%dT%H%M%SZ", v.trim()).ok()?;
    dt.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn oss_v1_epoch_seconds() {
        let u = "https://aiccs-record.oss-cn-hangzhou.aliyuncs.com/2025/06/07/1.wav?Expires=1749877200&OSSAccessKeyId=LTAI&Signature=abc%3D";
        assert_eq!(url_expiry(u), Some(ts("2025-06-14T05:00:00Z")));
    }

    #[test]
    fn aws_sigv4_date_plus_lifetime() {
        let u = "https://b.s3.us-west-2.amazonaws.com/r.wav?X-Amz-Algorithm=AWS4-HMAC-SHA256\
                 &X-Amz-Credential=AK%2F20260326%2Fus-west-2%2Fs3%2Faws4_request\
                 &X-Amz-Date=20260326T122200Z&X-Amz-Expires=10800&X-Amz-SignedHeaders=host&X-Amz-Signature=ff";
        assert_eq!(url_expiry(u), Some(ts("2026-03-26T15:22:00Z")));
    }

    #[test]
    fn google_and_oss_v4_alike() {
        let g = "https://storage.googleapis.com/b/o.mp3?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Date=20260101T000000Z&X-Goog-Expires=604800";
        assert_eq!(url_expiry(g), Some(ts("2026-01-08T00:00:00Z")));
        let o = "https://b.oss-cn-beijing.aliyuncs.com/o.wav?x-oss-date=20260101T000000Z&x-oss-expires=60&x-oss-signature=1";
        assert_eq!(url_expiry(o), Some(ts("2026-01-01T00:01:00Z")));
    }

    #[test]
    fn unsigned_or_unreadable_is_none() {
        for u in [
            "https://cdn.example.com/r.wav",
            "https://cdn.example.com/r.wav?expires=soon",
            "https://cdn.example.com/r.wav?X-Amz-Date=yesterday&X-Amz-Expires=60",
            "https://cdn.example.com/r.wav?X-Amz-Date=20260101T000000Z&X-Amz-Expires=-5",
            "https://cdn.example.com/r.wav?X-Amz-Date=20260101T000000Z&X-Amz-Expires=99999999999",
            "https://cdn.example.com/r.wav?Expires=99999999999999999",
            "not a url",
            "",
        ] {
            assert_eq!(url_expiry(u), None, "{u}");
        }
    }
}
