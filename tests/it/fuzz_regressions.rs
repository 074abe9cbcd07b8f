//! Replays the inputs saved from fuzzing (`tests/fixtures/fuzz/<target>/`:
//! minimized crashes and a few of each corpus' most interesting inputs)
//! through the invariants of the `fuzz/` targets (`fuzz/src/checks.rs`, shared
//! with them by `#[path]`), so that `cargo test` needs no fuzzing
//! toolchain.
//!
//! `<target>` is a kind with `_` for `-` (the input is the body), or
//! `ingest` (the first byte picks the kind from `SourceKind::built_in()`,
//! every kind but `mapped`; the rest is the body, read by
//! `callhook::ingest::read_body` with default limits).

#[path = "../../fuzz/src/checks.rs"]
mod checks;

use callhook::adapters::{self, SourceContext};
use callhook::domain::SourceKind;
use checks::{check_ingest, check_parse};
use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "{} holds no saved inputs: the test would pass vacuously",
        dir.display()
    );
    files
}

fn run(target: &str, check: impl Fn(&[u8]) -> Result<(), String>) {
    let mut failures = Vec::new();
    for path in inputs(target) {
        let data = std::fs::read(&path).expect("read input");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&data)))
            .unwrap_or_else(|_| Err("panicked".to_owned()));
        if let Err(e) = outcome {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn aliyun_call_report() {
    run("aliyun_call_report", |d| {
        check_parse(SourceKind::AliyunCallReport, d)
    });
}

#[test]
fn aliyun_call_notes() {
    run("aliyun_call_notes", |d| {
        check_parse(SourceKind::AliyunCallNotes, d)
    });
}

#[test]
fn itnio_call_record() {
    run("itnio_call_record", |d| {
        check_parse(SourceKind::ItnioCallRecord, d)
    });
}

#[test]
fn longlonglong_inbound() {
    run("longlonglong_inbound", |d| {
        check_parse(SourceKind::LonglonglongInbound, d)
    });
}

#[test]
fn laaffic_voice_report() {
    run("laaffic_voice_report", |d| {
        check_parse(SourceKind::LaafficVoiceReport, d)
    });
}

#[test]
fn vapi_end_of_call_report() {
    run("vapi_end_of_call_report", |d| {
        check_parse(SourceKind::VapiEndOfCallReport, d)
    });
}

#[test]
fn retell_call_event() {
    run("retell_call_event", |d| {
        check_parse(SourceKind::RetellCallEvent, d)
    });
}

#[test]
fn bland_call() {
    run("bland_call", |d| check_parse(SourceKind::BlandCall, d));
}

#[test]
fn ingest() {
    run("ingest", check_ingest);
}

#[test]
fn every_target_has_saved_inputs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    for target in [
        "aliyun_call_report",
        "aliyun_call_notes",
        "itnio_call_record",
        "longlonglong_inbound",
        "laaffic_voice_report",
        "vapi_end_of_call_report",
        "retell_call_event",
        "bland_call",
        "ingest",
    ] {
        assert!(!inputs(target).is_empty(), "{}", dir.join(target).display());
    }
}

/// Found by review while fuzzing: an ITNIO tag list holding an object lost
/// the object (the list was marked mapped). It must stay in
/// `vendor_fields` as received, with a warning.
#[test]
fn itnio_tag_lists_with_objects_stay_in_vendor_fields() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz/itnio_call_record/tag_object_kept_raw.bin");
    let body = std::fs::read(&path).expect("read input");
    let kind = SourceKind::ItnioCallRecord;
    let p = adapters::parse(kind, &body, &SourceContext::default_for(kind)).expect("parses");
    let u = &p.records[0].update;
    assert_eq!(u.set.tags.as_deref(), Some(&["x".to_owned()][..]));
    assert_eq!(
        u.vendor_fields["callRecordTagNames"],
        serde_json::json!(["x", {"id": 7, "name": "vip"}])
    );
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert_eq!(p.warnings[0].path, "$[0].callRecordTagNames");
}
