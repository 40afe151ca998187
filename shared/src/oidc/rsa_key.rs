//! RSA private keys for RS256 / RS512 ID tokens. ring signs everywhere by default; the feature
//! `aws-lc-rsa` (the token function and the local server, where every RS256 token is signed)
//! signs with AWS-LC instead, whose AVX-512 RSA takes ~280 µs per RS256 signature where ring
//! takes ~450 µs (`bench-signing`). The other functions then link no second crypto library.

#[cfg(feature = "aws-lc-rsa")]
use aws_lc_rs::{
    rand::SystemRandom,
    rsa::KeyPair,
    signature::{RSA_PKCS1_SHA256, RSA_PKCS1_SHA512},
};
#[cfg(not(feature = "aws-lc-rsa"))]
use ring::{
    rand::SystemRandom,
    signature::{RSA_PKCS1_SHA256, RSA_PKCS1_SHA512, RsaKeyPair as KeyPair},
};

/// The signature's hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaHash {
    Sha256,
    Sha512,
}

/// A parsed RSA private key.
pub struct RsaKey(KeyPair);

impl RsaKey {
    /// Reads a PKCS#8 key; the error says why it was refused.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, String> {
        KeyPair::from_pkcs8(pkcs8).map(Self).map_err(|e| e.to_string())
    }

    /// An RSASSA-PKCS1-v1_5 signature of `message`.
    pub fn sign(&self, hash: RsaHash, message: &[u8]) -> Option<Vec<u8>> {
        let padding = match hash {
            RsaHash::Sha256 => &RSA_PKCS1_SHA256,
            RsaHash::Sha512 => &RSA_PKCS1_SHA512,
        };
        let mut signature = vec![0; self.modulus_len()];
        self.0.sign(padding, &SystemRandom::new(), message, &mut signature).ok()?;
        Some(signature)
    }

    #[cfg(feature = "aws-lc-rsa")]
    fn modulus_len(&self) -> usize {
        self.0.public_modulus_len()
    }

    #[cfg(not(feature = "aws-lc-rsa"))]
    fn modulus_len(&self) -> usize {
        self.0.public().modulus_len()
    }
}
