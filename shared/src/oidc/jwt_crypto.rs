//! jsonwebtoken's cryptography on ring. Its own backends are AWS-LC and RustCrypto, either a
//! second crypto library in the sign-in function, which verifies ID token hints with it. Only
//! verification of what Gatehouse signs (HS512, RS256, RS512, ES256, EdDSA): Gatehouse signs
//! with [`Signer`](super::signer::Signer).

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{self, Verifier};
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_2048_8192_SHA512, RsaPublicKeyComponents,
    UnparsedPublicKey,
};

static PROVIDER: CryptoProvider =
    CryptoProvider { signer_factory, verifier_factory, key_utils: KeyUtils::new_unimplemented() };

/// Makes ring jsonwebtoken's cryptography in this process. Call before decoding; later calls
/// (and a provider installed before) leave it as it is.
pub fn install() {
    let _already = PROVIDER.install_default();
}

fn signer_factory(_: &Algorithm, _: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    Err(ErrorKind::UnsupportedAlgorithm.into())
}

fn verifier_factory(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    let check = match (algorithm, key.kind()) {
        (Algorithm::HS512, DecodingKeyKind::SecretOrDer(secret)) => {
            Check::Hmac(ring::hmac::Key::new(ring::hmac::HMAC_SHA512, secret))
        }
        (Algorithm::RS256 | Algorithm::RS512, DecodingKeyKind::RsaModulusExponent { n, e }) => Check::Rsa {
            hash: if *algorithm == Algorithm::RS512 {
                &RSA_PKCS1_2048_8192_SHA512
            } else {
                &RSA_PKCS1_2048_8192_SHA256
            },
            key: RsaPublicKeyComponents { n: n.clone(), e: e.clone() },
        },
        // An uncompressed P-256 point, and a raw Ed25519 key: what DecodingKey keeps of the JWK.
        (Algorithm::ES256, DecodingKeyKind::SecretOrDer(point)) => {
            Check::Public(UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point.clone()))
        }
        (Algorithm::EdDSA, DecodingKeyKind::SecretOrDer(public)) => {
            Check::Public(UnparsedPublicKey::new(&ED25519, public.clone()))
        }
        _ => return Err(ErrorKind::UnsupportedAlgorithm.into()),
    };
    Ok(Box::new(RingVerifier { algorithm: *algorithm, check }))
}

enum Check {
    Hmac(ring::hmac::Key),
    Rsa { hash: &'static ring::signature::RsaParameters, key: RsaPublicKeyComponents<Vec<u8>> },
    Public(UnparsedPublicKey<Vec<u8>>),
}

struct RingVerifier {
    algorithm: Algorithm,
    check: Check,
}

impl Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        let verified = match &self.check {
            // Constant time.
            Check::Hmac(key) => ring::hmac::verify(key, message, signature),
            Check::Rsa { hash, key } => key.verify(hash, message, signature),
            Check::Public(key) => key.verify(message, signature),
        };
        verified.map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::rsa_key;
    use crate::oidc::signer::Signer;
    use crate::oidc::signing::{SigningAlgorithm, SigningConfig};
    use crate::secret::SecretString;
    use time::macros::datetime;

    /// Checks `token`'s signature as `jsonwebtoken::decode` does, with this provider.
    fn verifies(token: &str, algorithm: SigningAlgorithm, key: &DecodingKey) -> bool {
        let (message, signature) = token.rsplit_once('.').unwrap();
        let signature = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature).unwrap();
        let verifier = verifier_factory(&algorithm.jwt(), key).unwrap();
        verifier.verify(message.as_bytes(), &signature).is_ok()
    }

    #[test]
    fn what_gatehouse_signs_verifies_and_nothing_else() {
        let claims = serde_json::json!({ "sub": "s" });
        for algorithm in SigningAlgorithm::ALL {
            let mut config = SigningConfig::default();
            config.set_algorithm(algorithm, datetime!(2026-01-01 00:00 UTC)).unwrap();
            let secret = SecretString::new("k".repeat(64));
            let token = Signer::new(&config, rsa_key::ring).unwrap().sign(&claims, Some(&secret)).unwrap();
            let key = match config.active_key() {
                Some(active) => active.public.decoding_key().unwrap(),
                None => DecodingKey::from_secret(secret.expose().as_bytes()),
            };
            assert!(verifies(&token, algorithm, &key), "{algorithm:?}");
            let mut forged = token.clone();
            forged.insert(token.find('.').unwrap() + 1, 'e');
            assert!(!verifies(&forged, algorithm, &key), "{algorithm:?}: a changed payload");
        }
        let wrong = DecodingKey::from_secret(b"another key");
        assert!(verifier_factory(&Algorithm::PS256, &wrong).is_err(), "not an algorithm Gatehouse signs with");
    }
}
