//! Two-factor sign-in rules: what a TOTP code and a recovery code look like, and the replay
//! guard (RFC 6238 §5.2: a step is accepted once, and only a step newer than the last one
//! accepted). The HMAC itself is computed by the app (`totp-rs`); the rules are here.

/// Seconds per TOTP step (RFC 6238's default).
pub const STEP_SECONDS: u64 = 30;
/// Digits of a TOTP code.
pub const DIGITS: usize = 6;
/// Steps accepted either side of the current one (the RFC's recommended bound).
pub const SKEW: u8 = 1;
/// Bytes of a new TOTP secret (160 bits, RFC 4226's recommendation).
pub const SECRET_BYTES: usize = 20;
/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code (10 × 5 bits = 50 bits).
pub const RECOVERY_CHARS: usize = 10;

/// Crockford's base-32 alphabet (no I, L, O, U).
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A TOTP code as typed (spaces and a middle hyphen allowed): its six digits, or `None`.
pub fn totp_code(text: &str) -> Option<String> {
    let digits: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Whether `step` may be accepted after `last` (the newest step accepted so far): only a newer
/// step is, so a code cannot be used twice, nor an older code after a newer one.
pub fn step_is_fresh(step: u64, last: Option<u64>) -> bool {
    last.is_none_or(|l| step > l)
}

/// A recovery code from 10 random bytes (5 bits of each), in canonical form (10 characters,
/// no hyphen).
pub fn recovery_code(random: [u8; RECOVERY_CHARS]) -> String {
    random
        .iter()
        .map(|b| char::from(CROCKFORD[usize::from(b & 31)]))
        .collect()
}

/// A canonical recovery code shown as `xxxxx-xxxxx`.
pub fn show_recovery_code(canonical: &str) -> String {
    let (a, b) = canonical.split_at(canonical.len().min(5));
    format!("{a}-{b}").to_lowercase()
}

/// A recovery code as typed, in canonical form: case, spaces and hyphens ignored, `O` read as
/// `0` and `I`/`L` as `1` (Crockford's decoding); `None` when it cannot be one.
pub fn normalize_recovery_code(text: &str) -> Option<String> {
    let mut out = String::with_capacity(RECOVERY_CHARS);
    for c in text.chars() {
        if c.is_whitespace() || c == '-' {
            continue;
        }
        let c = match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !CROCKFORD.contains(&(c as u8)) {
            return None;
        }
        out.push(c);
    }
    (out.len() == RECOVERY_CHARS).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_as_typed() {
        assert_eq!(totp_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(totp_code("123-456").as_deref(), Some("123456"));
        assert_eq!(totp_code("12345"), None);
        assert_eq!(totp_code("1234567"), None);
        assert_eq!(totp_code("12345a"), None);
        assert_eq!(totp_code("１２３４５６"), None);
    }

    #[test]
    fn only_a_newer_step_is_fresh() {
        assert!(step_is_fresh(10, None));
        assert!(step_is_fresh(11, Some(10)));
        assert!(!step_is_fresh(10, Some(10)));
        assert!(!step_is_fresh(9, Some(10)));
        assert!(step_is_fresh(0, None));
    }

    #[test]
    fn recovery_codes_round_trip() {
        let code = recovery_code([0, 1, 2, 3, 31, 32, 33, 200, 255, 17]);
        assert_eq!(code, "0123Z018ZH");
        assert_eq!(code.len(), RECOVERY_CHARS);
        let shown = show_recovery_code(&code);
        assert_eq!(shown, "0123z-018zh");
        assert_eq!(
            normalize_recovery_code(&shown).as_deref(),
            Some(code.as_str())
        );
        assert_eq!(
            normalize_recovery_code(" o123Z 0l8zH ").as_deref(),
            Some("0123Z018ZH")
        );
        assert_eq!(normalize_recovery_code("0123z-0188"), None);
        assert_eq!(normalize_recovery_code("0123z-01885x"), None);
        assert_eq!(normalize_recovery_code("0123u-01885"), None);
        assert_eq!(normalize_recovery_code("0123é-01885"), None);
    }

    #[test]
    fn every_byte_maps_into_the_alphabet() {
        for b in 0..=255u8 {
            let c = recovery_code([b; RECOVERY_CHARS]);
            assert!(normalize_recovery_code(&c).is_some(), "{b}: {c}");
        }
    }
}
