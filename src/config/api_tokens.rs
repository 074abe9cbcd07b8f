//! Who may use the API, `/metrics` and the dashboard: `api_token` (admin
//! scope, docs/http-contract.md) and any number of named `[[api_tokens]]`, each
//! with a `read` or `admin` scope. A read token may look at
//! everything; only an admin token may change something (replay, retry,
//! enable/disable a subscriber, delete).

use super::redact;
use super::{secret_matches, url_safe};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// `GET`/`HEAD` on `/api`, `/metrics`, every dashboard page and export.
    Read,
    /// Everything `read` may, plus every other method: replay, retry,
    /// subscriber enable/disable, delete.
    Admin,
}

impl Scope {
    /// The wire name (`read`, `admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }
}

fn default_scope() -> Scope {
    Scope::Read
}

/// One `[[api_tokens]]` entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiTokenConfig {
    /// Who holds it (URL-safe; shown in logs as the actor, never the token).
    pub name: String,
    /// The bearer token (`Authorization: Bearer …`, or the dashboard login).
    #[serde(serialize_with = "redact::secret")]
    pub token: SecretString,
    /// `read` (the default: least privilege) or `admin`.
    #[serde(default = "default_scope")]
    pub scope: Scope,
}

/// The name `api_token` is known by (in logs and sessions).
pub const API_TOKEN_NAME: &str = "api_token";

/// The holder of a token that was presented: its name and scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub scope: Scope,
}

impl Principal {
    /// Whether this holder may do what needs `scope`.
    pub fn may(&self, scope: Scope) -> bool {
        self.scope >= scope
    }
}

/// Every configured token as (name, secret, scope): `api_token` first.
pub(super) fn all<'c>(
    api_token: Option<&'c SecretString>,
    named: &'c [ApiTokenConfig],
) -> impl Iterator<Item = (&'c str, &'c SecretString, Scope)> {
    api_token
        .map(|t| (API_TOKEN_NAME, t, Scope::Admin))
        .into_iter()
        .chain(named.iter().map(|t| (t.name.as_str(), &t.token, t.scope)))
}

/// The holder of `given` among `tokens`. Every token is compared (in
/// constant time), so the time taken does not depend on which matched.
pub(super) fn find<'c>(
    tokens: impl Iterator<Item = (&'c str, &'c SecretString, Scope)>,
    given: &str,
) -> Option<Principal> {
    let mut found = None;
    for (name, secret, scope) in tokens {
        if secret_matches(secret, given) && found.is_none() {
            found = Some(Principal {
                name: name.to_owned(),
                scope,
            });
        }
    }
    found
}

/// Checks names (URL-safe, unique, not `api_token` when that is set) and
/// tokens (non-empty, all different, so a token names one holder).
///
/// Errors: a message naming the entry (`api_tokens[i] (`name`)`) and key.
pub(super) fn validate(
    api_token: Option<&SecretString>,
    named: &[ApiTokenConfig],
) -> Result<(), String> {
    if api_token.is_some_and(|t| t.expose_secret().is_empty()) {
        return Err("api_token: empty; remove the key for no token".into());
    }
    let mut names = std::collections::HashSet::new();
    if api_token.is_some() {
        names.insert(API_TOKEN_NAME);
    }
    for (i, t) in named.iter().enumerate() {
        let at = format!("api_tokens[{i}] (`{}`)", t.name);
        if !url_safe(&t.name) {
            return Err(format!(
                "{at}.name: must be non-empty and use only A-Z a-z 0-9 - _ ."
            ));
        }
        if !names.insert(t.name.as_str()) {
            return Err(format!("{at}.name: another token has this name"));
        }
        if t.token.expose_secret().is_empty() {
            return Err(format!("{at}.token: empty"));
        }
        let earlier = all(api_token, &named[..i])
            .find(|(_, s, _)| s.expose_secret().as_bytes() == t.token.expose_secret().as_bytes());
        if let Some((other, _, _)) = earlier {
            return Err(format!(
                "{at}.token: the same token as `{other}`; each holder needs its own"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(name: &str, token: &str, scope: Scope) -> ApiTokenConfig {
        ApiTokenConfig {
            name: name.into(),
            token: SecretString::from(token),
            scope,
        }
    }

    #[test]
    fn a_token_names_its_holder_and_scope() {
        let admin = SecretString::from("root-token");
        let named = [
            tok("grafana", "read-token", Scope::Read),
            tok("ops", "ops-token", Scope::Admin),
        ];
        let p = find(all(Some(&admin), &named), "read-token").unwrap();
        assert_eq!((p.name.as_str(), p.scope), ("grafana", Scope::Read));
        assert!(p.may(Scope::Read) && !p.may(Scope::Admin));
        let p = find(all(Some(&admin), &named), "root-token").unwrap();
        assert_eq!((p.name.as_str(), p.scope), (API_TOKEN_NAME, Scope::Admin));
        assert!(p.may(Scope::Read) && p.may(Scope::Admin));
        assert_eq!(
            find(all(Some(&admin), &named), "ops-token").unwrap().name,
            "ops"
        );
        assert!(find(all(Some(&admin), &named), "nope").is_none());
        assert!(find(all(None, &[]), "").is_none());
    }

    #[test]
    fn names_and_tokens_must_be_distinct_and_usable() {
        let admin = SecretString::from("root-token");
        let ok = [tok("grafana", "a", Scope::Read)];
        assert!(validate(Some(&admin), &ok).is_ok());
        let e = validate(Some(&admin), &[tok("api_token", "b", Scope::Read)]).unwrap_err();
        assert!(e.contains("api_tokens[0]") && e.contains("name"), "{e}");
        let e = validate(
            None,
            &[tok("a", "x", Scope::Read), tok("a", "y", Scope::Read)],
        );
        assert!(e.unwrap_err().contains("api_tokens[1] (`a`).name"));
        let e = validate(Some(&admin), &[tok("g", "root-token", Scope::Read)]).unwrap_err();
        assert!(e.contains("same token as `api_token`"), "{e}");
        let e = validate(None, &[tok("bad name", "x", Scope::Read)]).unwrap_err();
        assert!(e.contains("A-Z"), "{e}");
        let e = validate(None, &[tok("g", "", Scope::Read)]).unwrap_err();
        assert!(e.contains("api_tokens[0] (`g`).token: empty"), "{e}");
        let e = validate(Some(&SecretString::from("")), &[]).unwrap_err();
        assert!(e.starts_with("api_token"), "{e}");
    }
}
