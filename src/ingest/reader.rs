//! [`ConfigReader`]: reads stored bodies with the adapters and source
//! settings of the running configuration (the projector's and
//! re-projection's [`BodyReader`]).

use super::{body_limits, read_body};
use crate::adapters::{RecordIssue, SourceContext};
use crate::config::Config;
use crate::domain::SourceKind;
use crate::storage::{BodyReader, BodyResult};
use std::sync::Arc;

/// Reads a body as its source is configured now: the source's kind,
/// timezone and currency, screened by `[limits]` as at the push. A source
/// no longer configured is read as the receipt's stored kind with that
/// kind's default settings, and says so in a warning.
pub struct ConfigReader {
    config: Arc<Config>,
}

impl ConfigReader {
    pub fn new(config: Arc<Config>) -> ConfigReader {
        ConfigReader { config }
    }
}

impl BodyReader for ConfigReader {
    fn read(&self, source: &str, kind: SourceKind, body: &[u8]) -> BodyResult {
        let limits = body_limits(&self.config.limits);
        match self.config.source(source) {
            Some(s) => read_body(s.kind, body, &s.context(), limits).result,
            None => {
                let mut result =
                    read_body(kind, body, &SourceContext::default_for(kind), limits).result;
                if let BodyResult::Parsed { warnings, .. } = &mut result {
                    warnings.push(RecordIssue {
                        index: None,
                        path: "$".into(),
                        message: format!(
                            "source `{source}` is no longer configured; read as {} with its default settings",
                            kind.as_str()
                        ),
                    });
                }
                result
            }
        }
    }

    fn kind_of(&self, source: &str, kind: SourceKind) -> SourceKind {
        self.config.source(source).map_or(kind, |s| s.kind)
    }
}
