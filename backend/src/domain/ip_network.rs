use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// Parses an IP network in CIDR notation (`10.0.0.0/8`, `fd00::/8`), or a single address (a
/// network of one). IPv4-mapped IPv6 (`::ffff:10.0.0.0/104`) is taken as the IPv4 network it
/// maps, as clients are. Host bits are dropped: `10.1.2.3/16` is `10.1.0.0/16`.
pub fn parse_ip_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    let network = match text.parse::<IpNet>() {
        Ok(network) => network,
        Err(_) if !text.contains('/') => text
            .parse::<IpAddr>()
            .map(IpNet::from)
            .map_err(|_| format!("{text:?} is not an IP address or network"))?,
        Err(_) => return Err(format!("{text:?} is not a network in CIDR notation")),
    };
    let network = match network {
        IpNet::V6(v6) => match (v6.addr().to_ipv4_mapped(), v6.prefix_len().checked_sub(96)) {
            (Some(v4), Some(prefix)) => IpNet::new(IpAddr::V4(v4), prefix)
                .map_err(|_| format!("{text:?} has an invalid prefix length"))?,
            _ => network,
        },
        IpNet::V4(_) => network,
    };
    Ok(network.trunc())
}

/// Whether `network` holds `address`, an IPv4-mapped IPv6 address counting as its IPv4 one.
pub fn network_contains(network: &IpNet, address: IpAddr) -> bool {
    network.contains(&address.to_canonical())
}

/// The network a client's attempts are counted and recorded under: the address itself for
/// IPv4, its /64 for IPv6 (one customer line holds a whole /64, so a per-address count would be
/// no limit). Throttling counts failures per network; the security log records repeated
/// failures per network (`db::events`).
pub fn client_network(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(address)) if address.to_ipv4_mapped().is_none() => {
            let segments = address.segments();
            format!(
                "{:x}:{:x}:{:x}:{:x}::/64",
                segments[0], segments[1], segments[2], segments[3]
            )
        }
        Ok(address) => address.to_canonical().to_string(),
        // The origin's IP comes from the socket or a trusted proxy; never free text.
        Err(_) => "unknown".to_string(),
    }
}

/// A comma-separated list of networks, as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn contains(&self, address: IpAddr) -> bool {
        self.0
            .iter()
            .any(|network| network_contains(network, address))
    }

    /// The client's address: the TCP peer, unless the peer is a trusted proxy, in which case
    /// the right-most `X-Forwarded-For` entry that is not itself a trusted proxy. Entries left
    /// of that were written by the client and cannot be believed.
    pub fn client_address(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.contains(peer) {
            return peer.to_canonical();
        }
        let Some(forwarded_for) = forwarded_for else {
            return peer.to_canonical();
        };
        let mut client = peer.to_canonical();
        for entry in forwarded_for.rsplit(',') {
            match parse_forwarded_address(entry.trim()) {
                Ok(address) => {
                    client = address.to_canonical();
                    if !self.contains(client) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        client
    }
}

/// An address as proxies write it: bare, or with a port (`1.2.3.4:80`, `[2001:db8::1]:80`).
fn parse_forwarded_address(entry: &str) -> Result<IpAddr, ()> {
    entry
        .parse::<IpAddr>()
        .or_else(|_| {
            entry
                .parse::<std::net::SocketAddr>()
                .map(|socket| socket.ip())
        })
        .map_err(|_| ())
}

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(parse_ip_network)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_match_by_prefix() {
        let network = parse_ip_network("10.1.0.0/16").unwrap();
        assert!(network_contains(&network, ip("10.1.200.3")));
        assert!(!network_contains(&network, ip("10.2.0.1")));
        assert!(
            network_contains(&network, ip("::ffff:10.1.0.9")),
            "IPv4-mapped IPv6 is the same client"
        );
        let odd = parse_ip_network("192.168.0.0/23").unwrap();
        assert!(network_contains(&odd, ip("192.168.1.255")));
        assert!(!network_contains(&odd, ip("192.168.2.0")));
        let single = parse_ip_network("fd00::1").unwrap();
        assert!(
            network_contains(&single, ip("fd00::1")) && !network_contains(&single, ip("fd00::2"))
        );
        let v6 = parse_ip_network("2001:db8:1::/48").unwrap();
        assert!(network_contains(&v6, ip("2001:db8:1:ffff::1")));
        assert!(!network_contains(&v6, ip("2001:db8:2::1")));
        assert!(!network_contains(&v6, ip("10.1.0.1")), "no family mixing");
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0.0/x", "fd00::/129", ""] {
            assert!(parse_ip_network(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn networks_are_kept_in_their_canonical_form() {
        let canonical = |text: &str| parse_ip_network(text).unwrap().to_string();
        assert_eq!(canonical(" 10.1.2.3/16 "), "10.1.0.0/16");
        assert_eq!(canonical("203.0.113.9"), "203.0.113.9/32");
        assert_eq!(canonical("2001:DB8::1/64"), "2001:db8::/64");
        assert_eq!(canonical("::ffff:10.0.0.0/104"), "10.0.0.0/8");
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_and_ipv4_per_address() {
        assert_eq!(client_network("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(client_network("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
        assert_eq!(client_network("203.0.113.9"), "203.0.113.9");
        assert_eq!(client_network("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(client_network("not an address"), "unknown");
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxies: TrustedProxies = "10.0.0.0/8, 127.0.0.1".parse().unwrap();
        let header = Some("198.51.100.1, 203.0.113.9, 10.0.0.7");
        assert_eq!(
            proxies.client_address(ip("127.0.0.1"), header),
            ip("203.0.113.9")
        );
        assert_eq!(
            proxies.client_address(ip("192.0.2.5"), header),
            ip("192.0.2.5")
        );
        assert_eq!(
            proxies.client_address(ip("127.0.0.1"), None),
            ip("127.0.0.1")
        );
        assert_eq!(
            proxies.client_address(ip("127.0.0.1"), Some("junk")),
            ip("127.0.0.1")
        );
        assert_eq!(
            proxies.client_address(ip("127.0.0.1"), Some("203.0.113.9:5678")),
            ip("203.0.113.9")
        );
        assert_eq!(
            proxies.client_address(ip("127.0.0.1"), Some("[2001:db8::1]:80")),
            ip("2001:db8::1")
        );
        assert_eq!(
            TrustedProxies::default().client_address(ip("127.0.0.1"), header),
            ip("127.0.0.1")
        );
    }
}
