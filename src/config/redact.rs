//! How the effective configuration is printed (`callhook check-config`):
//! secrets as `<redacted>`, passwords in URLs as `<redacted>`, durations in
//! the friendly form they are written in (`"500ms"`, `"2h"`).

use secrecy::SecretString;
use serde::Serializer;

/// What a secret prints as.
pub const REDACTED: &str = "<redacted>";
/// What a password or token inside a URL prints as (URL-safe).
pub const REDACTED_IN_URL: &str = "REDACTED";

/// A secret, whatever it is.
pub fn secret<S: Serializer>(_: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(REDACTED)
}

/// An optional secret: absent stays absent.
pub fn opt_secret<S: Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(_) => s.serialize_str(REDACTED),
        None => s.serialize_none(),
    }
}

/// A list of secrets: one `<redacted>` per secret.
pub fn secrets<S: Serializer>(v: &[SecretString], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|_| REDACTED))
}

/// `url` with its password (and any `token`/`secret`-like query value)
/// replaced; text that is not a URL is printed as it is.
pub fn url_text(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        return url.to_owned();
    };
    if u.password().is_some() {
        let _ = u.set_password(Some(REDACTED_IN_URL));
    }
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .map(|(k, v)| {
            let hidden = ["token", "secret", "password", "key"]
                .iter()
                .any(|w| k.to_ascii_lowercase().contains(w));
            let v = if hidden {
                REDACTED_IN_URL.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    if !pairs.is_empty() {
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

/// What an API answer or a dashboard page may show of a configured
/// endpoint: `url` without its user information (user name and password:
/// a NATS token travels as the user name), query and fragment, e.g.
/// `nats://user:pw@nats.internal:4222?x=1` → `nats://nats.internal:4222`.
/// A comma-separated list of servers (as NATS takes) is treated part by
/// part. Text without a scheme (`user:pw@host:4222`) is handled alike.
pub fn endpoint_text(url: &str) -> String {
    url.split(',')
        .map(|part| {
            let part = part.trim();
            let (scheme, rest) = match part.find("://") {
                Some(i) => part.split_at(i + 3),
                None => ("", part),
            };
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(end);
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let path = tail.split(['?', '#']).next().unwrap_or("");
            format!("{scheme}{host}{path}")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A URL through [`url_text`].
pub fn url<S: Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&url_text(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords_and_tokens_only() {
        assert_eq!(
            url_text("postgres://app:hunter2@db.internal:5432/callhook"),
            "postgres://app:REDACTED@db.internal:5432/callhook"
        );
        assert_eq!(
            url_text("https://crm.example.com/hook?token=abc&team=7"),
            "https://crm.example.com/hook?token=REDACTED&team=7"
        );
        assert_eq!(url_text("sqlite://callhook.db"), "sqlite://callhook.db");
        assert_eq!(url_text("not a url"), "not a url");
        assert_eq!(
            crate::duration_text::friendly(&std::time::Duration::from_millis(500)),
            "500ms"
        );
        assert_eq!(
            crate::duration_text::friendly(&std::time::Duration::from_secs(7200)),
            "2h"
        );
    }

    #[test]
    fn endpoints_lose_credentials_query_and_fragment() {
        for (given, shown) in [
            (
                "nats://user:PASS@nats.internal:4222",
                "nats://nats.internal:4222",
            ),
            ("nats://s3cretTOKEN@nats.internal", "nats://nats.internal"),
            (
                "tls://u:p@a:4222, nats://b:4222",
                "tls://a:4222,nats://b:4222",
            ),
            ("u:p@nats.internal:4222", "nats.internal:4222"),
            (
                "https://bob:pw@crm.example.com/hooks?token=x#f",
                "https://crm.example.com/hooks",
            ),
            ("https://crm.example.com/a@b", "https://crm.example.com/a@b"),
            ("nats://127.0.0.1:4222", "nats://127.0.0.1:4222"),
        ] {
            assert_eq!(endpoint_text(given), shown, "{given}");
        }
    }
}
