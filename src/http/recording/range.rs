//! Which bytes of a kept recording a request asks for (RFC 9110, 14.2),
//! from its `Range` and `If-Range` headers, parsed by
//! [`http_range_header`]: the whole file, one range, or none that fits.

use axum::http::{header, HeaderMap};
use std::ops::Range;

/// What to answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// The whole file, `200`: no `Range`, one that cannot be parsed (a
    /// server may ignore it), several ranges, or an `If-Range` that does
    /// not match the file's `ETag`.
    Whole,
    /// Bytes `start..end` (end exclusive, within the file), `206`.
    Part(Range<u64>),
    /// A single range that starts at or after the end of the file, `416`.
    Unsatisfiable,
}

/// What `headers` ask of a file of `size` bytes whose `ETag` is `etag`
/// (quoted).
pub fn wanted(headers: &HeaderMap, size: u64, etag: &str) -> Wanted {
    let Some(value) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Wanted::Whole;
    };
    if let Some(cond) = headers.get(header::IF_RANGE) {
        if cond.as_bytes() != etag.as_bytes() {
            return Wanted::Whole;
        }
    }
    let Ok(parsed) = http_range_header::parse_range_header(value) else {
        return Wanted::Whole;
    };
    if parsed.len() != 1 {
        return Wanted::Whole;
    }
    match parsed.validate(size) {
        Ok(ranges) => match ranges.first() {
            Some(r) => Wanted::Part(*r.start()..r.end().saturating_add(1)),
            None => Wanted::Whole,
        },
        Err(http_range_header::RangeUnsatisfiableError::Unsatisfiable) => Wanted::Unsatisfiable,
        Err(_) => Wanted::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ask(range: &str) -> Wanted {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_str(range).unwrap());
        wanted(&h, 1000, "\"e\"")
    }

    #[test]
    fn single_ranges_in_their_three_forms() {
        assert_eq!(ask("bytes=0-99"), Wanted::Part(0..100));
        assert_eq!(ask("bytes=100-"), Wanted::Part(100..1000));
        assert_eq!(ask("bytes=-50"), Wanted::Part(950..1000));
        assert_eq!(ask("bytes=990-5000"), Wanted::Part(990..1000));
        assert_eq!(ask("bytes=-5000"), Wanted::Part(0..1000));
    }

    #[test]
    fn past_the_end_several_or_unreadable() {
        assert_eq!(ask("bytes=1000-"), Wanted::Unsatisfiable);
        assert_eq!(ask("bytes=5000-6000"), Wanted::Unsatisfiable);
        assert_eq!(ask("bytes=0-1,5-9"), Wanted::Whole);
        assert_eq!(ask("bytes=9-1"), Wanted::Whole);
        assert_eq!(ask("items=0-1"), Wanted::Whole);
        assert_eq!(wanted(&HeaderMap::new(), 1000, "\"e\""), Wanted::Whole);
    }

    #[test]
    fn an_if_range_for_another_file_asks_for_all_of_it() {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_static("bytes=0-9"));
        h.insert(header::IF_RANGE, HeaderValue::from_static("\"other\""));
        assert_eq!(wanted(&h, 1000, "\"e\""), Wanted::Whole);
        h.insert(header::IF_RANGE, HeaderValue::from_static("\"e\""));
        assert_eq!(wanted(&h, 1000, "\"e\""), Wanted::Part(0..10));
    }
}
