//! [`AdmittedSource`]: the extractor that resolves a push's source from
//! its [`PushPath`] and admits the push before its body is read: the
//! source exists, the token matches, the client's address is in
//! `allow_ips`, the source is within its `rate_limit` (in that order, the
//! first failure answers; docs/http-contract.md, "Push interface").

use super::refusal::{PushRefusal, Refused};
use crate::config::{Config, SourceConfig};
use crate::http::client_ip::client_addr;
use crate::http::{bearer, AppState};
use axum::extract::{ConnectInfo, FromRequestParts, Path};
use axum::http::request::Parts;
use serde::Deserialize;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

/// The path of a push URL: `/hooks/{source}` or `/hooks/{source}/{token}`.
#[derive(Debug, Deserialize)]
pub struct PushPath {
    /// The configured source's name.
    pub source: String,
    /// The source's token, when the URL carries it.
    #[serde(default)]
    pub token: Option<String>,
}

/// The configured source a push was admitted to (derefs to its
/// [`SourceConfig`]), and the client's address for the logs.
pub struct AdmittedSource {
    config: Arc<Config>,
    index: usize,
    /// The client's address as logged and kept with the receipt.
    pub peer: Option<String>,
}

impl Deref for AdmittedSource {
    type Target = SourceConfig;

    fn deref(&self) -> &SourceConfig {
        &self.config.sources[self.index]
    }
}

impl FromRequestParts<AppState> for AdmittedSource {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Refused> {
        let Path(path) = Path::<PushPath>::from_request_parts(parts, st)
            .await
            .map_err(|e| PushRefusal::BadPath(e.body_text()))?;
        let index = st
            .config
            .sources
            .iter()
            .position(|s| s.name == path.source)
            .ok_or(PushRefusal::UnknownSource(path.source))?;
        let source = &st.config.sources[index];
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| client_addr(c.0, &parts.headers, &st.config.trusted_proxies));
        let peer = client.map(|c| c.describe());
        let refusal = if !source.token_matches(given_token(path.token, parts).as_deref()) {
            Some(PushRefusal::WrongToken)
        } else if !source.allow_ips.is_empty()
            && !client.is_some_and(|c| source.allow_ips.iter().any(|net| net.contains(&c.ip)))
        {
            Some(PushRefusal::AddressNotAllowed)
        } else {
            st.rates
                .check(&source.name)
                .err()
                .map(|wait| PushRefusal::OverRate { wait })
        };
        if let Some(refusal) = refusal {
            let what = match refusal {
                PushRefusal::WrongToken => "wrong or missing token",
                PushRefusal::AddressNotAllowed => "address not in allow_ips",
                _ => "over the source's rate_limit",
            };
            tracing::warn!(source = %source.name, peer = ?peer, "push refused: {what}");
            return Err(refusal.to(source));
        }
        Ok(AdmittedSource {
            config: st.config.clone(),
            index,
            peer,
        })
    }
}

/// The token given with a push: in the path, then `?token=`, then
/// `Authorization: Bearer`; an empty one gives way to the next.
fn given_token(in_path: Option<String>, parts: &Parts) -> Option<String> {
    in_path
        .filter(|t| !t.is_empty())
        .or_else(|| query_token(parts.uri.query()).filter(|t| !t.is_empty()))
        .or_else(|| bearer(&parts.headers).map(str::to_owned))
}

fn query_token(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}
