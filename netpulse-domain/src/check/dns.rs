//! DNS checks: the rating bands and how a round's queries are judged.
//!
//! A round sends `queries` single queries per resolver and record type. A query succeeds on
//! NOERROR with answers (with `expect_any`, NXDOMAIN and NODATA succeed too). A (resolver,
//! type) pair is ok when at least one of its queries succeeded; the check is ok when every
//! pair is, and degraded when a query failed. The latency is the median of the successful
//! queries, and the rating is that median's band ([`DnsRating::of`]).

use super::{DnsRating, FailureClass, Outcome, RecordType};

impl DnsRating {
    /// The band of a median response time: EXCELLENT `t < 5`, GOOD `5 ≤ t < 20`, SLOW
    /// `20 ≤ t ≤ 100`, CRITICAL `t > 100` ms, FAILED without a successful query.
    pub fn of(median_ms: Option<f64>) -> Self {
        match median_ms {
            None => Self::Failed,
            Some(t) if t.is_nan() => Self::Failed,
            Some(t) if t < 5.0 => Self::Excellent,
            Some(t) if t < 20.0 => Self::Good,
            Some(t) if t <= 100.0 => Self::Slow,
            Some(_) => Self::Critical,
        }
    }
}

/// The name of a DNS response code (RFC 1035/6895), e.g. `SERVFAIL`.
pub fn rcode_name(rcode: u16) -> String {
    match rcode {
        0 => "NOERROR".to_owned(),
        1 => "FORMERR".to_owned(),
        2 => "SERVFAIL".to_owned(),
        3 => "NXDOMAIN".to_owned(),
        4 => "NOTIMP".to_owned(),
        5 => "REFUSED".to_owned(),
        other => format!("RCODE{other}"),
    }
}

/// What one query observed.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    /// A matching response arrived.
    Answered {
        /// From send to the response, ms.
        rtt_ms: f64,
        /// The response code.
        rcode: u16,
        /// How many answer records.
        answers: u16,
    },
    /// No matching response in time.
    Timeout,
    /// The query could not be sent or the response could not be read.
    Error(String),
}

impl QueryResult {
    /// Whether the query succeeded (see the module documentation).
    pub fn succeeded(&self, expect_any: bool) -> bool {
        match self {
            Self::Answered { rcode, answers, .. } => {
                (*rcode == 0 && *answers > 0) || (expect_any && (*rcode == 3 || *rcode == 0))
            }
            _ => false,
        }
    }
}

/// The queries of one resolver and record type in a round.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryGroup {
    /// The resolver's address.
    pub resolver: String,
    /// The record type asked for.
    pub record_type: RecordType,
    /// One entry per query, in order.
    pub results: Vec<QueryResult>,
}

/// The judgement of a round of DNS queries.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsVerdict {
    /// How it came out.
    pub outcome: Outcome,
    /// Why it is not ok.
    pub failure_class: Option<FailureClass>,
    /// What failed, first failing pair first.
    pub message: Option<String>,
    /// The median of the successful queries, ms.
    pub median_ms: Option<f64>,
    /// The median's band.
    pub rating: DnsRating,
    /// Ok, but a query failed.
    pub degraded: bool,
    /// One figure per resolver and record type, in the order asked.
    pub resolvers: Vec<ResolverFigure>,
}

/// What one resolver answered for one record type in a round: the figure behind a rating
/// per resolver (a check may ask several).
#[derive(Debug, Clone, PartialEq)]
pub struct ResolverFigure {
    /// The resolver's address (IP literal).
    pub resolver: String,
    /// The record type asked for.
    pub record_type: RecordType,
    /// Queries sent.
    pub sent: u8,
    /// Queries that succeeded (see [`QueryResult::succeeded`]).
    pub succeeded: u8,
    /// The median of the successful queries, ms.
    pub median_ms: Option<f64>,
}

impl ResolverFigure {
    /// The figure of one group of queries.
    pub fn of(group: &QueryGroup, expect_any: bool) -> Self {
        let mut rtts: Vec<f64> = group
            .results
            .iter()
            .filter(|r| r.succeeded(expect_any))
            .filter_map(|r| match r {
                QueryResult::Answered { rtt_ms, .. } => Some(*rtt_ms),
                _ => None,
            })
            .collect();
        Self {
            resolver: group.resolver.clone(),
            record_type: group.record_type,
            sent: u8::try_from(group.results.len()).unwrap_or(u8::MAX),
            succeeded: u8::try_from(rtts.len()).unwrap_or(u8::MAX),
            median_ms: median(&mut rtts),
        }
    }

    /// The band of its median ([`DnsRating::Failed`] when nothing succeeded).
    pub fn rating(&self) -> DnsRating {
        DnsRating::of(self.median_ms)
    }
}

/// A resolver and record type over many rounds (e.g. the Connectivity page's window).
#[derive(Debug, Clone, PartialEq)]
pub struct ResolverSummary {
    /// The resolver's address.
    pub resolver: String,
    /// The record type.
    pub record_type: RecordType,
    /// Rounds that asked it.
    pub rounds: u64,
    /// Rounds in which none of its queries succeeded.
    pub failed_rounds: u64,
    /// The median of the rounds' medians, ms.
    pub median_ms: Option<f64>,
    /// The band of that median; [`DnsRating::Failed`] when no round succeeded.
    pub rating: DnsRating,
}

/// Summarises the rounds' figures per resolver and record type (first seen first): the rating
/// is that of the median of the per-round medians, so one slow round does not decide it.
pub fn summarise<'a>(
    figures: impl IntoIterator<Item = &'a ResolverFigure>,
) -> Vec<ResolverSummary> {
    let mut keys: Vec<(String, RecordType)> = Vec::new();
    let mut rounds: Vec<(u64, u64, Vec<f64>)> = Vec::new();
    for f in figures {
        let key = (f.resolver.clone(), f.record_type);
        let i = if let Some(i) = keys.iter().position(|k| *k == key) {
            i
        } else {
            keys.push(key);
            rounds.push((0, 0, Vec::new()));
            keys.len() - 1
        };
        let entry = &mut rounds[i];
        entry.0 += 1;
        match f.median_ms {
            Some(m) if f.succeeded > 0 => entry.2.push(m),
            _ => entry.1 += 1,
        }
    }
    keys.into_iter()
        .zip(rounds)
        .map(|((resolver, record_type), (n, failed, mut medians))| {
            let median_ms = median(&mut medians);
            ResolverSummary {
                resolver,
                record_type,
                rounds: n,
                failed_rounds: failed,
                median_ms,
                rating: DnsRating::of(median_ms),
            }
        })
        .collect()
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        f64::midpoint(values[n / 2 - 1], values[n / 2])
    })
}

fn describe(result: &QueryResult) -> String {
    match result {
        QueryResult::Answered { rcode: 0, .. } => "NOERROR without answers".to_owned(),
        QueryResult::Answered { rcode, .. } => rcode_name(*rcode),
        QueryResult::Timeout => "no answer in time".to_owned(),
        QueryResult::Error(e) => e.clone(),
    }
}

/// Judges a round's query groups (see the module documentation).
pub fn judge(groups: &[QueryGroup], expect_any: bool) -> DnsVerdict {
    let resolvers: Vec<ResolverFigure> = groups
        .iter()
        .map(|g| ResolverFigure::of(g, expect_any))
        .collect();
    let mut rtts: Vec<f64> = groups
        .iter()
        .flat_map(|g| &g.results)
        .filter(|r| r.succeeded(expect_any))
        .filter_map(|r| match r {
            QueryResult::Answered { rtt_ms, .. } => Some(*rtt_ms),
            _ => None,
        })
        .collect();
    let median_ms = median(&mut rtts);
    let any_failed = groups
        .iter()
        .flat_map(|g| &g.results)
        .any(|r| !r.succeeded(expect_any));
    let failing = groups
        .iter()
        .find(|g| !g.results.iter().any(|r| r.succeeded(expect_any)));
    let Some(group) = failing else {
        return DnsVerdict {
            outcome: if groups.is_empty() {
                Outcome::LocalError
            } else {
                Outcome::Ok
            },
            failure_class: groups.is_empty().then_some(FailureClass::Dns),
            message: groups.is_empty().then(|| "no resolver to ask".to_owned()),
            median_ms,
            rating: DnsRating::of(median_ms),
            degraded: any_failed,
            resolvers,
        };
    };
    let all_timeouts = group
        .results
        .iter()
        .all(|r| matches!(r, QueryResult::Timeout));
    let last = group
        .results
        .last()
        .map_or_else(|| "no query sent".to_owned(), describe);
    DnsVerdict {
        outcome: Outcome::Fail,
        failure_class: Some(if all_timeouts {
            FailureClass::Timeout
        } else {
            FailureClass::Dns
        }),
        message: Some(format!(
            "{} {}: {} ({} of {} queries failed)",
            group.resolver,
            group.record_type.as_str(),
            last,
            group.results.len(),
            group.results.len()
        )),
        median_ms,
        rating: DnsRating::of(median_ms),
        degraded: false,
        resolvers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(rtt_ms: f64) -> QueryResult {
        QueryResult::Answered {
            rtt_ms,
            rcode: 0,
            answers: 1,
        }
    }

    fn group(results: Vec<QueryResult>) -> QueryGroup {
        QueryGroup {
            resolver: "10.99.3.2".to_owned(),
            record_type: RecordType::A,
            results,
        }
    }

    #[test]
    fn rating_bands_have_exact_edges() {
        assert_eq!(DnsRating::of(Some(0.0)), DnsRating::Excellent);
        assert_eq!(DnsRating::of(Some(4.999)), DnsRating::Excellent);
        assert_eq!(DnsRating::of(Some(5.0)), DnsRating::Good);
        assert_eq!(DnsRating::of(Some(19.999)), DnsRating::Good);
        assert_eq!(DnsRating::of(Some(20.0)), DnsRating::Slow);
        assert_eq!(DnsRating::of(Some(100.0)), DnsRating::Slow);
        assert_eq!(DnsRating::of(Some(100.001)), DnsRating::Critical);
        assert_eq!(DnsRating::of(None), DnsRating::Failed);
        assert_eq!(DnsRating::of(Some(f64::NAN)), DnsRating::Failed);
    }

    #[test]
    fn a_round_is_rated_on_the_median_of_its_successes() {
        let v = judge(&[group(vec![ok(30.0), ok(2.0), ok(4.0)])], false);
        assert_eq!(v.outcome, Outcome::Ok);
        assert_eq!(v.median_ms, Some(4.0));
        assert_eq!(v.rating, DnsRating::Excellent);
        assert!(!v.degraded);
        let v = judge(
            &[group(vec![ok(8.0), QueryResult::Timeout, ok(12.0)])],
            false,
        );
        assert_eq!(
            (v.outcome, v.median_ms, v.degraded),
            (Outcome::Ok, Some(10.0), true)
        );
        assert_eq!(v.rating, DnsRating::Good);
    }

    #[test]
    fn error_rcodes_fail_with_the_rcode_named_and_timeouts_are_timeouts() {
        let servfail = QueryResult::Answered {
            rtt_ms: 1.0,
            rcode: 2,
            answers: 0,
        };
        let v = judge(
            &[group(vec![servfail.clone(), servfail.clone(), servfail])],
            false,
        );
        assert_eq!(v.outcome, Outcome::Fail);
        assert_eq!(v.failure_class, Some(FailureClass::Dns));
        assert_eq!(v.rating, DnsRating::Failed);
        assert!(v.message.unwrap().contains("SERVFAIL"));
        let v = judge(&[group(vec![QueryResult::Timeout; 3])], false);
        assert_eq!(v.failure_class, Some(FailureClass::Timeout));
        let mut aaaa = group(vec![ok(1.0)]);
        aaaa.record_type = RecordType::Aaaa;
        let v = judge(&[aaaa, group(vec![QueryResult::Timeout])], false);
        assert_eq!(v.outcome, Outcome::Fail, "every pair must answer");
        assert_eq!(v.rating, DnsRating::Excellent, "rated on what answered");
    }

    #[test]
    fn each_resolver_and_type_gets_its_own_figure_and_rating() {
        let mut slow = group(vec![ok(40.0), QueryResult::Timeout, ok(60.0)]);
        slow.resolver = "10.99.3.3".to_owned();
        let dead = QueryGroup {
            resolver: "10.99.3.4".to_owned(),
            record_type: RecordType::Aaaa,
            results: vec![QueryResult::Timeout; 3],
        };
        let v = judge(&[group(vec![ok(2.0), ok(3.0), ok(4.0)]), slow, dead], false);
        let got: Vec<(&str, u8, u8, Option<f64>, DnsRating)> = v
            .resolvers
            .iter()
            .map(|f| {
                (
                    f.resolver.as_str(),
                    f.sent,
                    f.succeeded,
                    f.median_ms,
                    f.rating(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("10.99.3.2", 3, 3, Some(3.0), DnsRating::Excellent),
                ("10.99.3.3", 3, 2, Some(50.0), DnsRating::Slow),
                ("10.99.3.4", 3, 0, None, DnsRating::Failed),
            ]
        );
        assert_eq!(v.resolvers[2].record_type, RecordType::Aaaa);
    }

    #[test]
    fn a_window_is_rated_per_resolver_on_the_median_of_round_medians() {
        let f = |resolver: &str, median: Option<f64>| ResolverFigure {
            resolver: resolver.to_owned(),
            record_type: RecordType::A,
            sent: 3,
            succeeded: if median.is_some() { 3 } else { 0 },
            median_ms: median,
        };
        let rounds = [
            f("a", Some(3.0)),
            f("b", Some(30.0)),
            f("a", Some(300.0)),
            f("b", None),
            f("a", Some(4.0)),
            f("b", None),
        ];
        let s = summarise(&rounds);
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].rounds, s[0].failed_rounds, s[0].median_ms, s[0].rating),
            (3, 0, Some(4.0), DnsRating::Excellent),
            "one slow round does not decide"
        );
        assert_eq!(
            (s[1].rounds, s[1].failed_rounds, s[1].median_ms, s[1].rating),
            (3, 2, Some(30.0), DnsRating::Slow)
        );
        let only_failures = summarise(&[f("c", None)]);
        assert_eq!(only_failures[0].rating, DnsRating::Failed);
        assert!(summarise(&[]).is_empty());
    }

    #[test]
    fn nxdomain_and_nodata_are_ok_only_when_any_answer_is_expected() {
        let nx = QueryResult::Answered {
            rtt_ms: 3.0,
            rcode: 3,
            answers: 0,
        };
        let nodata = QueryResult::Answered {
            rtt_ms: 3.0,
            rcode: 0,
            answers: 0,
        };
        assert!(!nx.succeeded(false) && nx.succeeded(true));
        assert!(!nodata.succeeded(false) && nodata.succeeded(true));
        let v = judge(&[group(vec![nodata])], false);
        assert!(v.message.unwrap().contains("NOERROR without answers"));
        assert_eq!(judge(&[], false).outcome, Outcome::LocalError);
    }
}
