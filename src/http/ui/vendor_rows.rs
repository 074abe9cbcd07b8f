//! The handful of unmapped vendor fields a call-centre manager looks for
//! (hang-up causes, agent and flow names, rounds and redials, customer
//! concerns, cost breakdowns), shown on the call page as labelled rows
//! above the raw `vendor_fields` JSON.
//!
//! [`FIELDS`] is the whole table: (vendor, path in `vendor_fields`, label,
//! how to show). A path is dot-separated keys (`level.level_name`). A
//! field that is absent, `null`, empty or unreadable as its kind is left
//! out; every value is shown as text (the template escapes it), and a link
//! is made only for an `http(s)` URL.

use super::call::safe_link;
use super::durations::duration;
use crate::domain::Vendor;
use serde_json::{Map, Value};

/// The most characters of one row's text; longer values end with `…`
/// (the raw JSON below has all of it).
const MAX_CHARS: usize = 300;

/// How a field's value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// A string as is, a number or boolean as JSON writes it.
    Text,
    /// Whole seconds as a duration (`2 min 05 s`).
    Seconds,
    /// An `http(s)` URL as a link; anything else as text.
    Link,
    /// A list's items joined with ` · ` (objects compact).
    List,
    /// An object as `key: value · …`; a list of `{name, value}` as
    /// `name: value · …`; nested values as compact JSON.
    Compact,
    /// A list of cost objects as `{name} {amount} · …` (keys given).
    Costs {
        name: &'static str,
        amount: &'static str,
    },
}

/// One row of the table: which vendor, where in `vendor_fields`, the label.
pub struct Field {
    pub vendor: Vendor,
    pub path: &'static str,
    pub label: &'static str,
    pub show: Show,
}

const fn f(vendor: Vendor, path: &'static str, label: &'static str, show: Show) -> Field {
    Field {
        vendor,
        path,
        label,
        show,
    }
}

use Show::*;
use Vendor as V;

/// The fields shown as rows, per vendor, in page order.
pub const FIELDS: &[Field] = &[
    // Alibaba Cloud call report: the line's status is the hang-up cause.
    f(V::Aliyun, "statusMsg", "Call status", Text),
    f(V::Aliyun, "statusCode", "Status code", Text),
    f(V::Aliyun, "caller", "Calling number", Text),
    f(V::Aliyun, "majorIntent", "Main intent", Text),
    f(V::Aliyun, "extInfo", "Extra info", Compact),
    // ITNIO.
    f(V::Itnio, "customerConcern", "Customer concern", List),
    f(V::Itnio, "analysisBasis", "Analysis basis", Text),
    f(V::Itnio, "hangupCause", "Hang-up cause", Text),
    f(V::Itnio, "sipCode", "SIP code", Text),
    f(V::Itnio, "chatRound", "Dialogue rounds", Text),
    f(V::Itnio, "callCount", "Call attempts", Text),
    f(V::Itnio, "redialTimes", "Redials", Text),
    f(V::Itnio, "transferPhone", "Transferred to", Text),
    f(V::Itnio, "attributes", "Attributes", Compact),
    f(V::Itnio, "dynamicProperties", "Collected answers", Compact),
    f(V::Itnio, "properties", "Properties", Compact),
    f(V::Itnio, "customerAudioUrl", "Customer channel audio", Link),
    // LAAFFIC.
    f(V::Laaffic, "terminationReason", "Hang-up reason", Text),
    f(V::Laaffic, "terminationCode", "Termination code", Text),
    f(V::Laaffic, "hangupCause", "Hang-up cause", Text),
    f(V::Laaffic, "sipCode", "SIP code", Text),
    f(
        V::Laaffic,
        "aiAgentChargedDuration",
        "AI agent charged",
        Seconds,
    ),
    f(V::Laaffic, "aiAgentQuoteFee", "AI agent fee", Text),
    f(V::Laaffic, "billPeriod", "Billing period", Text),
    f(V::Laaffic, "recordingFileId", "Recording file", Text),
    // The longlonglong call centre.
    f(V::Longlonglong, "user.name", "Agent", Text),
    f(V::Longlonglong, "group.name", "Group", Text),
    f(V::Longlonglong, "level.level_name", "Customer level", Text),
    f(V::Longlonglong, "customer_data.name", "Customer name", Text),
    f(V::Longlonglong, "rounds", "Dialogue rounds", Text),
    f(V::Longlonglong, "score", "Score", Text),
    f(V::Longlonglong, "hangup_cause", "Hang-up cause", Text),
    f(V::Longlonglong, "ivr_path", "IVR path", List),
    // Vapi.
    f(V::Vapi, "phoneNumber.name", "Line name", Text),
    f(V::Vapi, "customer.name", "Customer name", Text),
    f(V::Vapi, "call.type", "Call type", Text),
    f(
        V::Vapi,
        "costs",
        "Cost breakdown",
        Costs {
            name: "type",
            amount: "cost",
        },
    ),
    // Retell.
    f(V::Retell, "agent_name", "Agent", Text),
    f(V::Retell, "agent_version", "Agent version", Text),
    f(
        V::Retell,
        "collected_dynamic_variables.last_node_name",
        "Last flow node",
        Text,
    ),
    f(V::Retell, "metadata", "Metadata", Compact),
    f(
        V::Retell,
        "retell_llm_dynamic_variables",
        "Dynamic variables",
        Compact,
    ),
    f(
        V::Retell,
        "call_cost.product_costs",
        "Cost breakdown",
        Costs {
            name: "product",
            amount: "cost",
        },
    ),
    f(V::Retell, "latency.e2e.p50", "Latency p50 (ms)", Text),
    f(V::Retell, "public_log_url", "Public log", Link),
    f(
        V::Retell,
        "recording_multi_channel_url",
        "Multi-channel recording",
        Link,
    ),
    // Bland.
    f(V::Bland, "error_message", "Error", Text),
    f(V::Bland, "queue_status", "Queue status", Text),
    f(V::Bland, "call_length", "Call length (min)", Text),
    f(V::Bland, "metadata", "Metadata", Compact),
];

/// One labelled row; `link` is set for a safe `http(s)` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRow {
    pub label: &'static str,
    pub text: String,
    pub link: Option<String>,
}

/// The rows of [`FIELDS`] that `vendor`'s `fields` hold, in table order.
pub fn rows(vendor: Vendor, fields: &Map<String, Value>) -> Vec<FieldRow> {
    FIELDS
        .iter()
        .filter(|f| f.vendor == vendor)
        .filter_map(|f| {
            let v = lookup(fields, f.path)?;
            let text = shown(v, f.show)?;
            let link = match f.show {
                Link => v.as_str().and_then(safe_link),
                _ => None,
            };
            Some(FieldRow {
                label: f.label,
                text: clip(text),
                link,
            })
        })
        .collect()
}

fn lookup<'a>(fields: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut keys = path.split('.');
    let mut v = fields.get(keys.next()?)?;
    for k in keys {
        v = v.as_object()?.get(k)?;
    }
    Some(v)
}

/// A scalar as text; `None` for null and empty.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Any value in one short line: scalars as text, the rest compact JSON.
fn inline(v: &Value) -> Option<String> {
    match v {
        Value::Array(xs) if xs.is_empty() => None,
        Value::Object(m) if m.is_empty() => None,
        Value::Array(_) | Value::Object(_) => Some(v.to_string()),
        other => scalar(other),
    }
}

fn joined(parts: impl Iterator<Item = String>) -> Option<String> {
    let parts: Vec<String> = parts.collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}

fn shown(v: &Value, show: Show) -> Option<String> {
    match show {
        Text | Link => inline(v),
        Seconds => match v {
            Value::Number(n) => n.as_i64().map(duration),
            Value::String(s) => s.trim().parse::<i64>().ok().map(duration),
            _ => None,
        },
        List => match v {
            Value::Array(xs) => joined(xs.iter().filter_map(inline)),
            other => inline(other),
        },
        Compact => match v {
            Value::Object(m) => joined(
                m.iter()
                    .filter_map(|(k, x)| inline(x).map(|x| format!("{k}: {x}"))),
            ),
            Value::Array(xs) => joined(xs.iter().filter_map(|x| {
                let pair = x.as_object().and_then(|o| {
                    Some(format!(
                        "{}: {}",
                        scalar(o.get("name")?)?,
                        inline(o.get("value")?)?
                    ))
                });
                pair.or_else(|| inline(x))
            })),
            other => inline(other),
        },
        Costs { name, amount } => match v {
            Value::Array(xs) => joined(xs.iter().filter_map(|x| {
                let o = x.as_object()?;
                Some(format!(
                    "{} {}",
                    scalar(o.get(name)?)?,
                    scalar(o.get(amount)?)?
                ))
            })),
            _ => None,
        },
    }
}

fn clip(s: String) -> String {
    match s.char_indices().nth(MAX_CHARS) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows_of(vendor: Vendor, v: Value) -> Vec<(String, String, Option<String>)> {
        rows(vendor, v.as_object().unwrap())
            .into_iter()
            .map(|r| (r.label.to_owned(), r.text, r.link))
            .collect()
    }

    #[test]
    fn itnio_concern_and_pairs() {
        let r = rows_of(
            Vendor::Itnio,
            json!({"customerConcern": ["loan amount", "interest rate"], "chatRound": 4,
                   "attributes": [{"name": "name", "value": "Budi"}, {"name": "city", "value": "Jakarta"}],
                   "dynamicProperties": {"wantsWhatsapp": "yes"}, "redialTimes": 0,
                   "customerAudioUrl": "javascript:alert(1)", "appId": "8f3c"}),
        );
        assert_eq!(
            r,
            vec![
                (
                    "Customer concern".into(),
                    "loan amount · interest rate".into(),
                    None
                ),
                ("Dialogue rounds".into(), "4".into(), None),
                ("Redials".into(), "0".into(), None),
                (
                    "Attributes".into(),
                    "name: Budi · city: Jakarta".into(),
                    None
                ),
                (
                    "Collected answers".into(),
                    "wantsWhatsapp: yes".into(),
                    None
                ),
                (
                    "Customer channel audio".into(),
                    "javascript:alert(1)".into(),
                    None
                ),
            ]
        );
    }

    #[test]
    fn nested_paths_costs_and_durations() {
        let r = rows_of(
            Vendor::Retell,
            json!({"agent_name": "Ava", "collected_dynamic_variables": {"last_node_name": "End Call"},
                   "call_cost": {"product_costs": [{"product": "elevenlabs_tts", "cost": 3.2}, {"product": "llm"}]},
                   "public_log_url": "https://x.example/log.txt", "metadata": {}}),
        );
        assert_eq!(
            r,
            vec![
                ("Agent".into(), "Ava".into(), None),
                ("Last flow node".into(), "End Call".into(), None),
                ("Cost breakdown".into(), "elevenlabs_tts 3.2".into(), None),
                (
                    "Public log".into(),
                    "https://x.example/log.txt".into(),
                    Some("https://x.example/log.txt".into())
                ),
            ]
        );
        let r = rows_of(
            Vendor::Laaffic,
            json!({"aiAgentChargedDuration": "125", "terminationReason": "", "sipCode": null}),
        );
        assert_eq!(
            r,
            vec![("AI agent charged".into(), "2 min 05 s".into(), None)]
        );
    }

    #[test]
    fn other_vendors_fields_and_long_values() {
        assert!(rows_of(Vendor::Bland, json!({"agent_name": "Ava"})).is_empty());
        let long = "长".repeat(400);
        let r = rows_of(Vendor::Bland, json!({ "error_message": long }));
        assert_eq!(r[0].1.chars().count(), MAX_CHARS + 1);
        assert!(r[0].1.ends_with('…'));
    }
}
