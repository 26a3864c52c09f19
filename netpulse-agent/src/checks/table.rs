//! `netpulse-agent --test`: every check of the set once, as a table (like PlexSheep's
//! `netpulse --test`). A check passes when it is ok or does not apply to the family (no
//! address, no route); the exit status is 0 when every check passes.

use std::fmt::Write as _;

use netpulse_domain::check::{CheckMeasurement, CheckSpec, Outcome};
use netpulse_domain::id::CheckId;
use netpulse_ports::agent_api::CheckSet;

use super::{CheckRounds, now};

/// Whether a result passes.
pub fn passes(m: &CheckMeasurement) -> bool {
    matches!(m.outcome, Outcome::Ok | Outcome::NotApplicable)
}

fn figure(m: &CheckMeasurement) -> String {
    let mut text = m
        .latency_ms
        .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.2} ms"));
    if let Some(loss) = m.loss_pct {
        let _ = write!(text, ", {loss:.0} % loss");
    }
    text
}

fn detail(m: &CheckMeasurement) -> String {
    let mut parts = Vec::new();
    if let Some(status) = m.status {
        parts.push(format!("HTTP {status}"));
    }
    if let Some(state) = m.port_state {
        parts.push(state.as_str().to_owned());
    }
    if let Some(rating) = m.dns_rating {
        parts.push(rating.as_str().to_owned());
    }
    if m.dns_resolvers.len() > 1 {
        for f in &m.dns_resolvers {
            let median = f
                .median_ms
                .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.2} ms"));
            parts.push(format!(
                "{} {} {} {median}",
                f.resolver,
                f.record_type.as_str(),
                f.rating().as_str()
            ));
        }
    }
    if let Some(class) = m.failure_class {
        parts.push(class.as_str().to_owned());
    }
    if m.degraded {
        parts.push("degraded".to_owned());
    }
    if m.during_speed_test {
        parts.push("during speed test".to_owned());
    }
    if let Some(message) = &m.message {
        parts.push(message.clone());
    }
    parts.join("; ")
}

/// The table of a run: one line per check and family.
pub fn render(rows: &[(&CheckSpec, &CheckMeasurement)]) -> String {
    let target = |s: &CheckSpec| match s.port {
        Some(p) => format!("{}:{p}", s.target),
        None => s.target.clone(),
    };
    let width = rows
        .iter()
        .map(|(s, _)| target(s).chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = format!(
        "{:<5} {:<6} {:<width$} {:<14} {:<22} {}\n",
        "KIND", "FAMILY", "TARGET", "OUTCOME", "LATENCY", "DETAIL"
    );
    for (spec, m) in rows {
        let _ = writeln!(
            out,
            "{:<5} {:<6} {:<width$} {:<14} {:<22} {}",
            spec.kind.as_str(),
            m.family.as_str(),
            target(spec),
            m.outcome.as_str(),
            figure(m),
            detail(m)
        );
    }
    let passed = rows.iter().filter(|(_, m)| passes(m)).count();
    let _ = writeln!(out, "{passed} of {} passed", rows.len());
    out
}

/// Runs every check of `set` once and returns the table and whether every check passed.
pub async fn run(rounds: &CheckRounds, set: &CheckSet) -> (String, bool) {
    let offset = rounds.offset_ms(set.period_s);
    let round_at = netpulse_domain::check::round::round_at(now(), set.period_s, offset);
    let results = rounds.run_round(set, round_at, true).await;
    let by_id = |id: &CheckId| set.items.iter().find(|(i, _)| i == id).map(|(_, s)| s);
    let rows: Vec<(&CheckSpec, &CheckMeasurement)> = results
        .iter()
        .filter_map(|m| by_id(&m.check_id).map(|s| (s, m)))
        .collect();
    let ok = rows.iter().all(|(_, m)| passes(m));
    (render(&rows), ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use netpulse_domain::Timestamp;
    use netpulse_domain::check::{
        CheckKind, CheckParams, CheckRole, FailureClass, Family, FamilyMode,
    };

    #[test]
    fn the_table_has_a_line_per_result_and_a_summary() {
        let spec = CheckSpec {
            kind: CheckKind::Icmp,
            target: "1.1.1.1".to_owned(),
            port: None,
            family: FamilyMode::Dual,
            role: CheckRole::Connectivity,
            interval_s: 60,
            params: CheckParams::default_for(CheckKind::Icmp),
        };
        let id = CheckId::parse("44444444-4444-4444-8444-444444444444").unwrap();
        let mut ok = CheckMeasurement::new(id.clone(), Timestamp::EPOCH, Family::V4, Outcome::Ok);
        ok.latency_ms = Some(12.345);
        ok.loss_pct = Some(0.0);
        let na = CheckMeasurement::failed(
            id.clone(),
            Timestamp::EPOCH,
            Family::V6,
            Outcome::NotApplicable,
            FailureClass::NoAddress,
            "the target 1.1.1.1 is not an IPv6 address",
        );
        let fail = CheckMeasurement::failed(
            id,
            Timestamp::EPOCH,
            Family::V4,
            Outcome::LocalError,
            FailureClass::Permission,
            "ICMP not permitted",
        );
        let table = render(&[(&spec, &ok), (&spec, &na)]);
        assert!(
            table.contains("icmp  v4     1.1.1.1 ok             12.35 ms, 0 % loss"),
            "{table}"
        );
        assert!(table.ends_with("2 of 2 passed\n"), "{table}");
        assert!(!passes(&fail));
        assert!(render(&[(&spec, &fail)]).contains("permission; ICMP not permitted"));
    }
}
