//! Access tokens carry their grant sealed inside them rather than in a stored row: issuing one
//! writes nothing (a refresh stores one token, not two) and checking one reads only whether it
//! was revoked. Each token is sealed (AES-256-GCM) under a key of its own, derived with
//! HKDF-SHA256 from the deployment's key and 128 random bits the token carries; the nonce can
//! then be fixed, and no number of tokens wears the deployment's key out (random 96-bit nonces
//! under one key would, past 2^32 tokens).
//!
//! Format: `ga1.` then base64url(salt ‖ ciphertext ‖ tag); the plaintext is the grant's JSON.
//! Nothing in it can be read or changed without the key.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;

use crate::grants::TokenGrant;
use crate::seal::{SealError, key_text};
use crate::secret::{OpaqueToken, SecretString, random_bytes};

const PREFIX: &str = "ga1.";
const SALT_LEN: usize = 16;
/// Binds a sealed token to its purpose: nothing sealed for another use opens as one.
const AAD: &[u8] = b"gatehouse access token v1";

/// The deployment's access-token key (an HKDF pseudo-random key).
pub struct AccessTokenKey(hkdf::Prk);

impl fmt::Debug for AccessTokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessTokenKey(<redacted>)")
    }
}

impl AccessTokenKey {
    /// The key text is random (made by the secret store or by us), of any alphabet.
    pub fn from_secret(secret: &SecretString) -> Result<Self, SealError> {
        let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"gatehouse access tokens");
        Ok(Self(salt.extract(key_text(secret)?)))
    }

    /// A new access token carrying `grant`.
    pub fn seal(&self, grant: &TokenGrant) -> Result<OpaqueToken, SealError> {
        let salt = random_bytes::<SALT_LEN>().map_err(|_| SealError::Seal)?;
        let mut in_out = serde_json::to_vec(grant).map_err(|_| SealError::Seal)?;
        self.token_key(&salt)?
            .seal_in_place_append_tag(fixed_nonce(), Aad::from(AAD), &mut in_out)
            .map_err(|_| SealError::Seal)?;
        let mut bytes = Vec::with_capacity(SALT_LEN + in_out.len());
        bytes.extend_from_slice(&salt);
        bytes.extend_from_slice(&in_out);
        Ok(OpaqueToken::from_presented(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))))
    }

    /// The grant a presented token carries, if it was sealed under this key and is intact.
    /// Expiry and revocation are the caller's to check.
    pub fn open(&self, presented: &str) -> Option<TokenGrant> {
        let bytes = URL_SAFE_NO_PAD.decode(presented.strip_prefix(PREFIX)?).ok()?;
        if bytes.len() < SALT_LEN {
            return None;
        }
        let (salt, sealed) = bytes.split_at(SALT_LEN);
        let mut in_out = sealed.to_vec();
        let plain = self.token_key(salt).ok()?.open_in_place(fixed_nonce(), Aad::from(AAD), &mut in_out).ok()?;
        serde_json::from_slice(plain).ok()
    }

    /// The token's own key: HKDF-Expand of the deployment's key with the token's salt.
    fn token_key(&self, salt: &[u8]) -> Result<LessSafeKey, SealError> {
        let info = [salt];
        let okm = self.0.expand(&info, &AES_256_GCM).map_err(|_| SealError::Seal)?;
        Ok(LessSafeKey::new(UnboundKey::from(okm)))
    }
}

/// Every token has a key of its own, used once: a fixed nonce is safe.
fn fixed_nonce() -> Nonce {
    Nonce::assume_unique_for_key([0; NONCE_LEN])
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::contact::ContactId;
    use crate::grants::{FamilyId, GrantClient};
    use crate::scope::Scopes;

    fn key(text: &str) -> AccessTokenKey {
        AccessTokenKey::from_secret(&SecretString::new(text.repeat(50))).unwrap()
    }

    fn grant() -> TokenGrant {
        TokenGrant {
            client_id: GrantClient::Admin,
            contact_id: ContactId::new_random(),
            scope: Scopes::parse("openid admin"),
            family: FamilyId::from_stored("family-1".into()),
            auth_time: OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
            expires_at: OffsetDateTime::from_unix_timestamp(1_700_003_600).unwrap(),
            public_client: false,
            credential: Default::default(),
            sid: Some("sid-1".into()),
            method: Default::default(),
        }
    }

    #[test]
    fn a_sealed_grant_opens_whole_under_its_key_only() {
        let grant = grant();
        let token = key("k").seal(&grant).unwrap();
        assert!(token.expose().starts_with(PREFIX));
        assert_eq!(key("k").open(token.expose()), Some(grant.clone()));
        assert_eq!(key("other").open(token.expose()), None, "another deployment's key");
        let again = key("k").seal(&grant).unwrap();
        assert_ne!(token.expose(), again.expose(), "each token has its own salt");
    }

    #[test]
    fn a_changed_or_foreign_token_does_not_open() {
        let key = key("k");
        let token = key.seal(&grant()).unwrap();
        let text = token.expose();
        let body = &text[PREFIX.len()..];
        for flipped_at in [0, SALT_LEN + 2, body.len() - 3] {
            let mut changed: Vec<u8> = body.bytes().collect();
            changed[flipped_at] = if changed[flipped_at] == b'A' { b'B' } else { b'A' };
            let changed = format!("{PREFIX}{}", String::from_utf8(changed).unwrap());
            assert_eq!(key.open(&changed), None, "a change at {flipped_at}");
        }
        assert_eq!(key.open(body), None, "without the prefix");
        assert_eq!(key.open(&text[..text.len() - 10]), None, "cut short");
        for foreign in ["", "ga1.", "ga1.!!!", "abc", "ga1.AAAA"] {
            assert_eq!(key.open(foreign), None, "{foreign:?}");
        }
    }

    #[test]
    fn a_short_key_text_is_refused() {
        assert!(matches!(AccessTokenKey::from_secret(&SecretString::new("short")), Err(SealError::WeakKey)));
    }
}
