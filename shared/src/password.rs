//! Local passwords: argon2id hashes in PHC string format.

use std::fmt;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash as PhcHash};
use serde::{Deserialize, Serialize};

use crate::secret::SecretString;

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 256;

/// A stored argon2id hash (PHC string). Not secret in itself, but never shown either.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// Which password a session or token was signed in with: a fingerprint of its hash, or empty
/// for a contact with no password (provider sign-in only).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct CredentialStamp(String);

impl CredentialStamp {
    pub fn of(hash: Option<&PasswordHash>) -> Self {
        hash.map(PasswordHash::stamp).unwrap_or_default()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed")]
pub struct HashError;

impl PasswordHash {
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_stored(&self) -> &str {
        &self.0
    }

    /// Hashes with argon2id and a random salt (OWASP's 19 MiB, 2 passes, 1 lane).
    pub fn create(password: &SecretString) -> Result<Self, HashError> {
        Argon2::default()
            .hash_password(password.expose().as_bytes())
            .map(|hash| Self(hash.to_string()))
            .map_err(|_| HashError)
    }

    /// A short fingerprint of this hash (its salt is random, so every new password has a new
    /// one). Sessions and tokens carry the fingerprint of the password they were signed in
    /// with, so a password change ends them without looking them up.
    pub fn stamp(&self) -> CredentialStamp {
        use base64::Engine as _;
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(self.0.as_bytes());
        CredentialStamp(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..12]))
    }

    pub fn verify(&self, password: &str) -> bool {
        match PhcHash::new(&self.0) {
            Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        }
    }
}

/// Spends the same time as a real check, so unknown usernames cannot be told apart by timing.
pub fn verify_against_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<Option<PasswordHash>> = std::sync::OnceLock::new();
    if let Some(hash) = DUMMY.get_or_init(|| PasswordHash::create(&SecretString::new("gatehouse-dummy-password")).ok())
    {
        let _ = hash.verify(password);
    }
}

/// Length rules only: long passphrases beat composition rules (NIST SP 800-63B).
pub fn check_strength(password: &SecretString) -> Result<(), String> {
    let len = password.expose().chars().count();
    if len < MIN_LENGTH {
        return Err(format!("must be at least {MIN_LENGTH} characters"));
    }
    if len > MAX_LENGTH {
        return Err(format!("must be at most {MAX_LENGTH} characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_only_the_right_password() {
        let hash = PasswordHash::create(&SecretString::new("correct horse battery")).unwrap();
        assert!(hash.as_stored().starts_with("$argon2id$"));
        assert!(hash.verify("correct horse battery"));
        assert!(!hash.verify("correct horse batter"));
        assert!(!PasswordHash::from_stored("garbage".into()).verify("x"));
    }
}
