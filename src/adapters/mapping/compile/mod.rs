//! [`Mapping`]: a [`MappingSpec`] checked and made ready to read bodies.
//! Every path is parsed (RFC 9535, by `serde_json_path`), every mapped
//! value is a canonical one, and every unit and format is known, so that
//! reading a body can only fail on the body.

mod fields;

use super::spec::{FieldSpec, MappingSpec, TurnsSpec};
use crate::domain::{Direction, HangupBy, Outcome, Speaker, Vendor};
use serde_json_path::JsonPath;
use std::collections::HashMap;
use std::str::FromStr;

/// A parsed JSONPath with its text (for warnings: `$[0].talk` style paths).
#[derive(Debug, Clone)]
pub struct Path {
    pub text: String,
    pub path: JsonPath,
}

/// How a time field is written.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeFormat {
    /// The built-in adapters' rules (text in the source's zone, RFC 3339,
    /// epoch seconds or milliseconds by magnitude).
    Auto,
    Rfc3339,
    /// Epoch in seconds (`false`) or milliseconds (`true`).
    Epoch {
        millis: bool,
    },
    /// A strftime pattern; without an offset it is read in the source's zone.
    Pattern(String),
}

/// The unit a number is in, as a multiplier to the canonical unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale(pub f64);

/// A vendor value mapped onto a closed vocabulary.
#[derive(Debug, Clone)]
pub struct Coded<T> {
    pub path: Path,
    pub map: HashMap<String, T>,
}

/// Canonical text fields a mapping can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextTarget {
    OutId,
    TaskId,
    BatchId,
    ScriptId,
    TaskName,
    CustomerNumber,
    LineNumber,
    RecordingUrl,
    IntentCode,
    IntentLabel,
    Province,
    City,
    Carrier,
    Summary,
    VendorStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeTarget {
    Originated,
    Ringing,
    Answered,
    Ended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondsTarget {
    Ring,
    Talk,
    Billed,
}

/// Where the currency of `cost` comes from.
#[derive(Debug, Clone)]
pub enum Currency {
    Fixed(String),
    At(Path),
}

#[derive(Debug, Clone)]
pub struct CostRule {
    pub amount: Path,
    /// `unit = "cents"`: the amount is in minor units (divided by 100).
    pub cents: bool,
    pub currency: Currency,
}

/// A speaker's vendor value: a side of the call, or a line to leave out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SpeakerRule {
    Side(Speaker),
    Skip,
}

#[derive(Debug, Clone)]
pub struct TurnsRule {
    pub lines: Path,
    /// `lines` without a trailing `[*]`: the list itself, so that an empty
    /// list is an empty transcript rather than none.
    pub list: Option<Path>,
    pub speaker: Path,
    pub text: Path,
    pub speakers: HashMap<String, SpeakerRule>,
    pub start: Option<Path>,
    pub end: Option<Path>,
    /// Multiplier from the line's unit to milliseconds.
    pub to_ms: f64,
}

/// Direction: a constant, or a vendor value mapped onto the two.
#[derive(Debug, Clone)]
pub enum DirectionRule {
    Fixed(Direction),
    Mapped(Coded<Direction>),
}

/// A checked `[sources.mapping]`: how a mapped source's body becomes calls.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// The vendor of every call (the source's `vendor` setting).
    pub vendor: Vendor,
    pub records: Option<Path>,
    pub call_id: Path,
    pub direction: DirectionRule,
    pub outcome: Option<Coded<Outcome>>,
    pub hangup_by: Option<Coded<HangupBy>>,
    pub texts: Vec<(TextTarget, Path)>,
    pub times: Vec<(TimeTarget, Path, TimeFormat)>,
    pub seconds: Vec<(SecondsTarget, Path, Scale)>,
    pub cost: Option<CostRule>,
    pub tags: Option<Path>,
    pub turns: Option<TurnsRule>,
    /// Top-level record keys whose whole value a path maps (`$.name`): left
    /// out of `vendor_fields`. Every other key is kept there as received.
    pub consumed: Vec<String>,
}

impl Mapping {
    /// Checks `spec` for a source whose calls carry `vendor`; `currency` is
    /// the source's `currency` (the default of `cost`).
    ///
    /// Errors: a message starting with the key at fault (`vendor_call_id`,
    /// `outcome.map.completed`, …): a path that does not parse (with its
    /// position), a map target that is not canonical, an unknown unit or
    /// format, a missing `vendor_call_id`, a `cost` without a currency.
    pub fn compile(
        spec: &MappingSpec,
        vendor: Vendor,
        currency: Option<&str>,
    ) -> Result<Mapping, String> {
        let mut consumed = Vec::new();
        let mut path = |key: &str, text: &str| -> Result<Path, String> {
            let p = parse_path(key, text)?;
            if let Some(name) = top_level_name(text) {
                consumed.push(name);
            }
            Ok(p)
        };
        // Fields in the order written: `path` notes consumed keys in order.
        Ok(Mapping {
            vendor,
            records: spec
                .records
                .as_deref()
                .map(|t| parse_path("records", t))
                .transpose()?,
            call_id: call_id_path(spec, &mut path)?,
            direction: fields::direction_rule(spec.direction.as_ref(), &mut path)?,
            outcome: spec
                .outcome
                .as_ref()
                .map(|f| coded("outcome", f, &mut path))
                .transpose()?,
            hangup_by: spec
                .hangup_by
                .as_ref()
                .map(|f| coded("hangup_by", f, &mut path))
                .transpose()?,
            texts: fields::text_rules(spec, &mut path)?,
            times: fields::time_rules(spec, &mut path)?,
            seconds: fields::seconds_rules(spec, &mut path)?,
            cost: spec
                .cost
                .as_ref()
                .map(|f| fields::cost_rule(f, currency, &mut path))
                .transpose()?,
            tags: spec
                .tags
                .as_ref()
                .map(|f| path("tags", need_path("tags", f)?))
                .transpose()?,
            turns: spec
                .turns
                .as_ref()
                .map(|t| turns_rule(t, &mut path))
                .transpose()?,
            consumed,
        })
    }
}

/// `vendor_call_id`: required, a path.
fn call_id_path(
    spec: &MappingSpec,
    path: &mut impl FnMut(&str, &str) -> Result<Path, String>,
) -> Result<Path, String> {
    let id_spec = spec
        .vendor_call_id
        .as_ref()
        .ok_or("vendor_call_id: required (the JSONPath of the vendor's call id)")?;
    path("vendor_call_id", need_path("vendor_call_id", id_spec)?)
}

fn text_fields(s: &MappingSpec) -> [(TextTarget, &'static str, &Option<FieldSpec>); 15] {
    use TextTarget::*;
    [
        (OutId, "out_id", &s.out_id),
        (TaskId, "task_id", &s.task_id),
        (BatchId, "batch_id", &s.batch_id),
        (ScriptId, "script_id", &s.script_id),
        (TaskName, "task_name", &s.task_name),
        (CustomerNumber, "customer_number", &s.customer_number),
        (LineNumber, "line_number", &s.line_number),
        (RecordingUrl, "recording_url", &s.recording_url),
        (IntentCode, "intent_code", &s.intent_code),
        (IntentLabel, "intent_label", &s.intent_label),
        (Province, "province", &s.province),
        (City, "city", &s.city),
        (Carrier, "carrier", &s.carrier),
        (Summary, "summary", &s.summary),
        (VendorStatus, "vendor_status", &s.vendor_status),
    ]
}

fn turns_rule(
    t: &TurnsSpec,
    path: &mut impl FnMut(&str, &str) -> Result<Path, String>,
) -> Result<TurnsRule, String> {
    let lines = path("turns.path", &t.path)?;
    let list = t
        .path
        .strip_suffix("[*]")
        .map(|p| parse_path("turns.path", p))
        .transpose()?;
    let line_path = |key: &str, text: &str| parse_path(&format!("turns.{key}"), text);
    let mut speakers = HashMap::new();
    for (vendor_value, target) in &t.speaker_map {
        let rule = match target.as_str() {
            "skip" => SpeakerRule::Skip,
            other => SpeakerRule::Side(
                Speaker::from_str(other)
                    .map_err(|e| format!("turns.speaker_map.{vendor_value}: {e}, or skip"))?,
            ),
        };
        speakers.insert(vendor_value.clone(), rule);
    }
    let to_ms = match t.unit.as_deref().unwrap_or("ms") {
        "ms" => 1.0,
        "s" => 1000.0,
        u => return Err(format!("turns.unit: `{u}` (expected ms or s)")),
    };
    Ok(TurnsRule {
        lines,
        list,
        speaker: line_path("speaker", &t.speaker)?,
        text: line_path("text", &t.text)?,
        speakers,
        start: t
            .start
            .as_deref()
            .map(|p| line_path("start", p))
            .transpose()?,
        end: t.end.as_deref().map(|p| line_path("end", p)).transpose()?,
        to_ms,
    })
}

fn need_path<'a>(key: &str, f: &'a FieldSpec) -> Result<&'a str, String> {
    match (&f.path, &f.value) {
        (Some(p), None) => Ok(p),
        (_, Some(_)) => Err(format!(
            "{key}: `value` is only for `direction`; give `path`"
        )),
        (None, None) => Err(format!("{key}: `path` is required")),
    }
}

/// Parses `text` as an RFC 9535 JSONPath.
///
/// Errors: `{key}: ` and the parser's message with the 0-based position.
pub fn parse_path(key: &str, text: &str) -> Result<Path, String> {
    JsonPath::parse(text)
        .map(|path| Path {
            text: text.to_owned(),
            path,
        })
        .map_err(|e| {
            format!(
                "{key}: `{text}` is not a JSONPath (RFC 9535): {} at position {}",
                e.message(),
                e.position()
            )
        })
}

/// `$.name` or `$['name']` → `name`: a path that selects a whole top-level key.
fn top_level_name(text: &str) -> Option<String> {
    let rest = text.strip_prefix('$')?;
    if let Some(name) = rest.strip_prefix('.') {
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || !c.is_ascii());
        return ok.then(|| name.to_owned());
    }
    let inner = rest.strip_prefix("['")?.strip_suffix("']")?;
    (!inner.contains(['\'', '\\'])).then(|| inner.to_owned())
}

fn canonical<T: FromStr<Err = String>>(key: &str, v: &str) -> Result<T, String> {
    T::from_str(v).map_err(|e| format!("{key}: {e}"))
}

/// `f`'s path and its `map` onto the canonical values of `T` (an absent
/// map is empty: every value is then unknown).
fn coded<T: FromStr<Err = String>>(
    key: &str,
    f: &FieldSpec,
    path: &mut impl FnMut(&str, &str) -> Result<Path, String>,
) -> Result<Coded<T>, String> {
    Ok(Coded {
        path: path(key, need_path(key, f)?)?,
        map: typed_map(
            key,
            f.map.as_ref().unwrap_or(&std::collections::BTreeMap::new()),
        )?,
    })
}

fn typed_map<T: FromStr<Err = String>>(
    key: &str,
    map: &std::collections::BTreeMap<String, String>,
) -> Result<HashMap<String, T>, String> {
    map.iter()
        .map(|(from, to)| Ok((from.clone(), canonical(&format!("{key}.map.{from}"), to)?)))
        .collect()
}

fn time_format(key: &str, f: &FieldSpec) -> Result<TimeFormat, String> {
    let unit = f.unit.as_deref();
    let format = match f.format.as_deref().unwrap_or("auto") {
        "auto" => TimeFormat::Auto,
        "rfc3339" | "iso8601" => TimeFormat::Rfc3339,
        "epoch" => match unit.unwrap_or("s") {
            "s" => TimeFormat::Epoch { millis: false },
            "ms" => TimeFormat::Epoch { millis: true },
            u => return Err(format!("{key}.unit: `{u}` (expected s or ms)")),
        },
        pattern if pattern.contains('%') => {
            // Checked by formatting a known instant with it.
            let probe = jiff::civil::date(2025, 6, 1).at(10, 0, 0, 0);
            jiff::fmt::strtime::format(pattern, probe)
                .map_err(|e| format!("{key}.format: `{pattern}`: {e}"))?;
            TimeFormat::Pattern(pattern.to_owned())
        }
        other => {
            return Err(format!(
                "{key}.format: `{other}` (expected auto, rfc3339, epoch or a strftime pattern such as %Y-%m-%d %H:%M:%S)"
            ))
        }
    };
    if unit.is_some() && !matches!(format, TimeFormat::Epoch { .. }) {
        return Err(format!("{key}.unit: only an `epoch` time has a unit"));
    }
    Ok(format)
}

fn iso_4217(key: &str, c: &str) -> Result<String, String> {
    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(c.to_ascii_uppercase())
    } else {
        Err(format!("{key}: `{c}` is not an ISO 4217 code"))
    }
}
