//! Where a delivery may go: public addresses only, unless the operator allows private ones (a
//! receiver inside the MSP's own network). Names are resolved by a resolver that drops every
//! non-public address, so that a name cannot be pointed inside between a check and the send.

use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether an address is reachable from the internet at large: not loopback, private, shared
/// (carrier-grade NAT), link-local, documentation, benchmarking, multicast, broadcast,
/// reserved or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let [first, second, ..] = v6.segments();
            // Global unicast (2000::/3) only, less the ranges that carry an IPv4 address
            // inside (6to4 2002::/16, Teredo 2001::/32; NAT64's 64:ff9b::/96 lies outside it)
            // and documentation (2001:db8::/32).
            (first & 0xe000) == 0x2000
                && first != 0x2002
                && !(first == 0x2001 && (second == 0 || second == 0x0db8))
        }
    }
}

/// Refuses a URL whose host is an address literal that is not public (names are checked as
/// they are resolved).
pub fn check_literal(url: &url::Url) -> Result<(), String> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err("the address names no host".to_owned()),
    };
    if is_public(ip) {
        Ok(())
    } else {
        Err(format!(
            "{ip} is a private or reserved address, which this server may not reach"
        ))
    }
}

/// The system's resolver, keeping public addresses only.
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!(
                    "{host} resolves to no public address (this server may not reach private ones)"
                )
                .into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::is_public;

    #[test]
    fn private_and_reserved_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "64:ff9b::a00:5",
            "64:ff9b:1::a00:5",
            "2002:a00:5::1",
            "2001:0:a00:5::1",
            "::a00:5",
            "fec0::1",
            "100::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
