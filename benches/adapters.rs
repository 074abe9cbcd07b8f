//! Parse throughput of each adapter, in records per second.
//!
//! Bodies of 1, 50 and 1,000 records per batch kind are built from the records of
//! `tests/fixtures/<kind>/batch_200_records.json` (cycled, each given its own
//! call id) in the layout that kind's vendor sends. The kinds that push one
//! call per body (Vapi, Retell, Bland) are measured on their sample body. Every body is parsed once
//! before measuring and must give the expected record count and no errors, so
//! the benchmark cannot quietly measure an error path.
//!
//! Run: `cargo bench --bench adapters` (`-- KIND` to pick one kind;
//! `-- shape-fit` for the cost of the shape check alone).

use callhook::adapters::{parse, SourceContext};
use callhook::domain::SourceKind;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Value};
use std::hint::black_box;

const SIZES: [usize; 3] = [1, 50, 1000];

/// The field holding the call id in a batch kind's records; `None` for the
/// kinds of one call per body.
fn id_field(kind: SourceKind) -> Option<&'static str> {
    match kind {
        SourceKind::AliyunCallReport | SourceKind::ItnioCallRecord => Some("callId"),
        SourceKind::AliyunCallNotes => Some("call_id"),
        SourceKind::LonglonglongInbound => Some("callid"),
        SourceKind::LaafficVoiceReport => Some("voiceId"),
        _ => None,
    }
}

fn sample(kind: SourceKind) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/{kind}/sample.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The records of the kind's 200-record fixture.
fn fixture_records(kind: SourceKind) -> Vec<Value> {
    let path = format!(
        "{}/tests/fixtures/{kind}/batch_200_records.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let body: Value = serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let records = match body {
        Value::Array(items) => items,
        Value::Object(mut obj) => match obj.remove("data").or_else(|| obj.remove("array")) {
            Some(Value::Array(items)) => items,
            _ => panic!("{path}: no `data` or `array` records"),
        },
        _ => panic!("{path}: neither an array nor a wrapper object"),
    };
    assert!(!records.is_empty(), "{path}: no records");
    records
}

/// A body of `n` records with distinct call ids, laid out as the vendor sends
/// it: Alibaba and ITNIO a JSON array (ITNIO one record as a bare object),
/// longlonglong `{"count", "data"}`, LAAFFIC `{"array"}`.
fn body(kind: SourceKind, id_field: &str, pool: &[Value], n: usize) -> Vec<u8> {
    let records: Vec<Value> = (0..n)
        .map(|i| {
            let mut r = pool[i % pool.len()].clone();
            r[id_field] = Value::String(format!("bench-{kind}-{n}-{i}"));
            r
        })
        .collect();
    let body = match kind {
        SourceKind::ItnioCallRecord if n == 1 => records[0].clone(),
        SourceKind::AliyunCallReport
        | SourceKind::AliyunCallNotes
        | SourceKind::ItnioCallRecord => Value::Array(records),
        SourceKind::LonglonglongInbound => json!({ "count": n, "data": records }),
        _ => json!({ "array": records }),
    };
    serde_json::to_vec(&body).expect("serializable")
}

/// Panics unless `body` parses into `n` usable records without errors.
fn check(kind: SourceKind, body: &[u8], ctx: &SourceContext, n: usize) {
    let parsed = parse(kind, body, ctx).unwrap_or_else(|e| panic!("{kind} x{n}: refused: {e}"));
    assert_eq!(parsed.record_count, n, "{kind} x{n}: record_count");
    assert!(
        parsed.errors.is_empty(),
        "{kind} x{n}: record errors: {:?}",
        parsed.errors
    );
    assert_eq!(parsed.records.len(), n, "{kind} x{n}: usable records");
}

fn adapters(c: &mut Criterion) {
    for kind in SourceKind::built_in() {
        let ctx = SourceContext::default_for(kind);
        let mut group = c.benchmark_group(kind.as_str());
        let bodies: Vec<(usize, Vec<u8>)> = match id_field(kind) {
            Some(field) => {
                let pool = fixture_records(kind);
                SIZES
                    .iter()
                    .map(|&n| (n, body(kind, field, &pool, n)))
                    .collect()
            }
            None => vec![(1, sample(kind))],
        };
        for (n, body) in bodies {
            check(kind, &body, &ctx, n);
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::new("records", n), &body, |b, body| {
                b.iter(|| parse(kind, black_box(body), &ctx))
            });
        }
        group.finish();
    }
}

/// The shape check alone ([`callhook::adapters::shape::Fit`]) on each
/// kind's sample, already parsed: what telling kinds apart adds per push.
fn fingerprint(c: &mut Criterion) {
    let mut group = c.benchmark_group("shape-fit");
    for kind in SourceKind::built_in() {
        let value: Value = serde_json::from_slice(&sample(kind)).expect("sample is JSON");
        group.bench_with_input(BenchmarkId::new("sample", kind.as_str()), &value, |b, v| {
            b.iter(|| callhook::adapters::shape::Fit::of(black_box(v)))
        });
    }
    group.finish();
}

criterion_group!(benches, adapters, fingerprint);
criterion_main!(benches);
