//! The ID token signer, parsed from the signing secret once and reused by every token issued in
//! this process until it is [`SIGNER_TTL`] old. On Lambda that saves a Secrets Manager call and a
//! PEM parse per token; the price is that another function's change of algorithm or key reaches
//! this process within `SIGNER_TTL` after the secret store's own per-process copy
//! ([`SECRET_TTL`](crate::store::secret_cache::SECRET_TTL)) was read: two minutes at the
//! most. That is safe for rotation: the retired key stays published
//! at `/jwks` for [`RETIRED_KEY_GRACE`](super::signing::RETIRED_KEY_GRACE), far longer.

use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::oidc::rsa_key::{self, ParseRsa, RsaSign};
use crate::oidc::signing::{SigningAlgorithm, SigningConfig, SigningError};
use crate::secret::SecretString;

/// How long a process signs with what it read before reading the secret again.
pub const SIGNER_TTL: Duration = Duration::seconds(60);

/// Signs ID tokens with the organisation's algorithm.
pub enum Signer {
    /// Each registration's own HS512 key (its JWT signing key or client secret, as its
    /// `id_token_hmac_key` says), given at signing time.
    Hs512,
    /// The active key, parsed once: parsing an RSA key costs more than signing with it.
    Asymmetric { algorithm: SigningAlgorithm, kid: String, key: Box<KeyPair> },
}

/// A parsed private key.
pub enum KeyPair {
    Rsa(Box<dyn RsaSign>),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl KeyPair {
    fn parse(algorithm: SigningAlgorithm, pkcs8: &[u8], rsa: ParseRsa) -> Result<Self, SigningError> {
        fn unreadable(e: impl std::fmt::Display) -> SigningError {
            SigningError::Sign(format!("the key is unreadable: {e}"))
        }
        Ok(match algorithm {
            SigningAlgorithm::HS512 => return Err(SigningError::NoActiveKey("HS512")),
            SigningAlgorithm::RS256 | SigningAlgorithm::RS512 => Self::Rsa(rsa(pkcs8).map_err(unreadable)?),
            SigningAlgorithm::ES256 => {
                let rng = SystemRandom::new();
                Self::Ec(EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng).map_err(unreadable)?)
            }
            SigningAlgorithm::EdDSA => Self::Ed(Ed25519KeyPair::from_pkcs8(pkcs8).map_err(unreadable)?),
        })
    }

    fn sign(&self, algorithm: SigningAlgorithm, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        let failed = || SigningError::Sign("the signature could not be made".into());
        match self {
            Self::Rsa(key) => key.sign(algorithm, message).ok_or_else(failed),
            Self::Ec(pair) => Ok(pair.sign(&SystemRandom::new(), message).map_err(|_| failed())?.as_ref().to_vec()),
            Self::Ed(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}

impl Signer {
    /// The signer for `config`'s active key; `rsa` reads RSA keys ([`rsa_key`]).
    pub fn new(config: &SigningConfig, rsa: ParseRsa) -> Result<Self, SigningError> {
        let alg = config.algorithm;
        if !alg.is_asymmetric() {
            return Ok(Self::Hs512);
        }
        let active = config.active_key().ok_or(SigningError::NoActiveKey(alg.name()))?;
        let key = Box::new(KeyPair::parse(alg, &active.private_der()?, rsa)?);
        Ok(Self::Asymmetric { algorithm: alg, kid: active.kid.clone(), key })
    }

    pub fn algorithm(&self) -> SigningAlgorithm {
        match self {
            Self::Hs512 => SigningAlgorithm::HS512,
            Self::Asymmetric { algorithm, .. } => *algorithm,
        }
    }

    /// Signs `claims`; `registration_key` (the registration's HS512 key) is needed for HS512 only.
    pub fn sign(&self, claims: &Value, registration_key: Option<&SecretString>) -> Result<String, SigningError> {
        // The JWS compact serialisation (RFC 7515 §7.1).
        let part = |value: &Value| {
            serde_json::to_vec(value)
                .map(|json| URL_SAFE_NO_PAD.encode(json))
                .map_err(|e| SigningError::Sign(e.to_string()))
        };
        let header = match self {
            Self::Hs512 => json!({ "typ": "JWT", "alg": "HS512" }),
            Self::Asymmetric { algorithm, kid, .. } => json!({ "typ": "JWT", "alg": algorithm.name(), "kid": kid }),
        };
        let message = format!("{}.{}", part(&header)?, part(claims)?);
        let signature = match self {
            Self::Hs512 => {
                let secret = registration_key.ok_or(SigningError::NoActiveKey("HS512"))?;
                let key = hmac::Key::new(hmac::HMAC_SHA512, secret.expose().as_bytes());
                hmac::sign(&key, message.as_bytes()).as_ref().to_vec()
            }
            Self::Asymmetric { algorithm, key, .. } => key.sign(*algorithm, message.as_bytes())?,
        };
        Ok(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// The process's signer and when it was read; empty until the first token.
pub struct SignerCache {
    slot: Mutex<Option<(OffsetDateTime, Arc<Signer>)>>,
    rsa: ParseRsa,
}

/// Signs RSA with ring ([`rsa_key::ring`]).
impl Default for SignerCache {
    fn default() -> Self {
        Self::new(rsa_key::ring)
    }
}

impl SignerCache {
    /// A cache whose signers read RSA keys with `rsa`.
    pub fn new(rsa: ParseRsa) -> Self {
        Self { slot: Mutex::new(None), rsa }
    }

    /// The signer for `config`, with this cache's RSA signer.
    pub fn signer_for(&self, config: &SigningConfig) -> Result<Signer, SigningError> {
        Signer::new(config, self.rsa)
    }

    /// The cached signer, if it was read less than [`SIGNER_TTL`] before `now`.
    pub fn fresh(&self, now: OffsetDateTime) -> Option<Arc<Signer>> {
        let slot = self.slot();
        let (read_at, signer) = slot.as_ref()?;
        let age = now - *read_at;
        (age >= Duration::ZERO && age < SIGNER_TTL).then(|| signer.clone())
    }

    pub fn keep(&self, signer: Arc<Signer>, now: OffsetDateTime) {
        *self.slot() = Some((now, signer));
    }

    /// Forgets the signer: this process changed the setting or the keys.
    pub fn clear(&self) {
        *self.slot() = None;
    }

    fn slot(&self) -> MutexGuard<'_, Option<(OffsetDateTime, Arc<Signer>)>> {
        // The slot holds no invariant a panicking holder could break.
        self.slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl std::fmt::Debug for SignerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignerCache(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::signing::SigningKey;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

    fn rsa_config() -> SigningConfig {
        let mut config = SigningConfig::default();
        config.set_algorithm(SigningAlgorithm::RS256, NOW).unwrap();
        config
    }

    #[test]
    fn the_cache_serves_for_its_ttl_only() {
        let cache = SignerCache::default();
        assert!(cache.fresh(NOW).is_none(), "empty at first");
        cache.keep(Arc::new(Signer::new(&rsa_config(), rsa_key::ring).unwrap()), NOW);
        assert!(cache.fresh(NOW + SIGNER_TTL - Duration::seconds(1)).is_some());
        assert!(cache.fresh(NOW + SIGNER_TTL).is_none(), "stale at the TTL");
        assert!(cache.fresh(NOW - Duration::seconds(1)).is_none(), "a clock that went back reads again");
        cache.clear();
        assert!(cache.fresh(NOW).is_none());
    }

    #[test]
    fn hs512_needs_the_registration_key() {
        let signer = Signer::new(&SigningConfig::default(), rsa_key::ring).unwrap();
        assert_eq!(signer.algorithm(), SigningAlgorithm::HS512);
        let claims = serde_json::json!({ "sub": "s" });
        assert!(matches!(signer.sign(&claims, None), Err(SigningError::NoActiveKey("HS512"))));
        let secret = "k".repeat(64);
        let token = signer.sign(&claims, Some(&SecretString::new(secret.clone()))).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS512);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let key = jsonwebtoken::DecodingKey::from_secret(secret.as_bytes());
        assert_eq!(jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap().claims, claims);
    }

    #[test]
    fn keys_saved_by_earlier_releases_still_sign() {
        // Generated with AWS-LC before Gatehouse moved to ring.
        let keys: Vec<SigningKey> =
            serde_json::from_str(include_str!("../../tests/fixtures/signing-keys-aws-lc.json")).unwrap();
        assert_eq!(keys.len(), 3);
        for key in keys {
            let algorithm = key.alg;
            let config = SigningConfig { algorithm, keys: vec![key] };
            let token =
                Signer::new(&config, rsa_key::ring).unwrap().sign(&serde_json::json!({ "sub": "s" }), None).unwrap();
            let mut validation = jsonwebtoken::Validation::new(algorithm.jwt());
            validation.required_spec_claims.clear();
            validation.validate_exp = false;
            let published = config.keys[0].public.decoding_key().unwrap();
            let claims = jsonwebtoken::decode::<Value>(&token, &published, &validation).unwrap().claims;
            assert_eq!(claims["sub"], "s", "{algorithm:?}");
        }
    }

    #[test]
    fn every_asymmetric_algorithm_signs_with_the_active_kid_and_verifies_with_the_published_key() {
        for algorithm in SigningAlgorithm::ALL.into_iter().filter(|a| a.is_asymmetric()) {
            let mut config = SigningConfig::default();
            config.set_algorithm(algorithm, NOW).unwrap();
            let signer = Signer::new(&config, rsa_key::ring).unwrap();
            let token = signer.sign(&serde_json::json!({ "sub": "s", "aud": "a" }), None).unwrap();
            let header = jsonwebtoken::decode_header(&token).unwrap();
            let active = config.active_key().unwrap();
            assert_eq!(header.kid.as_deref(), Some(active.kid.as_str()), "{algorithm:?}");
            assert_eq!(header.alg, algorithm.jwt());
            let mut validation = jsonwebtoken::Validation::new(algorithm.jwt());
            validation.required_spec_claims.clear();
            validation.validate_exp = false;
            validation.set_audience(&["a"]);
            let key = active.public.decoding_key().unwrap();
            let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap().claims;
            assert_eq!(claims["sub"], "s", "{algorithm:?}");
        }
    }
}
