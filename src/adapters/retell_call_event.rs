//! `retell-call-event`: Retell AI's webhook events (docs.retellai.com
//! /features/webhook-overview; the call object's fields and units from
//! /api-references/get-call; `disconnection_reason` values from
//! /reliability/debug-call-disconnect).
//!
//! Body: `{"event": "call_started" | "call_ended" | "call_analyzed",
//! "call": {"call_id", "direction", "from_number", "to_number",
//! "start_timestamp", "end_timestamp", "duration_ms", "disconnection_reason",
//! "call_cost", "transcript_object", "recording_url", "call_analysis", …}}`.
//! Times are epoch milliseconds; `duration_ms` milliseconds;
//! `call_cost.combined_cost` US cents; `transcript_object[].words[]`
//! offsets seconds. `call_ended` and `call_analyzed` of one call carry the
//! same call fields (the second adds `call_analysis`), so they merge into
//! one call in either order; `call_started` only fills what is not known yet
//! (and adds no `vendor_fields`).

use super::batch::{member, parse_single};
use super::{values, ParseError, Parsed, Record, SourceContext};
use crate::domain::{
    CallPatch, CallUpdate, Direction, HangupBy, Money, Outcome, Speaker, Turn, Vendor,
};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// The events this kind reads.
pub const EVENTS: [&str; 3] = ["call_started", "call_ended", "call_analyzed"];

/// Parses one push. Errors: [`ParseError::Shape`] unless the body is an
/// object with a known `event` and a `call` object.
pub fn parse(mut body: Value, ctx: &SourceContext) -> Result<Parsed, ParseError> {
    let event = body.get("event").and_then(Value::as_str).map(str::to_owned);
    let event = match event.as_deref() {
        Some(e) if EVENTS.contains(&e) => e.to_owned(),
        other => {
            return Err(ParseError::Shape {
                path: "$.event".into(),
                message: format!(
                    "expected one of call_started, call_ended, call_analyzed, found {}",
                    other.map_or("nothing".to_owned(), values::quoted)
                ),
            })
        }
    };
    let call = member(&mut body, "call")?;
    Ok(parse_single(&call, "$.call", |r| record(r, &event, ctx)))
}

fn record(r: &mut Record, event: &str, ctx: &SourceContext) -> Result<CallUpdate, String> {
    let id = r.call_id("call_id")?;
    let web = r.peek("call_type").and_then(Value::as_str) == Some("web_call");
    let direction = match r.text("direction").as_deref() {
        Some("inbound") => Direction::Inbound,
        Some(_) => Direction::Outbound,
        None if web => Direction::Inbound,
        None => Direction::Outbound,
    };
    let mut u = CallUpdate::new(Vendor::Retell, id, direction);
    let mut p = CallPatch::default();
    let (from, to) = (r.text("from_number"), r.text("to_number"));
    (p.customer_number, p.line_number) = match direction {
        Direction::Outbound => (to, from),
        Direction::Inbound => (from, to),
    };
    p.script_id = r.text("agent_id");
    p.originated_at = r.time("start_timestamp", &ctx.timezone);
    p.ended_at = r.time("end_timestamp", &ctx.timezone);
    if let Some(reason) = r.text("disconnection_reason") {
        let o = outcome(&reason);
        if o == Outcome::Unknown {
            r.unknown_value("disconnection_reason", &reason);
        }
        p.outcome = Some(o);
        p.hangup_by = hangup_by(&reason);
        p.vendor_status = Some(reason);
    }
    if matches!(p.outcome, Some(Outcome::Answered | Outcome::Voicemail)) {
        p.answered_at = p.originated_at;
    }
    p.talk_seconds = r.integer("duration_ms").map(|ms| (ms + 500) / 1000);
    p.recording_url = r.text("recording_url");
    if let Some(mut c) = r.child("call_cost") {
        if let Some(cents) = c.decimal("combined_cost") {
            let usd = (cents / Decimal::ONE_HUNDRED).normalize();
            p.cost = Some(Money::new(usd, ctx.currency.as_deref().unwrap_or("USD")));
        }
        r.absorb("call_cost", c);
    }
    p.turns = turns(r);
    if let Some(mut a) = r.child("call_analysis") {
        let mut tags = Map::new();
        for (from, to) in [
            ("call_summary", "summary"),
            ("user_sentiment", "user_sentiment"),
            ("call_successful", "call_successful"),
            ("in_voicemail", "in_voicemail"),
            ("custom_analysis_data", "custom_analysis_data"),
        ] {
            if let Some(v) = a.take(from).filter(|v| !v.is_null()) {
                tags.insert(to.into(), v.clone());
            }
        }
        r.absorb("call_analysis", a);
        if !tags.is_empty() {
            u.analyses.push(super::mapping::summary_analysis(tags));
        }
    }
    // A call_started event knows less than the events after it: it never
    // overwrites them, whichever arrives first.
    if event == "call_started" {
        u.fill = p;
        // Nor do its vendor fields (`call_status: "ongoing"`): they would
        // overwrite the later events' whenever it arrives last. The receipt
        // keeps them.
        r.drain_leftover();
    } else {
        u.set = p;
    }
    Ok(u)
}

/// `transcript_object` → turns: `agent` (and `transfer_target`, the person
/// the call was transferred to on the business side) are the agent's,
/// `user` the customer's; offsets from the first and last word (seconds).
fn turns(r: &mut Record) -> Option<Vec<Turn>> {
    let Some(Value::Array(lines)) = r.peek("transcript_object") else {
        return None;
    };
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let speaker = match line.get("role").and_then(Value::as_str) {
            Some("agent" | "transfer_target") => Speaker::Agent,
            Some("user") => Speaker::Customer,
            _ => continue,
        };
        let Ok(Some(text)) = values::text(line.get("content").unwrap_or(&Value::Null)) else {
            continue;
        };
        let words = line.get("words").and_then(Value::as_array);
        let at = |w: Option<&Value>, k: &str| {
            let s = values::number(w?.get(k)?).ok()??;
            Some((s * 1000.0).round() as i64)
        };
        out.push(Turn {
            speaker,
            text,
            start_ms: at(words.and_then(|w| w.first()), "start"),
            end_ms: at(words.and_then(|w| w.last()), "end"),
        });
    }
    Some(out)
}

fn hangup_by(reason: &str) -> Option<HangupBy> {
    Some(match reason {
        "user_hangup" => HangupBy::Customer,
        "agent_hangup" | "call_transfer" | "voicemail_reached" | "ivr_reached" => HangupBy::Agent,
        "inactivity" | "max_duration_reached" => HangupBy::System,
        _ => return None,
    })
}

/// `disconnection_reason` → outcome (the table in `docs/call-model.md`).
pub fn outcome(reason: &str) -> Outcome {
    use Outcome::*;
    match reason {
        "user_hangup"
        | "agent_hangup"
        | "call_transfer"
        | "inactivity"
        | "max_duration_reached"
        | "transfer_bridged"
        | "transfer_cancelled"
        | "call_take_over" => Answered,
        "voicemail_reached" | "ivr_reached" | "machine_detected" => Voicemail,
        "dial_no_answer" => NoAnswer,
        "dial_busy" => Busy,
        "user_declined" => Rejected,
        "invalid_destination" => InvalidNumber,
        "marked_as_spam" => Blocked,
        "manual_stopped" => Canceled,
        "dial_failed"
        | "telephony_provider_permission_denied"
        | "telephony_provider_unavailable"
        | "sip_routing_error"
        | "concurrency_limit_reached"
        | "no_concurrency_fallback"
        | "no_valid_payment"
        | "scam_detected"
        | "registered_call_timeout" => Failed,
        r if r.starts_with("error_") => Failed,
        _ => Unknown,
    }
}
