//! Who is calling `/api`, `/metrics` and the dashboard, and what they may
//! do: any configured API token may read (`GET`, `HEAD`); only
//! an `admin` one may change something (every other method: replay,
//! retry, subscriber enable/disable, delete). Without any API token
//! configured, everything is open (the default listens on loopback only,
//! and `serve` refuses a public address without one).

use crate::config::{Config, Principal, Scope};
use axum::http::Method;

/// The scope a request with `method` needs.
pub fn needed_scope(method: &Method) -> Scope {
    if method == Method::GET || method == Method::HEAD || method == Method::OPTIONS {
        Scope::Read
    } else {
        Scope::Admin
    }
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// No token, or not a configured one: 401.
    Unauthenticated,
    /// A known token whose scope is too small: 403.
    Forbidden { name: String, scope: Scope },
}

impl Denied {
    /// The message shown to the caller (names the holder, never the token).
    pub fn message(&self) -> String {
        match self {
            Denied::Unauthenticated => {
                "missing or wrong API token: send `Authorization: Bearer <token>`".into()
            }
            Denied::Forbidden { name, scope } => format!(
                "token `{name}` has the `{}` scope; this action needs `admin`",
                scope.as_str()
            ),
        }
    }
}

/// Checks a request with `method` and bearer token `given`: `Ok(None)`
/// when no API token is configured (open), `Ok(Some(holder))` when the
/// token is known and its scope suffices.
///
/// Errors: [`Denied::Unauthenticated`], [`Denied::Forbidden`].
pub fn authorize(
    config: &Config,
    method: &Method,
    given: Option<&str>,
) -> Result<Option<Principal>, Denied> {
    if !config.api_auth() {
        return Ok(None);
    }
    let holder = given
        .and_then(|g| config.api_principal(g))
        .ok_or(Denied::Unauthenticated)?;
    permit(holder, method).map(Some)
}

/// `holder` when its scope allows `method`.
///
/// Errors: [`Denied::Forbidden`].
pub fn permit(holder: Principal, method: &Method) -> Result<Principal, Denied> {
    if holder.may(needed_scope(method)) {
        Ok(holder)
    } else {
        Err(Denied::Forbidden {
            name: holder.name,
            scope: holder.scope,
        })
    }
}
