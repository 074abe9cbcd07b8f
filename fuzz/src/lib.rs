//! The invariants the fuzz targets check on every input (not just "no panic").
//!
//! `tests/it/fuzz_regressions.rs` reimplements the same checks for the saved
//! inputs in `tests/fixtures/fuzz/<target>/`; keep the two in step.

use callhook::adapters::{self, ParseError, Parsed, RecordIssue, SourceContext};
use callhook::config::Limits;
use callhook::domain::{Call, CallUpdate, Change, Direction, SourceKind};
use callhook::ingest::{self, RejectReason};
use callhook::storage::BodyResult;
use jiff::Timestamp;

/// Parses `data` as `kind` with the kind's default context and checks the
/// result: see [`check_parsed`] and [`check_error`].
pub fn check_parse(kind: SourceKind, data: &[u8]) {
    match adapters::parse(kind, data, &SourceContext::default_for(kind)) {
        Ok(p) => check_parsed(kind, &p),
        Err(e) => check_error(&e),
    }
}

/// A refused body says why, and where.
pub fn check_error(e: &ParseError) {
    assert!(!e.to_string().trim().is_empty(), "empty error: {e:?}");
    match e {
        ParseError::InvalidJson { line, reason, .. } => {
            assert!(*line >= 1, "line {line} is not 1-based: {e:?}");
            assert!(!reason.trim().is_empty(), "empty reason: {e:?}");
        }
        ParseError::Shape { path, message } => {
            assert!(path.starts_with('$'), "path {path:?} does not start with $");
            assert!(!message.trim().is_empty(), "empty message: {e:?}");
        }
    }
}

/// What must hold for every readable body:
///
/// - every record is either stored or an error, each at most once, indices
///   in order and below `record_count`;
/// - every error and warning has a JSON path starting with `$` that names
///   its record (`[i]`), and a message;
/// - every unknown value was also reported as a warning;
/// - every update is the kind's vendor and direction, with a trimmed,
///   non-empty call id and upper-case money currency;
/// - each update survives what the store does with it: a JSON round trip of
///   the update and of the call built from it, and applying it twice
///   changes nothing the second time.
pub fn check_parsed(kind: SourceKind, p: &Parsed) {
    let n = p.record_count;
    assert!(
        p.records.len() + p.errors.len() <= n,
        "{} records + {} errors > record_count {n}",
        p.records.len(),
        p.errors.len()
    );
    let mut seen = vec![false; n];
    let mut last = None;
    for r in &p.records {
        assert!(r.index < n, "record index {} >= {n}", r.index);
        assert!(last < Some(r.index), "record indices out of order");
        last = Some(r.index);
        seen[r.index] = true;
    }
    let mut last = None;
    for e in &p.errors {
        check_issue(e, n);
        let i = e.index.expect("a record error names its record");
        assert!(last < Some(i), "error indices out of order");
        last = Some(i);
        assert!(!seen[i], "record {i} is both stored and an error");
    }
    for w in &p.warnings {
        check_issue(w, n);
    }
    for u in &p.unknown_values {
        assert!(!u.field.is_empty() && !u.value.is_empty(), "{u:?}");
    }
    assert!(
        p.warnings.len() >= p.unknown_values.len(),
        "an unknown value without its warning"
    );
    for r in &p.records {
        check_update(kind, &r.update);
    }
    serde_json::to_string(p).expect("Parsed serialises");
}

fn check_issue(i: &RecordIssue, record_count: usize) {
    assert!(
        i.path.starts_with('$'),
        "path {:?} does not start with $",
        i.path
    );
    assert!(!i.message.trim().is_empty(), "empty message: {i:?}");
    if let Some(index) = i.index {
        assert!(
            index < record_count,
            "issue index {index} >= {record_count}"
        );
        assert!(
            i.path.contains(&format!("[{index}]")),
            "path {:?} does not name record {index}",
            i.path
        );
    }
}

fn check_update(kind: SourceKind, u: &CallUpdate) {
    assert_eq!(u.vendor, kind.vendor());
    let direction = match kind {
        SourceKind::LonglonglongInbound => Direction::Inbound,
        _ => Direction::Outbound,
    };
    assert_eq!(u.direction, direction);
    let id = &u.vendor_call_id;
    assert!(!id.is_empty() && id.trim() == id, "call id {id:?}");
    for m in [&u.set.cost, &u.fill.cost].into_iter().flatten() {
        assert!(
            !m.currency.is_empty() && m.currency == m.currency.trim().to_ascii_uppercase(),
            "currency {:?}",
            m.currency
        );
    }
    // The store keeps updates and calls as JSON documents.
    let json = serde_json::to_string(u).expect("CallUpdate serialises");
    let back: CallUpdate = serde_json::from_str(&json).expect("CallUpdate deserialises");
    assert_eq!(&back, u, "CallUpdate JSON round trip changed it: {json}");

    let t0 = Timestamp::from_second(1_700_000_000).expect("t0");
    let t1 = Timestamp::from_second(1_700_000_100).expect("t1");
    let mut call = Call::from_update(u, "fuzz", t0);
    let json = serde_json::to_string(&call).expect("Call serialises");
    let back: Call = serde_json::from_str(&json).expect("Call deserialises");
    assert_eq!(back, call, "Call JSON round trip changed it: {json}");
    assert_eq!(
        call.apply(u, "fuzz", t1),
        Change::Unchanged,
        "applying the same update twice changed the call"
    );
}

/// `data[0]` picks the kind, the rest is the body, read by
/// `callhook::ingest::read_body` with the default limits: a rejection comes
/// with `BodyResult::Rejected` and only then, its message is the stored
/// issue's, and a readable body obeys [`check_parsed`] and the record limit.
pub fn check_ingest(data: &[u8]) {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let kinds = SourceKind::ALL;
    let kind = kinds[first as usize % kinds.len()];
    let ctx = SourceContext::default_for(kind);
    let limits = Limits::default();
    let reading = ingest::read_body(kind, body, &ctx, ingest::body_limits(&limits));
    match (&reading.result, &reading.rejection) {
        (BodyResult::Rejected(issue), Some(rejection)) => {
            assert!(issue.path.starts_with('$'), "path {:?}", issue.path);
            assert_eq!(issue.index, None);
            assert!(!rejection.message.trim().is_empty(), "empty rejection");
            assert_eq!(issue.message, rejection.message);
            assert!(reading.unknown_values.is_empty());
            if rejection.reason == RejectReason::Unreadable {
                // Refused by the screen (too deep) or by the adapter.
                if let Ok(p) = adapters::parse(kind, body, &ctx) {
                    assert!(
                        issue.message.contains("nested deeper"),
                        "rejected as unreadable, but the adapter reads it ({} records): {}",
                        p.record_count,
                        issue.message
                    );
                }
            }
        }
        (
            BodyResult::Parsed {
                record_count,
                updates,
                errors,
                warnings,
            },
            None,
        ) => {
            assert!(
                *record_count <= limits.max_records_per_push,
                "{record_count} records passed the screen"
            );
            let p = adapters::parse(kind, body, &ctx).expect("read_body parsed it");
            assert_eq!(p.record_count, *record_count);
            assert_eq!(&p.errors, errors);
            assert_eq!(&p.warnings, warnings);
            assert_eq!(p.records.len(), updates.len());
            check_parsed(kind, &p);
        }
        (result, rejection) => panic!(
            "result and rejection disagree: {:?} / {rejection:?}",
            matches!(result, BodyResult::Rejected(_))
        ),
    }
}
