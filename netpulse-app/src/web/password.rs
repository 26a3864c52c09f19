//! Passwords: argon2id (the argon2 crate's defaults, as the CLI uses), hashed and verified off
//! the async threads.

use argon2::password_hash::{PasswordHash, PasswordVerifier};

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

/// Hashes a password (argon2id, random salt).
pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || crate::cli::admin::hash_password(&password))
        .await
        .map_err(|e| AppError::unavailable_from(e))?
        .map_err(|e| AppError::unavailable(e.message))
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
}
