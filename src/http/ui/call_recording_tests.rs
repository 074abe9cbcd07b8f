use super::*;

fn row(link: &str, status: RecordingStatus) -> RecordingRecord {
    RecordingRecord {
        call_id: "c1".into(),
        link: link.into(),
        url: "https://rec.example.com/a.wav".into(),
        source: "s".into(),
        status,
        attempts: 2,
        received_at: "2025-06-01T09:00:00Z".parse().unwrap(),
        expires_at: None,
        next_attempt_at: Some("2025-06-01T10:00:00Z".parse().unwrap()),
        last_attempt_at: None,
        error: Some("HTTP 404 Not Found from rec.example.com".into()),
        bytes: None,
        sha256: None,
        content_type: None,
        archived_at: None,
    }
}

fn now() -> Timestamp {
    "2025-06-01T09:30:00Z".parse().unwrap()
}

#[test]
fn an_archived_link_plays_the_kept_copy() {
    let mut r = row("recording_url", RecordingStatus::Archived);
    r.sha256 = Some("0123456789abcdef".repeat(4));
    r.bytes = Some(24_064);
    r.archived_at = Some("2025-06-01T09:01:02Z".parse().unwrap());
    let mut extra = r.clone();
    extra.link = "artifact.stereoRecordingUrl".into();
    let (main, extras) = views("c1", &[r, extra], now());
    let kept = main.unwrap().kept.unwrap();
    assert_eq!(kept.src, "/calls/c1/recording");
    assert_eq!(
        kept.facts,
        "archived at 2025-06-01 09:01:02 · 23.5 KB · SHA-256 0123456789ab…"
    );
    let src = &extras[0].kept.as_ref().unwrap().src;
    assert_eq!(src, "/calls/c1/recording?link=artifact.stereoRecordingUrl");
}

#[test]
fn a_link_not_kept_says_why() {
    let pending = view("c1", &row("recording_url", RecordingStatus::Pending), now());
    assert!(pending.kept.is_none());
    assert_eq!(
        pending.state,
        "fetching: attempt 3, next try at 2025-06-01 10:00:00"
    );
    assert_eq!(
        pending.error.as_deref(),
        Some("HTTP 404 Not Found from rec.example.com")
    );
    let said = |s| view("c1", &row("recording_url", s), now()).state;
    assert_eq!(
        said(RecordingStatus::Expired),
        "not archived: the link expired before it could be fetched"
    );
    assert_eq!(
        said(RecordingStatus::TooLarge),
        "too large (over recordings.max_bytes)"
    );
    assert_eq!(
        said(RecordingStatus::Refused),
        "refused: the link points at a private address"
    );
    assert_eq!(
        said(RecordingStatus::NotFound),
        "the vendor answered 404 until the link expired"
    );
    assert_eq!(
        said(RecordingStatus::Failed),
        "failed: HTTP 404 Not Found from rec.example.com"
    );
}

#[test]
fn sizes_read_in_kb_and_mb() {
    assert_eq!(size(812), "812 B");
    assert_eq!(size(32_044), "31.3 KB");
    assert_eq!(size(3 * 1024 * 1024 / 2), "1.5 MB");
}
