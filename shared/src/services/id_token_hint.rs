//! Checking an `id_token_hint` (RP-Initiated Logout 1.0 §2): an ID token this provider issued to
//! the app, signed as that app's ID tokens are (HS512 with its key, or one of the published RSA
//! keys). Its issuer and audience must be right; an expired one is still accepted, as the
//! specification allows, because apps often log out long after the token was issued.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::contact::ContactId;
use crate::oidc::signing::{RETIRED_KEY_GRACE, SigningAlgorithm};
use crate::registration::{ClientId, Registration};
use crate::services::signing::signing_config;
use crate::store::{StoreError, Stores};

/// What a valid hint says.
#[derive(Debug, Clone)]
pub struct Hint {
    pub registration: Registration,
    pub sub: ContactId,
    pub sid: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum HintError {
    /// Not a token we issued to a registered app, or its signature, issuer or audience is wrong.
    #[error("{0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Deserialize)]
struct Audience {
    aud: serde_json::Value,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    sid: Option<String>,
}

/// The one audience of an unverified token, to find whose key must verify it.
fn claimed_audience(token: &str) -> Option<ClientId> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: Audience = serde_json::from_slice(&bytes).ok()?;
    match claims.aud {
        serde_json::Value::String(aud) => ClientId::parse(&aud),
        serde_json::Value::Array(list) if list.len() == 1 => list.first()?.as_str().and_then(ClientId::parse),
        _ => None,
    }
}

pub async fn verify(stores: &Stores, issuer: &str, token: &str, now: OffsetDateTime) -> Result<Hint, HintError> {
    crate::oidc::jwt_crypto::install();
    let bad = HintError::Invalid;
    let header = jsonwebtoken::decode_header(token).map_err(|_| bad("id_token_hint is not a signed JWT"))?;
    let client_id = claimed_audience(token).ok_or(bad("id_token_hint has no single audience"))?;
    let registration =
        stores.registrations.get(client_id).await?.ok_or(bad("id_token_hint was not issued to a registered app"))?;
    let key = match header.alg {
        Algorithm::HS512 => {
            let secrets = stores.client_secrets(&registration).await?.ok_or(bad("the app has no signing key"))?;
            let key = secrets.id_token_hmac_key(registration.settings.id_token_hmac_key);
            DecodingKey::from_secret(key.expose().as_bytes())
        }
        Algorithm::RS256 | Algorithm::RS512 | Algorithm::ES256 | Algorithm::EdDSA => {
            let kid = header.kid.as_deref().ok_or(bad("id_token_hint names no key"))?;
            let config = signing_config(stores).await?;
            let cutoff = (now - RETIRED_KEY_GRACE).unix_timestamp();
            let published = config
                .keys
                .iter()
                .filter(|k| k.retired_at.is_none_or(|at| at > cutoff))
                .find(|k| k.kid == kid && k.alg.jwt() == header.alg && k.alg != SigningAlgorithm::HS512)
                .ok_or(bad("id_token_hint is signed with a key Gatehouse does not publish"))?;
            published.public.decoding_key().ok_or(bad("the signing key cannot be read"))?
        }
        _ => return Err(bad("id_token_hint uses an algorithm Gatehouse does not sign with")),
    };
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.set_audience(&[client_id.to_string()]);
    validation.set_issuer(&[issuer]);
    validation.required_spec_claims = HashSet::from(["iss".to_owned(), "aud".to_owned(), "sub".to_owned()]);
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map_err(|_| bad("id_token_hint does not verify: wrong signature, issuer or audience"))?
        .claims;
    let sub = ContactId::parse(&claims.sub).ok_or(bad("id_token_hint has no valid subject"))?;
    Ok(Hint { registration, sub, sid: claims.sid })
}
