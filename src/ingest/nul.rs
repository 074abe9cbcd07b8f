//! NUL characters in vendor text. JSON allows `\u0000` in a string, but a
//! PostgreSQL `text` value cannot hold it, so a call carrying one could
//! never be written there (every retry of the push would fail). Every NUL
//! in an update's text becomes U+FFFD (the replacement character) on both
//! backends, so SQLite and PostgreSQL store the same call, and the receipt
//! says so in a warning. The body itself is kept verbatim.

use crate::adapters::{ParsedRecord, RecordIssue};
use crate::domain::CallUpdate;
use serde_json::Value;

/// Replaces NUL in every string of `records`' updates (fields, vendor
/// fields, transcripts, analyses); one warning per record that had any,
/// naming the record by its index in the body (`$[i]`).
pub fn replace_nul(records: &mut [ParsedRecord]) -> Vec<RecordIssue> {
    let mut warnings = Vec::new();
    for r in records.iter_mut() {
        let Ok(mut value) = serde_json::to_value(&r.update) else {
            continue;
        };
        if !scrub(&mut value) {
            continue;
        }
        if let Ok(clean) = serde_json::from_value::<CallUpdate>(value) {
            r.update = clean;
            warnings.push(RecordIssue {
                index: Some(r.index),
                path: format!("$[{}]", r.index),
                message: format!(
                    "call `{}`: NUL characters replaced with U+FFFD (they cannot be stored)",
                    r.update.vendor_call_id
                ),
            });
        }
    }
    warnings
}

/// Replaces NUL in every string (keys too) of `v`; whether any was found.
fn scrub(v: &mut Value) -> bool {
    match v {
        Value::String(s) if s.contains('\0') => {
            *s = s.replace('\0', "\u{FFFD}");
            true
        }
        Value::Array(items) => items.iter_mut().fold(false, |any, x| scrub(x) | any),
        Value::Object(map) => {
            let dirty: Vec<String> = map.keys().filter(|k| k.contains('\0')).cloned().collect();
            for k in &dirty {
                if let Some(x) = map.remove(k) {
                    map.insert(k.replace('\0', "\u{FFFD}"), x);
                }
            }
            map.values_mut()
                .fold(!dirty.is_empty(), |any, x| scrub(x) | any)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::adapters::SourceContext;
    use crate::domain::SourceKind;
    use crate::ingest::{read_body, screen::BodyLimits};
    use crate::storage::BodyResult;

    const LIMITS: BodyLimits = BodyLimits {
        max_depth: 64,
        max_records: 10_000,
    };

    fn read(body: &[u8]) -> BodyResult {
        let kind = SourceKind::AliyunCallReport;
        read_body(kind, body, &SourceContext::default_for(kind), LIMITS).result
    }

    #[test]
    fn nul_in_text_fields_becomes_the_replacement_character_with_a_warning() {
        let body =
            br#"[{"callId":"a\u0000b","callee":"139\u00001","outId":"o\u0000","taskId":"t\u0000"},
                        {"callId":"clean","callee":"13900000000"}]"#;
        let BodyResult::Parsed {
            updates,
            warnings,
            errors,
            ..
        } = read(body)
        else {
            panic!("readable");
        };
        assert!(errors.is_empty());
        assert_eq!(updates.len(), 2);
        assert_eq!(updates[0].vendor_call_id, "a\u{FFFD}b");
        assert_eq!(
            updates[0]
                .set
                .customer_number
                .as_deref()
                .or(updates[0].fill.customer_number.as_deref()),
            Some("139\u{FFFD}1")
        );
        let text = serde_json::to_string(&updates).unwrap();
        assert!(!text.contains("\\u0000"), "{text}");
        assert_eq!(updates[1].vendor_call_id, "clean");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].message.contains("U+FFFD"));
        assert_eq!(warnings[0].index, Some(0));
        assert_eq!(warnings[0].path, "$[0]");
    }

    #[test]
    fn a_byte_order_mark_is_not_an_error() {
        let mut body = b"\xEF\xBB\xBF".to_vec();
        body.extend_from_slice(br#"[{"callId":"bom-1","smartStatusCode":"ANSWERED"}]"#);
        let BodyResult::Parsed { updates, .. } = read(&body) else {
            panic!("a body with a BOM is readable");
        };
        assert_eq!(updates[0].vendor_call_id, "bom-1");
    }
}
