//! Secrets encrypted at rest: AES-256-GCM (aws-lc-rs) with a random 96-bit nonce per value and
//! the owner's id as associated data (a sealed value copied to another row does not open).
//! Sealed text is `v1:` + base64(nonce ‖ ciphertext ‖ tag).
//!
//! The key comes from `NETPULSE_SECRET_KEY` (base64 of 32 bytes) or from a key file, which is
//! created on first start with 32 random bytes (base64) and mode 0600.

use std::io::Write;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Why a key could not be loaded or a value opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The key is unusable.
    #[error("secret key: {0}")]
    Key(String),
    /// The sealed value does not open with this key.
    #[error("cannot decrypt a stored secret (was the secret key changed?)")]
    Open,
}

/// Where the key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The environment variable.
    Environment,
    /// An existing key file.
    File,
    /// A key file created now.
    CreatedFile,
}

/// Seals and opens secrets.
pub struct SecretBox {
    key: LessSafeKey,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

fn decode_key(text: &str) -> Result<[u8; 32], SecretError> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|e| SecretError::Key(format!("not base64 ({e})")))?;
    bytes.try_into().map_err(|_| {
        SecretError::Key(
            "must be 32 bytes (base64 of 32 random bytes, e.g. `openssl rand -base64 32`)".into(),
        )
    })
}

impl SecretBox {
    /// A box with this key.
    pub fn new(key: &[u8; 32]) -> Self {
        let key = UnboundKey::new(&AES_256_GCM, key).expect("a 32-byte AES-256 key");
        Self {
            key: LessSafeKey::new(key),
        }
    }

    /// The key from `env_key` (base64) if given, else from `key_file`, creating it (0600) with a
    /// random key when it does not exist.
    pub fn load(env_key: Option<&str>, key_file: &Path) -> Result<(Self, KeySource), SecretError> {
        if let Some(text) = env_key.filter(|t| !t.trim().is_empty()) {
            return Ok((Self::new(&decode_key(text)?), KeySource::Environment));
        }
        match std::fs::read_to_string(key_file) {
            Ok(text) => Ok((Self::new(&decode_key(&text)?), KeySource::File)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                SystemRandom::new()
                    .fill(&mut key)
                    .map_err(|_| SecretError::Key("no system randomness".into()))?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(key_file).map_err(|e| {
                    SecretError::Key(format!("cannot create {}: {e}", key_file.display()))
                })?;
                writeln!(file, "{}", STANDARD.encode(key))
                    .and_then(|()| file.sync_all())
                    .map_err(|e| {
                        SecretError::Key(format!("cannot write {}: {e}", key_file.display()))
                    })?;
                Ok((Self::new(&key), KeySource::CreatedFile))
            }
            Err(e) => Err(SecretError::Key(format!(
                "cannot read {}: {e}",
                key_file.display()
            ))),
        }
    }

    /// Whether a key file can be read by others than its owner (worth a warning).
    pub fn file_is_exposed(key_file: &Path) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(key_file).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
        }
        #[cfg(not(unix))]
        {
            let _ = key_file;
            false
        }
    }

    /// Encrypts `plain` for the owner `aad`.
    pub fn seal(&self, plain: &[u8], aad: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("system randomness");
        let mut data = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut data,
            )
            .expect("AES-GCM sealing cannot fail for in-memory data");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        format!("v1:{}", STANDARD.encode(out))
    }

    /// Decrypts what [`seal`](Self::seal) produced for the same owner.
    pub fn open(&self, sealed: &str, aad: &str) -> Result<Vec<u8>, SecretError> {
        let bytes = sealed
            .strip_prefix("v1:")
            .and_then(|b| STANDARD.decode(b).ok())
            .filter(|b| b.len() >= NONCE_LEN + 16)
            .ok_or(SecretError::Open)?;
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretError::Open)?;
        let mut data = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut data)
            .map_err(|_| SecretError::Open)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_key_and_owner() {
        let a = SecretBox::new(&[7; 32]);
        let sealed = a.seal(b"hunter2", "channel-1");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("hunter2"));
        assert_ne!(
            sealed,
            a.seal(b"hunter2", "channel-1"),
            "fresh nonce each time"
        );
        assert_eq!(a.open(&sealed, "channel-1").unwrap(), b"hunter2");
        assert!(a.open(&sealed, "channel-2").is_err());
        assert!(SecretBox::new(&[8; 32]).open(&sealed, "channel-1").is_err());
        assert!(a.open("v1:AAAA", "channel-1").is_err());
        assert!(a.open("garbage", "channel-1").is_err());
    }

    #[test]
    fn key_file_is_created_once_with_mode_0600() {
        let dir = std::env::temp_dir().join(format!("netpulse-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("secret.key");
        let _ = std::fs::remove_file(&file);
        let (first, source) = SecretBox::load(None, &file).unwrap();
        assert_eq!(source, KeySource::CreatedFile);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert!(!SecretBox::file_is_exposed(&file));
        let sealed = first.seal(b"x", "o");
        let (second, source) = SecretBox::load(None, &file).unwrap();
        assert_eq!(source, KeySource::File);
        assert_eq!(second.open(&sealed, "o").unwrap(), b"x");
        let env = STANDARD.encode([1u8; 32]);
        let (from_env, source) = SecretBox::load(Some(&env), &file).unwrap();
        assert_eq!(source, KeySource::Environment);
        assert!(from_env.open(&sealed, "o").is_err());
        assert!(SecretBox::load(Some("c2hvcnQ="), &file).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
