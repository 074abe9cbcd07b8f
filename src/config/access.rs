//! Who may reach what: the refusal to listen publicly unprotected, API
//! token look-ups, and HTTPS files ("Safe defaults").

use super::{api_tokens, Config, ConfigError, Principal, Scope};
use secrecy::SecretString;
use std::path::Path;

impl Config {
    /// Errors unless `listen` is a loopback address, or every source has a
    /// token (or, for the signed kinds, a signature `secret`) and an API
    /// token guards the calls (`api_token` or `[[api_tokens]]`).
    pub fn check_exposure(&self, insecure: bool) -> Result<(), ConfigError> {
        if insecure || self.listen.ip().is_loopback() {
            return Ok(());
        }
        if let Some(s) = self
            .sources
            .iter()
            .find(|s| s.token.is_none() && s.secret.is_none())
        {
            return Err(ConfigError::Invalid(format!(
                "refusing to listen on {} while source `{}` has no token: anyone could push to it. \
                 Give every source a `token` (or a signed kind's `secret`), listen on 127.0.0.1, \
                 or pass --insecure",
                self.listen, s.name
            )));
        }
        if !self.api_auth() {
            return Err(ConfigError::Invalid(format!(
                "refusing to listen on {} without `api_token` (or `[[api_tokens]]`): anyone could \
                 read the calls and customers' numbers. Set one, listen on 127.0.0.1, or pass \
                 --insecure",
                self.listen
            )));
        }
        Ok(())
    }

    /// Whether `/api`, `/metrics` and the dashboard need a token.
    pub fn api_auth(&self) -> bool {
        self.api_token.is_some() || !self.api_tokens.is_empty()
    }

    /// The holder of the API token `given`, if it is one (constant time
    /// per configured token).
    pub fn api_principal(&self, given: &str) -> Option<Principal> {
        api_tokens::find(
            api_tokens::all(self.api_token.as_ref(), &self.api_tokens),
            given,
        )
    }

    /// The secret and scope of the API token called `name` (`api_token`
    /// for the top-level one): what signs a dashboard session.
    pub fn api_token_named(&self, name: &str) -> Option<(&SecretString, Scope)> {
        api_tokens::all(self.api_token.as_ref(), &self.api_tokens)
            .find(|(n, _, _)| *n == name)
            .map(|(_, s, scope)| (s, scope))
    }

    /// `https` when `tls_cert`/`tls_key` are set, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls_cert.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// `(tls_cert, tls_key)` when HTTPS is configured.
    ///
    /// Errors: only one of the two is set, or a file does not exist.
    pub fn tls_files(&self) -> Result<Option<(&Path, &Path)>, String> {
        match (&self.tls_cert, &self.tls_key) {
            (None, None) => Ok(None),
            (Some(c), Some(k)) => {
                for (key, path) in [("tls_cert", c), ("tls_key", k)] {
                    if !path.is_file() {
                        return Err(format!("{key}: file {} does not exist", path.display()));
                    }
                }
                Ok(Some((c, k)))
            }
            (Some(_), None) => Err("tls_cert is set without tls_key: set both or neither".into()),
            (None, Some(_)) => Err("tls_key is set without tls_cert: set both or neither".into()),
        }
    }
}
