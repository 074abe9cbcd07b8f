//! `mapped`: any vendor's push read by the source's `[sources.mapping]`
//! table instead of code. [`spec`] is the table as written, [`Mapping`]
//! the checked form, and [`parse`] reads a body with it into the same
//! [`Parsed`] the built-in adapters give (so mapped sources share the
//! screening, receipts, merge, events and re-projection). The language is
//! described in `docs/mapping.md`.

mod compile;
mod read;
pub mod spec;

pub use compile::{parse_path, Mapping};
pub use spec::MappingSpec;

use super::{ParseError, Parsed, SourceContext};
use crate::domain::{Analysis, AnalysisKind};
use serde_json::{Map, Value};

/// A successful analysis of kind `summary` with `tags` (the AI platforms'
/// call summaries: `{"summary": text, …}`).
pub fn summary_analysis(tags: Map<String, Value>) -> Analysis {
    Analysis {
        kind: AnalysisKind::Summary,
        success: true,
        error_code: None,
        reported_at: None,
        score: None,
        full_score: None,
        items: None,
        tags: Some(tags),
        vendor_fields: Map::new(),
    }
}

/// Reads one body with the source's mapping.
///
/// Errors: [`ParseError::Shape`] when the source has no mapping (a receipt
/// of a mapped source that is no longer configured), when `records` selects
/// nothing usable as records, or when the body is a scalar.
pub fn parse(body: Value, ctx: &SourceContext) -> Result<Parsed, ParseError> {
    let Some(mapping) = ctx.mapping.as_deref() else {
        return Err(ParseError::Shape {
            path: "$".into(),
            message: "this mapped source has no [sources.mapping] (no longer configured?)".into(),
        });
    };
    read::parse(&body, mapping, &ctx.timezone)
}
