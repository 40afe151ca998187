//! RSA private keys for RS256 / RS512 ID tokens, with two signers: ring's, which every function
//! links anyway, and AWS-LC's, whose AVX-512 RSA signs an RS256 token in ~280 µs where ring takes
//! ~450 µs (`bench-signing`). The token function and the local server, which sign nearly every
//! RS256 token, choose AWS-LC at start-up (`SignerCache::new`);
//! the choice is a function pointer, so the other functions never reference AWS-LC and their
//! link drops it.

use crate::oidc::signing::SigningAlgorithm;

/// Signs with one parsed RSA private key.
pub trait RsaSign: Send + Sync {
    /// An RSASSA-PKCS1-v1_5 signature of `message`, hashed as `algorithm` says (RS256, RS512).
    fn sign(&self, algorithm: SigningAlgorithm, message: &[u8]) -> Option<Vec<u8>>;
}

/// Reads a PKCS#8 RSA private key; the error says why it was refused.
pub type ParseRsa = fn(&[u8]) -> Result<Box<dyn RsaSign>, String>;

/// ring's RSA: the default.
pub fn ring(pkcs8: &[u8]) -> Result<Box<dyn RsaSign>, String> {
    ring::signature::RsaKeyPair::from_pkcs8(pkcs8)
        .map(|key| Box::new(key) as Box<dyn RsaSign>)
        .map_err(|e| e.to_string())
}

/// AWS-LC's RSA: faster, and a second crypto library in the binary.
pub fn aws_lc(pkcs8: &[u8]) -> Result<Box<dyn RsaSign>, String> {
    aws_lc_rs::rsa::KeyPair::from_pkcs8(pkcs8).map(|key| Box::new(key) as Box<dyn RsaSign>).map_err(|e| e.to_string())
}

impl RsaSign for ring::signature::RsaKeyPair {
    fn sign(&self, algorithm: SigningAlgorithm, message: &[u8]) -> Option<Vec<u8>> {
        use ring::signature::{RSA_PKCS1_SHA256, RSA_PKCS1_SHA512};
        let padding = if algorithm == SigningAlgorithm::RS512 { &RSA_PKCS1_SHA512 } else { &RSA_PKCS1_SHA256 };
        let mut signature = vec![0; self.public().modulus_len()];
        ring::signature::RsaKeyPair::sign(self, padding, &ring::rand::SystemRandom::new(), message, &mut signature)
            .ok()?;
        Some(signature)
    }
}

impl RsaSign for aws_lc_rs::rsa::KeyPair {
    fn sign(&self, algorithm: SigningAlgorithm, message: &[u8]) -> Option<Vec<u8>> {
        use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RSA_PKCS1_SHA512};
        let padding = if algorithm == SigningAlgorithm::RS512 { &RSA_PKCS1_SHA512 } else { &RSA_PKCS1_SHA256 };
        let mut signature = vec![0; self.public_modulus_len()];
        aws_lc_rs::rsa::KeyPair::sign(self, padding, &aws_lc_rs::rand::SystemRandom::new(), message, &mut signature)
            .ok()?;
        Some(signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_signers_make_the_same_signature() {
        // PKCS#1 v1.5 is deterministic: the two libraries must agree byte for byte.
        let keys: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../../tests/fixtures/signing-keys-aws-lc.json")).unwrap();
        let pem = keys.iter().find(|k| k["alg"] == "RS256").unwrap()["private_pem"].as_str().unwrap();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).unwrap();
        for algorithm in [SigningAlgorithm::RS256, SigningAlgorithm::RS512] {
            let by_ring = ring(&der).unwrap().sign(algorithm, b"message").unwrap();
            assert_eq!(by_ring.len(), 256);
            assert_eq!(aws_lc(&der).unwrap().sign(algorithm, b"message").unwrap(), by_ring, "{algorithm:?}");
        }
    }
}
