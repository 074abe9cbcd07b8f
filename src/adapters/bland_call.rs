//! `bland-call`: Bland AI's post-call webhook, the call object of
//! `GET /v1/calls/{call_id}` posted to the call's `webhook` URL
//! (docs.bland.ai/api-v1/get/calls-id, /tutorials/post-call-webhooks).
//!
//! Body: one flat object `{"call_id", "inbound", "to", "from", "created_at",
//! "started_at", "end_at", "status", "answered_by", "call_ended_by",
//! "call_length", "corrected_duration", "price", "transcripts", "summary",
//! "recording_url", "disposition_tag", "error_message", …}`. Times are
//! ISO 8601 with a zone; `call_length` minutes (float); `corrected_duration`
//! seconds (a string); `price` US dollars.

use super::{values, ParseError, Parsed, Record, SourceContext};
use crate::domain::{CallUpdate, Direction, HangupBy, Money, Outcome, Speaker, Turn, Vendor};
use jiff::Timestamp;
use serde_json::{Map, Value};

/// Parses one push. Errors: [`ParseError::Shape`] unless the body is one
/// call object.
pub fn parse(body: Value, ctx: &SourceContext) -> Result<Parsed, ParseError> {
    let Value::Object(map) = body else {
        return Err(ParseError::Shape {
            path: "$".into(),
            message: format!(
                "expected one call object, found {}",
                super::batch::type_name(&body)
            ),
        });
    };
    Ok(super::batch::parse_single(&map, "$", |r| record(r, ctx)))
}

fn record(r: &mut Record, ctx: &SourceContext) -> Result<CallUpdate, String> {
    let id = r.call_id("call_id")?;
    // `c_id` repeats the call id in every documented example.
    if r.peek("c_id").and_then(Value::as_str) == Some(id.as_str()) {
        r.take("c_id");
    }
    let inbound = r.boolean("inbound").unwrap_or(false);
    let direction = if inbound {
        Direction::Inbound
    } else {
        Direction::Outbound
    };
    let mut u = CallUpdate::new(Vendor::Bland, id, direction);
    let tz = &ctx.timezone;
    let s = &mut u.set;
    let (to, from) = (r.text("to"), r.text("from"));
    (s.customer_number, s.line_number) = if inbound { (from, to) } else { (to, from) };
    s.batch_id = r.text("batch_id");
    s.originated_at = r.time("created_at", tz);
    let started = r.time("started_at", tz);
    s.ended_at = r.time("end_at", tz);
    let status = r.text("status");
    let answered_by = r.text("answered_by");
    let error = r.text("error_message");
    let o = outcome(status.as_deref(), answered_by.as_deref(), error.as_deref());
    if o == Outcome::Unknown {
        if let Some(st) = &status {
            r.unknown_value("status", st);
        }
    }
    let s = &mut u.set;
    if status.is_some() || answered_by.is_some() {
        s.outcome = Some(o);
        s.vendor_status = Some(vendor_status(&status, &answered_by));
    }
    if let Some(e) = error {
        u.vendor_fields
            .insert("error_message".into(), Value::String(e));
    }
    let connected = matches!(o, Outcome::Answered | Outcome::Voicemail);
    if connected {
        s.answered_at = started;
        s.talk_seconds = r
            .integer("corrected_duration")
            .or_else(|| r.number("call_length").map(|m| (m * 60.0).round() as i64));
    }
    let s = &mut u.set;
    s.hangup_by = match r.text("call_ended_by").as_deref() {
        Some("USER" | "user") => Some(HangupBy::Customer),
        Some("ASSISTANT" | "assistant") => Some(HangupBy::Agent),
        Some(other) => {
            let other = other.to_owned();
            r.unknown_value("call_ended_by", &other);
            Some(HangupBy::Unknown)
        }
        None => None,
    };
    if let Some(price) = r.decimal("price") {
        u.set.cost = Some(Money::new(price, ctx.currency.as_deref().unwrap_or("USD")));
    }
    u.set.recording_url = r.text("recording_url");
    if let Some(tag) = r.text("disposition_tag") {
        u.set.tags = Some(vec![tag]);
    }
    u.set.turns = turns(r, started);
    let mut tags = Map::new();
    if let Some(summary) = r.text("summary") {
        tags.insert("summary".into(), Value::String(summary));
    }
    if let Some(a) = r
        .take("analysis")
        .filter(|v| v.as_object().is_some_and(|m| !m.is_empty()))
    {
        tags.insert("analysis".into(), a.clone());
    }
    if !tags.is_empty() {
        u.analyses.push(super::mapping::summary_analysis(tags));
    }
    Ok(u)
}

fn vendor_status(status: &Option<String>, answered_by: &Option<String>) -> String {
    match (status, answered_by) {
        (Some(s), Some(a)) => format!("status={s};answered_by={a}"),
        (Some(s), None) => format!("status={s}"),
        (None, Some(a)) => format!("answered_by={a}"),
        (None, None) => String::new(),
    }
}

/// `transcripts` → turns: `user` lines are the customer's, `assistant` and
/// `robot` lines the agent's; `agent-action` lines (the platform's notes,
/// "Ended call") are left out. Offsets are each line's `created_at` from
/// the call's `started_at`, when both are known.
fn turns(r: &mut Record, started: Option<Timestamp>) -> Option<Vec<Turn>> {
    let Some(Value::Array(lines)) = r.peek("transcripts") else {
        return None;
    };
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let speaker = match line.get("user").and_then(Value::as_str) {
            Some("user") => Speaker::Customer,
            Some("assistant" | "robot") => Speaker::Agent,
            _ => continue,
        };
        let Ok(Some(text)) = values::text(line.get("text").unwrap_or(&Value::Null)) else {
            continue;
        };
        let at = line
            .get("created_at")
            .and_then(|v| values::time(v, &jiff::tz::TimeZone::UTC).ok().flatten());
        let start_ms = started
            .zip(at)
            .map(|(s, a)| a.as_millisecond() - s.as_millisecond())
            .filter(|ms| *ms >= 0);
        out.push(Turn {
            speaker,
            text,
            start_ms,
            end_ms: None,
        });
    }
    Some(out)
}

/// `status`, `answered_by` and `error_message` → outcome (the table in
/// `docs/call-model.md`): `completed` is `voicemail` when a machine answered
/// and `answered` otherwise; `failed` is read more closely from the SIP
/// code in the documented error messages.
pub fn outcome(status: Option<&str>, answered_by: Option<&str>, error: Option<&str>) -> Outcome {
    use Outcome::*;
    if answered_by == Some("no-answer") {
        return NoAnswer;
    }
    match status {
        Some("completed") | None => match answered_by {
            Some("voicemail") => Voicemail,
            Some("human" | "unknown") => Answered,
            None if status.is_some() => Answered,
            _ => Unknown,
        },
        Some("no-answer") => NoAnswer,
        Some("busy") => Busy,
        Some("canceled") => Canceled,
        Some("failed") => {
            let e = error.unwrap_or_default();
            if e.contains("busy") {
                Busy
            } else if e.contains("not found") {
                InvalidNumber
            } else if e.contains("temporarily unavailable") {
                Unreachable
            } else if e.contains("Blocked") {
                Blocked
            } else {
                Failed
            }
        }
        Some("unknown") => Other,
        Some(_) => Unknown,
    }
}
