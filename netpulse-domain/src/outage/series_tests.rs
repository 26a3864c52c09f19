use super::*;
use crate::outage::{EpisodeTracker, OutageRules, Severity};

const MIN: i64 = 60_000;
const T0: i64 = 1_780_000_000_000;

fn fact(m: i64, family: Family, check: &str, provider: &str, outcome: Outcome) -> ResultFact {
    ResultFact {
        round_at_ms: T0 + m * MIN,
        family,
        check: check.to_owned(),
        provider: provider.to_owned(),
        outcome,
        class: match outcome {
            Outcome::Ok => None,
            Outcome::Fail => Some(FailureClass::Timeout),
            Outcome::NotApplicable => Some(FailureClass::NoRoute),
            Outcome::LocalError => Some(FailureClass::Permission),
        },
        gateway: false,
        after_resume: false,
    }
}

/// Six checks a round on one family (three per provider), `failed` of them failing.
fn six(m: i64, failed: &[usize]) -> Vec<ResultFact> {
    (0..6)
        .map(|i| {
            let provider = if i < 3 { "cloudflare" } else { "quad9" };
            let outcome = if failed.contains(&i) {
                Outcome::Fail
            } else {
                Outcome::Ok
            };
            fact(m, Family::V4, &format!("c{i}"), provider, outcome)
        })
        .collect()
}

fn episodes(series: SeriesFamily, results: &[ResultFact], configured: &[Family]) -> Vec<Episode> {
    let rules = OutageRules::default();
    let mut memory = FamilyMemory::default();
    let mut tracker = EpisodeTracker::default();
    let mut out = Vec::new();
    for r in rounds(series, results, configured, &mut memory, &|_| false) {
        out.extend(tracker.feed_state(&rules, &r.facts, r.state));
    }
    out.extend(tracker.open);
    out
}

use crate::outage::Episode;

#[test]
fn plexsheeps_example_one_lost_check_in_a_round_is_no_outage() {
    let mut results = Vec::new();
    for m in 0..60 {
        results.extend(six(m, if m == 30 { &[1] } else { &[] }));
    }
    assert!(episodes(SeriesFamily::V4, &results, &[Family::V4]).is_empty());
    // Every check of both providers failing is an outage.
    results.extend((60..62).flat_map(|m| six(m, &[0, 1, 2, 3, 4, 5])));
    assert_eq!(episodes(SeriesFamily::V4, &results, &[Family::V4]).len(), 1);
}

#[test]
fn a_32_minute_complete_outage_is_one_episode() {
    let mut results = Vec::new();
    for m in 0..100 {
        let down = (20..52).contains(&m);
        results.extend(six(m, if down { &[0, 1, 2, 3, 4, 5] } else { &[] }));
    }
    let eps = episodes(SeriesFamily::V4, &results, &[Family::V4]);
    assert_eq!(eps.len(), 1);
    let e = &eps[0];
    assert_eq!(e.started_at_ms, T0 + 20 * MIN);
    assert_eq!(e.duration_ms(), 32 * MIN);
    assert_eq!(e.rounds_down, 32);
    assert_eq!(e.severity(), Severity::Complete);
    assert!(e.closed);
    assert_eq!(e.closed_by_round_ms, T0 + 53 * MIN);
}

#[test]
fn a_lost_route_is_a_link_failure_only_on_a_family_the_host_had() {
    assert_eq!(
        verdict(Outcome::NotApplicable, Some(FailureClass::NoRoute), true),
        CheckVerdict::Failed { link: true }
    );
    assert_eq!(
        verdict(Outcome::NotApplicable, Some(FailureClass::NoRoute), false),
        CheckVerdict::Local
    );
    assert_eq!(
        verdict(Outcome::NotApplicable, Some(FailureClass::NoAddress), true),
        CheckVerdict::NotApplicable
    );
    assert_eq!(
        verdict(Outcome::LocalError, Some(FailureClass::Permission), true),
        CheckVerdict::Local
    );
    // A host that never had IPv6: its v6 rounds are local, no outage.
    let results: Vec<ResultFact> = (0..10)
        .map(|m| fact(m, Family::V6, "c", "p", Outcome::NotApplicable))
        .collect();
    let mut memory = FamilyMemory::default();
    let rs = rounds(
        SeriesFamily::V6,
        &results,
        &[Family::V6],
        &mut memory,
        &|_| false,
    );
    assert!(rs.iter().all(|r| r.state == RoundState::Local));
    // After an ok round, losing the route is the link going down.
    let mut results = vec![fact(0, Family::V6, "c", "p", Outcome::Ok)];
    results.extend((1..4).map(|m| fact(m, Family::V6, "c", "p", Outcome::NotApplicable)));
    let eps = episodes(SeriesFamily::V6, &results, &[Family::V6]);
    assert_eq!(eps.len(), 1);
    assert_eq!(eps[0].attribution().as_str(), "link");
    // A day later the family is forgotten.
    let mut m = FamilyMemory::default();
    m.saw_ok(Family::V4, T0);
    assert!(m.had(Family::V4, T0 + FAMILY_MEMORY_MS));
    assert!(!m.had(Family::V4, T0 + FAMILY_MEMORY_MS + 1));
    assert!(!m.had(Family::V4, T0));
}

#[test]
fn the_all_series_is_down_only_when_every_configured_family_is() {
    let mut results = Vec::new();
    for m in 0..10 {
        let v6_down = (2..6).contains(&m);
        let v4_down = (4..6).contains(&m);
        for (f, down) in [(Family::V4, v4_down), (Family::V6, v6_down)] {
            let o = if down { Outcome::Fail } else { Outcome::Ok };
            results.push(fact(m, f, "a", "p1", o));
            results.push(fact(m, f, "b", "p2", o));
        }
    }
    let both = [Family::V4, Family::V6];
    let v6 = episodes(SeriesFamily::V6, &results, &both);
    assert_eq!((v6.len(), v6[0].rounds_down), (1, 4));
    let all = episodes(SeriesFamily::All, &results, &both);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].started_at_ms, T0 + 4 * MIN);
    assert_eq!(all[0].rounds_down, 2);
    // A configured family without results in a round makes it unknown, not up.
    let only_v4: Vec<ResultFact> = (0..3)
        .map(|m| fact(m, Family::V4, "a", "p1", Outcome::Fail))
        .collect();
    let mut memory = FamilyMemory::default();
    let rs = rounds(SeriesFamily::All, &only_v4, &both, &mut memory, &|_| false);
    assert!(rs.iter().all(|r| r.state == RoundState::Unknown));
    let rs = rounds(
        SeriesFamily::All,
        &only_v4,
        &[Family::V4],
        &mut memory,
        &|_| false,
    );
    assert!(
        rs.iter()
            .all(|r| matches!(r.state, RoundState::Down { .. }))
    );
}

#[test]
fn maintenance_rounds_are_marked() {
    let results = six(0, &[0, 1, 2, 3, 4, 5]);
    let mut memory = FamilyMemory::default();
    let rs = rounds(
        SeriesFamily::V4,
        &results,
        &[Family::V4],
        &mut memory,
        &|at| at == T0,
    );
    assert_eq!(rs[0].state, RoundState::Maintenance);
}

#[test]
fn an_agent_is_in_maintenance_when_every_connection_is() {
    assert!(!agent_in_maintenance(5, &[]));
    assert!(agent_in_maintenance(
        5,
        &[vec![(0, 10)], vec![(20, 30), (5, 6)]]
    ));
    assert!(!agent_in_maintenance(6, &[vec![(0, 10)], vec![(5, 6)]]));
    assert!(!agent_in_maintenance(5, &[vec![(0, 10)], vec![]]));
}

#[test]
fn replay_starts_at_the_first_episode_still_open_at_the_late_round() {
    let eps = [(100, Some(150)), (200, Some(260)), (300, None)];
    assert_eq!(replay_from(170, eps), 170);
    assert_eq!(replay_from(150, eps), 100);
    assert_eq!(replay_from(400, eps), 300);
    assert_eq!(replay_from(50, eps), 50);
    assert_eq!(replay_from(270, [(100, Some(150))]), 270);
}

#[test]
fn episode_ids_are_stable_uuids() {
    let a = episode_id("probe", SeriesFamily::V4, 1);
    assert_eq!(a, episode_id("probe", SeriesFamily::V4, 1));
    assert_ne!(a, episode_id("probe", SeriesFamily::V6, 1));
    assert_ne!(a, episode_id("probe", SeriesFamily::V4, 2));
    assert_eq!(a.len(), 36);
    assert_eq!(&a[14..15], "8");
    assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    assert_eq!(SeriesFamily::parse("all"), Ok(SeriesFamily::All));
    assert_eq!(SeriesFamily::parse("v5").unwrap_err().field, "family");
}

#[test]
fn a_probe_window_or_the_manual_switch_puts_the_agent_in_maintenance() {
    // Its own window counts even when no connection is in one; `None` is until switched off.
    assert!(in_maintenance(5, &[(0, Some(10))], &[vec![]]));
    assert!(!in_maintenance(10, &[(0, Some(10))], &[vec![]]));
    assert!(in_maintenance(1_000_000, &[(0, None)], &[]));
    assert!(!in_maintenance(5, &[(6, None)], &[vec![]]));
    assert!(in_maintenance(5, &[], &[vec![(0, 10)]]));
}

#[test]
fn the_gateway_check_is_not_counted_and_attributes_to_the_lan() {
    let gw = |m: i64, outcome: Outcome| ResultFact {
        gateway: true,
        ..fact(m, Family::V4, "gw", "192.168.1.1", outcome)
    };
    let mut results = Vec::new();
    // Rounds 0-3: every internet check fails; the gateway fails in rounds 0 and 1 (2 of 4).
    for m in 0..4 {
        results.extend(six(m, &[0, 1, 2, 3, 4, 5]));
        results.push(gw(m, if m < 2 { Outcome::Fail } else { Outcome::Ok }));
    }
    // Rounds 4-5: up, and the gateway too.
    for m in 4..6 {
        results.extend(six(m, &[]));
        results.push(gw(m, Outcome::Ok));
    }
    let mut memory = FamilyMemory::default();
    let rs = rounds(
        SeriesFamily::V4,
        &results,
        &[Family::V4],
        &mut memory,
        &|_| false,
    );
    assert_eq!(rs.len(), 6);
    // Six counted checks, not seven: the gateway is not one of them.
    assert_eq!(rs[0].state, RoundState::Down { n: 6, link: false });
    assert_eq!(rs[0].facts.gateway_failed, Some(true));
    assert_eq!(rs[2].facts.gateway_failed, Some(false));
    assert_eq!(rs[4].state, RoundState::Up);
    let rules = OutageRules::default();
    let mut t = EpisodeTracker::default();
    let closed: Vec<_> = rs
        .iter()
        .filter_map(|r| t.feed_state(&rules, &r.facts, r.state))
        .collect();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].attribution(), crate::outage::Attribution::Lan);
    // The gateway failing in 1 of 4 failing rounds is not enough: the ISP.
    results.retain(|r| !(r.gateway && r.round_at_ms == T0 + MIN));
    results.push(gw(1, Outcome::Ok));
    let rs = rounds(
        SeriesFamily::V4,
        &results,
        &[Family::V4],
        &mut FamilyMemory::default(),
        &|_| false,
    );
    let mut t = EpisodeTracker::default();
    let closed: Vec<_> = rs
        .iter()
        .filter_map(|r| t.feed_state(&rules, &r.facts, r.state))
        .collect();
    assert_eq!(closed[0].attribution(), crate::outage::Attribution::Isp);
    // The `all` series sees a gateway failure of either family.
    let rs = rounds(
        SeriesFamily::All,
        &results,
        &[Family::V4],
        &mut FamilyMemory::default(),
        &|_| false,
    );
    assert_eq!(rs[0].facts.gateway_failed, Some(true));
    assert_eq!(rs[1].facts.gateway_failed, Some(false));
}

#[test]
fn failures_in_the_grace_after_a_resume_are_unknown_and_open_no_outage() {
    // Up until minute 10, then the host sleeps (no rounds) until minute 70; the first rounds
    // after the resume fail (the network is not back yet) and are flagged, then all is up.
    let mut results: Vec<ResultFact> = (0..10).flat_map(|m| six(m, &[])).collect();
    let grace = |m: i64| -> Vec<ResultFact> {
        six(m, &[0, 1, 2, 3, 4, 5])
            .into_iter()
            .map(|r| ResultFact {
                after_resume: true,
                ..r
            })
            .collect()
    };
    results.extend(grace(70));
    results.extend(grace(71));
    results.extend((72..80).flat_map(|m| six(m, &[])));
    assert!(episodes(SeriesFamily::V4, &results, &[Family::V4]).is_empty());
    let mut memory = FamilyMemory::default();
    let rs = rounds(
        SeriesFamily::V4,
        &results,
        &[Family::V4],
        &mut memory,
        &|_| false,
    );
    assert_eq!(rs.len(), 20, "the suspended hour has no rounds");
    assert!(rs[10].facts.after_resume);
    assert_eq!(rs[10].state, RoundState::Unknown);
    assert_eq!(rs[11].state, RoundState::Unknown);
    assert_eq!(rs[12].state, RoundState::Up);
    // The same failures without the flag are an outage.
    let unflagged: Vec<ResultFact> = results
        .iter()
        .map(|r| ResultFact {
            after_resume: false,
            ..r.clone()
        })
        .collect();
    assert_eq!(
        episodes(SeriesFamily::V4, &unflagged, &[Family::V4]).len(),
        1
    );
    // `all`: a flagged family makes the round unknown even when the other one fails unflagged.
    let mut both = grace(70);
    both.extend(
        six(70, &[0, 1, 2, 3, 4, 5])
            .into_iter()
            .map(|r| ResultFact {
                family: Family::V6,
                ..r
            }),
    );
    let rs = rounds(
        SeriesFamily::All,
        &both,
        &[Family::V4, Family::V6],
        &mut FamilyMemory::default(),
        &|_| false,
    );
    assert_eq!(rs[0].state, RoundState::Unknown);
    assert!(rs[0].facts.after_resume);
}
