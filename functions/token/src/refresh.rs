//! `grant_type=refresh_token`: rotated on every use; a replayed one revokes its family;
//! never widens the scope; bound to its client.

use gatehouse::app::AppState;
use gatehouse::grants::Redeemed;
use gatehouse::oidc::error::ErrorCode;
use gatehouse::oidc::scope::{Scope, Scopes};
use gatehouse::oidc::tokens::{ACCESS_TOKEN_LIFETIME, REFRESH_TOKEN_LIFETIME};
use gatehouse::secret::OpaqueToken;
use gatehouse::services::issue::{self, Authorization, IssueOptions, Profile};
use serde_json::Value;
use time::OffsetDateTime;

use crate::client::Client;
use crate::response::{TokenError, admin_tokens, invalid_grant};

pub async fn exchange(
    state: &AppState,
    client: &Client,
    token: &str,
    scope: Option<&str>,
    now: OffsetDateTime,
) -> Result<Value, TokenError> {
    let grant =
        match state.stores.grants.redeem_refresh_token(&OpaqueToken::from_presented(token).digest(), now).await? {
            Redeemed::Fresh(grant) => grant,
            Redeemed::Replayed { family } => {
                if let Some(family) = family {
                    state.stores.grants.revoke_family(&family, now + REFRESH_TOKEN_LIFETIME).await?;
                }
                tracing::warn!(client_id = %client.id(), "refresh token replayed; its family is revoked");
                return Err(invalid_grant("the refresh token was already used"));
            }
            Redeemed::Unknown => return Err(invalid_grant("the refresh token is invalid or expired")),
        };
    if grant.client_id != client.id() {
        return Err(invalid_grant("the refresh token was issued to another client"));
    }
    if !grant.public_client {
        client.confidential()?;
    }
    if state.stores.grants.is_family_revoked(&grant.family, now).await? {
        return Err(invalid_grant("the refresh token was revoked"));
    }
    let scope = match scope {
        None => grant.scope.clone(),
        Some(asked) => {
            let asked = Scopes::parse(asked);
            if !asked.is_subset(&grant.scope) {
                return Err(TokenError::new(ErrorCode::InvalidScope, "a refresh cannot add scopes"));
            }
            asked
        }
    };
    let contact = crate::grant_member(state, grant.contact_id).await?;
    if contact.credential_stamp() != grant.credential {
        return Err(invalid_grant("the member's password changed since this token was issued"));
    }
    let Client::App { registration, .. } = client else {
        // The admin client's tokens: no registration, no profile.
        if !contact.profile.is_sysadmin {
            return Err(invalid_grant("the member is no longer a system administrator"));
        }
        let next =
            gatehouse::grants::TokenGrant { scope: scope.clone(), expires_at: now + ACCESS_TOKEN_LIFETIME, ..grant };
        let minted = issue::mint(state, &next, true, now).await?;
        return Ok(admin_tokens(&minted, &scope));
    };
    let profile = Profile::load(state, registration, &contact).await?;
    if profile.denied_by(registration).is_some() {
        return Err(invalid_grant("the member no longer has access to this application"));
    }
    let auth = Authorization {
        registration,
        contact: &contact,
        scope: scope.clone(),
        nonce: None,
        auth_time: grant.auth_time,
        sid: grant.sid.clone(),
        method: grant.method.clone(),
    };
    let options = IssueOptions {
        family: grant.family.clone(),
        with_refresh: true,
        public_client: grant.public_client,
        with_id_token: scope.contains(Scope::Openid),
        code: None,
        profile: Some(&profile),
    };
    Ok(issue::issue_tokens(state, &auth, options, now).await?.to_json())
}
