//! ID token signing: HS512 with each registration's own key (the default), or RS256 / RS512
//! with RSA keys Gatehouse keeps in the secret store and publishes at `/jwks`.

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::secret::{SecretString, random_alphanumeric};

/// The secret holding the algorithm setting and the RSA keys.
pub const SECRET_NAME: &str = "signing";

/// A retired key stays published this long: past the life of anything it signed.
pub const RETIRED_KEY_GRACE: Duration = Duration::hours(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SigningAlgorithm {
    #[default]
    HS512,
    RS256,
    RS512,
}

impl SigningAlgorithm {
    pub fn is_asymmetric(self) -> bool {
        self != Self::HS512
    }

    pub fn jwt(self) -> Algorithm {
        match self {
            Self::HS512 => Algorithm::HS512,
            Self::RS256 => Algorithm::RS256,
            Self::RS512 => Algorithm::RS512,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS512 => "RS512",
        }
    }

    /// at_hash / c_hash use the left half of the hash the signature uses (OIDC Core §3.1.3.6).
    pub fn half_hash(self, value: &str) -> String {
        use sha2::Digest as _;
        let digest: Vec<u8> = match self {
            Self::RS256 => sha2::Sha256::digest(value.as_bytes()).to_vec(),
            Self::HS512 | Self::RS512 => sha2::Sha512::digest(value.as_bytes()).to_vec(),
        };
        URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("RSA key generation failed")]
    KeyGeneration,
    #[error("the system random number generator failed")]
    Random,
    #[error("no active key for {0}")]
    NoActiveKey(&'static str),
    #[error("signing failed: {0}")]
    Sign(String),
}

/// One RSA key. The private half is PKCS#8 PEM; the public half is kept ready for the JWKS.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RsaKey {
    pub kid: String,
    pub alg: SigningAlgorithm,
    pub private_pem: SecretString,
    /// Modulus and exponent, base64url.
    pub n: String,
    pub e: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl RsaKey {
    pub fn generate(alg: SigningAlgorithm, now: OffsetDateTime) -> Result<Self, SigningError> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| SigningError::KeyGeneration)?;
        let der = pair.as_der().map_err(|_| SigningError::KeyGeneration)?;
        let body = STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = body.as_bytes().chunks(64).filter_map(|c| std::str::from_utf8(c).ok()).collect();
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"));
        let public = pair.public_key();
        Ok(Self {
            kid: random_alphanumeric(16).map_err(|_| SigningError::Random)?,
            alg,
            private_pem: SecretString::new(pem),
            n: URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            e: URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
            created_at: now.unix_timestamp(),
            retired_at: None,
        })
    }

    fn jwk(&self) -> Value {
        json!({ "kty": "RSA", "use": "sig", "alg": self.alg.name(), "kid": self.kid, "n": self.n, "e": self.e })
    }
}

/// The organisation's signing setting and its RSA keys.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SigningConfig {
    pub algorithm: SigningAlgorithm,
    pub keys: Vec<RsaKey>,
}

impl SigningConfig {
    /// The key that signs now, for an asymmetric algorithm.
    pub fn active_key(&self) -> Option<&RsaKey> {
        self.keys.iter().rev().find(|k| k.retired_at.is_none() && k.alg == self.algorithm)
    }

    /// Chooses the algorithm; an asymmetric one gets a key of its own if it has none.
    pub fn set_algorithm(&mut self, algorithm: SigningAlgorithm, now: OffsetDateTime) -> Result<(), SigningError> {
        self.algorithm = algorithm;
        if algorithm.is_asymmetric() && self.active_key().is_none() {
            self.rotate(now)?;
        }
        Ok(())
    }

    /// A new key signs from now on; the previous one stays published until its tokens expire.
    pub fn rotate(&mut self, now: OffsetDateTime) -> Result<(), SigningError> {
        if !self.algorithm.is_asymmetric() {
            return Err(SigningError::NoActiveKey("HS512: each registration has its own key; regenerate it there"));
        }
        let fresh = RsaKey::generate(self.algorithm, now)?;
        for key in &mut self.keys {
            if key.retired_at.is_none() {
                key.retired_at = Some(now.unix_timestamp());
            }
        }
        let cutoff = (now - RETIRED_KEY_GRACE).unix_timestamp();
        self.keys.retain(|k| k.retired_at.is_none_or(|at| at > cutoff));
        self.keys.push(fresh);
        Ok(())
    }

    /// Active keys and keys retired within the grace period.
    pub fn jwks(&self, now: OffsetDateTime) -> Value {
        let cutoff = (now - RETIRED_KEY_GRACE).unix_timestamp();
        let keys: Vec<Value> =
            self.keys.iter().filter(|k| k.retired_at.is_none_or(|at| at > cutoff)).map(RsaKey::jwk).collect();
        json!({ "keys": keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::signer::Signer;
    use jsonwebtoken::{DecodingKey, Validation, decode};
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

    fn claims() -> Value {
        json!({ "sub": "s", "aud": "a", "iss": "i", "exp": 4_102_444_800i64 })
    }

    fn validation(alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        v.set_audience(&["a"]);
        v
    }

    #[test]
    fn hs512_uses_the_registration_key() {
        let config = SigningConfig::default();
        let key = SecretString::new("k".repeat(64));
        let token = Signer::new(&config).unwrap().sign(&claims(), Some(&key)).unwrap();
        let decoded =
            decode::<Value>(&token, &DecodingKey::from_secret(key.expose().as_bytes()), &validation(Algorithm::HS512));
        assert_eq!(decoded.unwrap().claims["sub"], "s");
        assert_eq!(config.jwks(NOW), json!({ "keys": [] }));
    }

    #[test]
    fn rs256_verifies_with_the_published_key_and_rotation_keeps_the_old_one() {
        let mut config = SigningConfig::default();
        config.set_algorithm(SigningAlgorithm::RS256, NOW).unwrap();
        let token = Signer::new(&config).unwrap().sign(&claims(), None).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        let jwks = config.jwks(NOW);
        let jwk = &jwks["keys"][0];
        assert_eq!(header.kid.as_deref(), jwk["kid"].as_str());
        assert_eq!(jwk["alg"], "RS256");
        let key = DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
        assert!(decode::<Value>(&token, &key, &validation(Algorithm::RS256)).is_ok());

        config.rotate(NOW + Duration::minutes(5)).unwrap();
        assert_eq!(
            config.jwks(NOW + Duration::minutes(5))["keys"].as_array().unwrap().len(),
            2,
            "old key still published"
        );
        assert_ne!(config.active_key().unwrap().kid, header.kid.unwrap());
        let later = NOW + Duration::minutes(5) + RETIRED_KEY_GRACE + Duration::seconds(1);
        assert_eq!(config.jwks(later)["keys"].as_array().unwrap().len(), 1, "and dropped after the grace period");
    }

    #[test]
    fn half_hash_matches_the_spec_example_length() {
        assert_eq!(SigningAlgorithm::RS256.half_hash("x").len(), 22);
        assert_eq!(SigningAlgorithm::HS512.half_hash("x").len(), 43);
    }
}
