//! `vapi-end-of-call-report`: Vapi's `end-of-call-report` server message
//! (docs.vapi.ai/server-url/events and /server-url/end-of-call-report; the
//! field types from the `ServerMessageEndOfCallReport` schema of Vapi's API
//! reference; outcome values from docs.vapi.ai/calls/call-ended-reason).
//!
//! Body: `{"message": {"type": "end-of-call-report", "endedReason", "call":
//! {"id", "type", "createdAt", …}, "customer": {"number"}, "phoneNumber":
//! {"number"}, "startedAt", "endedAt", "cost", "costBreakdown", "artifact":
//! {"messages", "transcript", "recordingUrl"}, "analysis": {"summary",
//! "structuredData", "successEvaluation"}}}`. One call per push. Times are
//! RFC 3339 strings; `cost` is US dollars; `artifact.messages[].secondsFromStart`
//! is seconds (float), `time`/`endTime` epoch milliseconds. Other server
//! messages (`status-update`, `transcript`, …) are refused: only the report
//! is a call record.

use super::batch::{member, parse_single};
use super::{values, ParseError, Parsed, Record, SourceContext};
use crate::domain::{
    Analysis, CallUpdate, Direction, HangupBy, Money, Outcome, Speaker, Turn, Vendor,
};
use serde_json::{Map, Value};

/// The one `message.type` this kind reads.
pub const MESSAGE_TYPE: &str = "end-of-call-report";

/// Parses one push. Errors: [`ParseError::Shape`] unless the body is an
/// object whose `message` is an object of `type` `end-of-call-report`.
pub fn parse(mut body: Value, ctx: &SourceContext) -> Result<Parsed, ParseError> {
    let message = member(&mut body, "message")?;
    match message.get("type").and_then(Value::as_str) {
        Some(MESSAGE_TYPE) => {}
        other => {
            return Err(ParseError::Shape {
                path: "$.message.type".into(),
                message: format!(
                    "expected \"{MESSAGE_TYPE}\", found {}: only the end-of-call report is a call record \
                     (set the assistant's serverMessages to end-of-call-report)",
                    other.map_or("nothing".to_owned(), values::quoted)
                ),
            })
        }
    }
    Ok(parse_single(&message, "$.message", |r| record(r, ctx)))
}

fn record(r: &mut Record, ctx: &SourceContext) -> Result<CallUpdate, String> {
    r.take("type");
    let mut call = r
        .child("call")
        .ok_or("missing `call` object (with the call id)")?;
    let id = call.call_id("id")?;
    // `call.type` stays in vendor_fields: it also tells a web call from a phone call.
    let direction = match call.peek("type").and_then(Value::as_str) {
        Some("inboundPhoneCall" | "webCall") => Direction::Inbound,
        _ => Direction::Outbound,
    };
    let mut u = CallUpdate::new(Vendor::Vapi, id, direction);
    let tz = &ctx.timezone;
    let s = &mut u.set;
    s.originated_at = call.time("createdAt", tz);
    let started = r.time("startedAt", tz);
    s.ended_at = r.time("endedAt", tz);
    let reason = r.text("endedReason");
    if let Some(reason) = &reason {
        let o = outcome(reason);
        if o == Outcome::Unknown {
            r.unknown_value("endedReason", reason);
        }
        s.outcome = Some(o);
        s.vendor_status = Some(reason.clone());
        s.hangup_by = hangup_by(reason);
    }
    let connected = matches!(s.outcome, Some(Outcome::Answered | Outcome::Voicemail));
    if connected {
        s.answered_at = started;
        s.talk_seconds = match (started, s.ended_at) {
            (Some(a), Some(b)) if b >= a => {
                Some((b.as_millisecond() - a.as_millisecond() + 500) / 1000)
            }
            _ => None,
        };
    } else if s.originated_at.is_none() {
        s.originated_at = started;
    }
    if let Some(amount) = r.decimal("cost") {
        s.cost = Some(Money::new(amount, ctx.currency.as_deref().unwrap_or("USD")));
    }
    // Repeated inside `call`: kept in vendor_fields only where they differ.
    for k in ["endedReason", "startedAt", "endedAt", "cost", "status"] {
        if call.peek(k).is_some() && call.peek(k) == r.peek(k) {
            call.take(k);
        }
    }
    let customer = number_of(r, "customer").or_else(|| number_of(&mut call, "customer"));
    r.absorb("call", call);
    u.set.customer_number = customer;
    u.set.line_number = number_of(r, "phoneNumber");
    if let Some(mut a) = r.child("artifact") {
        u.set.recording_url = a.text("recordingUrl");
        u.set.turns = turns(&mut a);
        r.absorb("artifact", a);
    }
    if let Some(mut a) = r.child("analysis") {
        if let Some(analysis) = analysis(&mut a) {
            u.analyses.push(analysis);
        }
        r.absorb("analysis", a);
    }
    Ok(u)
}

/// `key.number` of a nested object (`customer`, `phoneNumber`), the rest of
/// the object kept for `vendor_fields`.
fn number_of(r: &mut Record, key: &str) -> Option<String> {
    let mut c = r.child(key)?;
    let n = c.text("number");
    r.absorb(key, c);
    n
}

/// `artifact.messages` → turns: `bot`/`assistant` lines are the agent's,
/// `user` lines the customer's; `system`, `tool_calls` and
/// `tool_call_result` lines are not speech and are left out (the whole list
/// stays in `vendor_fields`). Offsets from `secondsFromStart` (seconds) and
/// the line's length (`endTime` − `time`, milliseconds).
fn turns(a: &mut Record) -> Option<Vec<Turn>> {
    let Some(Value::Array(lines)) = a.peek("messages") else {
        return None;
    };
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let get = |k: &str| line.get(k).unwrap_or(&Value::Null);
        let speaker = match get("role").as_str() {
            Some("bot" | "assistant") => Speaker::Agent,
            Some("user") => Speaker::Customer,
            _ => continue,
        };
        let Ok(Some(text)) = values::text(get("message")) else {
            continue;
        };
        let start_ms = values::number(get("secondsFromStart"))
            .ok()
            .flatten()
            .map(|s| (s * 1000.0).round() as i64);
        let length = match (
            values::integer(get("time")),
            values::integer(get("endTime")),
        ) {
            (Ok(Some(a)), Ok(Some(b))) if b >= a => Some(b - a),
            _ => None,
        };
        out.push(Turn {
            speaker,
            text,
            start_ms,
            end_ms: start_ms.zip(length).map(|(s, l)| s + l),
        });
    }
    Some(out)
}

/// `analysis` → a summary analysis: `summary` (text), `structuredData`
/// (object) and `successEvaluation` (text) as its tags. `None` when all
/// three are empty (Vapi sends `{}` for calls that did not connect).
fn analysis(a: &mut Record) -> Option<Analysis> {
    let mut tags = Map::new();
    if let Some(summary) = a.text("summary") {
        tags.insert("summary".into(), Value::String(summary));
    }
    if let Some(v) = a.take("structuredData").filter(|v| !is_empty(v)) {
        tags.insert("structured_data".into(), v.clone());
    }
    if let Some(v) = a.text("successEvaluation") {
        tags.insert("success_evaluation".into(), Value::String(v));
    }
    if tags.is_empty() {
        return None;
    }
    Some(super::mapping::summary_analysis(tags))
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// Who ended the call, where `endedReason` says.
fn hangup_by(reason: &str) -> Option<HangupBy> {
    Some(if reason.starts_with("customer-ended-call") {
        HangupBy::Customer
    } else if reason.starts_with("assistant-ended-call")
        || reason == "assistant-said-end-call-phrase"
        || reason == "assistant-forwarded-call"
        || reason == "voicemail"
    {
        HangupBy::Agent
    } else if matches!(reason, "silence-timed-out" | "exceeded-max-duration") {
        HangupBy::System
    } else {
        return None;
    })
}

/// `endedReason` → outcome (the table in `docs/call-model.md`). Vapi lists
/// about 600 values, most of them errors named by where they happened; the
/// families are matched by prefix.
pub fn outcome(reason: &str) -> Outcome {
    use Outcome::*;
    match reason {
        "customer-ended-call"
        | "customer-ended-call-before-warm-transfer"
        | "customer-ended-call-after-warm-transfer-attempt"
        | "customer-ended-call-during-transfer"
        | "assistant-ended-call"
        | "assistant-ended-call-after-message-spoken"
        | "assistant-ended-call-with-hangup-task"
        | "assistant-said-end-call-phrase"
        | "assistant-forwarded-call"
        | "silence-timed-out"
        | "exceeded-max-duration"
        | "call.in-progress.twilio-completed-call"
        | "call.in-progress.sip-completed-call"
        | "vonage-completed"
        | "call.ending.hook-executed-say"
        | "call.ending.hook-executed-transfer" => Answered,
        "voicemail" => Voicemail,
        "customer-did-not-answer"
        | "call.forwarding.no-answer"
        | "call.in-progress.error-providerfault-outbound-sip-408-request-timeout"
        | "call.in-progress.error-providerfault-outbound-sip-480-temporarily-unavailable" => NoAnswer,
        "customer-busy" | "call.forwarding.operator-busy" => Busy,
        "vonage-rejected" => Rejected,
        "twilio-reported-customer-misdialed" => InvalidNumber,
        "call.ringing.sip-inbound-caller-hungup-before-call-connect" => Abandoned,
        "manually-canceled" | "call-deleted" | "scheduled-call-deleted" => Canceled,
        "assistant-request-returned-forwarding-phone-number"
        | "call.ringing.hook-executed-transfer"
        | "call.ringing.hook-executed-say" => Other,
        "twilio-failed-to-connect-call"
        | "vonage-failed-to-connect-call"
        | "vonage-disconnected"
        | "phone-call-provider-closed-websocket"
        | "phone-call-provider-bypass-enabled-but-no-call-received"
        | "worker-shutdown"
        | "assistant-join-timed-out"
        | "assistant-not-found"
        | "assistant-not-valid"
        | "customer-did-not-give-microphone-permission"
        // Older values, dropped from the current list but still sent by
        // older accounts.
        | "assistant-error"
        | "db-error"
        | "unknown-error"
        | "no-server-available"
        | "license-check-failed" => Failed,
        r if r.starts_with("pipeline-")
            || r.starts_with("call.in-progress.error-")
            || r.starts_with("call.ringing.error-")
            || r.starts_with("call.start.")
            || r.starts_with("call-start-")
            || r.starts_with("assistant-request-") =>
        {
            Failed
        }
        _ => Unknown,
    }
}
