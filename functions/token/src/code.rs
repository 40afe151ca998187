//! `grant_type=authorization_code`: single use, 60 s, bound to client, redirect URI and PKCE.

use gatehouse::app::AppState;
use gatehouse::grants::{FamilyId, Redeemed};
use gatehouse::oidc::pkce;
use gatehouse::oidc::scope::Scope;
use gatehouse::oidc::tokens::REFRESH_TOKEN_LIFETIME;
use gatehouse::secret::OpaqueToken;
use gatehouse::services::issue::{self, Authorization, IssueOptions, Profile};
use serde_json::Value;
use time::OffsetDateTime;

use crate::client::Client;
use crate::response::{TokenError, invalid_grant};

pub async fn exchange(
    state: &AppState,
    client: &Client,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    now: OffsetDateTime,
) -> Result<Value, TokenError> {
    let registration = client.confidential()?;
    let family = FamilyId::generate()?;
    let grant = match state.stores.grants.redeem_code(&OpaqueToken::from_presented(code).digest(), &family, now).await?
    {
        Redeemed::Fresh(grant) => grant,
        Redeemed::Replayed { family: first } => {
            // A stolen code used twice: revoke what the first use issued (RFC 6749 §4.1.2).
            if let Some(first) = first {
                state.stores.grants.revoke_family(&first, now + REFRESH_TOKEN_LIFETIME).await?;
            }
            tracing::warn!(client_id = %registration.client_id, "authorization code replayed; its tokens are revoked");
            return Err(invalid_grant("the authorization code was already used"));
        }
        Redeemed::Unknown => return Err(invalid_grant("the authorization code is invalid or expired")),
    };
    if grant.client_id != registration.client_id {
        return Err(invalid_grant("the authorization code was issued to another client"));
    }
    let redirect_ok = match redirect_uri {
        Some(given) => given == grant.redirect_uri,
        None => !grant.redirect_uri_sent,
    };
    if !redirect_ok {
        return Err(invalid_grant("redirect_uri does not match the authorization request"));
    }
    match (&grant.code_challenge, verifier) {
        (Some(challenge), Some(verifier)) if pkce::verify(challenge, verifier) => {}
        (Some(_), Some(_)) => return Err(invalid_grant("code_verifier does not match the code_challenge")),
        (Some(_), None) => return Err(invalid_grant("code_verifier is required: the authorization used PKCE")),
        (None, Some(_)) => {
            return Err(invalid_grant("code_verifier sent, but the authorization request had no code_challenge"));
        }
        (None, None) => {}
    }
    let contact = crate::grant_member(state, grant.contact_id).await?;
    let profile = Profile::load(state, registration, &contact).await?;
    let auth = Authorization {
        registration,
        contact: &contact,
        scope: grant.scope.clone(),
        nonce: grant.nonce.clone(),
        auth_time: grant.auth_time,
        sid: Some(grant.sid.clone()).filter(|s| !s.is_empty()),
        method: grant.method.clone(),
    };
    let options = IssueOptions {
        family,
        with_refresh: grant.scope.contains(Scope::OfflineAccess),
        public_client: false,
        with_id_token: true,
        code: None,
        profile: Some(&profile),
    };
    Ok(issue::issue_tokens(state, &auth, options, now).await?.to_json())
}
