//! `itnio-call-record`: ITNIO Tech / Onbuka AI Voice `pushCallRecord` (vendor doc 002).
//!
//! Body: one JSON record per push (an array of records is accepted too).
//! Times are epoch seconds; durations seconds; transcript offsets milliseconds.
//! `pay` is a decimal string in the source's currency (the vendor notes: ITNIO says
//! USD, the Onbuka copy says EUR).

use super::batch::{parse_each, records, type_name, Layout};
use super::{values, ParseError, Parsed, Record, SourceContext};
use crate::domain::{
    CallUpdate, Direction, HangupBy, Intent, Money, Outcome, Speaker, Turn, Vendor,
};
use serde_json::Value;

/// Parses one push. Errors: [`ParseError::Shape`] unless the body is a record
/// object or an array of them.
pub fn parse(body: Value, ctx: &SourceContext) -> Result<Parsed, ParseError> {
    let (items, prefix) = records(body, &Layout::Array)?;
    Ok(parse_each(items, &prefix, |r| record(r, ctx)))
}

fn record(r: &mut Record, ctx: &SourceContext) -> Result<CallUpdate, String> {
    let id = r.call_id("callId")?;
    let tz = &ctx.timezone;
    let mut u = CallUpdate::new(Vendor::Itnio, id, Direction::Outbound);
    let s = &mut u.set;
    s.task_id = r.text("robotCallJobId");
    s.script_id = r.text("dialogFlowId");
    s.customer_number = r.text("calledPhoneNumber");
    s.originated_at = r.time("startTime", tz);
    s.ended_at = r.time("endTime", tz);
    s.talk_seconds = r.integer("chatDuration");
    s.billed_seconds = r.integer("billingTime");
    if let Some(amount) = r.decimal("pay") {
        s.cost = Some(Money::new(amount, ctx.currency.as_deref().unwrap_or("USD")));
    }
    if let Some(status) = r.text("resultStatus") {
        let outcome = outcome(&status);
        if outcome == Outcome::Unknown {
            r.unknown_value("resultStatus", &status);
        }
        s.outcome = Some(outcome);
        s.vendor_status = Some(status);
    }
    if let Some(by) = r.text("hangupBy") {
        s.hangup_by = Some(match by.as_str() {
            "REMOTE_HANGUP" => HangupBy::Customer,
            "INITIAL_HANGUP" | "CS_HANGUP" => HangupBy::Agent,
            "OTHER_HANGUP" => HangupBy::Unknown,
            _ => {
                r.unknown_value("hangupBy", &by);
                HangupBy::Unknown
            }
        });
    }
    s.intent = r.text("intentLevelDetailName").map(|label| Intent {
        code: None,
        label: Some(label),
    });
    s.recording_url = r.text("fullAudioUrl");
    // Tags are known only when one of the two lists is sent (null says nothing).
    let known = ["callRecordTagNames", "customerTagNames"]
        .iter()
        .any(|k| r.peek(k).is_some_and(|v| !v.is_null()));
    let mut tags = names(r, "callRecordTagNames");
    tags.extend(names(r, "customerTagNames"));
    if known {
        s.tags = Some(tags);
    }
    if let Some((turns, line_ids)) = turns(r) {
        u.set.turns = Some(turns);
        if !line_ids.is_empty() {
            u.vendor_fields
                .insert("callDetailIds".into(), Value::from(line_ids));
        }
    }
    Ok(u)
}

/// A list of names; a single string where an array is documented is one name.
/// An item that is not a name (an object, an array) is left out with a
/// warning, and the list stays as received in `vendor_fields`.
fn names(r: &mut Record, key: &str) -> Vec<String> {
    match r.peek(key) {
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            let mut unreadable = None;
            for (i, v) in items.iter().enumerate() {
                match values::text(v) {
                    Ok(name) => out.extend(name),
                    Err(e) => unreadable = unreadable.or(Some(format!("item {i}: {e}"))),
                }
            }
            match unreadable {
                Some(e) => r.warn(key, e),
                None => {
                    r.take(key);
                }
            }
            out
        }
        Some(Value::String(s)) => {
            r.take(key);
            s.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        }
        Some(Value::Null) => {
            r.take(key);
            Vec::new()
        }
        None => Vec::new(),
        Some(other) => {
            r.warn(
                key,
                format!("expected an array of names, found {}", type_name(other)),
            );
            Vec::new()
        }
    }
}

/// The keys of a transcript line that a [`Turn`] and `callDetailIds` hold.
const LINE_KEYS: [&str; 5] = ["callDetailId", "text", "type", "startOffset", "endOffset"];

/// The transcript, and the vendor's line ids (`callDetailId`), one per turn
/// in the same order. When some line does not become a turn (no text) or
/// carries keys a turn has no place for, `callDetailList` stays as received
/// in `vendor_fields` and no ids are returned (the raw list holds them).
fn turns(r: &mut Record) -> Option<(Vec<Turn>, Vec<Value>)> {
    // Borrowed from the parsed body, not copied: a transcript of 180,000
    // lines is most of an 8 MiB push's parsed size.
    let whole = r.peek("callDetailList")?;
    let list: &[Value] = match whole {
        Value::Array(items) => items,
        Value::Object(_) => std::slice::from_ref(whole),
        Value::Null => {
            r.take("callDetailList");
            return None;
        }
        other => {
            let msg = format!(
                "expected an array of transcript lines, found {}",
                type_name(other)
            );
            r.warn("callDetailList", msg);
            return None;
        }
    };
    let mut out = Vec::with_capacity(list.len());
    let mut ids = Vec::with_capacity(list.len());
    let mut lossless = true;
    for (i, line) in list.iter().enumerate() {
        match turn(line) {
            Ok(Some(t)) => {
                out.push(t);
                ids.push(line.get("callDetailId").cloned().unwrap_or(Value::Null));
            }
            Ok(None) => lossless = false,
            // A speaker the adapter does not know is a sign the vendor
            // changed: noted as an unknown value; the raw list is kept.
            Err(LineError::Speaker(v)) => {
                r.unknown_value("callDetailList[].type", &v);
                return None;
            }
            Err(LineError::Unreadable(e)) => {
                r.warn("callDetailList", format!("line {i}: {e}"));
                return None;
            }
        }
        if line
            .as_object()
            .is_some_and(|m| m.keys().any(|k| !LINE_KEYS.contains(&k.as_str())))
        {
            lossless = false;
        }
    }
    if lossless {
        r.take("callDetailList");
    }
    if !lossless || ids.iter().all(Value::is_null) {
        ids.clear();
    }
    Some((out, ids))
}

/// Why a transcript line could not become a [`Turn`].
enum LineError {
    /// A `type` other than `PERSON` / `ROBOT` (the raw value).
    Speaker(String),
    Unreadable(String),
}

impl From<String> for LineError {
    fn from(e: String) -> LineError {
        LineError::Unreadable(e)
    }
}

fn turn(v: &Value) -> Result<Option<Turn>, LineError> {
    let Value::Object(m) = v else {
        return Err(format!("expected an object, found {}", type_name(v)).into());
    };
    let get = |k: &str| m.get(k).unwrap_or(&Value::Null);
    let Some(text) = values::text(get("text"))? else {
        return Ok(None);
    };
    let speaker = match values::text(get("type"))? {
        Some(t) => match t.as_str() {
            "PERSON" | "person" | "human" => Speaker::Customer,
            "ROBOT" | "robot" | "CS" => Speaker::Agent,
            _ => return Err(LineError::Speaker(t)),
        },
        None => return Err("missing speaker type".to_owned().into()),
    };
    Ok(Some(Turn {
        speaker,
        text,
        start_ms: values::integer(get("startOffset"))?,
        end_ms: values::integer(get("endOffset"))?,
    }))
}

/// `resultStatus` → outcome, by the canonical outcome table; the
/// engine's numeric codes (the vendor's engine codes, in brackets) are accepted too.
fn outcome(status: &str) -> Outcome {
    use Outcome::*;
    match status.to_ascii_uppercase().as_str() {
        "ANSWERED" | "0" => Answered,
        "NO_ANSWER" | "1" => NoAnswer,
        "BUSY" | "2" => Busy,
        "POWER_OFF" | "3" => PoweredOff,
        "OUT_OF_SERVICE" | "4" => Suspended,
        "REFUSED" | "5" => Rejected,
        "VACANT_NUMBER" | "6" => InvalidNumber,
        "CAN_NOT_CONNECT" | "7" => Unreachable,
        "FROM_PHONE_ERROR" | "8" | "SYSTEM_ERROR" | "9" => Failed,
        "CALL_LOSS" | "10" | "TRANSFER_ARTIFICIAL" | "11" => Abandoned,
        _ => Unknown,
    }
}
