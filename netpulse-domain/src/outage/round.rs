//! The state of one round of one agent and family (wave2-specs §2.3, "Round state").

/// How one connectivity check ended in a round, as far as outages are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckVerdict {
    /// The check succeeded.
    Ok,
    /// The check failed. `link` is set when the agent's host lost its route on a family it had
    /// within the last 24 h (an agent on the router loses its default route when the WAN goes
    /// down).
    Failed {
        /// The host lost its own route or address.
        link: bool,
    },
    /// The agent could not run the check (no permission, or a family the host has not had for
    /// 24 h): says nothing about the network.
    Local,
    /// Not applicable (e.g. a name without AAAA): ignored.
    NotApplicable,
}

/// One connectivity check's verdict in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundCheck {
    /// The check (its id), for the episode's list of failing checks.
    pub check: String,
    /// Who runs the target (e.g. `cloudflare`): failures on one provider while another one is
    /// fully ok are the target's problem, not the connection's.
    pub provider: String,
    /// How it ended.
    pub verdict: CheckVerdict,
    /// Its failure class (`timeout`, `refused`, …), when it failed.
    pub failure_class: Option<String>,
}

/// What is known about one round of one agent and family.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoundFacts {
    /// The scheduled round time, ms since the epoch.
    pub round_at_ms: i64,
    /// The agent or its connection is in a maintenance window.
    pub maintenance: bool,
    /// The connectivity checks of the round.
    pub checks: Vec<RoundCheck>,
    /// The optional default-gateway check: `Some(true)` when it failed.
    pub gateway_failed: Option<bool>,
    /// The round was taken within the agent's grace after its host resumed from a suspend
    /// (its results are flagged `afterResume`): failures in it say nothing about the network.
    pub after_resume: bool,
}

/// The state of a round (the first matching rule of the specs' table wins; failures in a round
/// taken after a resume make it unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundState {
    /// In a maintenance window.
    Maintenance,
    /// No data (no check ok or failed, none local): the agent was offline or suspended; or
    /// failures in a round taken within the grace after the host resumed from a suspend.
    Unknown,
    /// Only local errors: the agent could not measure.
    Local,
    /// All failures are on one provider while another provider is fully ok (counts as up).
    Target,
    /// Every check failed.
    Down {
        /// Checks that ended ok or failed.
        n: u32,
        /// Whether a failure was the host losing its route.
        link: bool,
    },
    /// Some checks failed.
    Partial {
        /// Failed checks.
        k: u32,
        /// Checks that ended ok or failed.
        n: u32,
        /// Whether a failure was the host losing its route.
        link: bool,
    },
    /// No check failed.
    Up,
}

impl RoundState {
    /// The state of a round from its facts.
    pub fn of(facts: &RoundFacts) -> Self {
        if facts.maintenance {
            return Self::Maintenance;
        }
        let mut n = 0u32;
        let mut k = 0u32;
        let mut local = 0u32;
        let mut link = false;
        for c in &facts.checks {
            match c.verdict {
                CheckVerdict::Ok => n += 1,
                CheckVerdict::Failed { link: l } => {
                    n += 1;
                    k += 1;
                    link |= l;
                }
                CheckVerdict::Local => local += 1,
                CheckVerdict::NotApplicable => {}
            }
        }
        if n == 0 {
            return if local == 0 {
                Self::Unknown
            } else {
                Self::Local
            };
        }
        if k == 0 {
            return Self::Up;
        }
        if facts.after_resume {
            // The host just woke up: its network may not be back yet (wave2-specs §2.3, the
            // self-connectivity guard). A fully ok round is still up.
            return Self::Unknown;
        }
        if !link && target_only(&facts.checks) {
            return Self::Target;
        }
        if k == n {
            Self::Down { n, link }
        } else {
            Self::Partial { k, n, link }
        }
    }

    /// Failed and counted checks `(k, n)` of a failing round; `None` for any other state.
    pub fn failing(self) -> Option<(u32, u32)> {
        match self {
            Self::Down { n, .. } => Some((n, n)),
            Self::Partial { k, n, .. } => Some((k, n)),
            _ => None,
        }
    }

    /// Whether the round counts as up for connectivity (`up` or `target`).
    pub fn is_up(self) -> bool {
        matches!(self, Self::Up | Self::Target)
    }

    /// The state's name as stored and shown: `maintenance`, `unknown`, `local`, `target`,
    /// `down`, `partial`, `up`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Maintenance => "maintenance",
            Self::Unknown => "unknown",
            Self::Local => "local",
            Self::Target => "target",
            Self::Down { .. } => "down",
            Self::Partial { .. } => "partial",
            Self::Up => "up",
        }
    }
}

/// Whether every failure is on one provider while another provider answered every check.
fn target_only(checks: &[RoundCheck]) -> bool {
    let mut failing: Option<&str> = None;
    for c in checks {
        if matches!(c.verdict, CheckVerdict::Failed { .. }) {
            match failing {
                None => failing = Some(&c.provider),
                Some(p) if p == c.provider => {}
                Some(_) => return false,
            }
        }
    }
    let Some(failing) = failing else { return false };
    let mut others: Vec<(&str, bool)> = Vec::new();
    for c in checks {
        if c.provider == failing {
            continue;
        }
        let ok = match c.verdict {
            CheckVerdict::Ok => true,
            CheckVerdict::Failed { .. } => false,
            CheckVerdict::Local | CheckVerdict::NotApplicable => continue,
        };
        match others.iter_mut().find(|(p, _)| *p == c.provider) {
            Some((_, all_ok)) => *all_ok &= ok,
            None => others.push((&c.provider, ok)),
        }
    }
    others.iter().any(|(_, all_ok)| *all_ok)
}

/// The `all` family's state of a round from the states of each family of the same round.
///
/// Families that are `local` (not configured on this host) are left out. The round is down when
/// every remaining family is down, partial when every one is down or partial (`k` and `n`
/// summed), up as soon as one family is up; it is unknown when a family has no data while the
/// others fail (it may have been up), and in maintenance when any family is.
pub fn combine_families(states: &[RoundState]) -> RoundState {
    if states.iter().any(|s| matches!(s, RoundState::Maintenance)) {
        return RoundState::Maintenance;
    }
    let configured: Vec<RoundState> = states
        .iter()
        .copied()
        .filter(|s| !matches!(s, RoundState::Local))
        .collect();
    if configured.is_empty() {
        return if states.is_empty() {
            RoundState::Unknown
        } else {
            RoundState::Local
        };
    }
    if configured.iter().any(|s| s.is_up()) {
        return RoundState::Up;
    }
    if configured.iter().any(|s| matches!(s, RoundState::Unknown)) {
        return RoundState::Unknown;
    }
    let (mut k, mut n, mut link, mut all_down) = (0, 0, false, true);
    for s in &configured {
        match *s {
            RoundState::Down { n: dn, link: l } => {
                k += dn;
                n += dn;
                link |= l;
            }
            RoundState::Partial {
                k: pk,
                n: pn,
                link: l,
            } => {
                k += pk;
                n += pn;
                link |= l;
                all_down = false;
            }
            // Only failing states are left here.
            _ => {}
        }
    }
    if all_down {
        RoundState::Down { n, link }
    } else {
        RoundState::Partial { k, n, link }
    }
}
