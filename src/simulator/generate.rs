//! Bodies of new calls for load tests: a vendor body is the template, and
//! each generated body is a copy whose records carry call ids never used
//! before, so every push creates calls (and events) instead of being a
//! duplicate.

use crate::domain::SourceKind;
use serde_json::Value;

/// Where a kind's records sit in its body and where in a record the call
/// id is (the fields the adapters read: `src/adapters/<kind>.rs`). A
/// `mapped` source's layout is its mapping's, which the generator does not
/// know: its templates' records are the body (or its elements) and carry a
/// top-level `call_id`.
fn layout(kind: SourceKind) -> (Option<&'static str>, &'static [&'static str]) {
    match kind {
        SourceKind::AliyunCallReport => (None, &["callId"]),
        SourceKind::AliyunCallNotes => (None, &["call_id"]),
        SourceKind::ItnioCallRecord => (None, &["callId"]),
        SourceKind::LonglonglongInbound => (Some("data"), &["callid"]),
        SourceKind::LaafficVoiceReport => (Some("array"), &["voiceId"]),
        SourceKind::VapiEndOfCallReport => (Some("message"), &["call", "id"]),
        SourceKind::RetellCallEvent => (None, &["call", "call_id"]),
        SourceKind::BlandCall => (None, &["call_id"]),
        SourceKind::Mapped => (None, &["call_id"]),
    }
}

/// The kind's sample body (`tests/fixtures`); `None` for `mapped`.
pub fn sample(kind: SourceKind) -> Option<&'static str> {
    Some(match kind {
        SourceKind::AliyunCallReport => {
            include_str!("../../tests/fixtures/aliyun-call-report/sample.json")
        }
        SourceKind::AliyunCallNotes => {
            include_str!("../../tests/fixtures/aliyun-call-notes/sample.json")
        }
        SourceKind::ItnioCallRecord => {
            include_str!("../../tests/fixtures/itnio-call-record/sample.json")
        }
        SourceKind::LonglonglongInbound => {
            include_str!("../../tests/fixtures/longlonglong-inbound/sample.json")
        }
        SourceKind::LaafficVoiceReport => {
            include_str!("../../tests/fixtures/laaffic-voice-report/sample.json")
        }
        SourceKind::VapiEndOfCallReport => {
            include_str!("../../tests/fixtures/vapi-end-of-call-report/answered.json")
        }
        SourceKind::RetellCallEvent => {
            include_str!("../../tests/fixtures/retell-call-event/call-analyzed.json")
        }
        SourceKind::BlandCall => include_str!("../../tests/fixtures/bland-call/completed.json"),
        SourceKind::Mapped => return None,
    })
}

/// The call id field of `record` at `path`, if the record has one.
fn id_slot<'a>(record: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    let mut at = record;
    for key in path {
        at = at.get_mut(*key)?;
    }
    Some(at)
}

/// Makes bodies of unique calls from templates, round robin.
#[derive(Debug)]
pub struct Generator {
    kind: SourceKind,
    templates: Vec<Value>,
    /// Unique per generator: a ULID, so two runs never collide.
    run: String,
    made: u64,
}

impl Generator {
    /// A generator over `templates` (bodies of `kind`).
    ///
    /// Errors: a template that is not JSON, or that holds no record with
    /// the kind's call-id field (named in the message).
    pub fn new(kind: SourceKind, templates: &[Vec<u8>]) -> Result<Generator, String> {
        let (_, id_field) = layout(kind);
        let mut parsed = Vec::with_capacity(templates.len());
        for (i, t) in templates.iter().enumerate() {
            let mut v: Value = serde_json::from_slice(t)
                .map_err(|e| format!("template {}: not JSON: {e}", i + 1))?;
            if records_mut(kind, &mut v).is_empty() {
                return Err(format!(
                    "template {}: no {kind} record with a `{}` field to make unique",
                    i + 1,
                    id_field.join(".")
                ));
            }
            parsed.push(v);
        }
        if parsed.is_empty() {
            return Err("no template body".into());
        }
        Ok(Generator {
            kind,
            templates: parsed,
            run: ulid::Ulid::new().to_string().to_lowercase(),
            made: 0,
        })
    }

    /// The next body: the next template with each record's call id set to
    /// `gen-<run>-<body number>-<record index>`.
    pub fn next_body(&mut self) -> Vec<u8> {
        let n = self.made;
        self.made += 1;
        let mut body = self.templates[(n % self.templates.len() as u64) as usize].clone();
        let (_, id_field) = layout(self.kind);
        for (i, r) in records_mut(self.kind, &mut body).into_iter().enumerate() {
            if let Some(slot) = id_slot(r, id_field) {
                *slot = Value::String(format!("gen-{}-{n}-{i}", self.run));
            }
        }
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

/// The records of `body` that have the kind's call-id field.
fn records_mut(kind: SourceKind, body: &mut Value) -> Vec<&mut Value> {
    let (field, id_field) = layout(kind);
    let holder = match field {
        Some(f) if body.get(f).is_some_and(|v| v.is_array() || v.is_object()) => &mut body[f],
        _ => body,
    };
    let all: Vec<&mut Value> = match holder {
        Value::Array(items) => items.iter_mut().collect(),
        one @ Value::Object(_) => vec![one],
        _ => vec![],
    };
    all.into_iter()
        .filter_map(|r| {
            let has = id_slot(r, id_field).is_some();
            has.then_some(r)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::{parse, SourceContext};
    use std::collections::HashSet;

    #[test]
    fn every_generated_body_parses_into_calls_never_seen_before() {
        for kind in SourceKind::built_in() {
            let kind = &kind;
            let mut g =
                Generator::new(*kind, &[sample(*kind).unwrap().as_bytes().to_vec()]).unwrap();
            let mut seen = HashSet::new();
            for _ in 0..20 {
                let body = g.next_body();
                let parsed = parse(*kind, &body, &SourceContext::default_for(*kind)).unwrap();
                assert!(!parsed.records.is_empty(), "{kind}");
                for r in parsed.records {
                    let id = r.update.vendor_call_id;
                    assert!(id.starts_with("gen-"), "{kind}: {id}");
                    assert!(seen.insert(id), "{kind}: a call id repeated");
                }
            }
        }
    }

    #[test]
    fn templates_without_records_are_refused() {
        let err = Generator::new(
            SourceKind::LaafficVoiceReport,
            &[b"{\"array\": []}".to_vec()],
        )
        .unwrap_err();
        assert!(err.contains("voiceId"), "{err}");
        let err = Generator::new(SourceKind::AliyunCallReport, &[b"nope".to_vec()]).unwrap_err();
        assert!(err.contains("not JSON"), "{err}");
        assert!(Generator::new(SourceKind::AliyunCallReport, &[]).is_err());
    }
}
