//! The request id and the path as logged. An incoming `X-Request-Id` is
//! kept when it is short and plain (so a proxy's id follows the request
//! through), else a new ULID is made; push tokens never reach the log.

use axum::http::{HeaderMap, HeaderName, Uri};

/// `X-Request-Id`, read from the request and set on every response.
pub static HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest incoming id kept.
pub const MAX_LEN: usize = 64;

/// What replaces a secret in a logged path.
pub const REDACTED: &str = "<redacted>";

/// The request's id: its `X-Request-Id` when [`is_safe`], else a new ULID.
pub fn of(headers: &HeaderMap) -> String {
    headers
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_safe(id))
        .map_or_else(|| ulid::Ulid::new().to_string(), str::to_owned)
}

/// Whether an incoming id is kept: 1 to [`MAX_LEN`] characters of
/// `A-Z a-z 0-9 . _ -` (nothing that could forge a log field or a header).
pub fn is_safe(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The path and query of `uri` as logged: everything after the source in
/// `/hooks/{source}/…` (the path token) and the value of every `token`
/// query parameter are replaced by [`REDACTED`]; with `mask_numbers`, the
/// other query values have their phone-like numbers masked (a search for a
/// customer's number, `customer_number=`).
pub fn redacted(uri: &Uri, mask_numbers: bool) -> String {
    let path = uri.path();
    let mut out = match path.strip_prefix("/hooks/") {
        Some(rest) => match rest.split_once('/') {
            Some((source, _)) => format!("/hooks/{source}/{REDACTED}"),
            None => path.to_owned(),
        },
        None => path.to_owned(),
    };
    if let Some(query) = uri.query() {
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            let key = pair.split_once('=').map_or(pair, |(k, _)| k);
            if is_token_key(key) {
                out.push_str(key);
                out.push('=');
                out.push_str(REDACTED);
            } else if mask_numbers {
                out.push_str(&crate::masking::mask_phone_like(pair));
            } else {
                out.push_str(pair);
            }
        }
    }
    out
}

/// Whether a raw query key names `token`, however it is encoded.
fn is_token_key(raw: &str) -> bool {
    form_urlencoded::parse(raw.as_bytes())
        .next()
        .is_some_and(|(k, _)| k.eq_ignore_ascii_case("token"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn push_tokens_are_redacted_from_the_path_and_query() {
        assert_eq!(
            redacted(&uri("/hooks/ali/s3cret"), false),
            "/hooks/ali/<redacted>"
        );
        assert_eq!(
            redacted(&uri("/hooks/ali/s3cret/more"), false),
            "/hooks/ali/<redacted>"
        );
        assert_eq!(redacted(&uri("/hooks/ali"), false), "/hooks/ali");
        assert_eq!(
            redacted(&uri("/hooks/ali?a=1&token=s3cret&b=2"), false),
            "/hooks/ali?a=1&token=<redacted>&b=2"
        );
        // Encoded or differently cased keys, and a key without a value.
        assert_eq!(
            redacted(&uri("/hooks/ali?%74oken=s3cret&TOKEN=x&token"), false),
            "/hooks/ali?%74oken=<redacted>&TOKEN=<redacted>&token=<redacted>"
        );
        assert_eq!(
            redacted(&uri("/api/v1/calls?vendor=aliyun&limit=5"), false),
            "/api/v1/calls?vendor=aliyun&limit=5"
        );
    }

    #[test]
    fn with_mask_numbers_query_numbers_are_masked_in_the_log() {
        let u = uri("/calls?q=13812345678&customer_number=%2B8613812345678&limit=50&token=t");
        assert_eq!(
            redacted(&u, true),
            "/calls?q=138****5678&customer_number=%2B861******5678&limit=50&token=<redacted>"
        );
        assert!(redacted(&u, false).contains("q=13812345678"));
    }

    #[test]
    fn a_safe_incoming_id_is_kept_and_anything_else_replaced() {
        let mut h = HeaderMap::new();
        h.insert(&HEADER, "lb-42.a_B".parse().unwrap());
        assert_eq!(of(&h), "lb-42.a_B");
        for bad in [
            "",
            "has space",
            "semi;colon",
            "quote\"",
            &"x".repeat(MAX_LEN + 1),
        ] {
            assert!(!is_safe(bad), "{bad:?}");
        }
        assert!(is_safe(&"x".repeat(MAX_LEN)));
        h.insert(&HEADER, "a{b}".parse().unwrap());
        let made = of(&h);
        assert_ne!(made, "a{b}");
        assert!(made.parse::<ulid::Ulid>().is_ok(), "{made}");
        assert!(of(&HeaderMap::new()).parse::<ulid::Ulid>().is_ok());
    }
}
