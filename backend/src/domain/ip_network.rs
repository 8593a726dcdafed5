use std::net::IpAddr;
use std::str::FromStr;

/// An IP network in CIDR notation (`10.0.0.0/8`, `fd00::/8`), or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    address: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    pub fn contains(&self, candidate: IpAddr) -> bool {
        match (self.address, candidate.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(candidate)) => {
                prefix_matches(&network.octets(), &candidate.octets(), self.prefix)
            }
            (IpAddr::V6(network), IpAddr::V6(candidate)) => {
                prefix_matches(&network.octets(), &candidate.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_matches(network: &[u8], candidate: &[u8], prefix: u8) -> bool {
    let full_bytes = usize::from(prefix / 8);
    let rest_bits = prefix % 8;
    if network[..full_bytes] != candidate[..full_bytes] {
        return false;
    }
    if rest_bits == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest_bits);
    network[full_bytes] & mask == candidate[full_bytes] & mask
}

impl FromStr for IpNetwork {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or network"))?;
        let address = address.to_canonical();
        let max_prefix = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= max_prefix)
                .ok_or_else(|| format!("{text:?} has an invalid prefix length"))?,
            None => max_prefix,
        };
        Ok(Self { address, prefix })
    }
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
pub struct TrustedProxies(Vec<IpNetwork>);

impl TrustedProxies {
    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(address))
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
            .map(IpNetwork::from_str)
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
        let network: IpNetwork = "10.1.0.0/16".parse().unwrap();
        assert!(network.contains(ip("10.1.200.3")));
        assert!(!network.contains(ip("10.2.0.1")));
        assert!(
            network.contains(ip("::ffff:10.1.0.9")),
            "IPv4-mapped IPv6 is the same client"
        );
        let odd: IpNetwork = "192.168.0.0/23".parse().unwrap();
        assert!(odd.contains(ip("192.168.1.255")));
        assert!(!odd.contains(ip("192.168.2.0")));
        let single: IpNetwork = "fd00::1".parse().unwrap();
        assert!(single.contains(ip("fd00::1")) && !single.contains(ip("fd00::2")));
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0.0/x"] {
            assert!(bad.parse::<IpNetwork>().is_err(), "{bad}");
        }
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
