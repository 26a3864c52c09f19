//! Short-lived API access tokens (JWT, issue 19): how long one lives, whether one is current,
//! and when the signing key rotates. An old key is kept while tokens it signed can still be
//! current (until its successor is one token lifetime old), so rotation never cuts anyone off.

/// Seconds an access token lives (15 minutes).
pub const LIFETIME_SECONDS: i64 = 900;
/// Seconds after which a new signing key replaces the newest one (30 days).
pub const ROTATE_AFTER_SECONDS: i64 = 30 * 86_400;

/// Whether a token issued at `iat` and ending at `exp` is current at `now` (seconds): not
/// before its issue (a minute of clock skew allowed), not at or after its end, and never
/// longer than [`LIFETIME_SECONDS`] in all.
pub fn is_current(iat: i64, exp: i64, now: i64) -> bool {
    iat <= now + 60 && now < exp && exp - iat <= LIFETIME_SECONDS
}

/// What to do with the signing keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPlan {
    /// Make a new key now (it becomes the one that signs).
    pub rotate: bool,
    /// How many of the existing keys, newest first, to keep.
    pub keep: usize,
}

/// The plan for keys created at `created` (seconds, newest first) at `now`: rotate when
/// there is none or the newest is [`ROTATE_AFTER_SECONDS`] old; keep the newest (it signs or
/// just signed) and each older key whose successor is younger than one token lifetime.
pub fn key_plan(created: &[i64], now: i64) -> KeyPlan {
    let rotate = created
        .first()
        .is_none_or(|&newest| now - newest >= ROTATE_AFTER_SECONDS);
    let mut keep = usize::from(!created.is_empty());
    for pair in created.windows(2) {
        // pair[0] succeeded pair[1]: tokens of pair[1] were signed until pair[0] was made.
        if now - pair[0] < LIFETIME_SECONDS {
            keep += 1;
        } else {
            break;
        }
    }
    KeyPlan { rotate, keep }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_current_within_its_lifetime_only() {
        assert!(is_current(1_000, 1_900, 1_000));
        assert!(is_current(1_000, 1_900, 1_899));
        assert!(!is_current(1_000, 1_900, 1_900));
        assert!(!is_current(1_000, 1_900, 5_000));
        assert!(!is_current(1_000, 9_000, 1_500), "longer than the lifetime");
        assert!(!is_current(2_000, 2_900, 1_000), "issued in the future");
        assert!(is_current(1_030, 1_900, 1_000), "within the skew");
    }

    #[test]
    fn keys_rotate_and_old_ones_stay_while_their_tokens_live() {
        assert_eq!(
            key_plan(&[], 0),
            KeyPlan {
                rotate: true,
                keep: 0
            }
        );
        let day = 86_400;
        assert_eq!(
            key_plan(&[0], day),
            KeyPlan {
                rotate: false,
                keep: 1
            }
        );
        assert_eq!(
            key_plan(&[0], ROTATE_AFTER_SECONDS),
            KeyPlan {
                rotate: true,
                keep: 1
            }
        );
        // Rotated 10 minutes ago: the old key still checks tokens it signed.
        let now = ROTATE_AFTER_SECONDS + 600;
        assert_eq!(
            key_plan(&[ROTATE_AFTER_SECONDS, 0], now),
            KeyPlan {
                rotate: false,
                keep: 2
            }
        );
        // A lifetime later it goes.
        let later = ROTATE_AFTER_SECONDS + LIFETIME_SECONDS;
        assert_eq!(
            key_plan(&[ROTATE_AFTER_SECONDS, 0], later),
            KeyPlan {
                rotate: false,
                keep: 1
            }
        );
    }
}
