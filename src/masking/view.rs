//! Masking for what a person reads outside exports: a whole call as the
//! dashboard shows it, and text whose numbers are not known (raw bodies,
//! logged query values). The JSON API and outbound events keep numbers
//! whole: they feed the customer's own systems.

use super::number::{mask_number, Masker};
use crate::domain::Call;
use std::borrow::Cow;

/// Masks one call as the dashboard shows it: the customer number masked,
/// and its raw form replaced wherever vendor-given text repeats it
/// (transcript, analyses, vendor fields, URLs…), as exports do
/// ([`Masker::scrub_call_json`]).
pub fn mask_call(call: &mut Call) {
    let Some(m) = Masker::new(call.customer_number.as_deref()) else {
        return;
    };
    let masked = serde_json::to_value(&*call).ok().and_then(|mut v| {
        m.scrub_call_json(&mut v);
        serde_json::from_value::<Call>(v).ok()
    });
    match masked {
        Some(c) => *call = c,
        // A vendor field that no longer reads back as its type: hide at
        // least the number itself, and the free-form vendor fields.
        None => {
            call.customer_number = Some(m.masked().to_owned());
            call.vendor_fields = Default::default();
        }
    }
}

/// Phone-like digit runs (7 to 15 digits, ITU E.164's longest, not part
/// of a longer run; a leading `+` kept) masked with [`mask_number`]: for
/// text whose numbers are not known, such as a rejected push's raw body.
/// Also masks other such runs (ids, epoch milliseconds): the raw body
/// stays whole in the store and the API.
pub fn mask_phone_like(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let (mut i, mut copied) = (0, 0);
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if (7..=15).contains(&(i - start)) {
            let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
            o.push_str(&text[copied..start]);
            o.push_str(&mask_number(&text[start..i]));
            copied = i;
        }
    }
    match out {
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_like_runs_are_masked_and_nothing_else() {
        let body = r#"{"callee":"13812345678","caller":"+8613812345678","dur":42,"code":"1234567890123456","ext":"10086"}"#;
        assert_eq!(
            mask_phone_like(body),
            r#"{"callee":"138****5678","caller":"+861******5678","dur":42,"code":"1234567890123456","ext":"10086"}"#
        );
        assert!(matches!(
            mask_phone_like("no digits 12 345"),
            Cow::Borrowed(_)
        ));
        assert_eq!(mask_phone_like("1234567"), "*****67");
        assert_eq!(
            mask_phone_like("call 中文 0212345678."),
            "call 中文 021***5678."
        );
    }

    #[test]
    fn a_call_is_masked_everywhere_its_number_appears() {
        let mut call: Call = serde_json::from_value(serde_json::json!({
            "id": "c1", "vendor": "aliyun", "source": "s", "vendor_call_id": "v1",
            "direction": "outbound", "out_id": null, "task_id": null, "batch_id": null,
            "script_id": null, "task_name": null, "outcome": "answered",
            "vendor_status": "200", "hangup_by": "customer", "originated_at": null,
            "ringing_at": null, "answered_at": null, "ended_at": null,
            "started_at": "2026-01-01T00:00:00Z", "ring_seconds": null,
            "talk_seconds": 42, "billed_seconds": null, "cost": null, "intent": null,
            "tags": ["13812345678"], "recording_url": null, "region": null, "analyses": [],
            "first_received_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "customer_number": "13812345678", "line_number": "4001234567",
            "vendor_fields": {"note": "called 13812345678 twice"},
            "turns": [{"speaker": "customer", "text": "my number is 13812345678"}]
        }))
        .unwrap();
        mask_call(&mut call);
        let shown = serde_json::to_string(&call).unwrap();
        assert!(!shown.contains("13812345678"), "{shown}");
        assert_eq!(call.customer_number.as_deref(), Some("138****5678"));
        assert_eq!(
            call.line_number.as_deref(),
            Some("4001234567"),
            "the business's own"
        );
        assert!(shown.contains("my number is 138****5678"), "{shown}");
    }
}
