//! Which addresses callhook refuses to connect to on a subscriber's or a
//! vendor recording link's behalf (the SSRF policy): the machine itself,
//! private networks, link-local (cloud metadata) and the reserved ranges,
//! also when carried inside an IPv6 address. Pure functions of an address
//! or URL, used when the configuration is loaded (`[[subscribers]]`) and
//! by the guarded resolvers of webhooks and recordings
//! ([`crate::worker::ssrf`], [`crate::recordings`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why `ip` may not be a subscriber's address; `None` when it is public.
///
/// Refused: unspecified, loopback, private (RFC 1918, IPv6 unique-local),
/// link-local (including cloud metadata at 169.254.169.254), shared
/// address space (100.64/10, carrier-grade NAT), benchmarking (198.18/15),
/// broadcast, multicast, documentation ranges, and every IPv6 address that
/// carries one of those IPv4 addresses ([`embedded_v4`]: IPv4-mapped,
/// IPv4-compatible, IPv4-translated, NAT64 64:ff9b::/96, 6to4 2002::/16,
/// Teredo 2001::/32). The local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215)
/// is refused whole: where it carries the IPv4 address depends on the
/// operator's prefix length. IPv6 discard-only (100::/64) is refused too.
///
/// Hand-written rather than from a crate: std's `is_global` is unstable,
/// and the maintained crates (`ip_network` 0.4) classify by the IANA
/// registries, where 64:ff9b::/96 and 2002::/16 are global, without
/// looking at the IPv4 address inside.
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
    } else if ip.segments()[..4] == [0x0100, 0, 0, 0] {
        Some("a discard-only address")
    } else if ip.segments()[..3] == [0x0064, 0xff9b, 0x0001] {
        Some("a local-use NAT64 address")
    } else {
        embedded_v4(ip)
            .into_iter()
            .flatten()
            .flatten()
            .find_map(refusal_v4)
    }
}

/// The IPv4 addresses an IPv6 address carries, when it is in a range that
/// translates to or tunnels over IPv4: IPv4-compatible `::a.b.c.d`,
/// IPv4-translated `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d` (RFC 6052),
/// 6to4 `2002:AABB:CCDD::/48` (RFC 3056), and Teredo `2001:0:SSSS:SSSS::`
/// with the server's address and the client's (stored inverted, RFC 4380).
/// IPv4-mapped addresses are read by [`refusal`] itself.
pub fn embedded_v4(ip: Ipv6Addr) -> Option<[Option<Ipv4Addr>; 2]> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        // ::a.b.c.d (not :: and ::1, handled as unspecified and loopback).
        [0, 0, 0, 0, 0, 0, g, h] => Some([Some(v4(g, h)), None]),
        [0, 0, 0, 0, 0xffff, 0, g, h] => Some([Some(v4(g, h)), None]),
        [0x0064, 0xff9b, 0, 0, 0, 0, g, h] => Some([Some(v4(g, h)), None]),
        [0x2002, b, c, ..] => Some([Some(v4(b, c)), None]),
        [0x2001, 0, c, d, _, _, g, h] => Some([Some(v4(c, d)), Some(v4(!g, !h))]),
        _ => None,
    }
}

/// Why `url`'s host, when it is an address literal (or `localhost`), may
/// not be a subscriber; `None` for public literals and other host names
/// (those are checked when resolved).
pub fn literal_refusal(url: &url::Url) -> Option<String> {
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
    fn ipv6_translation_ranges_are_judged_by_the_ipv4_address_inside() {
        for bad in [
            "64:ff9b::7f00:1",    // NAT64 of 127.0.0.1
            "64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
            "64:ff9b::10.0.0.1",  // NAT64 of 10.0.0.1
            "64:ff9b:1::1",       // local-use NAT64, refused whole
            "64:ff9b:1:ffff::808:808",
            "2002:7f00:1::1",                       // 6to4 of 127.0.0.1
            "2002:c0a8:101::",                      // 6to4 of 192.168.1.1
            "2002:a9fe:a9fe::1",                    // 6to4 of 169.254.169.254
            "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo, client 127.0.0.1
            "2001:0:a00:1::1",                      // Teredo, server 10.0.0.1
            "::ffff:0:7f00:1",                      // IPv4-translated 127.0.0.1
            "::127.0.0.1",                          // IPv4-compatible
            "::ffff:169.254.169.254",
            "100::1", // discard-only
        ] {
            let ip: IpAddr = bad.parse().unwrap();
            assert!(refusal(ip).is_some(), "{bad} should be refused");
        }
        for good in [
            "64:ff9b::808:808",                     // NAT64 of 8.8.8.8
            "2002:808:808::1",                      // 6to4 of 8.8.8.8
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7", // Teredo, client 8.8.8.8
            "2001:4860:4860::8888",                 // not Teredo: 2001:4860::/32
        ] {
            let ip: IpAddr = good.parse().unwrap();
            assert_eq!(refusal(ip), None, "{good} should be allowed");
        }
        let check = |u: &str| literal_refusal(&url::Url::parse(u).unwrap());
        assert!(check("http://[64:ff9b::7f00:1]/x")
            .unwrap()
            .contains("loopback"));
        assert!(check("http://[2002:7f00:1::1]/x")
            .unwrap()
            .contains("loopback"));
    }

    #[test]
    fn literals_in_urls_are_checked_and_names_wait_for_resolution() {
        let check = |u: &str| literal_refusal(&url::Url::parse(u).unwrap());
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
