//! `grant_type=refresh_token`: rotated on every use; a replayed one revokes its family;
//! never widens the scope; bound to its client. Refresh tokens carry their grant sealed
//! (`oidc::sealed_token`); those issued before that are stored rows, still honoured.

use gatehouse::app::AppState;
use gatehouse::grants::{FamilyId, Redeemed, Spend, TokenGrant};
use gatehouse::oidc::error::ErrorCode;
use gatehouse::oidc::scope::{Scope, Scopes};
use gatehouse::oidc::sealed_token::TokenUse;
use gatehouse::oidc::tokens::{ACCESS_TOKEN_LIFETIME, REFRESH_TOKEN_LIFETIME};
use gatehouse::secret::TokenDigest;
use gatehouse::services::issue::{self, Authorization, IssueError, IssueOptions, Profile, ProfileQueries};
use gatehouse::services::sealed_tokens;
use gatehouse::store::StoreResult;
use serde_json::Value;
use time::OffsetDateTime;

use crate::Presented;
use crate::client::Client;
use crate::response::{TokenError, admin_tokens, invalid_grant};

/// How a presented refresh token is kept, and so how it is spent.
#[derive(Debug, Clone, Copy)]
pub enum Form {
    /// Its grant sealed inside: spending it records its digest.
    Sealed,
    /// Issued before refresh tokens were sealed: a stored row, marked spent.
    Stored,
}

impl Form {
    fn spend<'a>(self, token: &'a TokenDigest, grant: &TokenGrant) -> Spend<'a> {
        match self {
            Self::Sealed => Spend::SealedRefreshToken { token, until: grant.expires_at },
            Self::Stored => Spend::StoredRefreshToken(token),
        }
    }
}

/// The presented token's grant. A sealed one opens without a read, and whether it was spent
/// is learnt only by spending it: a replay is caught then (see [`not_issued`]).
pub async fn look_up(
    state: &AppState,
    presented: &str,
    digest: &TokenDigest,
    now: OffsetDateTime,
) -> (Form, StoreResult<Redeemed<TokenGrant>>) {
    if TokenUse::Refresh.is_form_of(presented) {
        let opened = sealed_tokens::open(state, TokenUse::Refresh, presented, now).await;
        (Form::Sealed, opened.map(|grant| grant.map_or(Redeemed::Unknown, Redeemed::Fresh)))
    } else {
        (Form::Stored, state.stores.grants.find_refresh_token(digest, now).await)
    }
}

pub async fn exchange(
    state: &AppState,
    client: &Client,
    token: Presented<TokenGrant>,
    form: Form,
    scope: Option<&str>,
    now: OffsetDateTime,
) -> Result<Value, TokenError> {
    let Presented { digest, found } = token;
    // Looked up, not spent: the new tokens' write spends it, so a failure before keeps it.
    let grant = match found? {
        Redeemed::Fresh(grant) => grant,
        Redeemed::Replayed { family } => return Err(replayed(state, client, family.as_ref(), now).await),
        Redeemed::Unknown => return Err(invalid_grant("the refresh token is invalid or expired")),
    };
    rotate(state, client, &grant, form.spend(&digest, &grant), scope, now).await
}

/// A failed issuance; one whose token a racing request spent meanwhile is a replay too.
async fn not_issued(
    state: &AppState,
    client: &Client,
    grant: &TokenGrant,
    e: IssueError,
    now: OffsetDateTime,
) -> TokenError {
    match e {
        IssueError::AlreadySpent => replayed(state, client, Some(&grant.family), now).await,
        other => other.into(),
    }
}

/// A spent refresh token presented again: its whole family is revoked.
async fn replayed(state: &AppState, client: &Client, family: Option<&FamilyId>, now: OffsetDateTime) -> TokenError {
    if let Some(family) = family
        && let Err(e) = state.stores.grants.revoke_family(family, now + REFRESH_TOKEN_LIFETIME).await
    {
        return e.into();
    }
    tracing::warn!(client_id = %client.id(), "refresh token replayed; its family is revoked");
    invalid_grant("the refresh token was already used")
}

async fn rotate(
    state: &AppState,
    client: &Client,
    grant: &TokenGrant,
    spend: Spend<'_>,
    scope: Option<&str>,
    now: OffsetDateTime,
) -> Result<Value, TokenError> {
    if grant.client_id != client.id() {
        return Err(invalid_grant("the refresh token was issued to another client"));
    }
    if !grant.public_client {
        client.confidential()?;
    }
    let queries = async {
        match client {
            Client::App { registration, .. } => ProfileQueries::load(state, registration).await.map(Some),
            Client::Admin => Ok(None),
        }
    };
    // Read together (on DynamoDB, one round trip instead of four), then checked in order.
    let (revoked, contact, queries) = tokio::join!(
        state.stores.grants.is_family_revoked(&grant.family, now),
        crate::grant_member(state, grant.contact_id),
        queries,
    );
    if revoked? {
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
    let contact = contact?;
    if contact.credential_stamp() != grant.credential {
        return Err(invalid_grant("the member's password changed since this token was issued"));
    }
    let Client::App { registration, .. } = client else {
        // The admin client's tokens: no registration, no profile.
        if !contact.profile.is_sysadmin {
            return Err(invalid_grant("the member is no longer a system administrator"));
        }
        let next = TokenGrant { scope: scope.clone(), expires_at: now + ACCESS_TOKEN_LIFETIME, ..grant.clone() };
        let minted = issue::mint(state, &next, true, now).await?;
        if let Err(e) = issue::store(state, spend, None, now).await {
            return Err(not_issued(state, client, grant, e, now).await);
        }
        return Ok(admin_tokens(&minted, &scope));
    };
    let profile = match queries? {
        Some(queries) => queries.profile(&contact),
        None => Profile::load(state, registration, &contact).await?,
    };
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
        spends: spend,
        with_refresh: true,
        public_client: grant.public_client,
        with_id_token: scope.contains(Scope::Openid),
        code: None,
        profile: Some(&profile),
    };
    match issue::issue_tokens(state, &auth, options, now).await {
        Ok(tokens) => Ok(tokens.to_json()),
        Err(e) => Err(not_issued(state, client, grant, e, now).await),
    }
}
