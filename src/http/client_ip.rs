//! The pushing client's address: the TCP peer, or, when the peer is one of
//! the configured `trusted_proxies`, the right-most address in
//! `X-Forwarded-For` that is not itself a trusted proxy (the left part of
//! the header is whatever the client wrote, so it is never believed).

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// Where a push came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr {
    /// The address `allow_ips` is checked against.
    pub ip: IpAddr,
    /// The TCP peer (the proxy, when forwarded).
    pub peer: SocketAddr,
    /// Whether `ip` came from `X-Forwarded-For`.
    pub forwarded: bool,
}

impl ClientAddr {
    /// `ip:port` of the peer, or `client via proxy:port` when forwarded:
    /// the receipt's `remote_addr`.
    pub fn describe(&self) -> String {
        if self.forwarded {
            format!("{} via {}", self.ip, self.peer)
        } else {
            self.peer.to_string()
        }
    }
}

/// The client of a request from `peer` with `headers`, trusting
/// `X-Forwarded-For` only from `trusted` proxies.
pub fn client_addr(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> ClientAddr {
    let direct = ClientAddr {
        ip: peer.ip(),
        peer,
        forwarded: false,
    };
    let is_trusted = |ip: &IpAddr| is_proxy(*ip, trusted);
    if !is_trusted(&peer.ip()) {
        return direct;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map_while(|hop| hop.trim().parse::<IpAddr>().ok())
        .collect();
    match hops.iter().rev().find(|ip| !is_trusted(ip)) {
        Some(ip) => ClientAddr {
            ip: *ip,
            peer,
            forwarded: true,
        },
        None => direct,
    }
}

/// Whether `ip` is one of the `trusted` proxies.
fn is_proxy(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|n| n.contains(&ip))
}

/// Whether a request from `peer` reached the proxy over HTTPS: `peer` is
/// one of the `trusted` proxies and the last `X-Forwarded-Proto` value it
/// set is `https`. From any other peer the header is ignored (`false`).
pub fn forwarded_https(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> bool {
    is_proxy(peer.ip(), trusted)
        && headers
            .get_all("x-forwarded-proto")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let proxy: SocketAddr = "10.0.0.5:4000".parse().unwrap();
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let h = headers(&["203.0.113.7"]);
        let c = client_addr(proxy, &h, &trusted);
        assert_eq!(c.ip.to_string(), "203.0.113.7");
        assert!(c.forwarded);
        assert_eq!(c.describe(), "203.0.113.7 via 10.0.0.5:4000");
        // Not a trusted peer: the header is the client's own words.
        let direct = client_addr("198.51.100.1:5000".parse().unwrap(), &h, &trusted);
        assert_eq!(direct.ip.to_string(), "198.51.100.1");
        assert!(!direct.forwarded);
        assert_eq!(client_addr(proxy, &h, &[]).ip, proxy.ip());
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let proxy: SocketAddr = "10.0.0.5:4000".parse().unwrap();
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // A client that writes its own header cannot choose its address.
        let h = headers(&["203.0.113.7, 198.51.100.9", "10.0.0.9"]);
        assert_eq!(
            client_addr(proxy, &h, &trusted).ip.to_string(),
            "198.51.100.9"
        );
        // Nothing usable: the peer.
        let junk = headers(&["not-an-ip"]);
        assert_eq!(client_addr(proxy, &junk, &trusted).ip, proxy.ip());
    }

    #[test]
    fn https_is_believed_only_from_a_trusted_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.append("x-forwarded-proto", "https".parse().unwrap());
        let proxy: SocketAddr = "10.0.0.5:4000".parse().unwrap();
        let stranger: SocketAddr = "203.0.113.7:4000".parse().unwrap();
        assert!(forwarded_https(proxy, &h, &trusted));
        assert!(!forwarded_https(stranger, &h, &trusted));
        assert!(!forwarded_https(proxy, &HeaderMap::new(), &trusted));
        let mut plain = HeaderMap::new();
        plain.append("x-forwarded-proto", "https, http".parse().unwrap());
        assert!(!forwarded_https(proxy, &plain, &trusted));
    }
}
