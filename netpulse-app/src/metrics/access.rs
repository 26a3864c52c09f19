//! Who may scrape `/metrics`: a list of IP addresses and CIDR ranges, and an optional bearer
//! token. Unless the operator gives a list (`--metrics-allow`), only loopback and private
//! addresses may scrape ([`PRIVATE_NETWORKS`]); a client outside every range gets 403 unless it
//! sends `Authorization: Bearer <--metrics-token>` (compared in constant time), which admits
//! any address. An empty list given to [`AllowList::parse`] allows everyone (as the PHP
//! NetPulse did); `--metrics-allow 0.0.0.0/0,::/0` says so on the command line.
//!
//! The address checked is the TCP peer's, or with `--trust-forwarded-for` the last
//! `X-Forwarded-For` entry (as for sign-in throttling): behind a reverse proxy on the same host
//! every client is otherwise the proxy's loopback address.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An address range: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    addr: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Whether `ip` is inside the range. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, what a
    /// dual-stack socket reports for IPv4 clients) are compared as IPv4.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 @ IpAddr::V4(_) => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpRange {
    type Err = String;

    /// `192.0.2.7`, `10.0.0.0/8`, `2001:db8::/32`, `::1`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or CIDR range"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0–{max}"))?,
        };
        Ok(Self { addr, prefix })
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The default allowlist: loopback, the RFC 1918 private ranges, IPv6 unique local addresses,
/// and link-local addresses (IPv4 and IPv6), i.e. what a Prometheus on the same host, in the
/// same container network or on the same LAN scrapes from.
pub const PRIVATE_NETWORKS: &[&str] = &[
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
];

/// The allowlist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList(Vec<IpRange>);

impl AllowList {
    /// Reads comma-separated entries (repeated flags are joined); blanks are ignored.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for item in items {
            for part in item.as_ref().split(',') {
                if !part.trim().is_empty() {
                    ranges.push(part.parse()?);
                }
            }
        }
        Ok(Self(ranges))
    }

    /// [`PRIVATE_NETWORKS`].
    pub fn private_networks() -> Self {
        Self::parse(PRIVATE_NETWORKS).expect("the private ranges are valid")
    }

    /// Whether a client may scrape.
    pub fn allows(&self, ip: Option<IpAddr>) -> bool {
        self.0.is_empty() || ip.is_some_and(|ip| self.0.iter().any(|r| r.contains(ip)))
    }

    /// The ranges.
    pub fn ranges(&self) -> &[IpRange] {
        &self.0
    }
}

/// Who may scrape: the allowlist, or anyone with the token.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ScrapeAccess {
    /// The addresses allowed without a token.
    pub allow: AllowList,
    /// `--metrics-token`: admits any address that sends it as a bearer token.
    pub token: Option<String>,
}

impl std::fmt::Debug for ScrapeAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScrapeAccess")
            .field("allow", &self.allow)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ScrapeAccess {
    /// Whether a client at `ip` that sent `authorization` (the header's value) may scrape.
    pub fn admits(&self, ip: Option<IpAddr>, authorization: Option<&str>) -> bool {
        let token_ok = match (&self.token, authorization) {
            (Some(expected), Some(header)) => header
                .strip_prefix("Bearer ")
                .is_some_and(|given| crate::tokens::matches_text(given.trim(), expected)),
            _ => false,
        };
        token_ok || self.allow.allows(ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_loopback_and_private_and_the_token_admits_anyone() {
        let list = AllowList::private_networks();
        for inside in [
            "127.0.0.1",
            "::1",
            "10.1.2.3",
            "172.31.255.1",
            "192.168.1.10",
            "169.254.1.1",
            "fd12::1",
            "fe80::1",
            "::ffff:192.168.0.5",
        ] {
            assert!(list.allows(ip(inside)), "{inside}");
        }
        for outside in ["203.0.113.5", "172.32.0.1", "8.8.8.8", "2001:db8::1"] {
            assert!(!list.allows(ip(outside)), "{outside}");
        }
        let access = ScrapeAccess {
            allow: list,
            token: Some("s3cret".into()),
        };
        assert!(access.admits(ip("203.0.113.5"), Some("Bearer s3cret")));
        assert!(!access.admits(ip("203.0.113.5"), Some("Bearer s3cre")));
        assert!(!access.admits(ip("203.0.113.5"), Some("s3cret")));
        assert!(!access.admits(ip("203.0.113.5"), None));
        assert!(access.admits(ip("10.0.0.1"), None));
        assert!(!format!("{access:?}").contains("s3cret"));
    }

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn ranges_match_by_prefix() {
        let list = AllowList::parse(&[" 10.0.0.0/8 , 192.0.2.7", "2001:db8::/32"]).unwrap();
        assert!(list.allows(ip("10.1.2.3")));
        assert!(list.allows(ip("192.0.2.7")));
        assert!(!list.allows(ip("192.0.2.8")));
        assert!(!list.allows(ip("11.0.0.1")));
        assert!(list.allows(ip("2001:db8:1::5")));
        assert!(!list.allows(ip("2001:db9::1")));
        // A dual-stack socket reports IPv4 clients as mapped IPv6 addresses.
        assert!(list.allows(ip("::ffff:10.9.9.9")));
        assert!(!list.allows(ip("::ffff:11.9.9.9")));
        assert!(!list.allows(None));
    }

    #[test]
    fn empty_list_allows_everyone_and_zero_prefix_matches_all() {
        assert!(
            AllowList::parse::<&str>(&[])
                .unwrap()
                .allows(ip("203.0.113.1"))
        );
        assert!(AllowList::parse(&["", " "]).unwrap().allows(None));
        let all4 = AllowList::parse(&["0.0.0.0/0"]).unwrap();
        assert!(all4.allows(ip("203.0.113.1")));
        assert!(!all4.allows(ip("2001:db8::1")));
        assert!(
            AllowList::parse(&["::/0"])
                .unwrap()
                .allows(ip("2001:db8::1"))
        );
        assert!(
            AllowList::parse(&["127.0.0.1"])
                .unwrap()
                .allows(ip("127.0.0.1"))
        );
        assert!(
            !AllowList::parse(&["127.0.0.1"])
                .unwrap()
                .allows(ip("127.0.0.2"))
        );
    }

    #[test]
    fn bad_entries_are_errors_naming_the_entry() {
        assert!(
            AllowList::parse(&["10.0.0.0/33"])
                .unwrap_err()
                .contains("10.0.0.0/33")
        );
        assert!(
            AllowList::parse(&["example.com"])
                .unwrap_err()
                .contains("example.com")
        );
        assert!(AllowList::parse(&["::/129"]).is_err());
        assert_eq!(
            "10.0.0.0/8".parse::<IpRange>().unwrap().to_string(),
            "10.0.0.0/8"
        );
    }
}
