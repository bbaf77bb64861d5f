//! Which address a request comes from, for the limits keyed by client
//! address (login attempts, new conversations, new tickets).
//!
//! It is the socket's peer, unless that peer is a proxy the operator listed
//! in `SWITCHBOARD_TRUSTED_PROXIES`: then `X-Forwarded-For` is read from the
//! right, skipping the listed proxies, and the first address not listed is
//! the client. From anyone else the header is ignored, since a client that
//! could name its own address would get a fresh bucket per request.

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use std::future::{ready, Ready};
use std::net::IpAddr;

/// An address or a CIDR range of them (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    base: IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, canonical(ip)) {
            (IpAddr::V4(b), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(b) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(b), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(b) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// IPv4 peers may arrive as IPv4-mapped IPv6 addresses on a dual-stack
/// socket; they are the same client.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

fn parse_range(s: &str) -> Result<IpRange, String> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let base: IpAddr = addr
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not an IP address or CIDR range"))?;
    let base = canonical(base);
    let max = if base.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(p) => p
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(|| format!("{s:?} has a prefix length outside 0..={max}"))?,
    };
    Ok(IpRange { base, prefix })
}

/// `SWITCHBOARD_TRUSTED_PROXIES`: comma-separated addresses or ranges.
pub fn parse_proxies(s: &str) -> Result<Vec<IpRange>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(parse_range)
        .collect()
}

/// The client of `peer`, given the `X-Forwarded-For` values in order.
pub fn client_of(peer: IpAddr, forwarded: &[&str], trusted: &[IpRange]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|r| r.contains(ip));
    let mut client = canonical(peer);
    if !is_trusted(client) {
        return client;
    }
    let hops = forwarded
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .rev();
    for hop in hops {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = canonical(ip);
                if !is_trusted(client) {
                    return client;
                }
            }
            // Garbage from beyond the last trusted proxy: the proxy itself
            // is the best we know.
            Err(_) => return client,
        }
    }
    client
}

/// The request's client address (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The key of this client's buckets.
    pub fn key(&self) -> String {
        self.0.to_string()
    }

    pub fn of(req: &HttpRequest, trusted: &[IpRange]) -> ClientAddr {
        let peer = req
            .peer_addr()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let forwarded: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect();
        ClientAddr(client_of(peer, &forwarded, trusted))
    }
}

impl FromRequest for ClientAddr {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let addr = match req.app_data::<web::Data<AppState>>() {
            Some(state) => Ok(ClientAddr::of(req, &state.trusted_proxies)),
            None => Err(ApiError::internal("no app state")),
        };
        ready(addr)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_parse_and_match() {
        let r = parse_proxies("10.0.0.0/8, 192.168.1.7,::1, fd00::/8").unwrap();
        assert_eq!(r.len(), 4);
        assert!(r[0].contains(ip("10.200.3.4")));
        assert!(!r[0].contains(ip("11.0.0.1")));
        assert!(r[1].contains(ip("192.168.1.7")));
        assert!(!r[1].contains(ip("192.168.1.8")));
        assert!(r[2].contains(ip("::1")));
        assert!(r[3].contains(ip("fd12::1")));
        assert!(!r[3].contains(ip("10.0.0.1")));
        // An IPv4 peer seen as IPv4-mapped IPv6 is the same address.
        assert!(r[0].contains(ip("::ffff:10.1.2.3")));
        assert!(parse_proxies("10.0.0.0/33").is_err());
        assert!(parse_proxies("proxy.local").is_err());
        assert!(parse_proxies("").unwrap().is_empty());
        assert!(parse_proxies("0.0.0.0/0").unwrap()[0].contains(ip("8.8.8.8")));
    }

    #[test]
    fn forwarded_for_counts_only_behind_trusted_proxies() {
        let trusted = parse_proxies("10.0.0.0/8").unwrap();
        // Not through a listed proxy: the header is the client's own claim.
        assert_eq!(
            client_of(ip("203.0.113.9"), &["1.2.3.4"], &trusted),
            ip("203.0.113.9")
        );
        // Through the proxy: the rightmost address it did not add itself.
        assert_eq!(
            client_of(
                ip("10.0.0.2"),
                &["1.2.3.4, 198.51.100.7, 10.0.0.3"],
                &trusted
            ),
            ip("198.51.100.7")
        );
        // Several header lines read as one list.
        assert_eq!(
            client_of(ip("10.0.0.2"), &["1.2.3.4", "198.51.100.8"], &trusted),
            ip("198.51.100.8")
        );
        // A proxy that sent no header, or garbage: the proxy is the client.
        assert_eq!(client_of(ip("10.0.0.2"), &[], &trusted), ip("10.0.0.2"));
        assert_eq!(
            client_of(ip("10.0.0.2"), &["nonsense"], &trusted),
            ip("10.0.0.2")
        );
        // Nothing trusted: always the peer.
        assert_eq!(client_of(ip("10.0.0.2"), &["1.2.3.4"], &[]), ip("10.0.0.2"));
    }
}
