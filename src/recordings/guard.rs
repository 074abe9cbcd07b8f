//! The SSRF guard of recording downloads, built on [`crate::worker::ssrf`]:
//! a recording URL (and every redirect it leads to) may only reach public
//! addresses, or addresses inside the configured
//! `recordings.allow_private_networks` (e.g. `127.0.0.1/32` for a
//! recording server on the same machine).
//!
//! Address literals never reach a resolver, so they are checked by
//! [`check_url`] before each request; host names are checked by
//! [`RecordingResolver`] on the addresses really connected to.

use crate::worker::ssrf::{refusal, ResolveError};
use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};

/// Whether `ip` may be connected to: public ([`refusal`] is `None`) or
/// inside one of `allow` (IPv4-mapped IPv6 addresses are compared as IPv4).
pub fn permitted(ip: IpAddr, allow: &[IpNet]) -> bool {
    if refusal(ip).is_none() {
        return true;
    }
    let v4 = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
        IpAddr::V4(_) => None,
    };
    allow
        .iter()
        .any(|net| net.contains(&ip) || v4.is_some_and(|v4| net.contains(&v4)))
}

/// Checks a recording URL before it is requested: the scheme must be
/// `http` or `https`, there must be a host, and an address-literal host
/// must be [`permitted`]. Host names pass (they are checked when resolved).
///
/// Errors: a sentence saying why, e.g. `10.0.0.1 is a private address`
/// or `the scheme must be http or https, not ftp`.
pub fn check_url(url: &reqwest::Url, allow: &[IpNet]) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme must be http or https, not {}",
            url.scheme()
        ));
    }
    let ip = match url.host() {
        None => return Err("the URL has no host".to_owned()),
        Some(url::Host::Domain(_)) => return Ok(()),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
    };
    if permitted(ip, allow) {
        return Ok(());
    }
    let why = refusal(ip).unwrap_or("not allowed");
    Err(format!(
        "{ip} is {why} (not in recordings.allow_private_networks)"
    ))
}

/// The recording client's DNS resolver: resolves with the system resolver
/// ([`tokio::net::lookup_host`]) and hands reqwest only the [`permitted`]
/// addresses, so the address checked is the address connected to.
///
/// Errors (in the request's error chain): [`ResolveError`]; `Refused`
/// when every address is refused.
#[derive(Debug, Clone, Default)]
pub struct RecordingResolver {
    /// Private networks that may be connected to anyway.
    pub allow: Vec<IpNet>,
}

impl RecordingResolver {
    /// The permitted addresses of `host` (port 0: reqwest puts the URL's
    /// port in).
    ///
    /// Errors: [`ResolveError`].
    pub async fn lookup(&self, host: &str) -> Result<Vec<SocketAddr>, ResolveError> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
            .await
            .map_err(|source| ResolveError::Lookup {
                host: host.to_owned(),
                source,
            })?
            .collect();
        self.filter(host, addrs)
    }

    /// The [`permitted`] addresses of `addrs`, in their order.
    ///
    /// Errors: [`ResolveError::Empty`] when `addrs` is empty,
    /// [`ResolveError::Refused`] (each refused address once) when none is left.
    pub fn filter(
        &self,
        host: &str,
        addrs: Vec<SocketAddr>,
    ) -> Result<Vec<SocketAddr>, ResolveError> {
        if addrs.is_empty() {
            return Err(ResolveError::Empty {
                host: host.to_owned(),
            });
        }
        let (allowed, refused): (Vec<_>, Vec<_>) = addrs
            .into_iter()
            .partition(|a| permitted(a.ip(), &self.allow));
        if !allowed.is_empty() {
            return Ok(allowed);
        }
        let mut named: Vec<String> = Vec::new();
        for addr in refused {
            let why = refusal(addr.ip()).unwrap_or("not allowed");
            let entry = format!("{} ({why})", addr.ip());
            if !named.contains(&entry) {
                named.push(entry);
            }
        }
        Err(ResolveError::Refused {
            host: host.to_owned(),
            refused: named,
        })
    }
}

impl Resolve for RecordingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver = self.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolver.lookup(&host).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(u: &str) -> reqwest::Url {
        reqwest::Url::parse(u).unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn literals_are_refused_unless_public_or_allowed() {
        assert!(check_url(&url("https://8.8.8.8/r.wav"), &[]).is_ok());
        assert!(check_url(&url("https://rec.example.com/r.wav"), &[]).is_ok());
        let err = check_url(&url("http://10.0.0.1/x"), &[]).unwrap_err();
        assert!(err.contains("private"), "{err}");
        let err = check_url(&url("http://169.254.169.254/latest"), &[]).unwrap_err();
        assert!(err.contains("link-local"), "{err}");
        let local = nets(&["127.0.0.1/32"]);
        assert!(check_url(&url("http://127.0.0.1:9000/x"), &local).is_ok());
        assert!(check_url(&url("http://[::ffff:127.0.0.1]:9000/x"), &local).is_ok());
        assert!(check_url(&url("http://127.0.0.2:9000/x"), &local).is_err());
        assert!(check_url(&url("http://10.0.0.1/x"), &local).is_err());
    }

    #[test]
    fn only_http_and_https() {
        let err = check_url(&url("ftp://8.8.8.8/r.wav"), &[]).unwrap_err();
        assert_eq!(err, "the scheme must be http or https, not ftp");
        assert!(check_url(&url("file:///etc/passwd"), &[]).is_err());
    }

    #[test]
    fn resolved_addresses_keep_public_and_allowed_ones() {
        let sock = |ip: &str| SocketAddr::new(ip.parse().unwrap(), 0);
        let resolver = RecordingResolver {
            allow: nets(&["10.1.0.0/16"]),
        };
        let kept = resolver.filter(
            "rec.test",
            vec![sock("10.2.0.1"), sock("10.1.2.3"), sock("8.8.8.8")],
        );
        assert_eq!(kept.unwrap(), vec![sock("10.1.2.3"), sock("8.8.8.8")]);
        let err = resolver
            .filter("rec.test", vec![sock("127.0.0.1"), sock("127.0.0.1")])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "rec.test resolves only to refused addresses: 127.0.0.1 (a loopback address)"
        );
    }

    #[tokio::test]
    async fn localhost_resolves_only_when_allowed() {
        let refused = RecordingResolver::default().lookup("localhost").await;
        assert!(matches!(refused, Err(ResolveError::Refused { .. })));
        let allowed = RecordingResolver {
            allow: nets(&["127.0.0.0/8", "::1/128"]),
        };
        assert!(!allowed.lookup("localhost").await.unwrap().is_empty());
    }
}
