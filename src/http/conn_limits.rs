//! Open connection caps (`limits.max_connections`, all peers together, and
//! `limits.max_connections_per_ip`, one peer address), so idle or slow
//! sockets cannot exhaust the process's file descriptors, nor one client
//! every connection. A connection is counted from accept until its
//! [`ConnPermit`] is dropped. Peers in `trusted_proxies` only count
//! towards the total (every client comes through them).

use crate::config::Limits;
use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The counters. Cheap to clone.
#[derive(Clone)]
pub struct ConnLimits {
    inner: Arc<Inner>,
}

struct Inner {
    max_total: usize,
    max_per_ip: usize,
    exempt: Vec<IpNet>,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_ip: HashMap<IpAddr, usize>,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// `max_connections` connections are open.
    #[error("{0} connections are open (limits.max_connections)")]
    Total(usize),
    /// `max_connections_per_ip` connections from this peer are open.
    #[error("{0} connections from this address are open (limits.max_connections_per_ip)")]
    PerIp(usize),
}

/// One open connection's place in the counts, given back when dropped.
pub struct ConnPermit {
    inner: Arc<Inner>,
    /// `None` for an exempt peer (not counted per address).
    ip: Option<IpAddr>,
}

impl ConnLimits {
    /// Caps from `limits`; peers inside `trusted_proxies` are exempt from
    /// the per-address cap.
    pub fn new(limits: &Limits, trusted_proxies: &[IpNet]) -> ConnLimits {
        ConnLimits {
            inner: Arc::new(Inner {
                max_total: limits.max_connections,
                max_per_ip: limits.max_connections_per_ip,
                exempt: trusted_proxies.to_vec(),
                open: Mutex::new(Open::default()),
            }),
        }
    }

    /// Counts a new connection from `peer`.
    ///
    /// Errors: [`Refused`] when either cap is reached (nothing is counted).
    pub fn admit(&self, peer: IpAddr) -> Result<ConnPermit, Refused> {
        let peer = canonical(peer);
        let per_ip = !self.inner.exempt.iter().any(|n| n.contains(&peer));
        let mut open = self.inner.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.inner.max_total {
            return Err(Refused::Total(self.inner.max_total));
        }
        if per_ip {
            let n = open.by_ip.entry(peer).or_insert(0);
            if *n >= self.inner.max_per_ip {
                return Err(Refused::PerIp(self.inner.max_per_ip));
            }
            *n += 1;
        }
        open.total += 1;
        Ok(ConnPermit {
            inner: self.inner.clone(),
            ip: per_ip.then_some(peer),
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.inner.open.lock().map_or(0, |o| o.total)
    }
}

/// An IPv4-mapped IPv6 peer (`::ffff:a.b.c.d`, from a dual-stack listener)
/// counts as its IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        let mut open = self.inner.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(ip) = self.ip {
            if let Some(n) = open.by_ip.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    open.by_ip.remove(&ip);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(total: usize, per_ip: usize) -> Limits {
        Limits {
            max_connections: total,
            max_connections_per_ip: per_ip,
            ..Limits::default()
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_per_ip_cap_refuses_one_peer_and_not_another() {
        let caps = ConnLimits::new(&limits(10, 2), &[]);
        let a1 = caps.admit(ip("192.0.2.1")).unwrap();
        let _a2 = caps.admit(ip("::ffff:192.0.2.1")).unwrap();
        assert_eq!(caps.admit(ip("192.0.2.1")).err(), Some(Refused::PerIp(2)));
        let _b = caps.admit(ip("192.0.2.2")).unwrap();
        drop(a1);
        let _a3 = caps.admit(ip("192.0.2.1")).unwrap();
        assert_eq!(caps.open(), 3);
    }

    #[test]
    fn the_total_cap_counts_every_peer_and_proxies_are_exempt_per_ip() {
        let proxy: IpNet = "10.0.0.0/8".parse().unwrap();
        let caps = ConnLimits::new(&limits(3, 1), &[proxy]);
        let held: Vec<_> = (0..3)
            .map(|_| caps.admit(ip("10.1.1.1")).unwrap())
            .collect();
        assert_eq!(caps.admit(ip("192.0.2.9")).err(), Some(Refused::Total(3)));
        drop(held);
        assert_eq!(caps.open(), 0);
        assert!(caps.admit(ip("192.0.2.9")).is_ok());
    }
}
