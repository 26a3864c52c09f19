use proptest::prelude::*;

use super::availability::StateTime;
use super::episode::replay;
use super::round::combine_families;
use super::*;

const MIN: i64 = 60_000;

fn check(id: &str, provider: &str, verdict: CheckVerdict) -> RoundCheck {
    RoundCheck {
        check: id.to_owned(),
        provider: provider.to_owned(),
        verdict,
        failure_class: matches!(verdict, CheckVerdict::Failed { .. }).then(|| "timeout".to_owned()),
    }
}

const FAIL: CheckVerdict = CheckVerdict::Failed { link: false };

/// A round at minute `m` with four checks (two providers), `failed` of them failing.
fn round(m: i64, failed: usize) -> RoundFacts {
    let ids = [
        ("icmp-cf", "cf"),
        ("http-cf", "cf"),
        ("icmp-q9", "q9"),
        ("http-q9", "q9"),
    ];
    // Failures spread over both providers, so they are never the target's alone.
    let order = [0, 2, 1, 3];
    RoundFacts {
        round_at_ms: m * MIN,
        checks: ids
            .iter()
            .enumerate()
            .map(|(i, (id, p))| {
                let pos = order.iter().position(|&o| o == i).unwrap_or(0);
                check(id, p, if pos < failed { FAIL } else { CheckVerdict::Ok })
            })
            .collect(),
        ..RoundFacts::default()
    }
}

fn unknown(m: i64) -> RoundFacts {
    RoundFacts {
        round_at_ms: m * MIN,
        ..RoundFacts::default()
    }
}

fn feed_all(rounds: &[RoundFacts]) -> (Vec<Episode>, EpisodeTracker) {
    let rules = OutageRules::default();
    let mut t = EpisodeTracker::default();
    let mut closed = Vec::new();
    for r in rounds {
        assert!(!t.is_late(r.round_at_ms));
        closed.extend(t.feed(&rules, r));
    }
    (closed, t)
}

#[test]
fn failures_in_a_round_after_a_resume_are_unknown() {
    let after = |facts: RoundFacts| RoundFacts {
        after_resume: true,
        ..facts
    };
    assert_eq!(RoundState::of(&after(round(0, 4))), RoundState::Unknown);
    assert_eq!(RoundState::of(&after(round(0, 1))), RoundState::Unknown);
    // A fully ok round after the resume is up: the network is back.
    assert_eq!(RoundState::of(&after(round(0, 0))), RoundState::Up);
    // Maintenance still wins.
    let maint = RoundFacts {
        maintenance: true,
        ..after(round(0, 4))
    };
    assert_eq!(RoundState::of(&maint), RoundState::Maintenance);
    // Rounds after a resume neither open an episode nor count as downtime.
    let rounds: Vec<RoundFacts> = (0..5)
        .map(|m| {
            if m < 3 {
                after(round(m, 4))
            } else {
                round(m, 0)
            }
        })
        .collect();
    let (closed, t) = feed_all(&rounds);
    assert!(closed.is_empty() && t.open.is_none());
    let mut time = StateTime::default();
    for r in &rounds {
        time.add(RoundState::of(r), MIN);
    }
    assert_eq!(time.known_ms, 2 * MIN);
    assert_eq!(time.complete_ms, 0);
}

#[test]
fn round_states_follow_the_table() {
    assert_eq!(RoundState::of(&round(0, 0)), RoundState::Up);
    assert_eq!(
        RoundState::of(&round(0, 4)),
        RoundState::Down { n: 4, link: false }
    );
    assert_eq!(
        RoundState::of(&round(0, 3)),
        RoundState::Partial {
            k: 3,
            n: 4,
            link: false
        }
    );
    assert_eq!(RoundState::of(&unknown(0)), RoundState::Unknown);
    let mut local = unknown(0);
    local.checks = vec![check("icmp", "cf", CheckVerdict::Local)];
    assert_eq!(RoundState::of(&local), RoundState::Local);
    let mut maint = round(0, 4);
    maint.maintenance = true;
    assert_eq!(RoundState::of(&maint), RoundState::Maintenance);
    // Both checks of one provider fail while the other provider is fine: the target's fault.
    let mut target = round(0, 0);
    target.checks[0].verdict = FAIL;
    target.checks[1].verdict = FAIL;
    assert_eq!(RoundState::of(&target), RoundState::Target);
    // Not applicable results count for nothing.
    let mut na = round(0, 4);
    na.checks
        .push(check("dns", "x", CheckVerdict::NotApplicable));
    assert_eq!(RoundState::of(&na), RoundState::Down { n: 4, link: false });
}

#[test]
fn a_long_outage_is_one_episode_not_six_minute_pieces() {
    let mut rounds: Vec<_> = (0..30).map(|m| round(m, 4)).collect();
    rounds.extend((30..33).map(|m| round(m, 0)));
    let (closed, t) = feed_all(&rounds);
    assert_eq!(closed.len(), 1);
    let ep = &closed[0];
    assert_eq!((ep.started_at_ms, ep.ended_at_ms()), (0, Some(30 * MIN)));
    assert_eq!((ep.rounds_down, ep.rounds_partial), (30, 0));
    assert_eq!(ep.severity(), Severity::Complete);
    assert_eq!(ep.severity().label(), "Complete");
    assert!(!ep.end_uncertain);
    assert!(t.open.is_none());
}

#[test]
fn one_good_round_does_not_close_an_episode_two_do() {
    let rounds = [
        round(0, 4),
        round(1, 0),
        round(2, 4),
        round(3, 0),
        round(4, 0),
    ];
    let (closed, _) = feed_all(&rounds);
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].ended_at_ms(), Some(3 * MIN));
    assert_eq!(closed[0].rounds_down, 2);
    // The good round inside is neither downtime nor unknown.
    assert_eq!(closed[0].complete_ms(&OutageRules::default()), 2 * MIN);
    assert_eq!(closed[0].rounds_unknown, 0);
}

#[test]
fn partial_severity_is_the_failed_share_of_the_failing_rounds() {
    // 3 of 4, then 2 of 4, then all 4: (3 + 2 + 4) / 12.
    let rounds = [
        round(0, 3),
        round(1, 2),
        round(2, 4),
        round(3, 0),
        round(4, 0),
    ];
    let (closed, _) = feed_all(&rounds);
    let ep = &closed[0];
    assert_eq!(ep.severity(), Severity::Partial(9.0 / 12.0));
    assert_eq!(ep.severity().label(), "Partial (75.00 %)");
    assert!((ep.impact_ms - (0.75 + 0.5 + 1.0) * MIN as f64).abs() < 1e-6);
    // One failing check while the other provider is fine is the target's fault: no episode.
    let (closed, t) = feed_all(&[round(0, 1), round(1, 1), round(2, 0)]);
    assert!(closed.is_empty() && t.open.is_none());
}

#[test]
fn a_short_gap_between_failures_keeps_the_episode_open_as_unknown() {
    // Down, 5 minutes without data, down again, then recovered.
    let rounds = [round(0, 4), round(6, 4), round(7, 0), round(8, 0)];
    let (closed, _) = feed_all(&rounds);
    assert_eq!(closed.len(), 1);
    let ep = &closed[0];
    assert_eq!((ep.rounds_down, ep.rounds_unknown), (2, 5));
    assert_eq!(ep.ended_at_ms(), Some(7 * MIN));
    assert!(!ep.end_uncertain);
    // Downtime counts only the down rounds, not the unknown ones.
    assert_eq!(ep.complete_ms(&OutageRules::default()), 2 * MIN);
}

#[test]
fn a_long_gap_closes_the_episode_at_its_last_failure_uncertain() {
    let rounds = [
        round(0, 4),
        round(1, 4),
        round(9, 4),
        round(10, 0),
        round(11, 0),
    ];
    let (closed, _) = feed_all(&rounds);
    assert_eq!(closed.len(), 2);
    assert_eq!(closed[0].ended_at_ms(), Some(2 * MIN));
    assert!(closed[0].end_uncertain);
    assert_eq!(closed[1].started_at_ms, 9 * MIN);
    assert!(!closed[1].end_uncertain);
    // Explicit unknown rounds do the same as missing ones.
    let mut rounds = vec![round(0, 4)];
    rounds.extend((1..8).map(unknown));
    rounds.push(round(8, 4));
    let (closed, t) = feed_all(&rounds);
    assert_eq!(closed.len(), 1);
    assert!(closed[0].end_uncertain);
    assert_eq!(t.open.as_ref().map(|e| e.started_at_ms), Some(8 * MIN));
}

#[test]
fn a_silent_agent_closes_its_open_episode_after_max_gap() {
    let rules = OutageRules::default();
    let (_, mut t) = feed_all(&[round(0, 4)]);
    assert!(t.close_if_silent(&rules, 4 * MIN).is_none());
    let ep = t.close_if_silent(&rules, 7 * MIN).expect("closed");
    assert!(ep.end_uncertain);
    assert_eq!(ep.ended_at_ms(), Some(MIN));
}

#[test]
fn only_a_series_last_heard_before_silent_before_can_be_closed_as_silent() {
    let rules = OutageRules::default();
    for last in 0..4 {
        let rounds: Vec<_> = (0..=last).map(|i| round(i, 4)).collect();
        let (_, t) = feed_all(&rounds);
        let last_round = last * MIN;
        for now in (last_round..last_round + 10 * MIN).step_by(7_000) {
            let heard_recently = last_round >= rules.silent_before(now);
            let closes = t.clone().close_if_silent(&rules, now).is_some();
            assert!(!(heard_recently && closes), "last {last_round}, now {now}");
        }
        // The bound is tight: one millisecond past it, the series is closed.
        let at = last_round + rules.max_gap_ms + rules.period_ms + 1;
        assert!(last_round < rules.silent_before(at));
        assert!(t.clone().close_if_silent(&rules, at).is_some());
    }
}

#[test]
fn maintenance_and_local_rounds_neither_extend_nor_close() {
    let mut m = round(1, 4);
    m.maintenance = true;
    let mut l = unknown(2);
    l.checks = vec![check("icmp", "cf", CheckVerdict::Local)];
    let rounds = [round(0, 4), m, l, round(3, 4), round(4, 0), round(5, 0)];
    let (closed, _) = feed_all(&rounds);
    assert_eq!(closed.len(), 1);
    assert_eq!((closed[0].rounds_down, closed[0].rounds_unknown), (2, 2));
}

#[test]
fn attribution_link_lan_isp() {
    let mut link = round(0, 4);
    link.checks[0].verdict = CheckVerdict::Failed { link: true };
    let (_, t) = feed_all(&[link]);
    assert_eq!(
        t.open.as_ref().map(Episode::attribution),
        Some(Attribution::Link)
    );
    let mut lan = round(0, 4);
    lan.gateway_failed = Some(true);
    let (_, t) = feed_all(&[lan]);
    assert_eq!(
        t.open.as_ref().map(Episode::attribution),
        Some(Attribution::Lan)
    );
    let mut isp = round(0, 4);
    isp.gateway_failed = Some(false);
    let (_, t) = feed_all(&[isp]);
    assert_eq!(
        t.open.as_ref().map(Episode::attribution),
        Some(Attribution::Isp)
    );
}

#[test]
fn the_all_family_is_down_only_when_every_configured_family_is() {
    let down = RoundState::Down { n: 4, link: false };
    let partial = RoundState::Partial {
        k: 1,
        n: 4,
        link: false,
    };
    assert_eq!(combine_families(&[down, RoundState::Up]), RoundState::Up);
    assert_eq!(
        combine_families(&[down, down]),
        RoundState::Down { n: 8, link: false }
    );
    assert_eq!(
        combine_families(&[down, partial]),
        RoundState::Partial {
            k: 5,
            n: 8,
            link: false
        }
    );
    // A host without IPv6: its v6 family is local and left out.
    assert_eq!(
        combine_families(&[down, RoundState::Local]),
        RoundState::Down { n: 4, link: false }
    );
    assert_eq!(
        combine_families(&[down, RoundState::Unknown]),
        RoundState::Unknown
    );
    assert_eq!(combine_families(&[]), RoundState::Unknown);
}

#[test]
fn most_severe_orders_complete_then_impact_then_duration() {
    let (a, _) = feed_all(&[round(0, 4), round(1, 0), round(2, 0)]);
    let (b, _) = feed_all(&[
        round(0, 2),
        round(1, 2),
        round(2, 2),
        round(3, 0),
        round(4, 0),
    ]);
    let (c, _) = feed_all(&[round(0, 3), round(1, 3), round(2, 0), round(3, 0)]);
    let mut all = [c[0].clone(), b[0].clone(), a[0].clone()];
    all.sort_by(Episode::cmp_severity);
    assert_eq!(all[0].severity(), Severity::Complete);
    // b: impact 3 × 0.5; c: 2 × 0.75 — equal impact, b lasts longer.
    assert_eq!(all[1].rounds_partial, 3);
    assert_eq!(all[2].rounds_partial, 2);
}

#[test]
fn availability_comes_with_coverage() {
    let mut t = StateTime::default();
    for _ in 0..90 {
        t.add(RoundState::Up, MIN);
    }
    for _ in 0..5 {
        t.add(RoundState::Down { n: 4, link: false }, MIN);
    }
    for _ in 0..5 {
        t.add(
            RoundState::Partial {
                k: 1,
                n: 4,
                link: false,
            },
            MIN,
        );
    }
    // 100 measured minutes of a 200-minute window, 20 of them in maintenance.
    for _ in 0..20 {
        t.add(RoundState::Maintenance, MIN);
    }
    let a = Availability::of(200 * MIN, &t);
    assert_eq!(a.availability, Some(1.0 - 5.0 / 100.0));
    assert_eq!(a.strict, Some(1.0 - 10.0 / 100.0));
    assert_eq!(a.coverage, Some(100.0 / 180.0));
    // Nothing measured: no availability, coverage 0.
    let none = Availability::of(60 * MIN, &StateTime::default());
    assert_eq!((none.availability, none.coverage), (None, Some(0.0)));
}

fn arb_rounds() -> impl Strategy<Value = Vec<RoundFacts>> {
    // Minutes 0..120, each present or not, with 0–4 failures.
    proptest::collection::vec((any::<bool>(), 0usize..=4, any::<bool>()), 120).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .filter(|(_, (present, _, _))| *present)
            .map(|(m, (_, failed, explicit_unknown))| {
                if explicit_unknown && failed == 0 {
                    unknown(m as i64)
                } else {
                    round(m as i64, failed)
                }
            })
            .collect()
    })
}

proptest! {
    /// Late and replayed rounds: replaying in any order (with duplicates) gives the episodes
    /// that feeding in time order gives.
    #[test]
    fn replay_in_any_order_equals_feeding_in_order(
        rounds in arb_rounds(),
        seed in any::<u64>(),
    ) {
        let (in_order, t1) = feed_all(&rounds);
        let mut shuffled = rounds.clone();
        shuffled.extend(rounds.iter().take(10).cloned());
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        let (replayed, t2) = replay(&OutageRules::default(), &shuffled);
        prop_assert_eq!(in_order, replayed);
        prop_assert_eq!(t1, t2);
    }

    /// Every failing round belongs to exactly one episode.
    #[test]
    fn every_failing_round_is_in_one_episode(rounds in arb_rounds()) {
        let (closed, t) = feed_all(&rounds);
        let failing = rounds.iter().filter(|r| RoundState::of(r).failing().is_some()).count();
        let counted: u32 = closed
            .iter()
            .chain(t.open.iter())
            .map(|e| e.rounds_down + e.rounds_partial)
            .sum();
        prop_assert_eq!(failing as u32, counted);
    }
}
