//! RSA private keys for RS256 / RS512 ID tokens, with two signers: ring's, which every function
//! links anyway, and AWS-LC's, whose AVX-512 RSA signs an RS256 token in ~230 µs where ring takes
//! ~460 µs (`bench-signing`). The token function and the local server, which sign nearly every
//! RS256 token, choose AWS-LC at start-up (`SignerCache::new`);
//! the choice is a function pointer, so the other functions never reference AWS-LC and their
//! link drops it.

use std::ffi::c_uint;
use std::ptr::NonNull;

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

/// AWS-LC's RSA: faster, at 0.2 MB of package. Called through AWS-LC's own RSA functions:
/// aws-lc-rs goes through EVP, whose method table links every algorithm AWS-LC has (ML-DSA,
/// ML-KEM, X25519, P-521…), 1.9 MB of package for the one used here.
pub fn aws_lc(pkcs8: &[u8]) -> Result<Box<dyn RsaSign>, String> {
    use rsa::pkcs8::PrivateKeyInfo;
    let info = PrivateKeyInfo::try_from(pkcs8).map_err(|e| format!("not a PKCS#8 key: {e}"))?;
    if info.algorithm.oid != rsa::pkcs1::ALGORITHM_OID {
        return Err("not an RSA key".into());
    }
    AwsLcRsa::from_pkcs1(info.private_key).map(|key| Box::new(key) as Box<dyn RsaSign>)
}

/// An RSA private key held by AWS-LC.
struct AwsLcRsa(NonNull<aws_lc_sys::RSA>);

// SAFETY: AWS-LC's RSA objects are immutable once parsed, apart from caches (Montgomery
// contexts, blinding) that AWS-LC guards with the object's own lock, so private-key operations
// may run on several threads at once (as aws-lc-rs's Send + Sync KeyPair relies on too).
unsafe impl Send for AwsLcRsa {}
unsafe impl Sync for AwsLcRsa {}

impl AwsLcRsa {
    fn from_pkcs1(der: &[u8]) -> Result<Self, String> {
        // SAFETY: CRYPTO_library_init takes no arguments and may be called any number of times;
        // RSA_private_key_from_bytes only reads `der` and returns a new object or null. It also
        // runs RSA_check_key, so an inconsistent key is refused here.
        let parsed = unsafe {
            aws_lc_sys::CRYPTO_library_init();
            aws_lc_sys::RSA_private_key_from_bytes(der.as_ptr(), der.len())
        };
        Ok(Self(NonNull::new(parsed).ok_or("AWS-LC could not read the RSA key")?))
    }
}

impl Drop for AwsLcRsa {
    fn drop(&mut self) {
        // SAFETY: the object was made by RSA_private_key_from_bytes and is freed once, here.
        unsafe { aws_lc_sys::RSA_free(self.0.as_ptr()) }
    }
}

impl RsaSign for AwsLcRsa {
    fn sign(&self, algorithm: SigningAlgorithm, message: &[u8]) -> Option<Vec<u8>> {
        let (digest, nid) = if algorithm == SigningAlgorithm::RS512 {
            (ring::digest::digest(&ring::digest::SHA512, message), aws_lc_sys::NID_sha512)
        } else {
            (ring::digest::digest(&ring::digest::SHA256, message), aws_lc_sys::NID_sha256)
        };
        let key = self.0.as_ptr();
        // SAFETY: `key` is live for the call; RSA_size only reads it.
        let mut signature = vec![0; unsafe { aws_lc_sys::RSA_size(key) } as usize];
        let mut written: c_uint = 0;
        // SAFETY: `signature` has RSA_size bytes, as RSA_sign requires; `written` receives the
        // length; concurrent use of `key` is safe (see the Send/Sync note above).
        let signed = unsafe {
            aws_lc_sys::RSA_sign(
                nid,
                digest.as_ref().as_ptr(),
                digest.as_ref().len(),
                signature.as_mut_ptr(),
                &mut written,
                key,
            )
        };
        (signed == 1).then(|| {
            signature.truncate(written as usize);
            signature
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::signing::SigningKey;

    /// The PKCS#8 bytes of the fixture's `alg` key (saved by a release on AWS-LC).
    fn fixture_der(alg: SigningAlgorithm) -> Vec<u8> {
        let keys: Vec<SigningKey> =
            serde_json::from_str(include_str!("../../tests/fixtures/signing-keys-aws-lc.json")).unwrap();
        keys.iter().find(|k| k.alg == alg).unwrap().private_der().unwrap()
    }

    #[test]
    fn both_signers_make_the_same_signature() {
        // PKCS#1 v1.5 is deterministic: the two libraries must agree byte for byte.
        let der = fixture_der(SigningAlgorithm::RS256);
        for algorithm in [SigningAlgorithm::RS256, SigningAlgorithm::RS512] {
            let by_ring = ring(&der).unwrap().sign(algorithm, b"message").unwrap();
            assert_eq!(by_ring.len(), 256);
            assert_eq!(aws_lc(&der).unwrap().sign(algorithm, b"message").unwrap(), by_ring, "{algorithm:?}");
        }
    }

    #[test]
    fn aws_lc_refuses_what_is_not_an_rsa_key() {
        assert_eq!(aws_lc(&fixture_der(SigningAlgorithm::ES256)).err().unwrap(), "not an RSA key");
        assert!(aws_lc(b"not DER").err().unwrap().starts_with("not a PKCS#8 key"));
        // A PKCS#8 wrapper whose RSA key has one byte of a CRT exponent (dP) changed: well-formed
        // DER, refused by the key's consistency check as AWS-LC reads it.
        let mut tampered = fixture_der(SigningAlgorithm::RS256);
        let at = tampered.len() - 300;
        tampered[at] ^= 1;
        assert!(aws_lc(&tampered).is_err());
    }
}
