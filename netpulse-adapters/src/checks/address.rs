//! Choosing the address a check reaches for each family, and whether the family has a route
//! to it.

use std::net::{IpAddr, SocketAddr};

use netpulse_domain::check::Family;

/// The address of a target for one family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Reach this address.
    Address(IpAddr),
    /// The target has no address of this family (why, for the message).
    NoAddress(String),
    /// The name could not be resolved at all.
    Unresolved(String),
}

/// The addresses of a host for the families asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets {
    v4: Target,
    v6: Target,
}

impl Targets {
    /// The target for one family.
    pub fn for_family(&self, family: Family) -> Target {
        match family {
            Family::V4 => self.v4.clone(),
            Family::V6 => self.v6.clone(),
        }
    }
}

fn family_word(family: Family) -> &'static str {
    match family {
        Family::V4 => "IPv4",
        Family::V6 => "IPv6",
    }
}

/// Resolves `host` (an IP literal or a name) for the families: a literal is its own family's
/// address; a name is looked up once (getaddrinfo) and the first address of each family taken.
pub async fn resolve(host: &str, families: &[Family]) -> Targets {
    if let Ok(ip) = host.parse::<IpAddr>() {
        let pick = |family: Family| {
            if Family::of(&ip) == family {
                Target::Address(ip)
            } else {
                Target::NoAddress(format!(
                    "the target {ip} is not an {} address",
                    family_word(family)
                ))
            }
        };
        return Targets {
            v4: pick(Family::V4),
            v6: pick(Family::V6),
        };
    }
    let _ = families;
    match tokio::net::lookup_host((host, 0)).await {
        Ok(addresses) => {
            let addresses: Vec<IpAddr> = addresses.map(|a| a.ip()).collect();
            let pick = |family: Family| {
                addresses
                    .iter()
                    .find(|a| Family::of(a) == family)
                    .map_or_else(
                        || {
                            Target::NoAddress(format!(
                                "{host} has no {} address ({} record)",
                                family_word(family),
                                if family == Family::V4 { "A" } else { "AAAA" }
                            ))
                        },
                        |a| Target::Address(*a),
                    )
            };
            Targets {
                v4: pick(Family::V4),
                v6: pick(Family::V6),
            }
        }
        Err(e) => {
            let why = format!("cannot resolve {host}: {e}");
            Targets {
                v4: Target::Unresolved(why.clone()),
                v6: Target::Unresolved(why),
            }
        }
    }
}

/// Whether the kernel has a route to `ip` (an unbound UDP socket is connected, which sends
/// nothing and needs no runtime: three system calls): `Err` with the reason when the family
/// has no address or no route.
pub fn route_to(ip: IpAddr, port: u16) -> Result<(), String> {
    let family = family_word(Family::of(&ip));
    let domain = match ip {
        IpAddr::V4(_) => socket2::Domain::IPV4,
        IpAddr::V6(_) => socket2::Domain::IPV6,
    };
    let socket = socket2::Socket::new(domain, socket2::Type::DGRAM, None)
        .map_err(|e| format!("no {family} on this host ({e})"))?;
    socket
        .connect(&SocketAddr::new(ip, port.max(1)).into())
        .map_err(|e| format!("no {family} route to {ip} ({e})"))
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    #[tokio::test]
    async fn literals_are_their_own_family_only() {
        let t = resolve("10.99.3.2", &[Family::V4, Family::V6]).await;
        assert_eq!(
            t.for_family(Family::V4),
            Target::Address("10.99.3.2".parse().unwrap())
        );
        assert!(matches!(t.for_family(Family::V6), Target::NoAddress(m) if m.contains("IPv6")));
        let t = resolve("::1", &[Family::V6]).await;
        assert_eq!(
            t.for_family(Family::V6),
            Target::Address(IpAddr::V6(Ipv6Addr::LOCALHOST))
        );
    }

    #[test]
    fn loopback_has_a_route() {
        assert_eq!(route_to(IpAddr::V4(Ipv4Addr::LOCALHOST), 9), Ok(()));
    }
}
