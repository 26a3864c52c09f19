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
