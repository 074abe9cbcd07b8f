//! Which kind a body looks like: each built-in kind's documented record
//! keys, counted where that kind keeps its records. A body pushed to a
//! source of another kind is refused when it matches another kind's shape
//! better than its own (an Alibaba report array at an ITNIO source would
//! otherwise be read as ITNIO calls with the wrong times), and a refused
//! body's message names the kind it looks like. `docs/decisions.md`
//! ("Which body each kind accepts") lists the shapes and the ties.

use crate::domain::SourceKind;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Where a kind keeps its records, as far as telling kinds apart goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum View {
    /// Each element of a top-level array, or the top-level object.
    Top,
    /// Each element of the array (or the object) under this key.
    Under(&'static str),
    /// Retell's `{event, call}` envelope: the top keys and the `call` object's.
    Envelope,
}

struct Fingerprint {
    kind: SourceKind,
    view: View,
    keys: &'static [&'static str],
}

/// Records looked at per body: enough to see its shape, bounded for big batches.
const SAMPLED_RECORDS: usize = 4;
/// Fewest documented keys a record must share with a kind to look like it.
const MIN_KEYS: f64 = 3.0;

const PRINTS: [Fingerprint; 8] = [
    Fingerprint {
        kind: SourceKind::AliyunCallReport,
        view: View::Top,
        keys: &[
            "bDuration",
            "bEndTime",
            "bOriginateTime",
            "bRingTime",
            "bStartTime",
            "batchId",
            "callId",
            "callee",
            "caller",
            "detailId",
            "duration",
            "endTime",
            "hangupDirection",
            "originateTime",
            "outId",
            "realCaller",
            "ringTime",
            "smartStatusCode",
            "startTime",
            "statusCode",
            "statusMsg",
            "taskId",
        ],
    },
    Fingerprint {
        kind: SourceKind::AliyunCallNotes,
        view: View::Top,
        keys: &[
            "biz_id",
            "call_id",
            "cell_number",
            "content_length",
            "duration",
            "error_code",
            "error_msg",
            "out_id",
            "report_time",
            "result",
            "start_time",
            "success",
            "type",
        ],
    },
    Fingerprint {
        kind: SourceKind::ItnioCallRecord,
        view: View::Top,
        keys: &[
            "analysisBasis",
            "appId",
            "attributes",
            "billingTime",
            "callCount",
            "callDetailList",
            "callId",
            "callRecordTagIds",
            "callRecordTagNames",
            "calledPhoneNumber",
            "chatDuration",
            "chatRound",
            "customerAudioUrl",
            "customerConcern",
            "customerTagIds",
            "customerTagNames",
            "dialogFlowId",
            "dynamicProperties",
            "endTime",
            "fullAudioUrl",
            "hangupBy",
            "intentLevelDetailName",
            "pay",
            "properties",
            "redialTimes",
            "resultStatus",
            "robotCallJobId",
            "startTime",
            "tenantPhoneNumberId",
        ],
    },
    Fingerprint {
        kind: SourceKind::LonglonglongInbound,
        view: View::Under("data"),
        keys: &[
            "answerdate",
            "bill",
            "calldate",
            "callid",
            "customer_data",
            "customer_id",
            "duration",
            "group",
            "intention_results",
            "level",
            "master_user_id",
            "number_data",
            "rounds",
            "score",
            "tags",
            "task",
            "type",
            "user",
            "user_id",
            "voice_url",
        ],
    },
    Fingerprint {
        kind: SourceKind::LaafficVoiceReport,
        view: View::Under("array"),
        keys: &[
            "aiAgentBillPeriod",
            "aiAgentChargedDuration",
            "aiAgentFee",
            "aiAgentQuoteFee",
            "aiAgentQuoteRate",
            "aiAgentRate",
            "answerTime",
            "billPeriod",
            "callDescription",
            "callDuration",
            "callStatus",
            "callStatusNew",
            "callTime",
            "calledInfo",
            "callee",
            "chargedDuration",
            "code",
            "cost",
            "costEur",
            "currency",
            "displayNum",
            "hangupTime",
            "intent",
            "intentCode",
            "quoteExchange",
            "rate",
            "recordingFileId",
            "recordingFileUrl",
            "ringDuration",
            "ringingTime",
            "scriptId",
            "settlePay",
            "settleRate",
            "sipCode",
            "sourceTaskId",
            "submitTime",
            "taskId",
            "terminationCode",
            "terminationReason",
            "type",
            "voiceId",
        ],
    },
    Fingerprint {
        kind: SourceKind::VapiEndOfCallReport,
        view: View::Under("message"),
        keys: &[
            "analysis",
            "artifact",
            "call",
            "cost",
            "costBreakdown",
            "costs",
            "customer",
            "endedReason",
            "endedAt",
            "phoneNumber",
            "startedAt",
            "timestamp",
            "type",
            "assistant",
            "durationSeconds",
            "durationMs",
        ],
    },
    Fingerprint {
        kind: SourceKind::RetellCallEvent,
        view: View::Envelope,
        keys: &[
            "agent_id",
            "agent_name",
            "agent_version",
            "call_analysis",
            "call_cost",
            "call_id",
            "call_status",
            "call_type",
            "collected_dynamic_variables",
            "data_storage_setting",
            "direction",
            "disconnection_reason",
            "duration_ms",
            "end_timestamp",
            "from_number",
            "latency",
            "llm_token_usage",
            "metadata",
            "opt_in_signed_url",
            "opt_out_sensitive_data_storage",
            "public_log_url",
            "recording_multi_channel_url",
            "recording_url",
            "retell_llm_dynamic_variables",
            "start_timestamp",
            "telephony_identifier",
            "to_number",
            "transcript",
            "transcript_object",
            "transcript_with_tool_calls",
        ],
    },
    Fingerprint {
        kind: SourceKind::BlandCall,
        view: View::Top,
        keys: &[
            "analysis",
            "answered_by",
            "batch_id",
            "c_id",
            "call_ended_by",
            "call_id",
            "call_length",
            "completed",
            "concatenated_transcript",
            "corrected_duration",
            "created_at",
            "disposition_tag",
            "end_at",
            "error_message",
            "from",
            "inbound",
            "local_dialing",
            "max_duration",
            "metadata",
            "pathway_logs",
            "price",
            "queue_status",
            "record",
            "recording_url",
            "started_at",
            "status",
            "summary",
            "to",
            "transcripts",
            "variables",
        ],
    },
];

/// Key → bit set of the [`PRINTS`] entries that document it.
fn index() -> &'static HashMap<&'static str, u16> {
    static INDEX: OnceLock<HashMap<&'static str, u16>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut m: HashMap<&'static str, u16> = HashMap::new();
        for (i, p) in PRINTS.iter().enumerate() {
            for k in p.keys {
                *m.entry(k).or_default() |= 1 << i;
            }
        }
        m
    })
}

/// How well `body` fits each built-in kind: the average number of that
/// kind's documented keys per record, records found where the kind keeps them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fit([f64; 8]);

impl Fit {
    /// Scores `body` (at most [`SAMPLED_RECORDS`] records per place looked at).
    pub fn of(body: &Value) -> Fit {
        let idx = index();
        let mut fit = [0.0; 8];
        let mut done: Vec<View> = Vec::with_capacity(4);
        for p in &PRINTS {
            if done.contains(&p.view) {
                continue;
            }
            done.push(p.view);
            let counts = view_counts(body, p.view, idx);
            for (i, q) in PRINTS.iter().enumerate() {
                if q.view == p.view {
                    fit[i] = counts[i];
                }
            }
        }
        Fit(fit)
    }

    fn score(&self, kind: SourceKind) -> f64 {
        PRINTS
            .iter()
            .position(|p| p.kind == kind)
            .map_or(0.0, |i| self.0[i])
    }

    /// The kind the body fits best, if it fits one at all.
    pub fn best(&self) -> Option<SourceKind> {
        let (i, s) = self
            .0
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))?;
        (*s >= MIN_KEYS).then_some(PRINTS[i].kind)
    }

    /// Another kind the body fits strictly better than `kind` (a body pushed
    /// to the wrong source); `None` for `mapped`, which may read any shape.
    pub fn better_than(&self, kind: SourceKind) -> Option<SourceKind> {
        if kind == SourceKind::Mapped {
            return None;
        }
        let best = self.best()?;
        (best != kind && self.score(best) > self.score(kind)).then_some(best)
    }
}

/// The hint added to a refused body's message when it looks like another kind.
pub fn hint(kind: SourceKind, fit: &Fit) -> Option<String> {
    let other = fit.best().filter(|b| *b != kind)?;
    Some(format!(
        "this looks like a {other} body; is the source's kind right?"
    ))
}

fn view_counts(body: &Value, view: View, idx: &HashMap<&'static str, u16>) -> [f64; 8] {
    let mut sum = [0u32; 8];
    let mut records = 0u32;
    let add = |m: &Map<String, Value>, sum: &mut [u32; 8]| {
        for k in m.keys() {
            if let Some(bits) = idx.get(k.as_str()) {
                for (i, s) in sum.iter_mut().enumerate() {
                    *s += u32::from(bits >> i & 1);
                }
            }
        }
    };
    let each = |v: &Value, f: &mut dyn FnMut(&Map<String, Value>)| match v {
        Value::Array(items) => items
            .iter()
            .take(SAMPLED_RECORDS)
            .filter_map(Value::as_object)
            .for_each(f),
        Value::Object(m) => f(m),
        _ => {}
    };
    match view {
        View::Top => each(body, &mut |m| {
            records += 1;
            add(m, &mut sum);
        }),
        View::Under(key) => {
            let inner = match body {
                Value::Object(m) => match m.get(key) {
                    Some(inner) => Some(inner),
                    // A bare record is accepted by the wrapped kinds too
                    // (not Vapi's: its envelope is the only shape).
                    None if key != "message" => Some(body),
                    None => None,
                },
                // So is a bare array of records.
                Value::Array(_) if key != "message" => Some(body),
                _ => None,
            };
            if let Some(inner) = inner {
                each(inner, &mut |m| {
                    records += 1;
                    add(m, &mut sum);
                });
            }
        }
        View::Envelope => {
            if let Value::Object(top) = body {
                records = 1;
                let envelope = ["event", "call"].iter().filter(|k| top.contains_key(**k));
                let n = envelope.count() as u32;
                if let Some(Value::Object(call)) = top.get("call") {
                    add(call, &mut sum);
                }
                let i = PRINTS
                    .iter()
                    .position(|p| p.view == View::Envelope)
                    .unwrap_or(0);
                sum[i] += n;
            }
        }
    }
    let mut out = [0.0; 8];
    if records > 0 {
        for (o, s) in out.iter_mut().zip(sum) {
            *o = f64::from(s) / f64::from(records);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_alibaba_report_array_fits_alibaba_better_than_itnio() {
        let body = json!([{"callId": "c", "caller": "1", "callee": "2", "startTime": "x",
            "smartStatusCode": "ANSWERED", "hangupDirection": 1}]);
        let fit = Fit::of(&body);
        assert_eq!(fit.best(), Some(SourceKind::AliyunCallReport));
        assert_eq!(
            fit.better_than(SourceKind::ItnioCallRecord),
            Some(SourceKind::AliyunCallReport)
        );
        assert_eq!(fit.better_than(SourceKind::AliyunCallReport), None);
        assert_eq!(fit.better_than(SourceKind::Mapped), None);
    }

    #[test]
    fn a_record_with_only_shared_keys_is_a_tie_and_stays_with_its_source() {
        let body = json!({"callId": "c", "startTime": 1, "endTime": 2});
        let fit = Fit::of(&body);
        assert_eq!(fit.better_than(SourceKind::ItnioCallRecord), None);
        assert_eq!(fit.better_than(SourceKind::AliyunCallReport), None);
    }

    #[test]
    fn wrapped_and_envelope_bodies_are_seen_where_their_kind_keeps_records() {
        let laaffic = json!({"array": [{"voiceId": "v", "callStatus": 50, "callee": "1"}]});
        assert_eq!(
            Fit::of(&laaffic).best(),
            Some(SourceKind::LaafficVoiceReport)
        );
        let retell = json!({"event": "call_ended", "call": {"call_id": "c"}});
        assert_eq!(Fit::of(&retell).best(), Some(SourceKind::RetellCallEvent));
        let vapi =
            json!({"message": {"type": "end-of-call-report", "endedReason": "x", "call": {}}});
        assert_eq!(Fit::of(&vapi).best(), Some(SourceKind::VapiEndOfCallReport));
        assert_eq!(Fit::of(&json!(42)).best(), None);
    }
}
