//! Local passwords: argon2id hashes in PHC string format.
//!
//! Every hash in the process works in one 19 MiB area, allocated once: allocating it per
//! hash left glibc keeping a freed 19 MiB block in each thread's arena (hundreds of MiB after
//! a few dozen sign-ins). The price is that hashes run one at a time per process, which the
//! CPU-bound work on a 1-2 core host (or a Lambda) does anyway.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash as PhcHash, Version};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

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
        let params = Params::default();
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        hash_into(Algorithm::Argon2id, Version::V0x13, params.clone(), password.expose().as_bytes(), &salt, &mut out)?;
        let phc = PhcHash {
            algorithm: Algorithm::Argon2id.into(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|_| HashError)?,
            salt: Some(Salt::new(&salt).map_err(|_| HashError)?),
            hash: Some(Output::new(&out).map_err(|_| HashError)?),
        };
        Ok(Self(phc.to_string()))
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
        let Ok(phc) = PhcHash::new(&self.0) else { return false };
        let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else { return false };
        let parsed = (
            Algorithm::new(phc.algorithm.as_str()),
            Version::try_from(phc.version.unwrap_or(Version::V0x13.into())),
            Params::try_from(&phc),
        );
        let (Ok(algorithm), Ok(version), Ok(params)) = parsed else { return false };
        let mut out = vec![0u8; expected.len()];
        if hash_into(algorithm, version, params, password.as_bytes(), salt, &mut out).is_err() {
            return false;
        }
        out.ct_eq(expected.as_bytes()).into()
    }
}

const SALT_LEN: usize = 16;

/// The process's one working area for argon2 (see the module comment).
static MEMORY: Mutex<Vec<Block>> = Mutex::new(Vec::new());

fn hash_into(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), HashError> {
    let blocks = params.block_count();
    // A panic mid-hash leaves only scratch data behind: the next hash overwrites it.
    let mut memory = MEMORY.lock().unwrap_or_else(PoisonError::into_inner);
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let area = memory.get_mut(..blocks).ok_or(HashError)?;
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, out, area)
        .map_err(|_| HashError)
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
