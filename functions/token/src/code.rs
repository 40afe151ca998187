//! `grant_type=authorization_code`: single use, 60 s, bound to client, redirect URI and PKCE.

use gatehouse::app::AppState;
use gatehouse::grants::{AuthCode, FamilyId, Redeemed, Spend};
use gatehouse::oidc::pkce;
use gatehouse::oidc::scope::Scope;
use gatehouse::oidc::tokens::REFRESH_TOKEN_LIFETIME;
use gatehouse::registration::Registration;
use gatehouse::services::issue::{self, Authorization, IssueError, IssueOptions, ProfileQueries};
use serde_json::Value;
use time::OffsetDateTime;

use crate::Presented;
use crate::client::Client;
use crate::response::{TokenError, invalid_grant};

pub async fn exchange(
    state: &AppState,
    client: &Client,
    code: Presented<AuthCode>,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    now: OffsetDateTime,
) -> Result<Value, TokenError> {
    let registration = client.confidential()?;
    let family = FamilyId::generate()?;
    let Presented { digest, found } = code;
    // Looked up, not spent: the tokens' write spends it, so a failure before keeps it...
    let grant = match found? {
        Redeemed::Fresh(grant) => grant,
        Redeemed::Replayed { family: first } => return Err(replayed(state, registration, first.as_ref(), now).await),
        Redeemed::Unknown => return Err(invalid_grant("the authorization code is invalid or expired")),
    };
    if let Err(refused) = check(registration, &grant, redirect_uri, verifier) {
        // ...but a refused exchange burns it, as a code is good for one attempt.
        state.stores.grants.redeem_code(&digest, &family, now).await?;
        return Err(refused);
    }
    // Read together (on DynamoDB, one round trip instead of two), then checked in order.
    let (contact, queries) =
        tokio::join!(crate::grant_member(state, grant.contact_id), ProfileQueries::load(state, registration));
    let contact = contact?;
    let profile = queries?.profile(&contact);
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
        spends: Spend::Code { code: &digest, family: &family },
        family: family.clone(),
        with_refresh: grant.scope.contains(Scope::OfflineAccess),
        public_client: false,
        with_id_token: true,
        code: None,
        profile: Some(&profile),
    };
    match issue::issue_tokens(state, &auth, options, now).await {
        Ok(tokens) => Ok(tokens.to_json()),
        Err(IssueError::AlreadySpent) => {
            // A racing request spent it between the look-up and the write: a replay.
            let first = match state.stores.grants.find_code(&digest, now).await? {
                Redeemed::Replayed { family } => family,
                Redeemed::Fresh(_) | Redeemed::Unknown => None,
            };
            Err(replayed(state, registration, first.as_ref(), now).await)
        }
        Err(e) => Err(e.into()),
    }
}

/// A stolen code used twice: revoke what the first use issued (RFC 6749 §4.1.2).
async fn replayed(
    state: &AppState,
    registration: &Registration,
    first: Option<&FamilyId>,
    now: OffsetDateTime,
) -> TokenError {
    if let Some(first) = first
        && let Err(e) = state.stores.grants.revoke_family(first, now + REFRESH_TOKEN_LIFETIME).await
    {
        return e.into();
    }
    tracing::warn!(client_id = %registration.client_id, "authorization code replayed; its tokens are revoked");
    invalid_grant("the authorization code was already used")
}

/// The code's bindings: its client, redirect URI and PKCE challenge.
fn check(
    registration: &Registration,
    grant: &AuthCode,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<(), TokenError> {
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
        (Some(challenge), Some(verifier)) if pkce::verify(challenge, verifier) => Ok(()),
        (Some(_), Some(_)) => Err(invalid_grant("code_verifier does not match the code_challenge")),
        (Some(_), None) => Err(invalid_grant("code_verifier is required: the authorization used PKCE")),
        (None, Some(_)) => {
            Err(invalid_grant("code_verifier sent, but the authorization request had no code_challenge"))
        }
        (None, None) => Ok(()),
    }
}
