//! The `[sources.mapping]` table as written in the configuration: where a
//! mapped source's records are, and where each canonical field is in a
//! record. Every path is an RFC 9535 JSONPath; `$` is the record.
//!
//! A field is either a path (`talk_seconds = "$.duration"`) or a table with
//! the path and how to read the value (`{ path = "$.ended", format =
//! "epoch", unit = "ms" }`). See `docs/mapping.md`.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// `[sources.mapping]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MappingSpec {
    /// JSONPath of the records in the body; default `$` (a body that is an
    /// array is one record per element, an object is one record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<String>,
    /// Required: the vendor's call id.
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub vendor_call_id: Option<FieldSpec>,
    /// `outbound` (the default) or `inbound`: a constant (`{ value =
    /// "inbound" }`) or a path with a `map` onto the two.
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub direction: Option<FieldSpec>,
    /// A path with a `map` from the vendor's values to canonical outcomes;
    /// a value not in the map is `unknown` (and counted as an unknown value).
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub outcome: Option<FieldSpec>,
    /// Default: the raw value at `outcome`'s path.
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub vendor_status: Option<FieldSpec>,
    /// A path with a `map` onto `customer`, `agent`, `system`, `unknown`.
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub hangup_by: Option<FieldSpec>,
    // Plain text fields.
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub out_id: Option<FieldSpec>,
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub task_id: Option<FieldSpec>,
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub batch_id: Option<FieldSpec>,
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub script_id: Option<FieldSpec>,
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub task_name: Option<FieldSpec>,
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_number: Option<FieldSpec>,
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub line_number: Option<FieldSpec>,
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub recording_url: Option<FieldSpec>,
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub intent_code: Option<FieldSpec>,
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub intent_label: Option<FieldSpec>,
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub province: Option<FieldSpec>,
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub city: Option<FieldSpec>,
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub carrier: Option<FieldSpec>,
    /// A summary text: becomes an analysis of kind `summary`.
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub summary: Option<FieldSpec>,
    /// Times: `format` is `auto` (default), `rfc3339`, `epoch` (with `unit`
    /// `s` or `ms`) or a strftime pattern read in the source's `timezone`.
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub originated_at: Option<FieldSpec>,
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub ringing_at: Option<FieldSpec>,
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub answered_at: Option<FieldSpec>,
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub ended_at: Option<FieldSpec>,
    /// Durations: `unit` is `s` (default), `ms` or `min`; rounded to seconds.
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub ring_seconds: Option<FieldSpec>,
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub talk_seconds: Option<FieldSpec>,
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub billed_seconds: Option<FieldSpec>,
    /// The amount (decimal, `unit = "cents"` for minor units) with
    /// `currency` or `currency_path`; default the source's `currency`.
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub cost: Option<FieldSpec>,
    /// Every value the path selects: strings (comma-separated lists are
    /// split) and arrays of strings.
    #[serde(
        default,
        deserialize_with = "path_or_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub tags: Option<FieldSpec>,
    /// The transcript lines and where each line's parts are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turns: Option<TurnsSpec>,
}

/// One canonical field: where it is and how to read it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// JSONPath into the record (the first value it selects is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A constant instead of a path (e.g. `direction = { value = "inbound" }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Times: `auto`, `rfc3339`, `epoch` or a strftime pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Epoch times: `s` or `ms`; durations: `s`, `ms` or `min`; cost: `cents`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Vendor value → canonical value (outcome, hang-up side, direction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<BTreeMap<String, String>>,
    /// Cost: the ISO 4217 code of the amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Cost: JSONPath of the currency code in the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency_path: Option<String>,
}

/// `turns = { path = "$.messages[*]", speaker = "$.role", text = "$.message", … }`:
/// `path` selects the lines; the other paths are relative to one line.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TurnsSpec {
    pub path: String,
    pub speaker: String,
    pub text: String,
    /// Vendor speaker → `customer` or `agent`; lines of other speakers
    /// (system prompts, tool calls) are left out when mapped to `skip`.
    pub speaker_map: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Unit of `start` and `end`: `ms` (default) or `s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// A field written as a bare string is its path; a table is a [`FieldSpec`].
fn path_or_table<'de, D: Deserializer<'de>>(d: D) -> Result<Option<FieldSpec>, D::Error> {
    FieldSpecOrPath::deserialize(d).map(|f| Some(f.0))
}

impl<'de> Deserialize<'de> for FieldSpecOrPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FieldSpecOrPath;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSONPath string or a table with `path`")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<FieldSpecOrPath, E> {
                Ok(FieldSpecOrPath(FieldSpec {
                    path: Some(s.to_owned()),
                    ..FieldSpec::default()
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FieldSpecOrPath, A::Error> {
                FieldSpec::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(FieldSpecOrPath)
            }
        }
        d.deserialize_any(V)
    }
}

/// [`FieldSpec`] as the configuration may write it: a path or a table.
struct FieldSpecOrPath(FieldSpec);
