//! Access and refresh tokens carry their grant sealed inside them rather than in a stored row:
//! issuing them writes nothing, checking an access token reads only whether it was revoked, and
//! rotating a refresh token writes only that it was spent (one small row instead of updating
//! the old token's row and inserting the new one's). Each token is sealed (AES-256-GCM) under a
//! key of its own, derived with HKDF-SHA256 from the deployment's key and 128 random bits the
//! token carries; the nonce can then be fixed, and no number of tokens wears the deployment's
//! key out (random 96-bit nonces under one key would, past 2^32 tokens).
//!
//! Format: a prefix naming the use (`ga1.` access, `gr1.` refresh), then base64url(salt ‖
//! ciphertext ‖ tag); the plaintext is the grant's JSON, and the use is bound in as associated
//! data, so one kind never opens as the other. Nothing in a token can be read or changed
//! without the key.

use std::fmt;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;

use crate::grants::TokenGrant;
use crate::seal::{SealError, key_text};
use crate::secret::{OpaqueToken, SecretString, random_bytes};

const SALT_LEN: usize = 16;

/// What a sealed token is for: each use has its own prefix and associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    Access,
    Refresh,
}

impl TokenUse {
    fn prefix(self) -> &'static str {
        match self {
            Self::Access => "ga1.",
            Self::Refresh => "gr1.",
        }
    }

    /// Binds a sealed token to its use: nothing sealed for another use opens as this one.
    fn aad(self) -> &'static [u8] {
        match self {
            Self::Access => b"gatehouse access token v1",
            Self::Refresh => b"gatehouse refresh token v1",
        }
    }

    /// Whether `presented` has this use's form (it may still not open). Refresh tokens issued
    /// before they were sealed are stored rows and have not.
    pub fn is_form_of(self, presented: &str) -> bool {
        presented.starts_with(self.prefix())
    }
}

/// The deployment's token key (an HKDF pseudo-random key).
pub struct TokenKey(hkdf::Prk);

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(<redacted>)")
    }
}

impl TokenKey {
    /// The key text is random (made by the secret store or by us), of any alphabet.
    pub fn from_secret(secret: &SecretString) -> Result<Self, SealError> {
        // The salt's text predates refresh tokens: changing it would end every access token.
        let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"gatehouse access tokens");
        Ok(Self(salt.extract(key_text(secret)?)))
    }

    /// A new token for `use_` carrying `grant`.
    pub fn seal(&self, use_: TokenUse, grant: &TokenGrant) -> Result<OpaqueToken, SealError> {
        let salt = random_bytes::<SALT_LEN>().map_err(|_| SealError::Seal)?;
        let mut in_out = serde_json::to_vec(grant).map_err(|_| SealError::Seal)?;
        self.token_key(&salt)?
            .seal_in_place_append_tag(fixed_nonce(), Aad::from(use_.aad()), &mut in_out)
            .map_err(|_| SealError::Seal)?;
        let mut bytes = Vec::with_capacity(SALT_LEN + in_out.len());
        bytes.extend_from_slice(&salt);
        bytes.extend_from_slice(&in_out);
        Ok(OpaqueToken::from_presented(format!("{}{}", use_.prefix(), URL_SAFE_NO_PAD.encode(bytes))))
    }

    /// The grant a presented token carries, if it was sealed for `use_` under this key and is
    /// intact. Expiry and revocation are the caller's to check.
    pub fn open(&self, use_: TokenUse, presented: &str) -> Option<TokenGrant> {
        let bytes = URL_SAFE_NO_PAD.decode(presented.strip_prefix(use_.prefix())?).ok()?;
        if bytes.len() < SALT_LEN {
            return None;
        }
        let (salt, sealed) = bytes.split_at(SALT_LEN);
        let mut in_out = sealed.to_vec();
        let plain = self.token_key(salt).ok()?.open_in_place(fixed_nonce(), Aad::from(use_.aad()), &mut in_out).ok()?;
        serde_json::from_slice(plain).ok()
    }

    /// The token's own key: HKDF-Expand of the deployment's key with the token's salt.
    fn token_key(&self, salt: &[u8]) -> Result<LessSafeKey, SealError> {
        let info = [salt];
        let okm = self.0.expand(&info, &AES_256_GCM).map_err(|_| SealError::Seal)?;
        Ok(LessSafeKey::new(UnboundKey::from(okm)))
    }
}

/// The key derived from the secret as last read. The secret store already keeps its own copy
/// for a minute; deriving the key from it again (an HKDF-Extract) cost about 1.5% of a
/// refresh, which derived it twice. A secret that differs from the last is derived afresh.
#[derive(Default)]
pub struct TokenKeyCache(Mutex<Option<(SecretString, Arc<TokenKey>)>>);

impl TokenKeyCache {
    pub fn derived_from(&self, secret: &SecretString) -> Result<Arc<TokenKey>, SealError> {
        // The slot holds no invariant a panicking holder could break.
        let mut slot = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((from, key)) = slot.as_ref()
            && from == secret
        {
            return Ok(key.clone());
        }
        let key = Arc::new(TokenKey::from_secret(secret)?);
        *slot = Some((secret.clone(), key.clone()));
        Ok(key)
    }
}

impl fmt::Debug for TokenKeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKeyCache(..)")
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

    fn key(text: &str) -> TokenKey {
        TokenKey::from_secret(&SecretString::new(text.repeat(50))).unwrap()
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

    const USES: [TokenUse; 2] = [TokenUse::Access, TokenUse::Refresh];

    #[test]
    fn a_sealed_grant_opens_whole_under_its_key_and_use_only() {
        let grant = grant();
        for use_ in USES {
            let token = key("k").seal(use_, &grant).unwrap();
            assert!(use_.is_form_of(token.expose()));
            assert_eq!(key("k").open(use_, token.expose()), Some(grant.clone()));
            assert_eq!(key("other").open(use_, token.expose()), None, "another deployment's key");
            let again = key("k").seal(use_, &grant).unwrap();
            assert_ne!(token.expose(), again.expose(), "each token has its own salt");
        }
        let access = key("k").seal(TokenUse::Access, &grant).unwrap();
        let refresh = key("k").seal(TokenUse::Refresh, &grant).unwrap();
        assert_eq!(key("k").open(TokenUse::Refresh, access.expose()), None, "an access token is no refresh token");
        assert_eq!(key("k").open(TokenUse::Access, refresh.expose()), None, "nor the other way round");
        // Under the other use's prefix, the associated data still tells them apart.
        let relabelled =
            format!("{}{}", TokenUse::Refresh.prefix(), &access.expose()[TokenUse::Access.prefix().len()..]);
        assert_eq!(key("k").open(TokenUse::Refresh, &relabelled), None, "relabelled");
    }

    #[test]
    fn a_changed_or_foreign_token_does_not_open() {
        let key = key("k");
        for use_ in USES {
            let prefix = use_.prefix();
            let token = key.seal(use_, &grant()).unwrap();
            let text = token.expose();
            let body = &text[prefix.len()..];
            for flipped_at in [0, SALT_LEN + 2, body.len() - 3] {
                let mut changed: Vec<u8> = body.bytes().collect();
                changed[flipped_at] = if changed[flipped_at] == b'A' { b'B' } else { b'A' };
                let changed = format!("{prefix}{}", String::from_utf8(changed).unwrap());
                assert_eq!(key.open(use_, &changed), None, "a change at {flipped_at}");
            }
            assert_eq!(key.open(use_, body), None, "without the prefix");
            assert_eq!(key.open(use_, &text[..text.len() - 10]), None, "cut short");
            for foreign in ["", prefix, &format!("{prefix}!!!"), "abc", &format!("{prefix}AAAA")] {
                assert_eq!(key.open(use_, foreign), None, "{foreign:?}");
            }
        }
    }

    #[test]
    fn a_short_key_text_is_refused() {
        assert!(matches!(TokenKey::from_secret(&SecretString::new("short")), Err(SealError::WeakKey)));
    }

    #[test]
    fn the_cache_derives_again_only_when_the_secret_changes() {
        let cache = TokenKeyCache::default();
        let first = SecretString::new("a".repeat(64));
        let key = cache.derived_from(&first).unwrap();
        assert!(Arc::ptr_eq(&key, &cache.derived_from(&first.clone()).unwrap()), "the same secret: the same key");
        let rotated = SecretString::new("b".repeat(64));
        let new_key = cache.derived_from(&rotated).unwrap();
        assert!(!Arc::ptr_eq(&key, &new_key), "a rotated secret: a new key");
        // What the cache hands out is what deriving afresh gives.
        let grant = grant();
        let sealed = new_key.seal(TokenUse::Access, &grant).unwrap();
        let fresh = TokenKey::from_secret(&rotated).unwrap();
        assert_eq!(fresh.open(TokenUse::Access, sealed.expose()), Some(grant.clone()));
        assert_eq!(key.open(TokenUse::Access, sealed.expose()), None, "the old key does not open it");
        assert!(matches!(cache.derived_from(&SecretString::new("short")), Err(SealError::WeakKey)));
        assert!(Arc::ptr_eq(&new_key, &cache.derived_from(&rotated).unwrap()), "a refused secret keeps the last key");
    }
}
