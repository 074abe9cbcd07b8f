//! The SSRF guard: subscriber URLs must not reach the machine
//! itself or its private networks unless `allow_private_subscribers` is
//! true. Literal addresses are refused when the configuration is loaded
//! ([`literal_refusal`]); host names are checked on every connection by
//! the resolver the webhook client uses ([`GuardedResolver`]), so the
//! address checked is the address connected to (no DNS-rebinding window).

pub use crate::address_policy::{embedded_v4, literal_refusal, refusal};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;

/// Why a host name could not be used as a subscriber's address.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The lookup itself failed (no such name, no DNS server, …).
    #[error("could not resolve {host}: {source}")]
    Lookup {
        host: String,
        #[source]
        source: std::io::Error,
    },
    /// The name resolved, but to no address at all.
    #[error("{host} resolves to no address")]
    Empty { host: String },
    /// Every address the name resolved to is refused by [`refusal`];
    /// `refused` lists each as `10.0.0.5 (a private address)`.
    #[error("{host} resolves only to refused addresses: {}", refused.join(", "))]
    Refused { host: String, refused: Vec<String> },
}

/// The addresses of `addrs` (what `host` resolved to) that [`refusal`]
/// allows, in their order.
///
/// Errors: [`ResolveError::Refused`] naming every refused address (each
/// once) when none is left, [`ResolveError::Empty`] when `addrs` is empty.
pub fn allowed_addrs(host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, ResolveError> {
    if addrs.is_empty() {
        return Err(ResolveError::Empty {
            host: host.to_owned(),
        });
    }
    let mut refused = Vec::new();
    let mut allowed = Vec::new();
    for addr in addrs {
        match refusal(addr.ip()) {
            None => allowed.push(addr),
            Some(why) => {
                let entry = format!("{} ({why})", addr.ip());
                if !refused.contains(&entry) {
                    refused.push(entry);
                }
            }
        }
    }
    if allowed.is_empty() {
        return Err(ResolveError::Refused {
            host: host.to_owned(),
            refused,
        });
    }
    Ok(allowed)
}

/// The webhook client's DNS resolver when private subscribers are not
/// allowed: resolves with the system resolver ([`tokio::net::lookup_host`])
/// and hands reqwest only the addresses [`refusal`] allows, so the address
/// checked is the one connected to.
///
/// Errors (surfacing in the request's error chain): [`ResolveError`], e.g.
/// `crm.example.com resolves only to refused addresses: 10.0.0.5 (a private
/// address)`. Address literals in URLs never reach a resolver: check them
/// with [`literal_refusal`] before sending.
#[derive(Debug, Clone, Copy, Default)]
pub struct GuardedResolver;

impl GuardedResolver {
    /// The allowed addresses of `host` (port 0: reqwest puts the URL's port in).
    ///
    /// Errors: [`ResolveError`].
    pub async fn lookup(host: &str) -> Result<Vec<SocketAddr>, ResolveError> {
        let addrs =
            tokio::net::lookup_host((host, 0))
                .await
                .map_err(|source| ResolveError::Lookup {
                    host: host.to_owned(),
                    source,
                })?;
        allowed_addrs(host, addrs.collect())
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = GuardedResolver::lookup(&host).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sock(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 0)
    }

    #[test]
    fn resolved_addresses_are_filtered_and_all_refused_is_an_error() {
        let kept = allowed_addrs(
            "crm.example.com",
            vec![sock("10.0.0.5"), sock("8.8.8.8"), sock("::1")],
        );
        assert_eq!(kept.unwrap(), vec![sock("8.8.8.8")]);
        let err = allowed_addrs("crm.example.com", vec![sock("10.0.0.5")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "crm.example.com resolves only to refused addresses: 10.0.0.5 (a private address)"
        );
        let err = allowed_addrs(
            "x.test",
            vec![
                sock("127.0.0.1"),
                sock("127.0.0.1"),
                sock("169.254.169.254"),
            ],
        );
        assert_eq!(
            err.unwrap_err().to_string(),
            "x.test resolves only to refused addresses: 127.0.0.1 (a loopback address), \
             169.254.169.254 (a link-local address)"
        );
        assert_eq!(
            allowed_addrs("x.test", vec![]).unwrap_err().to_string(),
            "x.test resolves to no address"
        );
    }

    #[tokio::test]
    async fn the_resolver_refuses_localhost() {
        let name: Name = "localhost".parse().unwrap();
        let err = match GuardedResolver.resolve(name).await {
            Ok(addrs) => panic!("localhost resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e.to_string(),
        };
        assert!(
            err.starts_with("localhost resolves only to refused addresses: "),
            "{err}"
        );
        assert!(err.contains("(a loopback address)"), "{err}");
    }

    #[tokio::test]
    async fn the_resolver_passes_public_literals_and_reports_lookup_failures() {
        let kept = GuardedResolver::lookup("8.8.8.8").await.unwrap();
        assert_eq!(kept, vec![sock("8.8.8.8")]);
        let err = GuardedResolver::lookup("no-such-host.invalid")
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("could not resolve no-such-host.invalid: "),
            "{err}"
        );
    }
}
