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
