//! Registration tokens: how an agent started with `AGENT_TOKEN` joins the fleet by itself.
//!
//! An admin creates a token (a name, an optional expiry, an optional number of uses, labels to
//! give every probe it registers). An agent presents it with its name, location and machine id;
//! a new (name, machine) pair creates a probe and uses the token once; the same pair again is the
//! same agent (a lost state directory, a reinstall): it keeps its probe, gets a fresh probe token
//! and uses nothing. A revoked or expired token registers nothing, and one whose uses are spent
//! registers no new agent (re-registration of a known one still works until it expires).

use crate::time::Timestamp;
use crate::values::Labels;

/// The longest agent name and location, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A registration token as stored (its secret only as a digest, elsewhere).
#[derive(Debug, Clone, PartialEq)]
pub struct RegistrationToken {
    /// Its id (a UUID).
    pub id: String,
    /// What the admin calls it.
    pub name: String,
    /// Labels every probe it registers gets.
    pub labels: Labels,
    /// After this it registers nothing.
    pub expires_at: Option<Timestamp>,
    /// How many new agents it may register (`None`: any number).
    pub max_uses: Option<u32>,
    /// How many it has registered.
    pub uses: u32,
    /// Revoked by an admin.
    pub revoked: bool,
    /// When it was created.
    pub created_at: Timestamp,
}

/// Why a token refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Revoked.
    Revoked,
    /// Past its expiry.
    Expired,
    /// Every use is spent (new agents only).
    UsedUp,
}

impl Refusal {
    /// For people.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revoked => "the registration token is revoked",
            Self::Expired => "the registration token has expired",
            Self::UsedUp => "the registration token has no uses left",
        }
    }
}

impl RegistrationToken {
    /// Whether it may register at `now`: a `new_agent` needs a use left, an agent registering
    /// again does not.
    pub fn refusal(&self, now: Timestamp, new_agent: bool) -> Option<Refusal> {
        if self.revoked {
            Some(Refusal::Revoked)
        } else if self.expires_at.is_some_and(|t| now >= t) {
            Some(Refusal::Expired)
        } else if new_agent && self.max_uses.is_some_and(|m| self.uses >= m) {
            Some(Refusal::UsedUp)
        } else {
            None
        }
    }

    /// `active`, `revoked`, `expired` or `used_up` at `now` (for lists).
    pub fn status(&self, now: Timestamp) -> &'static str {
        match self.refusal(now, true) {
            None => "active",
            Some(Refusal::Revoked) => "revoked",
            Some(Refusal::Expired) => "expired",
            Some(Refusal::UsedUp) => "used_up",
        }
    }
}

/// A machine id as the agent reports it: 1 to 128 printable ASCII characters.
pub fn valid_machine_id(text: &str) -> bool {
    !text.is_empty() && text.len() <= 128 && text.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> RegistrationToken {
        RegistrationToken {
            id: "t".into(),
            name: "branches".into(),
            labels: Labels::new(),
            expires_at: Some(Timestamp::from_unix_seconds(1_000)),
            max_uses: Some(2),
            uses: 0,
            revoked: false,
            created_at: Timestamp::from_unix_seconds(0),
        }
    }

    #[test]
    fn a_token_registers_until_it_expires_and_its_uses_are_spent() {
        let t = Timestamp::from_unix_seconds;
        let mut tok = token();
        assert_eq!(tok.refusal(t(999), true), None);
        assert_eq!(tok.refusal(t(1_000), true), Some(Refusal::Expired));
        tok.uses = 2;
        assert_eq!(tok.refusal(t(10), true), Some(Refusal::UsedUp));
        assert_eq!(tok.refusal(t(10), false), None, "a known agent again");
        assert_eq!(tok.status(t(10)), "used_up");
        tok.revoked = true;
        assert_eq!(tok.refusal(t(10), false), Some(Refusal::Revoked));
        let forever = RegistrationToken {
            expires_at: None,
            max_uses: None,
            uses: 1_000_000,
            ..token()
        };
        assert_eq!(forever.refusal(t(i64::MAX / 2_000), true), None);
    }

    #[test]
    fn machine_ids_are_short_printable_ascii() {
        assert!(valid_machine_id("4c4c4544-0042-3510-8052-b4c04f4e4d32"));
        assert!(!valid_machine_id(""));
        assert!(!valid_machine_id("a b"));
        assert!(!valid_machine_id(&"a".repeat(129)));
    }
}
