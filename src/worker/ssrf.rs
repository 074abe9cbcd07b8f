//! The SSRF guard (issue 4): subscriber URLs must not reach the machine
//! itself or its private networks unless `allow_private_subscribers` is
//! true. Literal addresses are refused when the configuration is loaded
//! ([`literal_refusal`]); host names are checked on every connection by
//! the resolver the webhook client uses ([`GuardedResolver`]), so the
//! address checked is the address connected to (no DNS-rebinding window).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why `ip` may not be a subscriber's address; `None` when it is public.
///
/// Refused: unspecified, loopback, private (RFC 1918, IPv6 unique-local),
/// link-local (including cloud metadata at 169.254.169.254), shared
/// address space (100.64/10, carrier-grade NAT), benchmarking (198.18/15),
/// broadcast, multicast, documentation ranges, and IPv4-mapped or
/// IPv4-compatible IPv6 forms of any of those.
pub fn refusal(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refusal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return refusal_v4(v4);
            }
            refusal_v6(v6)
        }
    }
}

fn refusal_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_unspecified() {
        Some("an unspecified address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (carrier-grade NAT) address")
    } else if a == 198 && (b == 18 || b == 19) {
        Some("a benchmarking address")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("a broadcast, multicast or reserved address")
    } else if ip.is_documentation() || a == 0 {
        Some("a reserved address")
    } else {
        None
    }
}

fn refusal_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_unspecified() {
        Some("an unspecified address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if first & 0xfe00 == 0xfc00 {
        Some("a private (unique-local) address")
    } else if first & 0xffc0 == 0xfe80 {
        Some("a link-local address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if first == 0x2001 && ip.segments()[1] == 0x0db8 {
        Some("a documentation address")
    } else if ip.segments()[..6] == [0; 6] {
        // IPv4-compatible (::a.b.c.d), deprecated but still routed by some stacks.
        let [.., g, h] = ip.segments();
        refusal_v4(Ipv4Addr::new(
            (g >> 8) as u8,
            g as u8,
            (h >> 8) as u8,
            h as u8,
        ))
    } else {
        None
    }
}

/// Why `url`'s host, when it is an address literal (or `localhost`), may
/// not be a subscriber; `None` for public literals and other host names
/// (those are checked when resolved).
pub fn literal_refusal(url: &reqwest::Url) -> Option<String> {
    let ip = match url.host()? {
        url::Host::Ipv4(ip) => IpAddr::V4(ip),
        url::Host::Ipv6(ip) => IpAddr::V6(ip),
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if d == "localhost" || d.ends_with(".localhost") {
                return Some(format!("`{d}` is a loopback address"));
            }
            return None;
        }
    };
    refusal(ip).map(|why| format!("{ip} is {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_and_link_local_are_refused_public_is_not() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
            "255.255.255.255",
        ] {
            let ip: IpAddr = bad.parse().unwrap();
            assert!(refusal(ip).is_some(), "{bad} should be refused");
        }
        for good in [
            "8.8.8.8",
            "203.0.114.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = good.parse().unwrap();
            assert_eq!(refusal(ip), None, "{good} should be allowed");
        }
    }

    #[test]
    fn literals_in_urls_are_checked_and_names_wait_for_resolution() {
        let check = |u: &str| literal_refusal(&reqwest::Url::parse(u).unwrap());
        assert!(check("http://127.0.0.1:9000/x")
            .unwrap()
            .contains("loopback"));
        assert!(check("http://[::1]/x").unwrap().contains("loopback"));
        assert!(check("http://localhost:8080/")
            .unwrap()
            .contains("loopback"));
        assert!(check("https://10.0.0.8/").unwrap().contains("private"));
        assert_eq!(check("https://crm.example.com/hooks"), None);
        assert_eq!(check("https://8.8.8.8/hooks"), None);
    }
}
