//! Applying a [`Mapping`] to one body: the records it selects, then each
//! canonical field from its path. A value that cannot be read is a warning
//! with its path (the record is kept, the field unknown); a record without
//! a usable call id is a record error.

use super::compile::{
    CostRule, Currency, DirectionRule, Mapping, Path, SecondsTarget, SpeakerRule, TextTarget,
    TimeFormat, TimeTarget, TurnsRule,
};
use crate::adapters::batch::type_name;
use crate::adapters::{values, ParseError, Parsed, ParsedRecord, RecordIssue, UnknownValue};
use crate::domain::{
    Analysis, CallUpdate, Direction, HangupBy, Intent, Money, Outcome, Region, Turn,
};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

pub fn parse(body: &Value, m: &Mapping, tz: &TimeZone) -> Result<Parsed, ParseError> {
    let records: Vec<(String, &Value)> = match &m.records {
        None => match body {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("$[{i}]"), v))
                .collect(),
            Value::Object(_) => vec![("$".to_owned(), body)],
            other => {
                return Err(ParseError::Shape {
                    path: "$".into(),
                    message: format!(
                        "expected an array of records or one record object, found {}",
                        type_name(other)
                    ),
                })
            }
        },
        Some(p) => {
            let found: Vec<(String, &Value)> = p
                .path
                .query_located(body)
                .iter()
                .map(|n| (n.location().to_string(), n.node()))
                .collect();
            match found.as_slice() {
                // `$.calls` for `$.calls[*]`: one array selected is its elements.
                [(at, Value::Array(items))] => items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (format!("{at}[{i}]"), v))
                    .collect(),
                _ => found,
            }
        }
    };
    if records.is_empty() {
        if let Some(p) = &m.records {
            return Err(ParseError::Shape {
                path: p.text.clone(),
                message: format!(
                    "the mapping's `records` path `{}` selects nothing in this body",
                    p.text
                ),
            });
        }
    }
    let mut parsed = Parsed {
        record_count: records.len(),
        ..Parsed::default()
    };
    for (index, (at, rec)) in records.into_iter().enumerate() {
        let mut r = Reader {
            at: &at,
            index,
            warnings: Vec::new(),
            unknown: Vec::new(),
        };
        let result = match rec {
            Value::Object(map) => record(&mut r, m, rec, map, tz),
            other => Err(format!(
                "expected a record object, found {}",
                type_name(other)
            )),
        };
        parsed.warnings.append(&mut r.warnings);
        parsed.unknown_values.append(&mut r.unknown);
        match result {
            Ok(update) => parsed.records.push(ParsedRecord { index, update }),
            Err(message) => parsed.errors.push(RecordIssue {
                index: Some(index),
                path: at,
                message,
            }),
        }
    }
    Ok(parsed)
}

/// Warnings and unknown values of one record, located at `at`.
struct Reader<'a> {
    at: &'a str,
    index: usize,
    warnings: Vec<RecordIssue>,
    unknown: Vec<UnknownValue>,
}

impl Reader<'_> {
    fn warn(&mut self, p: &Path, message: String) {
        self.warnings.push(RecordIssue {
            index: Some(self.index),
            path: format!("{}{}", self.at, p.text.trim_start_matches('$')),
            message,
        });
    }

    /// The first value `p` selects in `rec`, read by `f`; a failure is a warning.
    fn get<T>(
        &mut self,
        p: &Path,
        rec: &Value,
        f: impl Fn(&Value) -> Result<Option<T>, String>,
    ) -> Option<T> {
        let v = p.path.query(rec).first()?;
        match f(v) {
            Ok(out) => out,
            Err(e) => {
                self.warn(p, e);
                None
            }
        }
    }

    /// A vendor value mapped onto a closed set; a value outside the map is
    /// `fallback` and noted as unknown.
    fn coded<T: Copy>(
        &mut self,
        field: &'static str,
        c: &super::compile::Coded<T>,
        rec: &Value,
        fallback: T,
    ) -> Option<(T, String)> {
        let raw = self.get(&c.path, rec, values::text)?;
        let found = c.map.get(&raw).or_else(|| {
            c.map
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&raw))
                .map(|(_, v)| v)
        });
        match found {
            Some(v) => Some((*v, raw)),
            None => {
                self.warn(&c.path, format!("unknown value {}", values::quoted(&raw)));
                self.unknown.push(UnknownValue {
                    field,
                    value: raw.clone(),
                });
                Some((fallback, raw))
            }
        }
    }
}

fn record(
    r: &mut Reader,
    m: &Mapping,
    rec: &Value,
    map: &Map<String, Value>,
    tz: &TimeZone,
) -> Result<CallUpdate, String> {
    let id = call_id(m, rec)?;
    let direction = match &m.direction {
        DirectionRule::Fixed(d) => *d,
        DirectionRule::Mapped(c) => r
            .coded("direction", c, rec, Direction::Outbound)
            .map_or(Direction::Outbound, |(d, _)| d),
    };
    let mut u = CallUpdate::new(m.vendor, id, direction);
    if let Some(c) = &m.outcome {
        if let Some((o, raw)) = r.coded("outcome", c, rec, Outcome::Unknown) {
            u.set.outcome = Some(o);
            u.set.vendor_status = Some(raw);
        }
    }
    if let Some(c) = &m.hangup_by {
        u.set.hangup_by = r
            .coded("hangup_by", c, rec, HangupBy::Unknown)
            .map(|(h, _)| h);
    }
    texts(r, m, rec, &mut u);
    for (target, p, format) in &m.times {
        let t = r.get(p, rec, |v| read_time(v, format, tz));
        let slot = match target {
            TimeTarget::Originated => &mut u.set.originated_at,
            TimeTarget::Ringing => &mut u.set.ringing_at,
            TimeTarget::Answered => &mut u.set.answered_at,
            TimeTarget::Ended => &mut u.set.ended_at,
        };
        *slot = t;
    }
    for (target, p, scale) in &m.seconds {
        let s = r.get(p, rec, |v| seconds(v, scale.0));
        match target {
            SecondsTarget::Ring => u.set.ring_seconds = s,
            SecondsTarget::Talk => u.set.talk_seconds = s,
            SecondsTarget::Billed => u.set.billed_seconds = s,
        }
    }
    if let Some(rule) = &m.cost {
        u.set.cost = cost(r, rule, rec);
    }
    if let Some(p) = &m.tags {
        // Tags are known when some selected value says something (null does not).
        let found = p.path.query(rec).all();
        if found.iter().any(|v| !v.is_null()) {
            u.set.tags = Some(tags(r, p, &found));
        }
    }
    if let Some(rule) = &m.turns {
        u.set.turns = turns(r, rule, rec);
    }
    for (k, v) in map {
        if !m.consumed.iter().any(|c| c == k) {
            u.vendor_fields.insert(k.clone(), v.clone());
        }
    }
    Ok(u)
}

fn call_id(m: &Mapping, rec: &Value) -> Result<String, String> {
    let p = &m.call_id;
    match p.path.query(rec).first() {
        None => Err(format!("missing call id at `{}`", p.text)),
        Some(Value::Number(n)) if !n.is_i64() && !n.is_u64() => Err(format!(
            "call id `{}`: the number {n} cannot be read exactly",
            p.text
        )),
        Some(v) => match values::text(v) {
            Ok(Some(id)) => Ok(id),
            Ok(None) => Err(format!("empty call id at `{}`", p.text)),
            Err(e) => Err(format!("call id `{}`: {e}", p.text)),
        },
    }
}

fn texts(r: &mut Reader, m: &Mapping, rec: &Value, u: &mut CallUpdate) {
    let mut region = Region::default();
    let mut intent = Intent::default();
    for (target, p) in &m.texts {
        let Some(t) = r.get(p, rec, values::text) else {
            continue;
        };
        let s = &mut u.set;
        match target {
            TextTarget::OutId => s.out_id = Some(t),
            TextTarget::TaskId => s.task_id = Some(t),
            TextTarget::BatchId => s.batch_id = Some(t),
            TextTarget::ScriptId => s.script_id = Some(t),
            TextTarget::TaskName => s.task_name = Some(t),
            TextTarget::CustomerNumber => s.customer_number = Some(t),
            TextTarget::LineNumber => s.line_number = Some(t),
            TextTarget::RecordingUrl => s.recording_url = Some(t),
            TextTarget::VendorStatus => s.vendor_status = Some(t),
            TextTarget::IntentCode => intent.code = Some(t),
            TextTarget::IntentLabel => intent.label = Some(t),
            TextTarget::Province => region.province = Some(t),
            TextTarget::City => region.city = Some(t),
            TextTarget::Carrier => region.carrier = Some(t),
            TextTarget::Summary => u.analyses.push(summary(t)),
        }
    }
    if intent.code.is_some() || intent.label.is_some() {
        u.set.intent = Some(intent);
    }
    if region.province.is_some() || region.city.is_some() || region.carrier.is_some() {
        u.set.region = Some(region);
    }
}

/// A summary text as an analysis of kind `summary` (its text under the tag `summary`).
fn summary(text: String) -> Analysis {
    let mut tags = Map::new();
    tags.insert("summary".into(), Value::String(text));
    super::summary_analysis(tags)
}

fn read_time(v: &Value, format: &TimeFormat, tz: &TimeZone) -> Result<Option<Timestamp>, String> {
    match format {
        TimeFormat::Auto => values::time(v, tz),
        TimeFormat::Rfc3339 => match values::text(v)? {
            None => Ok(None),
            Some(s) => s.parse::<Timestamp>().map(Some).map_err(|e| {
                format!(
                    "expected an RFC 3339 time, found {}: {e}",
                    values::quoted(&s)
                )
            }),
        },
        TimeFormat::Epoch { millis } => match values::integer(v)? {
            None | Some(0) => Ok(None),
            Some(n) => {
                let t = if *millis {
                    Timestamp::from_millisecond(n)
                } else {
                    Timestamp::from_second(n)
                };
                t.map(Some)
                    .map_err(|_| format!("epoch {n} is out of range"))
            }
        },
        TimeFormat::Pattern(p) => match values::text(v)? {
            None => Ok(None),
            Some(s) => pattern_time(&s, p, tz),
        },
    }
}

fn pattern_time(s: &str, pattern: &str, tz: &TimeZone) -> Result<Option<Timestamp>, String> {
    let parsed = jiff::fmt::strtime::parse(pattern, s).map_err(|e| {
        format!(
            "expected a time as `{pattern}`, found {}: {e}",
            values::quoted(s)
        )
    })?;
    if let Ok(ts) = parsed.to_timestamp() {
        return Ok(Some(ts));
    }
    let dt = parsed.to_datetime().map_err(|e| {
        format!(
            "expected a time as `{pattern}`, found {}: {e}",
            values::quoted(s)
        )
    })?;
    tz.to_ambiguous_timestamp(dt)
        .compatible()
        .map(Some)
        .map_err(|e| format!("time {dt} cannot be placed in the source's time zone: {e}"))
}

/// A duration in `scale` seconds per unit, rounded to whole seconds.
fn seconds(v: &Value, scale: f64) -> Result<Option<i64>, String> {
    if scale == 1.0 {
        return values::integer(v);
    }
    match values::number(v)? {
        None => Ok(None),
        Some(n) => {
            let s = (n * scale).round();
            if s.is_finite() && s.abs() < 9.0e15 {
                Ok(Some(s as i64))
            } else {
                Err(format!("duration {n} is out of range"))
            }
        }
    }
}

fn cost(r: &mut Reader, rule: &CostRule, rec: &Value) -> Option<Money> {
    let amount = r.get(&rule.amount, rec, values::money_amount)?;
    let amount = if rule.cents {
        amount / Decimal::ONE_HUNDRED
    } else {
        amount
    };
    let currency = match &rule.currency {
        Currency::Fixed(c) => c.clone(),
        Currency::At(p) => {
            let c = r.get(p, rec, values::text)?;
            if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
                r.warn(
                    p,
                    format!("expected an ISO 4217 code, found {}", values::quoted(&c)),
                );
                return None;
            }
            c.to_ascii_uppercase()
        }
    };
    Some(Money::new(amount, &currency))
}

fn tags(r: &mut Reader, p: &Path, found: &[&Value]) -> Vec<String> {
    let mut out = Vec::new();
    for v in found {
        match v {
            Value::Array(items) => {
                for item in items {
                    match values::text(item) {
                        Ok(t) => out.extend(t),
                        Err(e) => r.warn(p, e),
                    }
                }
            }
            Value::String(s) => out.extend(
                s.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
            ),
            Value::Null => {}
            other => match values::text(other) {
                Ok(t) => out.extend(t),
                Err(e) => r.warn(p, e),
            },
        }
    }
    out
}

fn turns(r: &mut Reader, rule: &TurnsRule, rec: &Value) -> Option<Vec<Turn>> {
    let lines = rule.lines.path.query(rec).all();
    if lines.is_empty() {
        let list = rule.list.as_ref()?.path.query(rec).first()?;
        return list.is_array().then(Vec::new);
    }
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.into_iter().enumerate() {
        let first = |p: &Path| p.path.query(line).first();
        let Ok(Some(text)) = first(&rule.text).map_or(Ok(None), values::text) else {
            continue;
        };
        let speaker = match first(&rule.speaker).map(values::text) {
            Some(Ok(Some(s))) => s,
            _ => {
                r.warn(
                    &rule.lines,
                    format!("line {i}: no speaker at `{}`", rule.speaker.text),
                );
                continue;
            }
        };
        let rule_of = rule.speakers.get(&speaker).or_else(|| {
            rule.speakers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&speaker))
                .map(|(_, v)| v)
        });
        let side = match rule_of {
            Some(SpeakerRule::Side(s)) => *s,
            Some(SpeakerRule::Skip) => continue,
            None => {
                r.warn(
                    &rule.lines,
                    format!("line {i}: unknown speaker {}", values::quoted(&speaker)),
                );
                r.unknown.push(UnknownValue {
                    field: "turns.speaker",
                    value: speaker,
                });
                continue;
            }
        };
        let ms = |p: &Option<Path>| -> Option<i64> {
            let n = values::number(first(p.as_ref()?)?).ok()??;
            let v = (n * rule.to_ms).round();
            (v.is_finite() && v.abs() < 9.0e15).then_some(v as i64)
        };
        out.push(Turn {
            speaker: side,
            text,
            start_ms: ms(&rule.start),
            end_ms: ms(&rule.end),
        });
    }
    Some(out)
}
