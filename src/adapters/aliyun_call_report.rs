//! `aliyun-call-report`: Alibaba `AlicomAgentCallReport` (vendor doc 001).
//!
//! Body: a JSON array of call records (a bare object is accepted). Times are
//! `yyyy-MM-dd HH:mm:ss` in the source's zone (Beijing time by default);
//! `duration` is seconds. The outcome comes from `smartStatusCode`
//! (the vendor notes: `statusCode` disagrees with it in the vendor's own sample, so
//! it is kept raw in `vendor_fields`).

use super::batch::{parse_each, records, Layout};
use super::{ParseError, Parsed, Record, SourceContext};
use crate::domain::{CallUpdate, Direction, HangupBy, Outcome, Vendor};
use serde_json::Value;

/// Parses one push. Errors: [`ParseError::Shape`] unless the body is an array
/// or a single record object.
pub fn parse(body: Value, ctx: &SourceContext) -> Result<Parsed, ParseError> {
    let (items, prefix) = records(body, &Layout::Array)?;
    Ok(parse_each(items, &prefix, |r| record(r, ctx)))
}

fn record(r: &mut Record, ctx: &SourceContext) -> Result<CallUpdate, String> {
    let id = r.call_id("callId")?;
    let tz = &ctx.timezone;
    let mut u = CallUpdate::new(Vendor::Aliyun, id, Direction::Outbound);
    let s = &mut u.set;
    s.task_id = r.text("taskId");
    s.batch_id = r.text("batchId");
    s.out_id = r.text("outId");
    s.customer_number = r.text("callee");
    // `realCaller` is the number the customer saw; `caller` is the service
    // instance number, kept in vendor_fields.
    let real_caller = r.text("realCaller");
    s.line_number = real_caller.or_else(|| r.text("caller"));
    s.originated_at = r.time("originateTime", tz);
    s.ringing_at = r.time("ringTime", tz);
    s.answered_at = r.time("startTime", tz);
    s.ended_at = r.time("endTime", tz);
    s.talk_seconds = r.integer("duration");
    // `recordFile`: the recording link of the `AlicomAgentCallRecord`
    // message (same push, same fields otherwise), valid 7 days.
    s.recording_url = r.text("recordFile");
    if let Some(code) = r.text("smartStatusCode") {
        let outcome = outcome(&code);
        if outcome == Outcome::Unknown {
            r.unknown_value("smartStatusCode", &code);
        }
        s.outcome = Some(outcome);
        s.vendor_status = Some(code);
    }
    if let Some(dir) = r.text("hangupDirection") {
        s.hangup_by = Some(match dir.as_str() {
            "User" | "user" | "USER" | "用户" => HangupBy::Customer,
            "Machine" | "machine" | "MACHINE" | "机器" => HangupBy::Agent,
            _ => {
                r.unknown_value("hangupDirection", &dir);
                HangupBy::Unknown
            }
        });
    }
    Ok(u)
}

/// `smartStatusCode` → outcome, by the canonical outcome table.
fn outcome(code: &str) -> Outcome {
    use Outcome::*;
    match code.to_ascii_uppercase().as_str() {
        "ANSWERED" => Answered,
        "INTELLIGENT_ANSWER" => Voicemail,
        "NO_ANSWER" => NoAnswer,
        "USER_BUSY" => Busy,
        "CALL_REJECTED" => Rejected,
        "POWERED_OFF" => PoweredOff,
        "SUSPEND" => Suspended,
        "NO_USER_RESPONDING" | "UNAVAILABLE" => Unreachable,
        "INVALID_NUMBER" => InvalidNumber,
        "OPERATOR_BLOCK" | "INCOMING_CALL_BARRED" => Blocked,
        "CANCEL" => Canceled,
        "NETWORK_BUSY" => Failed,
        "OTHERS" | "OTHER" | "CALL_FORWARDING" => Other,
        _ => Unknown,
    }
}
