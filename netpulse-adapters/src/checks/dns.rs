//! DNS checks: hickory-proto as the message codec only, over our own tokio sockets. For each
//! resolver of the family and each record type, `queries` single queries spaced 100 ms: each a
//! fresh message with a random id from a new UDP socket to `resolver:53`, 2 s timeout, retried
//! over TCP when the answer is truncated; the RTT runs from send to the first response whose
//! id and question match. The verdict and rating are `netpulse_domain::check::dns::judge`'s.
//! Without configured resolvers, those of `/etc/resolv.conf` are used.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType as HickoryType};
use netpulse_domain::Timestamp;
use netpulse_domain::check::dns::{QueryGroup, QueryResult, judge};
use netpulse_domain::check::{
    CheckMeasurement, CheckParams, CheckSpec, FailureClass, Family, Outcome, RecordType,
};
use netpulse_domain::id::CheckId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::elapsed_ms;

/// How long one query waits.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
/// Spacing between the queries of one resolver and type.
pub const SPACING: Duration = Duration::from_millis(100);
/// The DNS port.
pub const PORT: u16 = 53;

fn random_id() -> u16 {
    let mut b = [0u8; 2];
    getrandom::fill(&mut b).map_or(0x4e50, |()| u16::from_le_bytes(b))
}

fn query_message(id: u16, name: &Name, rtype: HickoryType) -> Message {
    let mut m = Message::new(id, MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(name.clone(), rtype));
    m
}

/// A query for the root's NS records (the UDP `dns` preset).
pub fn root_ns_query() -> Vec<u8> {
    query_message(random_id(), &Name::root(), HickoryType::NS)
        .to_vec()
        .unwrap_or_default()
}

/// The resolvers of `/etc/resolv.conf` (`nameserver` lines).
pub fn system_resolvers() -> Vec<IpAddr> {
    std::fs::read_to_string("/etc/resolv.conf")
        .map(|text| parse_resolv_conf(&text))
        .unwrap_or_default()
}

/// The `nameserver` addresses of a resolv.conf text (a zone index such as `%eth0` dropped).
pub fn parse_resolv_conf(text: &str) -> Vec<IpAddr> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver"))
                .then(|| words.next())
                .flatten()
                .and_then(|a| a.split('%').next())
                .and_then(|a| a.parse().ok())
        })
        .collect()
}

fn matches(response: &Message, id: u16, name: &Name, rtype: HickoryType) -> bool {
    response.metadata.id == id
        && response.metadata.message_type == MessageType::Response
        && response
            .queries
            .first()
            .is_some_and(|q| q.name() == name && q.query_type() == rtype)
}

fn answered(response: &Message, rtt_ms: f64) -> QueryResult {
    QueryResult::Answered {
        rtt_ms,
        rcode: u16::from(response.metadata.response_code),
        answers: response.answers.len().min(usize::from(u16::MAX)) as u16,
    }
}

async fn over_tcp(server: SocketAddr, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = tokio::net::TcpStream::connect(server).await?;
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(bytes);
    stream.write_all(&framed).await?;
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await?;
    let mut answer = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut answer).await?;
    Ok(answer)
}

/// Sends one query to `server` and waits for its answer.
pub async fn query_once(server: SocketAddr, name: &Name, rtype: HickoryType) -> QueryResult {
    let id = random_id();
    let bytes = match query_message(id, name, rtype).to_vec() {
        Ok(b) => b,
        Err(e) => return QueryResult::Error(format!("cannot encode the query: {e}")),
    };
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = match tokio::net::UdpSocket::bind(local).await {
        Ok(s) => s,
        Err(e) => return QueryResult::Error(format!("cannot open a UDP socket: {e}")),
    };
    if let Err(e) = socket.connect(server).await {
        return QueryResult::Error(format!("no route to {server}: {e}"));
    }
    let start = Instant::now();
    if let Err(e) = socket.send(&bytes).await {
        return QueryResult::Error(format!("sending to {server}: {e}"));
    }
    let wait = async {
        let mut buf = vec![0u8; 4096];
        loop {
            let n = match socket.recv(&mut buf).await {
                Ok(n) => n,
                Err(e) => return QueryResult::Error(format!("{server}: {e}")),
            };
            let Ok(response) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            if !matches(&response, id, name, rtype) {
                continue;
            }
            if response.metadata.truncation {
                return match over_tcp(server, &bytes).await {
                    Ok(answer) => match Message::from_vec(&answer) {
                        Ok(r) if matches(&r, id, name, rtype) => answered(&r, elapsed_ms(start)),
                        Ok(_) => QueryResult::Error("the TCP answer does not match".to_owned()),
                        Err(e) => QueryResult::Error(format!("invalid TCP answer: {e}")),
                    },
                    Err(e) => QueryResult::Error(format!("TCP retry after TC: {e}")),
                };
            }
            return answered(&response, elapsed_ms(start));
        }
    };
    tokio::time::timeout(QUERY_TIMEOUT, wait)
        .await
        .unwrap_or(QueryResult::Timeout)
}

fn hickory_type(t: RecordType) -> HickoryType {
    match t {
        RecordType::A => HickoryType::A,
        RecordType::Aaaa => HickoryType::AAAA,
    }
}

async fn group(server: SocketAddr, name: Name, record_type: RecordType, queries: u8) -> QueryGroup {
    let mut results = Vec::with_capacity(usize::from(queries));
    for i in 0..queries {
        if i > 0 {
            tokio::time::sleep(SPACING).await;
        }
        results.push(query_once(server, &name, hickory_type(record_type)).await);
    }
    QueryGroup {
        resolver: server.ip().to_string(),
        record_type,
        results,
    }
}

/// Runs a DNS check for one family: the resolvers of that family.
pub async fn run(
    id: &CheckId,
    spec: &CheckSpec,
    round_at: Timestamp,
    family: Family,
) -> CheckMeasurement {
    let failed = |outcome, class, message: &str| {
        CheckMeasurement::failed(id.clone(), round_at, family, outcome, class, message)
    };
    let CheckParams::Dns {
        resolvers,
        record_types,
        expect_any,
        queries,
    } = &spec.params
    else {
        return failed(
            Outcome::LocalError,
            FailureClass::Protocol,
            "not a DNS check",
        );
    };
    let configured: Vec<IpAddr> = resolvers.iter().filter_map(|r| r.parse().ok()).collect();
    let all = if configured.is_empty() {
        system_resolvers()
    } else {
        configured
    };
    let servers: Vec<IpAddr> = all
        .into_iter()
        .filter(|ip| Family::of(ip) == family)
        .collect();
    let Some(first) = servers.first().copied() else {
        return failed(
            Outcome::NotApplicable,
            FailureClass::NoAddress,
            &format!(
                "no {} resolver configured",
                if family == Family::V4 { "IPv4" } else { "IPv6" }
            ),
        );
    };
    if let Err(why) = super::address::route_to(first, PORT) {
        let mut m = failed(Outcome::NotApplicable, FailureClass::NoRoute, &why);
        m.address = Some(first.to_string());
        return m;
    }
    let name = match Name::from_ascii(&spec.target) {
        Ok(mut n) => {
            n.set_fqdn(true);
            n
        }
        Err(e) => {
            return failed(
                Outcome::LocalError,
                FailureClass::Protocol,
                &format!("invalid name: {e}"),
            );
        }
    };
    let groups = servers.iter().flat_map(|ip| {
        let name = name.clone();
        record_types
            .iter()
            .map(move |t| group(SocketAddr::new(*ip, PORT), name.clone(), *t, *queries))
    });
    let groups = futures_util::future::join_all(groups).await;
    let verdict = judge(&groups, *expect_any);
    let mut m = CheckMeasurement::new(id.clone(), round_at, family, verdict.outcome);
    m.failure_class = verdict.failure_class;
    m.message = verdict
        .message
        .map(|t| netpulse_domain::check::cut_message(&t));
    m.latency_ms = verdict.median_ms;
    m.dns_rating = Some(verdict.rating);
    m.dns_resolvers = verdict.resolvers;
    m.degraded = verdict.degraded;
    m.address = Some(first.to_string());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_nameservers_are_read() {
        let text =
            "# c\nsearch x\nnameserver 10.0.0.1\nnameserver fe80::1%eth0\nnameserver bogus\n";
        assert_eq!(
            parse_resolv_conf(text),
            vec![
                "10.0.0.1".parse::<IpAddr>().unwrap(),
                "fe80::1".parse::<IpAddr>().unwrap()
            ]
        );
    }

    #[test]
    fn the_root_query_is_a_valid_message() {
        let m = Message::from_vec(&root_ns_query()).unwrap();
        assert_eq!(m.queries[0].query_type(), HickoryType::NS);
        assert!(m.metadata.recursion_desired);
    }
}
