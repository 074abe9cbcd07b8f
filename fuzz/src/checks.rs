//! The invariants checked on every fuzz input (not just "no panic"), one
//! `Err` with the reason per broken invariant. The fuzz targets panic on it
//! (`lib.rs`); `tests/it/fuzz_regressions.rs` includes this file with
//! `#[path]` and replays the saved inputs of `tests/fixtures/fuzz/` through
//! it, so `cargo test` needs no fuzzing toolchain and both check the same.

use callhook::adapters::{self, ParseError, Parsed, RecordIssue, SourceContext};
use callhook::config::Limits;
use callhook::domain::{Call, CallUpdate, Change, Direction, SourceKind};
use callhook::ingest::{self, RejectReason};
use callhook::storage::BodyResult;
use jiff::Timestamp;

pub fn check_error(e: &ParseError) -> Result<(), String> {
    if e.to_string().trim().is_empty() {
        return Err(format!("empty error message: {e:?}"));
    }
    match e {
        ParseError::InvalidJson { line, reason, .. } => {
            if *line < 1 || reason.trim().is_empty() {
                return Err(format!("bad InvalidJson: {e:?}"));
            }
        }
        ParseError::Shape { path, message } => {
            if !path.starts_with('$') || message.trim().is_empty() {
                return Err(format!("bad Shape error: {e:?}"));
            }
        }
    }
    Ok(())
}

/// `single`: the kind pushes one call per body ([`SourceKind::is_ai_platform`]), whose
/// record is located by its place (`$.message`, `$.call`, `$`), not `[i]`.
fn check_issue(i: &RecordIssue, record_count: usize, single: bool) -> Result<(), String> {
    if !i.path.starts_with('$') {
        return Err(format!("path does not start with $: {i:?}"));
    }
    if i.message.trim().is_empty() {
        return Err(format!("empty message: {i:?}"));
    }
    if let Some(index) = i.index {
        if index >= record_count {
            return Err(format!(
                "index {index} >= record_count {record_count}: {i:?}"
            ));
        }
        if !single && !i.path.contains(&format!("[{index}]")) {
            return Err(format!("path does not name record {index}: {i:?}"));
        }
    }
    Ok(())
}

fn check_update(kind: SourceKind, u: &CallUpdate) -> Result<(), String> {
    if Some(u.vendor) != kind.vendor() {
        return Err(format!("vendor {} for {kind}", u.vendor));
    }
    // Vapi, Retell and Bland carry the direction in the body: either is right.
    let direction = match kind {
        SourceKind::LonglonglongInbound => Some(Direction::Inbound),
        k if k.is_ai_platform() => None,
        _ => Some(Direction::Outbound),
    };
    if direction.is_some_and(|d| u.direction != d) {
        return Err(format!("direction {} for {kind}", u.direction));
    }
    let id = &u.vendor_call_id;
    if id.is_empty() || id.trim() != id {
        return Err(format!("call id {id:?}"));
    }
    for m in [&u.set.cost, &u.fill.cost].into_iter().flatten() {
        if m.currency.is_empty() || m.currency != m.currency.trim().to_ascii_uppercase() {
            return Err(format!("currency {:?}", m.currency));
        }
    }
    // What the store does with an update: JSON documents, and a retry
    // (the same update again) changes nothing.
    let json = serde_json::to_string(u).map_err(|e| e.to_string())?;
    let back: CallUpdate = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    if &back != u {
        return Err(format!("CallUpdate JSON round trip changed it: {json}"));
    }
    let t0 = Timestamp::from_second(1_700_000_000).unwrap();
    let t1 = Timestamp::from_second(1_700_000_100).unwrap();
    let mut call = Call::from_update(u, "fuzz", t0);
    let json = serde_json::to_string(&call).map_err(|e| e.to_string())?;
    let back: Call = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    if back != call {
        return Err(format!("Call JSON round trip changed it: {json}"));
    }
    match call.apply(u, "fuzz", t1) {
        Change::Unchanged => Ok(()),
        other => Err(format!("the same update applied twice: {other:?}")),
    }
}

fn check_parsed(kind: SourceKind, p: &Parsed) -> Result<(), String> {
    let n = p.record_count;
    if p.records.len() + p.errors.len() > n {
        return Err(format!(
            "{} records + {} errors > record_count {n}",
            p.records.len(),
            p.errors.len()
        ));
    }
    let mut stored = vec![false; n];
    let mut last = None;
    for r in &p.records {
        if r.index >= n || last >= Some(r.index) {
            return Err(format!("record index {} (record_count {n})", r.index));
        }
        last = Some(r.index);
        stored[r.index] = true;
    }
    let single = kind.is_ai_platform();
    if single && n != 1 {
        return Err(format!("{kind} reads one call per body, record_count {n}"));
    }
    let mut last = None;
    for e in &p.errors {
        check_issue(e, n, single)?;
        let Some(i) = e.index else {
            return Err(format!("record error without an index: {e:?}"));
        };
        if last >= Some(i) || stored[i] {
            return Err(format!("record {i} stored or erred twice"));
        }
        last = Some(i);
    }
    for w in &p.warnings {
        check_issue(w, n, single)?;
    }
    if p.warnings.len() < p.unknown_values.len()
        || p.unknown_values
            .iter()
            .any(|u| u.field.is_empty() || u.value.is_empty())
    {
        return Err(format!("unknown values {:?}", p.unknown_values));
    }
    for r in &p.records {
        check_update(kind, &r.update).map_err(|e| format!("record {}: {e}", r.index))?;
    }
    serde_json::to_string(p).map_err(|e| e.to_string())?;
    Ok(())
}

pub fn check_parse(kind: SourceKind, body: &[u8]) -> Result<(), String> {
    match adapters::parse(kind, body, &SourceContext::default_for(kind)) {
        Ok(p) => check_parsed(kind, &p),
        Err(e) => check_error(&e),
    }
}

pub fn check_ingest(data: &[u8]) -> Result<(), String> {
    let Some((&first, body)) = data.split_first() else {
        return Ok(());
    };
    // Every kind but `mapped`, which reads nothing without a config mapping.
    let kinds: Vec<SourceKind> = SourceKind::built_in().collect();
    let kind = kinds[first as usize % kinds.len()];
    let ctx = SourceContext::default_for(kind);
    let limits = Limits::default();
    let reading = ingest::read_body(kind, body, &ctx, ingest::body_limits(&limits));
    // read_body drops a UTF-8 byte order mark; the adapter alone would not.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    match (&reading.result, &reading.rejection) {
        (BodyResult::Rejected(issue), Some(rejection)) => {
            if !issue.path.starts_with('$')
                || issue.index.is_some()
                || rejection.message.trim().is_empty()
                || issue.message != rejection.message
                || !reading.unknown_values.is_empty()
            {
                return Err(format!("bad rejection {issue:?} / {rejection:?}"));
            }
            if rejection.reason == RejectReason::Unreadable
                && !issue.message.contains("nested deeper")
                && adapters::parse(kind, body, &ctx).is_ok()
            {
                return Err(format!("rejected, but the adapter reads it: {issue:?}"));
            }
            Ok(())
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
            if *record_count > limits.max_records_per_push {
                return Err(format!("{record_count} records passed the screen"));
            }
            let p = adapters::parse(kind, body, &ctx)
                .map_err(|e| format!("read_body parsed what the adapter refuses: {e}"))?;
            if p.record_count != *record_count
                || &p.errors != errors
                || !warnings.starts_with(&p.warnings)
                || p.records.len() != updates.len()
            {
                return Err("read_body and the adapter disagree".to_owned());
            }
            check_nul(&p, updates, &warnings[p.warnings.len()..])?;
            check_parsed(kind, &p)
        }
        (result, rejection) => Err(format!(
            "result and rejection disagree: rejected={} / {rejection:?}",
            matches!(result, BodyResult::Rejected(_))
        )),
    }
}

/// What read_body adds to the adapter's reading: no text it hands the
/// store holds a NUL (PostgreSQL text cannot), and each record whose
/// text had one gets a warning that says so; nothing else changes.
fn check_nul(p: &Parsed, updates: &[CallUpdate], added: &[RecordIssue]) -> Result<(), String> {
    let had_nul: Vec<usize> = p
        .records
        .iter()
        .filter(|r| serde_json::to_string(&r.update).is_ok_and(|j| j.contains("\\u0000")))
        .map(|r| r.index)
        .collect();
    for (r, u) in p.records.iter().zip(updates) {
        let json = serde_json::to_string(u).map_err(|e| e.to_string())?;
        if json.contains("\\u0000") {
            return Err(format!(
                "record {}: a NUL reaches the store: {json}",
                r.index
            ));
        }
        if !had_nul.contains(&r.index) && u != &r.update {
            return Err(format!("record {} changed without a NUL", r.index));
        }
    }
    for w in added {
        if !w.message.contains("NUL") || w.index.is_none_or(|i| !had_nul.contains(&i)) {
            return Err(format!("unexpected warning {w:?}"));
        }
    }
    if had_nul
        .iter()
        .any(|i| !added.iter().any(|w| w.index == Some(*i)))
    {
        return Err(format!("records {had_nul:?} had a NUL, warnings {added:?}"));
    }
    Ok(())
}
