//! `laaffic-voice-report`: LAAFFIC `agentPushVoiceReportBatch` (vendor doc 004).
//!
//! Body: `{"array": [...]}`; the single-object sibling `pushVoiceReport` and a
//! bare array are accepted too. Times are epoch milliseconds (numbers or digit
//! strings; the doc's `yyyyMMddHHmmss` is read in the source's zone).
//! Durations are seconds. Money fields are decimal strings in the quote
//! currency (`currency`, else the source's currency, else USD); `cost` is the
//! line cost plus the AI-agent fee (`cost` + `aiAgentQuoteFee`), each part
//! kept raw in `vendor_fields`.

use super::batch::{parse_each, records, Layout};
use super::{ParseError, Parsed, Record, SourceContext};
use crate::domain::{CallUpdate, Direction, HangupBy, Intent, Money, Outcome, Region, Vendor};
use serde_json::Value;

/// Parses one push. Errors: [`ParseError::Shape`] unless the body is an object
/// with an `array` of records (or a bare record) or an array of records.
pub fn parse(body: Value, ctx: &SourceContext) -> Result<Parsed, ParseError> {
    let layout = Layout::Wrapped {
        field: "array",
        id_field: "voiceId",
    };
    let (items, prefix) = records(body, &layout)?;
    Ok(parse_each(items, &prefix, |r| record(r, ctx)))
}

fn record(r: &mut Record, ctx: &SourceContext) -> Result<CallUpdate, String> {
    let id = r.call_id("voiceId")?;
    let tz = &ctx.timezone;
    let mut u = CallUpdate::new(Vendor::Laaffic, id, Direction::Outbound);
    let s = &mut u.set;
    s.customer_number = r.text("callee");
    s.line_number = r.text("displayNum");
    s.task_id = r.text("taskId");
    s.script_id = r.text("scriptId");
    s.originated_at = r.time("callTime", tz);
    s.ringing_at = r.time("ringingTime", tz);
    s.answered_at = r.time("answerTime", tz);
    s.ended_at = r.time("hangupTime", tz);
    s.ring_seconds = r.integer("ringDuration");
    s.talk_seconds = r.integer("callDuration");
    s.billed_seconds = r.integer("chargedDuration");
    s.recording_url = r.text("recordingFileUrl");
    let (code, label) = (r.text("intentCode"), r.text("intent"));
    if code.is_some() || label.is_some() {
        s.intent = Some(Intent { code, label });
    }
    s.region = r.text("code").map(|carrier| Region {
        province: None,
        city: None,
        carrier: Some(carrier),
    });
    s.cost = cost(r, ctx);
    if let Some(reason) = r.peek("terminationReason").and_then(|v| v.as_str()) {
        s.hangup_by = match reason.trim().to_ascii_lowercase().as_str() {
            "called hang up" | "callee hang up" | "被叫挂断" => Some(HangupBy::Customer),
            "caller hang up" | "主叫挂断" => Some(HangupBy::Agent),
            _ => None,
        };
    }
    // No status field at all says nothing: a stored outcome is kept.
    if let Some((outcome, status)) = outcome(r) {
        s.outcome = Some(outcome);
        s.vendor_status = Some(status);
    }
    Ok(u)
}

/// Line cost plus AI-agent fee, both in the quote currency; the raw fields
/// stay in `vendor_fields` (they are not marked mapped). Unknown when a
/// part is unreadable or 10^15 or more in magnitude, or when the sum
/// reaches 10^15 (a partial sum would pass for the whole cost).
fn cost(r: &mut Record, ctx: &SourceContext) -> Option<Money> {
    let mut total: Option<rust_decimal::Decimal> = None;
    let mut unreadable = false;
    for key in ["cost", "aiAgentQuoteFee"] {
        if let Some(v) = r.peek(key) {
            match super::values::money_amount(v) {
                Ok(Some(d)) => match total
                    .unwrap_or_default()
                    .checked_add(d)
                    .filter(|sum| crate::domain::money::check_amount(*sum).is_ok())
                {
                    Some(sum) => total = Some(sum),
                    None => {
                        r.warn(key, "cost + aiAgentQuoteFee is out of range".to_owned());
                        unreadable = true;
                    }
                },
                Ok(None) => {}
                Err(e) => {
                    r.warn(key, e);
                    unreadable = true;
                }
            }
        }
    }
    if unreadable {
        return None;
    }
    let currency = r
        .peek("currency")
        .and_then(|v| super::values::text(v).ok().flatten())
        .or_else(|| ctx.currency.clone())
        .unwrap_or_else(|| "USD".to_owned());
    total.map(|amount| Money::new(amount.normalize(), &currency))
}

/// One status field's code → outcome table.
type StatusMap = fn(i64) -> Option<Outcome>;

/// The outcome from `callDescription`, else `callStatus`, else
/// `callStatusNew` (the canonical call model), and the raw values it came from as
/// `callStatus=50;callStatusNew=1;callDescription=1`; `None` when the record
/// carries none of the three.
fn outcome(r: &mut Record) -> Option<(Outcome, String)> {
    use Outcome::*;
    let fields: [(&'static str, StatusMap); 3] = [
        ("callDescription", |v| match v {
            1 | 3 | 4 | 5 => Some(Answered),
            2 => Some(Voicemail),
            6 => Some(Busy),
            7 => Some(Unreachable),
            8 => Some(NoAnswer),
            10 => Some(Other),
            _ => None,
        }),
        ("callStatus", |v| match v {
            10 => Some(Busy),
            20 => Some(NoAnswer),
            30 | 60 => Some(Other),
            40 => Some(Voicemail),
            50 => Some(Answered),
            _ => None,
        }),
        ("callStatusNew", |v| match v {
            1 => Some(Answered),
            2 | 4 => Some(Failed),
            3 => Some(NoAnswer),
            _ => None,
        }),
    ];
    let mut found = None;
    let mut raw = Vec::new();
    for (field, map) in fields {
        let Some(v) = r.integer(field) else { continue };
        raw.push((field, v));
        match map(v) {
            Some(o) if found.is_none() => found = Some(o),
            Some(_) => {}
            None => r.unknown_value(field, &v.to_string()),
        }
    }
    // The order of the vendor_status text is fixed, whatever the body's order.
    raw.sort_by_key(|(f, _)| {
        ["callStatus", "callStatusNew", "callDescription"]
            .iter()
            .position(|x| x == f)
    });
    if raw.is_empty() {
        return None;
    }
    let status = raw
        .iter()
        .map(|(f, v)| format!("{f}={v}"))
        .collect::<Vec<_>>()
        .join(";");
    Some((found.unwrap_or(Unknown), status))
}
