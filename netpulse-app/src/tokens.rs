//! Secret tokens: 256 random bits shown once, stored as SHA-256 digests, compared in constant
//! time. (A fast digest is enough: the tokens have 256 bits of entropy, so there is nothing for
//! a slow password hash to protect, and every agent request would pay for it.)

use base64::Engine as _;
use netpulse_ports::storage::TokenDigest;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A new token: 32 random bytes as unpadded base64url (43 characters of `[A-Za-z0-9_-]`).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The digest stored for a token.
pub fn digest(token: &str) -> TokenDigest {
    TokenDigest(Sha256::digest(token.as_bytes()).into())
}

/// Whether `token` matches `stored`, in constant time.
pub fn matches(token: &str, stored: &TokenDigest) -> bool {
    digest(token).0.ct_eq(&stored.0).into()
}

/// Whether two texts (e.g. CSRF tokens) are equal, in constant time; an empty `expected` never
/// matches.
pub fn matches_text(given: &str, expected: &str) -> bool {
    !expected.is_empty() && given.as_bytes().ct_eq(expected.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_url_safe_characters_and_unique() {
        let a = generate();
        let b = generate();
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a, b);
    }

    #[test]
    fn digests_match_only_their_token() {
        let t = generate();
        let d = digest(&t);
        assert!(matches(&t, &d));
        assert!(!matches(&generate(), &d));
        assert!(!matches("", &d));
    }
}
