//! Local passwords: argon2id hashes in PHC string format.
//!
//! `argon2-rust` is a port of the reference C implementation that picks its SIMD code at run
//! time (AVX2/SSE/NEON), so one binary built for a generic target (a Lambda) hashes as fast as
//! the C built for the host's CPU. Its working area is mapped for each hash and unmapped after
//! it, so the 19 MiB goes back to the OS instead of staying in a glibc arena per thread; one
//! hash runs at a time per process, which bounds that peak to one area and costs nothing on
//! a 1-2 core host (or a Lambda), where the work is CPU-bound anyway.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use argon2_rust::params::Memory;
use argon2_rust::{Algorithm, Argon2, Params, Version};
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
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt).map_err(|_| HashError)?;
        Self::create_with_salt(password, &salt)
    }

    fn create_with_salt(password: &SecretString, salt: &[u8]) -> Result<Self, HashError> {
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, PARAMS);
        let _one_at_a_time = HASHING.lock().unwrap_or_else(PoisonError::into_inner);
        argon2.hash_encoded(password.expose().as_bytes(), salt).map(Self).map_err(|_| HashError)
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

    /// Whether `password` is the one this hash was made from. The tags are compared in constant
    /// time (by `argon2-rust`, as the C's `argon2_compare`). A stored hash whose costs exceed
    /// [`CEILING`] fails without being computed.
    pub fn verify(&self, password: &str) -> bool {
        let _one_at_a_time = HASHING.lock().unwrap_or_else(PoisonError::into_inner);
        Argon2::verify_encoded_bounded(&self.0, password.as_bytes(), Algorithm::Argon2id, &CEILING).is_ok()
    }
}

const SALT_LEN: usize = 16;

/// OWASP's argon2id profile: 19 MiB, 2 passes, 1 lane, a 32-byte tag.
const PARAMS: Params = Params::builder().memory(Memory::kib(19_456)).passes(2).lanes(1).build_or_panic();

/// The most a stored hash may ask of a check: room for stronger parameters later, never a
/// string that makes one sign-in take gigabytes or spawn threads.
const CEILING: Params = Params::builder().memory(Memory::mib(64)).passes(8).lanes(1).build_or_panic();

/// Held for the length of one hash (see the module comment).
static HASHING: Mutex<()> = Mutex::new(());

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
        assert!(hash.as_stored().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hash.verify("correct horse battery"));
        assert!(!hash.verify("correct horse batter"));
        assert!(!hash.verify(""));
        assert!(!PasswordHash::from_stored("garbage".into()).verify("x"));
    }

    /// Hashes stored before the change of crate (made by RustCrypto's `argon2` 0.6 through the
    /// code this module had) still verify.
    #[test]
    fn hashes_made_by_the_previous_crate_verify() {
        for (stored, password) in [
            (
                "$argon2id$v=19$m=19456,t=2,p=1$hS1zXOQlQJO2MB9UpGzjzQ$cttEcYGdu3OMC/n+4qR6q/zyrQcAnSPI7S/ZMVA2kL0",
                "correct horse battery staple",
            ),
            (
                "$argon2id$v=19$m=19456,t=2,p=1$nvC7vMjBVdRpZZRBbHgTiQ$7XsuS6h/L4YE+LR/qHWuouympeWTuGyaVDsTKo/IRCY",
                "Tr0ub4dor&3 is not a passphrase",
            ),
        ] {
            let hash = PasswordHash::from_stored(stored.into());
            assert!(hash.verify(password), "{stored}");
            assert!(!hash.verify(&format!("{password}!")), "{stored}");
        }
    }

    /// The reference C implementation's `argon2id_hash_encoded` (libargon2, t=2, m=19456, p=1,
    /// a 32-byte tag) for this password and salt 00 01 … 0f. Ours gives the same string, so the
    /// reference verifies our hashes and we verify its.
    #[test]
    fn hashes_match_the_reference_implementation() {
        const REFERENCE: &str =
            "$argon2id$v=19$m=19456,t=2,p=1$AAECAwQFBgcICQoLDA0ODw$vMMAspTeAhNLeMVGBzG1ckoH7QzHgVk4EouIr9+UjNE";
        let password = SecretString::new("gatehouse: ünïcode pässwörd");
        let salt: Vec<u8> = (0..16).collect();
        let ours = PasswordHash::create_with_salt(&password, &salt).unwrap();
        assert_eq!(ours.as_stored(), REFERENCE);
        assert!(PasswordHash::from_stored(REFERENCE.into()).verify("gatehouse: ünïcode pässwörd"));
        assert!(!PasswordHash::from_stored(REFERENCE.into()).verify("gatehouse: unicode passwort"));
    }

    /// A stored string asking for more than the ceiling fails without being computed, and so
    /// does another argon2 variant.
    #[test]
    fn costs_beyond_the_ceiling_fail() {
        let tag = "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
        for stored in [
            format!("$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHQ${tag}"),
            format!("$argon2id$v=19$m=19456,t=4000000000,p=1$c29tZXNhbHQ${tag}"),
            format!("$argon2id$v=19$m=19456,t=2,p=64$c29tZXNhbHQ${tag}"),
            format!("$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ${tag}"),
        ] {
            assert!(!PasswordHash::from_stored(stored.clone()).verify("password"), "{stored}");
        }
    }

    #[test]
    fn strength_is_length_only() {
        assert!(check_strength(&SecretString::new("short")).is_err());
        assert!(check_strength(&SecretString::new("twelve chars")).is_ok());
        assert!(check_strength(&SecretString::new("x".repeat(MAX_LENGTH + 1))).is_err());
    }
}
