//! One adapter per source kind (docs/http-contract.md).
//!
//! Adapters are pure: bytes in, [`Parsed`] out. No I/O, no clock, no store.
//! A body that is not JSON, or not the kind's shape, is a [`ParseError`]
//! (the push is answered 400 and kept as `rejected`). A record inside a
//! readable batch that cannot be used becomes a [`RecordIssue`] in
//! `Parsed::errors` (the rest is stored, the receipt is `partial`). A field
//! that cannot be read is left unknown, its raw value kept in
//! `vendor_fields`, and noted in `Parsed::warnings`.

mod aliyun_call_notes;
mod aliyun_call_report;
mod batch;
mod bland_call;
mod itnio_call_record;
mod laaffic_voice_report;
mod longlonglong_inbound;
pub mod mapping;
mod record;
mod retell_call_event;
pub mod shape;
pub mod values;
mod vapi_end_of_call_report;

pub use record::Record;

use crate::domain::{CallUpdate, SourceKind};
use jiff::tz::TimeZone;
use serde::Serialize;

/// The per-source settings an adapter needs (`[[sources]]` in the config).
#[derive(Debug, Clone)]
pub struct SourceContext {
    /// IANA zone for zone-less `yyyy-MM-dd HH:mm:ss` strings.
    pub timezone: TimeZone,
    /// ISO 4217 code for kinds whose money carries no currency (ITNIO `pay`,
    /// LAAFFIC quotes without `currency`).
    pub currency: Option<String>,
    /// A `mapped` source's checked `[sources.mapping]` (with its vendor).
    pub mapping: Option<std::sync::Arc<mapping::Mapping>>,
}

impl SourceContext {
    /// The defaults of `kind`: zone-less times in `Asia/Shanghai` for the
    /// four Asian platforms (they run on Beijing time; the LAAFFIC document
    /// labels its dates UTC+8; ITNIO and LAAFFIC send epoch numbers, which
    /// need no zone) and `UTC` for the rest (Vapi, Retell and Bland send
    /// RFC 3339 or epoch times, which need none); money without a currency
    /// in USD for ITNIO, LAAFFIC, Vapi, Retell and Bland (the three AI
    /// platforms bill in US dollars). No mapping: a `mapped` source gets its
    /// own from the configuration.
    pub fn default_for(kind: SourceKind) -> SourceContext {
        use SourceKind::*;
        let ai = kind.is_ai_platform();
        let timezone = if ai || kind == Mapped {
            TimeZone::UTC
        } else {
            TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::fixed(jiff::tz::offset(8)))
        };
        let currency =
            (ai || matches!(kind, ItnioCallRecord | LaafficVoiceReport)).then(|| "USD".to_owned());
        SourceContext {
            timezone,
            currency,
            mapping: None,
        }
    }
}

/// A problem with one record or one field, located by JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RecordIssue {
    /// Position of the record in the batch (0-based), when it is about one.
    #[schema(required = true)]
    pub index: Option<usize>,
    /// JSON path into the body, e.g. `$[3].callId` or `$.data[0].calldate`.
    pub path: String,
    pub message: String,
}

/// A vendor value the adapter does not know: a sign that the vendor changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownValue {
    /// The vendor field, e.g. `smartStatusCode`.
    pub field: &'static str,
    pub value: String,
}

/// One usable record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedRecord {
    /// Position in the batch (0-based).
    pub index: usize,
    pub update: CallUpdate,
}

/// Everything an adapter read from one body.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Parsed {
    /// How many records the body held, usable or not.
    pub record_count: usize,
    pub records: Vec<ParsedRecord>,
    /// Records that could not be used (not stored).
    pub errors: Vec<RecordIssue>,
    /// Fields that could not be read (the record was stored without them).
    pub warnings: Vec<RecordIssue>,
    pub unknown_values: Vec<UnknownValue>,
}

/// Why a whole body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not JSON at all. Line and column are 1-based.
    #[error("invalid JSON at line {line} column {column}: {reason}")]
    InvalidJson {
        line: usize,
        column: usize,
        reason: String,
    },
    /// JSON, but not the shape this kind sends.
    #[error("{path}: {message}")]
    Shape { path: String, message: String },
}

/// Parses one push body of `kind`.
///
/// A body that fits another built-in kind's shape better than `kind`'s
/// ([`shape::Fit`]) is refused, and so is one of which no record is usable;
/// the message then names the kind the body looks like.
///
/// Errors: [`ParseError::InvalidJson`] for bytes that are not JSON (including
/// an empty body), [`ParseError::Shape`] for JSON that is not this kind's
/// shape, that holds no records, or none that is usable.
pub fn parse(kind: SourceKind, body: &[u8], ctx: &SourceContext) -> Result<Parsed, ParseError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ParseError::InvalidJson {
            line: e.line(),
            column: e.column(),
            reason: strip_position(&e.to_string()),
        })?;
    let fit = shape::Fit::of(&value);
    if let Some(other) = fit.better_than(kind) {
        return Err(ParseError::Shape {
            path: "$".to_owned(),
            message: format!(
                "not a {kind} body: this looks like a {other} body; is the source's kind right?"
            ),
        });
    }
    let parsed = match kind {
        SourceKind::AliyunCallReport => aliyun_call_report::parse(value, ctx),
        SourceKind::AliyunCallNotes => aliyun_call_notes::parse(value, ctx),
        SourceKind::ItnioCallRecord => itnio_call_record::parse(value, ctx),
        SourceKind::LonglonglongInbound => longlonglong_inbound::parse(value, ctx),
        SourceKind::LaafficVoiceReport => laaffic_voice_report::parse(value, ctx),
        SourceKind::VapiEndOfCallReport => vapi_end_of_call_report::parse(value, ctx),
        SourceKind::RetellCallEvent => retell_call_event::parse(value, ctx),
        SourceKind::BlandCall => bland_call::parse(value, ctx),
        SourceKind::Mapped => mapping::parse(value, ctx),
    };
    let with_hint = |path: String, message: String| ParseError::Shape {
        message: match shape::hint(kind, &fit) {
            Some(h) => format!("{message} ({h})"),
            None => message,
        },
        path,
    };
    match parsed {
        Err(ParseError::Shape { path, message }) => Err(with_hint(path, message)),
        Err(e) => Err(e),
        Ok(p) if !p.records.is_empty() => Ok(p),
        Ok(p) => Err(match p.errors.first() {
            None => with_hint("$".into(), "the body holds no records".into()),
            Some(first) => {
                let more = match p.errors.len() {
                    1 => String::new(),
                    n => format!(" (and {} more unusable records)", n - 1),
                };
                with_hint(
                    first.path.clone(),
                    format!("no usable record: {}{more}", first.message),
                )
            }
        }),
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}
