//! Passwords: the policy, argon2id hashing (the argon2 crate's defaults) and verification, off
//! the async threads. The dashboard and the CLI use the same functions.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::AppError;

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 12;

/// A hash nobody's password matches, verified for unknown accounts so that they cost the same
/// time as known ones.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2b9rXl1pH0S3N1W8zq2o5m0H5T8Vq8QwQmR1pX7k2YQ";

/// Checks the policy: at least [`MIN_LENGTH`] characters.
pub fn check(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_LENGTH {
        return Err(format!("must be at least {MIN_LENGTH} characters long"));
    }
    Ok(())
}

/// Hashes a password with argon2id and a random salt (a PHC string), on this thread.
pub fn hash_blocking(password: &str) -> Result<String, AppError> {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let salt = SaltString::encode_b64(&bytes)
        .map_err(|e| AppError::unavailable(format!("cannot make a salt: {e}")))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::unavailable(format!("cannot hash the password: {e}")))
}

/// Hashes a password (argon2id, random salt) off the async threads.
pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(AppError::unavailable_from)?
}

/// Whether `password` matches `hash` (`None`: compare with a dummy hash, always `false`).
pub async fn verify(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let stored = hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let ok = PasswordHash::new(&stored).is_ok_and(|parsed| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        });
        ok && known
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_dummy_hash_is_a_valid_phc_string() {
        assert!(argon2::password_hash::PasswordHash::new(super::DUMMY_HASH).is_ok());
        assert!(super::check("short").is_err());
        assert!(super::check("twelve chars").is_ok());
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let h = super::hash("correct horse battery".into()).await.unwrap();
        assert!(super::verify("correct horse battery".into(), Some(h.clone())).await);
        assert!(!super::verify("wrong horse battery".into(), Some(h)).await);
        assert!(!super::verify("anything at all".into(), None).await);
    }
}
