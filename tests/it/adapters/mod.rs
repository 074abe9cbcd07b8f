//! Snapshot tests of every adapter over every fixture, and focused checks of
//! the mappings that matter most (the canonical call model).
//!
//! Fixtures live in `tests/fixtures/<kind>/*.json` (bodies the vendor would
//! send; each must parse) and `tests/fixtures/<kind>/rejected/*.json` (bodies
//! the adapter must refuse). Snapshots live in `tests/snapshots/`, one per
//! fixture, named `<kind>__<file stem>` (`<kind>__rejected__<file stem>`).
//! Regenerate with `INSTA_UPDATE=always cargo test --test it adapters`, then
//! review every changed `.snap` against the vendor documents.

use callhook::adapters::{self, ParseError, Parsed, SourceContext};
use callhook::domain::{
    AnalysisKind, CallUpdate, Direction, HangupBy, Outcome, SourceKind, Speaker, Vendor,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Batches bigger than this are snapshotted as a digest, not in full.
const DIGEST_ABOVE: usize = 50;

fn fixture_dir(kind: SourceKind) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind.as_str())
}

/// The `*.json` files directly in `dir`, sorted by name.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .expect("file stem")
        .to_string_lossy()
        .into_owned()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Parses `tests/fixtures/<kind>/<name>` with the kind's default context.
fn fixture(kind: SourceKind, name: &str) -> Parsed {
    let path = fixture_dir(kind).join(name);
    adapters::parse(kind, &read(&path), &SourceContext::default_for(kind))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses an inline body with the kind's default context.
fn parse_value(kind: SourceKind, body: Value) -> Parsed {
    let bytes = serde_json::to_vec(&body).expect("serialise body");
    adapters::parse(kind, &bytes, &SourceContext::default_for(kind))
        .unwrap_or_else(|e| panic!("{kind}: {e}"))
}

/// The only record of an inline body, which must parse without errors.
fn only(kind: SourceKind, body: Value) -> CallUpdate {
    let parsed = parse_value(kind, body);
    assert!(parsed.errors.is_empty(), "errors: {:?}", parsed.errors);
    assert_eq!(parsed.records.len(), 1, "{parsed:#?}");
    parsed.records.into_iter().next().unwrap().update
}

/// Asserts the outcome each body gives, and that only an `unknown` one
/// counts an unknown vendor value.
fn assert_outcomes(kind: SourceKind, rows: impl IntoIterator<Item = (Value, Outcome)>) {
    for (body, want) in rows {
        let p = parse_value(kind, body.clone());
        assert_eq!(p.records[0].update.set.outcome, Some(want), "{body}");
        assert_eq!(
            p.unknown_values.len(),
            usize::from(want == Outcome::Unknown),
            "{body}"
        );
    }
}

/// The update of the record with `vendor_call_id` `id`.
fn by_id<'a>(parsed: &'a Parsed, id: &str) -> &'a CallUpdate {
    &parsed
        .records
        .iter()
        .find(|r| r.update.vendor_call_id == id)
        .unwrap_or_else(|| panic!("no record {id}"))
        .update
}

fn ts(t: Option<jiff::Timestamp>) -> Option<String> {
    t.map(|t| t.to_string())
}

/// Properties every successful parse must have, whatever the fixture.
fn check_invariants(kind: SourceKind, name: &str, p: &Parsed) {
    assert_eq!(
        p.record_count,
        p.records.len() + p.errors.len(),
        "{name}: every record is either kept or an error"
    );
    let mut indexes: Vec<usize> = p.records.iter().map(|r| r.index).collect();
    indexes.extend(p.errors.iter().filter_map(|e| e.index));
    indexes.sort_unstable();
    let expected: Vec<usize> = (0..p.record_count).collect();
    assert_eq!(indexes, expected, "{name}: each index accounted for once");
    for r in &p.records {
        let u = &r.update;
        assert_eq!(u.vendor, kind.vendor().unwrap(), "{name}");
        assert!(!u.vendor_call_id.is_empty(), "{name}: empty call id kept");
        let expected_direction = match kind {
            SourceKind::LonglonglongInbound => Some(Direction::Inbound),
            // The AI platforms say per call (Retell `direction`, Bland `inbound`).
            k if k.is_ai_platform() => None,
            _ => Some(Direction::Outbound),
        };
        if let Some(d) = expected_direction {
            assert_eq!(u.direction, d, "{name}");
        }
        if u.set.outcome.is_some() {
            assert!(
                u.set
                    .vendor_status
                    .as_deref()
                    .is_some_and(|s| !s.is_empty()),
                "{name}: an outcome without the raw vendor status"
            );
        }
        if kind == SourceKind::AliyunCallNotes {
            assert_eq!(u.set.outcome, None, "{name}: notes carry no outcome");
            assert_eq!(u.analyses.len(), 1, "{name}: one analysis per note");
        }
    }
}

/// A compact view of a big batch: counts, outcome mix, first and last record.
fn digest(p: &Parsed) -> Value {
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut analyses: BTreeMap<String, usize> = BTreeMap::new();
    for r in &p.records {
        let o = r.update.set.outcome.map_or("(none)", |o| o.as_str());
        *outcomes.entry(o.to_owned()).or_default() += 1;
        for a in &r.update.analyses {
            let k = match (a.kind, a.success) {
                (AnalysisKind::QualityInspection, true) => "quality_inspection",
                (AnalysisKind::Summary, true) => "summary",
                (_, false) => "failed",
            };
            *analyses.entry(k.to_owned()).or_default() += 1;
        }
    }
    json!({
        "record_count": p.record_count,
        "records": p.records.len(),
        "errors": p.errors,
        "warnings": p.warnings.len(),
        "unknown_values": p.unknown_values.len(),
        "outcomes": outcomes,
        "analyses": analyses,
        "first": p.records.first(),
        "last": p.records.last(),
    })
}

/// Every fixture of `kind` parsed and snapshotted; every rejected body
/// refused and its error snapshotted.
fn snapshot_kind(kind: SourceKind) {
    let dir = fixture_dir(kind);
    let files = json_files(&dir);
    assert!(
        files.len() >= 10,
        "{kind}: expected at least 10 fixtures, found {}",
        files.len()
    );
    assert!(
        files.iter().any(|f| stem(f) == "sample"),
        "{kind}: no sample.json"
    );
    let rejected = json_files(&dir.join("rejected"));
    assert!(
        rejected.len() >= 3,
        "{kind}: expected at least 3 rejected bodies"
    );
    let ctx = SourceContext::default_for(kind);
    for file in &files {
        let name = format!("{kind}__{}", stem(file));
        let parsed = adapters::parse(kind, &read(file), &ctx)
            .unwrap_or_else(|e| panic!("{}: refused: {e}", file.display()));
        check_invariants(kind, &name, &parsed);
        insta::with_settings!({
            snapshot_path => "../../snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
            input_file => file,
        }, {
            if parsed.record_count > DIGEST_ABOVE {
                insta::assert_json_snapshot!(name, digest(&parsed));
            } else {
                insta::assert_json_snapshot!(name, parsed);
            }
        });
    }
    for file in &rejected {
        let name = format!("{kind}__rejected__{}", stem(file));
        let err = match adapters::parse(kind, &read(file), &ctx) {
            Ok(p) => panic!("{}: accepted, expected a refusal: {p:#?}", file.display()),
            Err(e) => e,
        };
        insta::with_settings!({
            snapshot_path => "../../snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
            input_file => file,
        }, {
            insta::assert_snapshot!(name, err.to_string());
        });
    }
}

#[test]
fn snapshots_aliyun_call_report() {
    snapshot_kind(SourceKind::AliyunCallReport);
}

#[test]
fn snapshots_aliyun_call_notes() {
    snapshot_kind(SourceKind::AliyunCallNotes);
}

#[test]
fn snapshots_itnio_call_record() {
    snapshot_kind(SourceKind::ItnioCallRecord);
}

#[test]
fn snapshots_longlonglong_inbound() {
    snapshot_kind(SourceKind::LonglonglongInbound);
}

#[test]
fn snapshots_laaffic_voice_report() {
    snapshot_kind(SourceKind::LaafficVoiceReport);
}

mod across;
mod aliyun;
mod bland;
mod itnio;
mod laaffic;
mod retell;
mod vapi;
