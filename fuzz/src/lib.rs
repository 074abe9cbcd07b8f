//! The fuzz targets' checks: each input must pass every invariant of
//! [`checks`] (not just "no panic"); a broken one panics with its reason, which
//! libFuzzer reports as a crash.

pub mod checks;

use callhook::domain::SourceKind;

/// Parses `data` as `kind` with the kind's default context and panics unless
/// the result passes [`checks::check_parse`].
pub fn check_parse(kind: SourceKind, data: &[u8]) {
    if let Err(e) = checks::check_parse(kind, data) {
        panic!("{kind}: {e}");
    }
}

/// `data[0]` picks the kind, the rest is the body, read by
/// `callhook::ingest::read_body` with the default limits; panics unless the
/// reading passes [`checks::check_ingest`].
pub fn check_ingest(data: &[u8]) {
    if let Err(e) = checks::check_ingest(data) {
        panic!("{e}");
    }
}
