use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

const FAR: &str = "2030-01-01T00:00:00Z";

#[test]
fn the_schedule_without_jitter() {
    let now = ts("2026-03-26T12:00:00Z");
    let far = ts(FAR);
    let wait = |n: u32| {
        next_attempt_jittered(n, now, far, 0.0)
            .map(|at| at.as_second() - now.as_second())
            .unwrap()
    };
    assert_eq!(wait(0), 0);
    assert_eq!(wait(1), 60);
    assert_eq!(wait(2), 300);
    assert_eq!(wait(3), 900);
    assert_eq!(wait(4), 3600);
    assert_eq!(wait(5), 3 * 3600);
    assert_eq!(wait(6), 3 * 3600);
    assert_eq!(wait(u32::MAX), 3 * 3600);
}

#[test]
fn jitter_stays_within_ten_percent() {
    let now = ts("2026-03-26T12:00:00Z");
    let far = ts(FAR);
    let lo = next_attempt_jittered(4, now, far, -1.0).unwrap();
    let hi = next_attempt_jittered(4, now, far, 1.0).unwrap();
    assert_eq!(lo.as_second() - now.as_second(), 3240);
    assert_eq!(hi.as_second() - now.as_second(), 3960);
    for _ in 0..500 {
        for (n, base) in [(1u32, 60_000i64), (2, 300_000), (5, 10_800_000)] {
            let at = next_attempt(n, now, far).unwrap();
            let ms = at.as_millisecond() - now.as_millisecond();
            assert!((base * 9 / 10..=base * 11 / 10).contains(&ms), "{n}: {ms}");
        }
    }
}

#[test]
fn no_attempt_at_or_after_the_deadline() {
    let now = ts("2026-03-26T12:00:00Z");
    let deadline = ts("2026-03-26T12:05:00Z");
    assert_eq!(next_attempt_jittered(0, now, deadline, 0.0), Some(now));
    assert!(next_attempt_jittered(1, now, deadline, 0.0).is_some());
    assert_eq!(next_attempt_jittered(2, now, deadline, 0.0), None);
    assert_eq!(next_attempt(0, deadline, deadline), None);
    assert_eq!(next_attempt(3, now, deadline), None);
}

#[test]
fn deadline_from_each_signature_kind() {
    let received = ts("2026-01-01T00:00:00Z");
    let week = Duration::from_secs(7 * 86_400);
    let cases = [
        (
            "https://aiccs-record.oss-cn-hangzhou.aliyuncs.com/1.wav?Expires=1767312000&OSSAccessKeyId=LTAI&Signature=abc%3D",
            "2026-01-02T00:00:00Z",
        ),
        (
            "https://b.s3.us-west-2.amazonaws.com/r.wav?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260101T000000Z&X-Amz-Expires=10800&X-Amz-Signature=ff",
            "2026-01-01T03:00:00Z",
        ),
        (
            "https://storage.googleapis.com/b/o.mp3?X-Goog-Date=20260101T000000Z&X-Goog-Expires=3600",
            "2026-01-01T01:00:00Z",
        ),
        (
            "https://b.oss-cn-beijing.aliyuncs.com/o.wav?x-oss-date=20260101T000000Z&x-oss-expires=60&x-oss-signature=1",
            "2026-01-01T00:01:00Z",
        ),
    ];
    for (url, want) in cases {
        assert_eq!(deadline(url, received, week), ts(want), "{url}");
    }
}

#[test]
fn deadline_is_capped_by_the_give_up_time() {
    let received = ts("2026-01-01T00:00:00Z");
    let day = Duration::from_secs(86_400);
    let month_long = "https://b.oss-cn-beijing.aliyuncs.com/o.wav?x-oss-date=20260101T000000Z&x-oss-expires=2592000";
    assert_eq!(
        deadline(month_long, received, day),
        ts("2026-01-02T00:00:00Z")
    );
    let unsigned = "https://cdn.example.com/r.wav";
    assert_eq!(
        deadline(unsigned, received, day),
        ts("2026-01-02T00:00:00Z")
    );
    assert_eq!(deadline(unsigned, received, Duration::MAX), Timestamp::MAX);
}
