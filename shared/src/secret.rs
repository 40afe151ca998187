//! Secret values: redacted `Debug`, constant-time comparison, CSPRNG generation.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The operating system's random source failed; nothing secret can be made.
#[derive(Debug, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct RandomError;

/// Fills a buffer from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|_| RandomError)?;
    Ok(buf)
}

const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A string of `len` characters drawn uniformly from `[A-Za-z0-9]`.
pub fn random_alphanumeric(len: usize) -> Result<String, RandomError> {
    random_from(ALPHANUMERIC, len)
}

/// A string of `len` characters drawn uniformly from `alphabet` (ASCII, 2 to 256 characters).
pub fn random_from(alphabet: &[u8], len: usize) -> Result<String, RandomError> {
    let size = alphabet.len().clamp(1, 256);
    // Bytes at or above the largest multiple of the size are rejected, so every character is
    // equally likely (for 62 characters: 248 = 4 * 62).
    let limit = 256 - 256 % size;
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for byte in random_bytes::<64>()? {
            if usize::from(byte) < limit && out.len() < len {
                out.push(char::from(alphabet[usize::from(byte) % size]));
            }
        }
    }
    Ok(out)
}

/// A secret string. Its `Debug` never shows the value and equality is constant-time.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// A fresh random secret of `len` alphanumeric characters.
    pub fn generate(len: usize) -> Result<Self, RandomError> {
        random_alphanumeric(len).map(Self)
    }

    /// The value itself, for the few places that must send or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison with a presented value.
    pub fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl PartialEq for SecretString {
    fn eq(&self, other: &Self) -> bool {
        self.matches(&other.0)
    }
}

impl Eq for SecretString {}

/// An opaque bearer value handed to a browser or client (session id, code, token).
/// Only its SHA-256 digest is stored, so a leaked table does not leak live credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct OpaqueToken(String);

impl OpaqueToken {
    /// 256 random bits, base64url.
    pub fn generate() -> Result<Self, RandomError> {
        Ok(Self(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)))
    }

    pub fn from_presented(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The storage key for this token.
    pub fn digest(&self) -> TokenDigest {
        TokenDigest(URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.as_bytes())))
    }
}

impl fmt::Debug for OpaqueToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpaqueToken(<redacted>)")
    }
}

/// The stored form of an [`OpaqueToken`]: safe to log and to use as a key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenDigest(String);

impl TokenDigest {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(value: String) -> Self {
        Self(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphanumeric_secrets_have_the_asked_length_and_alphabet() {
        let secret = random_alphanumeric(64).unwrap();
        assert_eq!(secret.len(), 64);
        assert!(secret.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(secret, random_alphanumeric(64).unwrap());
    }

    #[test]
    fn debug_never_shows_the_value() {
        let secret = SecretString::new("hunter2-very-secret");
        assert!(!format!("{secret:?}").contains("hunter2"));
        let token = OpaqueToken::from_presented("abc-token");
        assert!(!format!("{token:?}").contains("abc-token"));
    }

    #[test]
    fn matches_compares_whole_values() {
        let secret = SecretString::new("abc");
        assert!(secret.matches("abc"));
        assert!(!secret.matches("ab"));
        assert!(!secret.matches("abcd"));
    }

    #[test]
    fn digest_is_stable_and_differs_from_the_token() {
        let token = OpaqueToken::generate().unwrap();
        assert_eq!(token.digest(), token.digest());
        assert_ne!(token.digest().as_str(), token.expose());
    }
}
