//! ID token signing: HS512 with each registration's own key (the default), or an asymmetric
//! algorithm with keys Gatehouse keeps in the secret store and publishes at `/jwks`: ES256
//! (P-256, recommended for new deployments: small keys, signatures in microseconds), EdDSA
//! (Ed25519), or RS256 / RS512 (RSA 2048) for apps that only know RSA.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::Algorithm;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use rsa::pkcs8::EncodePrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::secret::{SecretString, random_alphanumeric};

/// The secret holding the algorithm setting and the keys.
pub const SECRET_NAME: &str = "signing";

/// A retired key stays published this long: past the life of anything it signed.
pub const RETIRED_KEY_GRACE: Duration = Duration::hours(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SigningAlgorithm {
    #[default]
    HS512,
    RS256,
    RS512,
    ES256,
    EdDSA,
}

impl SigningAlgorithm {
    pub const ALL: [Self; 5] = [Self::HS512, Self::ES256, Self::EdDSA, Self::RS256, Self::RS512];

    pub fn is_asymmetric(self) -> bool {
        self != Self::HS512
    }

    pub fn jwt(self) -> Algorithm {
        match self {
            Self::HS512 => Algorithm::HS512,
            Self::RS256 => Algorithm::RS256,
            Self::RS512 => Algorithm::RS512,
            Self::ES256 => Algorithm::ES256,
            Self::EdDSA => Algorithm::EdDSA,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS512 => "RS512",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    /// at_hash / c_hash use the left half of the hash the signature uses (OIDC Core §3.1.3.6;
    /// Ed25519 signs with SHA-512, errata set 2).
    pub fn half_hash(self, value: &str) -> String {
        use sha2::Digest as _;
        let digest: Vec<u8> = match self {
            Self::RS256 | Self::ES256 => sha2::Sha256::digest(value.as_bytes()).to_vec(),
            Self::HS512 | Self::RS512 | Self::EdDSA => sha2::Sha512::digest(value.as_bytes()).to_vec(),
        };
        URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("key generation failed")]
    KeyGeneration,
    #[error("the system random number generator failed")]
    Random,
    #[error("no active key for {0}")]
    NoActiveKey(&'static str),
    #[error("signing failed: {0}")]
    Sign(String),
}

/// A key's public half as its JWK members (base64url), kept ready for `/jwks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PublicKey {
    /// Modulus and exponent.
    Rsa { n: String, e: String },
    /// A P-256 point.
    Ec { x: String, y: String },
    /// An Ed25519 key.
    Okp { x: String },
}

impl PublicKey {
    fn jwk_members(&self) -> Value {
        match self {
            Self::Rsa { n, e } => json!({ "kty": "RSA", "n": n, "e": e }),
            Self::Ec { x, y } => json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y }),
            Self::Okp { x } => json!({ "kty": "OKP", "crv": "Ed25519", "x": x }),
        }
    }

    /// The key for checking a signature (an `id_token_hint`'s).
    pub fn decoding_key(&self) -> Option<jsonwebtoken::DecodingKey> {
        use jsonwebtoken::DecodingKey;
        match self {
            Self::Rsa { n, e } => DecodingKey::from_rsa_components(n, e).ok(),
            Self::Ec { x, y } => DecodingKey::from_ec_components(x, y).ok(),
            Self::Okp { x } => DecodingKey::from_ed_components(x).ok(),
        }
    }
}

/// One signing key. The private half is PKCS#8 PEM (stored keys from before ES256 and EdDSA
/// read as they are: their `n` and `e` are the RSA public half).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SigningKey {
    pub kid: String,
    pub alg: SigningAlgorithm,
    pub private_pem: SecretString,
    #[serde(flatten)]
    pub public: PublicKey,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl SigningKey {
    pub fn generate(alg: SigningAlgorithm, now: OffsetDateTime) -> Result<Self, SigningError> {
        fn failed<E>(_: E) -> SigningError {
            SigningError::KeyGeneration
        }
        let (pkcs8, public): (Vec<u8>, PublicKey) = match alg {
            SigningAlgorithm::HS512 => return Err(SigningError::NoActiveKey("HS512")),
            SigningAlgorithm::RS256 | SigningAlgorithm::RS512 => {
                // ring signs with RSA keys but does not make them.
                let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).map_err(failed)?;
                let public = PublicKey::Rsa {
                    n: URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
                    e: URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
                };
                (key.to_pkcs8_der().map_err(failed)?.as_bytes().to_vec(), public)
            }
            SigningAlgorithm::ES256 => {
                let rng = SystemRandom::new();
                let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(failed)?;
                let pair =
                    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).map_err(failed)?;
                // An uncompressed point: 0x04, then x and y, 32 bytes each.
                let point = pair.public_key().as_ref();
                let (x, y) =
                    point.get(1..).filter(|xy| xy.len() == 64).ok_or(SigningError::KeyGeneration)?.split_at(32);
                let public = PublicKey::Ec { x: URL_SAFE_NO_PAD.encode(x), y: URL_SAFE_NO_PAD.encode(y) };
                (pkcs8.as_ref().to_vec(), public)
            }
            SigningAlgorithm::EdDSA => {
                let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(failed)?;
                let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(failed)?;
                let public = PublicKey::Okp { x: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()) };
                (pkcs8.as_ref().to_vec(), public)
            }
        };
        let body = STANDARD.encode(pkcs8);
        let lines: Vec<&str> = body.as_bytes().chunks(64).filter_map(|c| std::str::from_utf8(c).ok()).collect();
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"));
        Ok(Self {
            kid: random_alphanumeric(16).map_err(|_| SigningError::Random)?,
            alg,
            private_pem: SecretString::new(pem),
            public,
            created_at: now.unix_timestamp(),
            retired_at: None,
        })
    }

    /// The PKCS#8 bytes of the private key.
    pub fn private_der(&self) -> Result<Vec<u8>, SigningError> {
        let body: String = self.private_pem.expose().lines().filter(|l| !l.starts_with("-----")).collect();
        STANDARD.decode(body.trim()).map_err(|_| SigningError::Sign("the stored key is not PEM".into()))
    }

    fn jwk(&self) -> Value {
        let mut jwk = self.public.jwk_members();
        if let Some(members) = jwk.as_object_mut() {
            members.insert("use".into(), json!("sig"));
            members.insert("alg".into(), json!(self.alg.name()));
            members.insert("kid".into(), json!(self.kid));
        }
        jwk
    }
}

/// The organisation's signing setting and its keys.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SigningConfig {
    pub algorithm: SigningAlgorithm,
    pub keys: Vec<SigningKey>,
}

impl SigningConfig {
    /// The key that signs now, for an asymmetric algorithm.
    pub fn active_key(&self) -> Option<&SigningKey> {
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
        let fresh = SigningKey::generate(self.algorithm, now)?;
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
            self.keys.iter().filter(|k| k.retired_at.is_none_or(|at| at > cutoff)).map(SigningKey::jwk).collect();
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
        let token = Signer::new(&config, crate::oidc::rsa_key::ring).unwrap().sign(&claims(), Some(&key)).unwrap();
        let decoded =
            decode::<Value>(&token, &DecodingKey::from_secret(key.expose().as_bytes()), &validation(Algorithm::HS512));
        assert_eq!(decoded.unwrap().claims["sub"], "s");
        assert_eq!(config.jwks(NOW), json!({ "keys": [] }));
    }

    #[test]
    fn rs256_verifies_with_the_published_key_and_rotation_keeps_the_old_one() {
        let mut config = SigningConfig::default();
        config.set_algorithm(SigningAlgorithm::RS256, NOW).unwrap();
        let token = Signer::new(&config, crate::oidc::rsa_key::ring).unwrap().sign(&claims(), None).unwrap();
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
    fn keys_stored_before_ec_keys_read_as_rsa_and_each_kind_publishes_its_jwk() {
        let stored = json!({ "algorithm": "RS256", "keys": [{ "kid": "k1", "alg": "RS256", "private_pem": "x",
            "n": "bW9k", "e": "AQAB", "created_at": 1, "retired_at": null }] });
        let config: SigningConfig = serde_json::from_value(stored).unwrap();
        assert_eq!(config.keys[0].public, PublicKey::Rsa { n: "bW9k".into(), e: "AQAB".into() });
        let mut config = SigningConfig::default();
        config.set_algorithm(SigningAlgorithm::ES256, NOW).unwrap();
        config.set_algorithm(SigningAlgorithm::EdDSA, NOW).unwrap();
        let jwks = config.jwks(NOW);
        let kinds: Vec<(&str, &str)> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| (k["kty"].as_str().unwrap(), k["alg"].as_str().unwrap()))
            .collect();
        assert_eq!(kinds, [("EC", "ES256"), ("OKP", "EdDSA")]);
        let round_trip: SigningConfig = serde_json::from_str(&serde_json::to_string(&config).unwrap()).unwrap();
        assert_eq!(
            round_trip.keys.iter().map(|k| k.public.clone()).collect::<Vec<_>>(),
            config.keys.iter().map(|k| k.public.clone()).collect::<Vec<_>>(),
            "EC and OKP keys read back as written"
        );
    }

    #[test]
    fn half_hash_matches_the_spec_example_length() {
        assert_eq!(SigningAlgorithm::RS256.half_hash("x").len(), 22);
        assert_eq!(SigningAlgorithm::HS512.half_hash("x").len(), 43);
    }
}
