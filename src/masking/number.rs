//! The masking rule for one known number, and its application to one call.
//!
//! [`mask_number`] is the rule; a [`Masker`] applies it to one call: the
//! `customer_number` becomes the masked form, and every occurrence of the
//! raw number in the call's other vendor-given text (`vendor_fields`,
//! analyses, transcript, tags, URLs, …) is replaced by it, so the number
//! cannot leak through a field the adapter did not map. Fields callhook
//! makes itself ([`KEPT`]: ids, enums, times) and `line_number` (the
//! business's own number) are never changed.

use serde_json::Value;
use std::borrow::Cow;

/// Top-level call fields (and export columns) that masking never changes:
/// `line_number` is the business's number, the others are made by callhook
/// (ids, configured source names, enum wire names, RFC 3339 times).
pub const KEPT: &[&str] = &[
    "id",
    "vendor",
    "source",
    "direction",
    "outcome",
    "hangup_by",
    "line_number",
    "started_at",
    "originated_at",
    "ringing_at",
    "answered_at",
    "ended_at",
    "first_received_at",
    "updated_at",
];

/// The masked form of a customer number, counted in characters (not bytes):
/// more than 7 characters keep the first 3 and the last 4 with one `*` for
/// each character between (`13812345678` → `138****5678`); 3 to 7
/// characters keep only the last 2 (`10086` → `***86`); 1 or 2 characters
/// become all `*` (keeping "the last 2" would keep the whole number); an
/// empty string stays empty. The length never changes.
pub fn mask_number(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let n = chars.len();
    let (head, tail) = match n {
        0..=2 => (0, 0),
        3..=7 => (0, 2),
        _ => (3, 4),
    };
    let mut out = String::with_capacity(raw.len());
    out.extend(&chars[..head]);
    out.extend(std::iter::repeat_n('*', n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

/// The masking of one call's customer number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masker {
    raw: String,
    masked: String,
}

impl Masker {
    /// The masker of a call whose customer number is `number`; `None` when
    /// there is nothing to hide (no number, or an empty one).
    pub fn new(number: Option<&str>) -> Option<Masker> {
        let raw = number.filter(|n| !n.is_empty())?;
        Some(Masker {
            raw: raw.to_owned(),
            masked: mask_number(raw),
        })
    }

    /// The masked customer number.
    pub fn masked(&self) -> &str {
        &self.masked
    }

    /// `text` with every occurrence of the raw number replaced by the
    /// masked form (borrowed when there is none).
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if text.contains(&self.raw) {
            Cow::Owned(text.replace(&self.raw, &self.masked))
        } else {
            Cow::Borrowed(text)
        }
    }

    /// Masks a call serialised as JSON, in place: the top-level fields of
    /// [`KEPT`] stay as they are (durations too: top-level numbers are
    /// callhook's); everything else is scrubbed at any depth, object keys
    /// included, and a nested JSON number whose digits contain the raw
    /// number becomes the scrubbed string.
    pub fn scrub_call_json(&self, call: &mut Value) {
        let Value::Object(fields) = call else {
            return self.scrub_json(call);
        };
        for (key, value) in fields.iter_mut() {
            if KEPT.contains(&key.as_str()) || value.is_number() {
                continue;
            }
            self.scrub_json(value);
        }
    }

    fn scrub_json(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                if let Cow::Owned(o) = self.scrub(s) {
                    *s = o;
                }
            }
            Value::Number(n) => {
                let text = n.to_string();
                if let Cow::Owned(o) = self.scrub(&text) {
                    *v = Value::String(o);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.scrub_json(i)),
            Value::Object(map) => {
                if map.keys().any(|k| k.contains(&self.raw)) {
                    let old = std::mem::take(map);
                    for (k, val) in old {
                        map.insert(self.scrub(&k).into_owned(), val);
                    }
                }
                map.values_mut().for_each(|i| self.scrub_json(i));
            }
            Value::Null | Value::Bool(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_numbers_keep_three_and_four() {
        assert_eq!(mask_number("13812345678"), "138****5678");
        assert_eq!(mask_number("+8613812345678"), "+86*******5678");
        assert_eq!(mask_number("12345678"), "123*5678");
        assert_eq!(mask_number("0086-21-5555-0100"), "008**********0100");
    }

    #[test]
    fn short_numbers_keep_the_last_two() {
        assert_eq!(mask_number("1234567"), "*****67");
        assert_eq!(mask_number("10086"), "***86");
        assert_eq!(mask_number("110"), "*10");
        assert_eq!(mask_number("12"), "**");
        assert_eq!(mask_number("7"), "*");
        assert_eq!(mask_number(""), "");
    }

    #[test]
    fn characters_not_bytes() {
        // 9 characters, 27 bytes: the cut falls between characters.
        assert_eq!(mask_number("一二三四五六七八九"), "一二三**六七八九");
        assert_eq!(mask_number("电话一二三"), "***二三");
        assert_eq!(mask_number("+86 138 1234 5678").chars().count(), 17);
    }

    #[test]
    fn scrub_replaces_every_occurrence() {
        let m = Masker::new(Some("13812345678")).unwrap();
        assert_eq!(m.masked(), "138****5678");
        assert_eq!(
            m.scrub("call 13812345678, again +8613812345678"),
            "call 138****5678, again +86138****5678"
        );
        assert!(matches!(m.scrub("nothing here"), Cow::Borrowed(_)));
        assert_eq!(Masker::new(Some("")), None);
        assert_eq!(Masker::new(None), None);
    }

    #[test]
    fn a_call_document_keeps_callhooks_fields() {
        let m = Masker::new(Some("+8613812345678")).unwrap();
        let mut call = json!({
            "id": "+8613812345678",
            "line_number": "+8613812345678",
            "customer_number": "+8613812345678",
            "talk_seconds": 30,
            "vendor_fields": {"callee": "+8613812345678", "n": 8613812345678_i64,
                              "list": [{"+8613812345678": true}]},
            "turns": [{"speaker": "customer", "text": "我的号码是+8613812345678", "start_ms": 5}]
        });
        m.scrub_call_json(&mut call);
        let masked = "+86*******5678";
        assert_eq!(call["id"], "+8613812345678");
        assert_eq!(call["line_number"], "+8613812345678");
        assert_eq!(call["customer_number"], masked);
        assert_eq!(call["talk_seconds"], 30);
        assert_eq!(call["vendor_fields"]["callee"], masked);
        // A bare number has no `+`: its digits are not the raw number.
        assert_eq!(call["vendor_fields"]["n"], 8613812345678_i64);
        assert_eq!(call["vendor_fields"]["list"][0][masked], true);
        assert_eq!(call["turns"][0]["text"], format!("我的号码是{masked}"));
        assert_eq!(call["turns"][0]["start_ms"], 5);

        let m = Masker::new(Some("13812345678")).unwrap();
        let mut v = json!({"vendor_fields": {"n": 8613812345678_i64}});
        m.scrub_call_json(&mut v);
        assert_eq!(v["vendor_fields"]["n"], "86138****5678");
    }
}
