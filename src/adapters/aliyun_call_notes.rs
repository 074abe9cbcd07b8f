//! `aliyun-call-notes`: Alibaba Note Agent offline inference results (vendor doc 000).
//!
//! Body: a JSON array; each element is one quality inspection or summary of
//! the call `call_id` (the same id as the call report's `callId`). `result`
//! is JSON encoded as a string: an array of inspection items, or an object of
//! tag → values / text. Times are `yyyy-MM-dd HH:mm:ss` in the source's zone.
//! Notes carry no outcome: they attach an [`Analysis`]; `out_id` and
//! `cell_number` only fill a call's blanks (the call report wins).

use super::batch::{parse_each, records, type_name, Layout};
use super::{values, ParseError, Parsed, Record, SourceContext};
use crate::domain::{Analysis, AnalysisKind, CallUpdate, Direction, InspectionItem, Vendor};
use serde_json::{Map, Value};

/// Parses one push. Errors: [`ParseError::Shape`] unless the body is an array
/// or a single record object.
pub fn parse(body: Value, ctx: &SourceContext) -> Result<Parsed, ParseError> {
    let (items, prefix) = records(body, &Layout::Array)?;
    Ok(parse_each(items, &prefix, |r| record(r, ctx)))
}

fn record(r: &mut Record, ctx: &SourceContext) -> Result<CallUpdate, String> {
    let id = r.call_id("call_id")?;
    let kind = match r.peek("type").map(values::text) {
        Some(Ok(Some(t))) => match kind_of(&t) {
            Some(k) => k,
            None => {
                r.unknown_value("type", &t);
                return Err(format!(
                    "unknown inference type {} at {}",
                    values::quoted(&t),
                    r.path_of("type")
                ));
            }
        },
        _ => return Err(format!("missing inference type at {}", r.path_of("type"))),
    };
    r.take("type");
    let mut u = CallUpdate::new(Vendor::Aliyun, id, Direction::Outbound);
    u.fill.out_id = r.text("out_id");
    u.fill.customer_number = r.text("cell_number");

    let error_code = r
        .text("error_code")
        .filter(|c| !c.eq_ignore_ascii_case("success"));
    // Without `success`, an error code (NOTE_AGENT_PROCESS_FAIL) says it failed.
    let success = r.boolean("success").unwrap_or_else(|| error_code.is_none());
    let reported_at = r.time("report_time", &ctx.timezone);
    let mut analysis = Analysis {
        kind,
        success,
        error_code,
        reported_at,
        score: None,
        full_score: None,
        items: None,
        tags: None,
        vendor_fields: Map::new(),
    };
    let result_path = r.path_of("result");
    match decode_result(r.peek("result")).map_err(|e| format!("{result_path}: {e}")) {
        Ok(None) => {}
        Ok(Some(result)) => {
            let lossless =
                fill_result(&mut analysis, result).map_err(|e| format!("{result_path}: {e}"))?;
            // Item scores near f64::MAX can add up to infinity, which JSON
            // (and so the store) cannot hold: the total is unknown then.
            for (name, total) in [
                ("score", &mut analysis.score),
                ("full_score", &mut analysis.full_score),
            ] {
                if total.is_some_and(|t| !t.is_finite()) {
                    *total = None;
                    r.warn(
                        "result",
                        format!("the items' {name}s add up past the largest number"),
                    );
                }
            }
            // Inspection items with keys the model has no place for: keep
            // `result` as received, so nothing the vendor sent is lost.
            if lossless {
                r.take("result");
            }
        }
        // A failed inference may send anything in `result`: keep it raw.
        Err(_) if !success => {}
        Err(e) => return Err(e),
    }
    // The other fields describe the inference, not the call: keep them on it.
    analysis.vendor_fields = r.drain_leftover();
    u.analyses.push(analysis);
    Ok(u)
}

fn kind_of(t: &str) -> Option<AnalysisKind> {
    match t.trim() {
        "Call Quality Inspection" | "通话质检" | "quality_inspection" => {
            Some(AnalysisKind::QualityInspection)
        }
        "Call Summary" | "通话摘要" | "summary" => Some(AnalysisKind::Summary),
        _ => None,
    }
}

/// `result` is documented as a string holding JSON; accept the JSON itself too.
fn decode_result(v: Option<&Value>) -> Result<Option<Value>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map(Some)
            .map_err(|e| format!("the result string is not valid JSON ({e})")),
        Some(v @ (Value::Array(_) | Value::Object(_))) => Ok(Some(v.clone())),
        Some(other) => Err(format!(
            "expected a JSON string, found {}",
            type_name(other)
        )),
    }
}

/// Fills the analysis from the decoded `result`; `Ok(false)` when part of it
/// (an inspection item's undocumented key) has no place in the analysis.
fn fill_result(a: &mut Analysis, result: Value) -> Result<bool, String> {
    match (a.kind, result) {
        (AnalysisKind::QualityInspection, Value::Array(items)) => {
            let mut parsed = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                parsed.push(inspection_item(item).map_err(|e| format!("item {i}: {e}"))?);
            }
            let lossless = items.iter().all(|item| {
                item.as_object()
                    .is_some_and(|m| m.keys().all(|k| ITEM_KEYS.contains(&k.as_str())))
            });
            a.score = sum(parsed.iter().map(|i| i.score));
            a.full_score = sum(parsed.iter().map(|i| i.full_score));
            a.items = Some(parsed);
            Ok(lossless)
        }
        // A single item where an array is documented.
        (AnalysisKind::QualityInspection, Value::Object(o)) if o.contains_key("item") => {
            fill_result(a, Value::Array(vec![Value::Object(o)]))
        }
        (AnalysisKind::Summary, Value::Object(tags)) => {
            a.tags = Some(tags);
            Ok(true)
        }
        (AnalysisKind::QualityInspection, other) => Err(format!(
            "expected an array of inspection items, found {}",
            type_name(&other)
        )),
        (AnalysisKind::Summary, other) => Err(format!(
            "expected an object of summary tags, found {}",
            type_name(&other)
        )),
    }
}

/// The keys of an inspection item that [`InspectionItem`] holds.
const ITEM_KEYS: [&str; 5] = ["item", "full_score", "score", "problem", "suggestion"];

fn inspection_item(v: &Value) -> Result<InspectionItem, String> {
    let Value::Object(m) = v else {
        return Err(format!("expected an object, found {}", type_name(v)));
    };
    let get = |k: &str| m.get(k).unwrap_or(&Value::Null);
    Ok(InspectionItem {
        item: values::text(get("item"))?.unwrap_or_default(),
        score: values::number(get("score")).map_err(|e| format!("score: {e}"))?,
        full_score: values::number(get("full_score")).map_err(|e| format!("full_score: {e}"))?,
        problem: values::text(get("problem"))?,
        suggestion: values::text(get("suggestion"))?,
    })
}

fn sum(it: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    it.flatten()
        .fold(None, |acc, x| Some(acc.unwrap_or(0.0) + x))
}
