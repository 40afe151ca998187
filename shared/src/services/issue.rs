//! Issuing: what the authorize and token functions share — the member's profile from the
//! registration's queries, the No Access check, and minting codes and tokens.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::app::AppState;
use crate::contact::Contact;
use crate::grants::{AuthCode, FamilyId, GrantClient, Issuance, SessionGrant, Spend, Stored, TokenGrant};
use crate::oidc::sealed_token::TokenUse;
use crate::oidc::signing::{SigningAlgorithm, SigningError};
use crate::oidc::tokens::{
    ACCESS_TOKEN_LIFETIME, CODE_LIFETIME, IdTokenFacts, REFRESH_TOKEN_LIFETIME, id_token_claims,
};
use crate::query::{QueryKind, SavedQuery, nest};
use crate::registration::{NoAccessRule, Registration, RoleFormat};
use crate::scope::{Scope, Scopes};
use crate::secret::{OpaqueToken, RandomError};
use crate::services::sealed_tokens;
use crate::services::signing::{SignerError, signer};
use crate::session::{SESSION_LIFETIME, SignInMethod};
use crate::store::StoreError;

/// The profile column the No Access Mapping is checked against.
pub const ACCESS_RESTRICTION_COLUMN: &str = "AccessRestrictionCode";

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// The registration's queries are missing or broken: an administrator must fix them.
    #[error("{0}")]
    Misconfigured(String),
    /// The code or refresh token this response spends was spent meanwhile (a racing request)
    /// or expired; nothing was stored.
    #[error("the grant was already used")]
    AlreadySpent,
}

impl From<SignerError> for IssueError {
    fn from(e: SignerError) -> Self {
        match e {
            SignerError::Store(e) => Self::Store(e),
            SignerError::Signing(e) => Self::Signing(e),
        }
    }
}

/// The member as the registration's queries describe them.
pub struct Profile {
    /// (alias, value) in column order.
    pub row: Vec<(String, Value)>,
    pub roles: Vec<String>,
}

/// The registration's profile and role queries, read before the member is known: on DynamoDB
/// they can then share a round trip with the member's own read.
pub struct ProfileQueries {
    profile: SavedQuery,
    roles: SavedQuery,
}

impl ProfileQueries {
    pub async fn load(state: &AppState, registration: &Registration) -> Result<Self, IssueError> {
        let s = &registration.settings;
        // Read together: on DynamoDB, one round trip instead of two.
        let (profile, roles) =
            tokio::try_join!(state.stores.queries.get(&s.profile_query), state.stores.queries.get(&s.role_query))?;
        let profile = profile
            .filter(|q| q.kind == QueryKind::Profile)
            .ok_or_else(|| IssueError::Misconfigured(format!("profile query {} is missing", s.profile_query)))?;
        let roles = roles
            .filter(|q| q.kind == QueryKind::Role)
            .ok_or_else(|| IssueError::Misconfigured(format!("role query {} is missing", s.role_query)))?;
        Ok(Self { profile, roles })
    }

    /// The member as these queries describe them.
    pub fn profile(&self, contact: &Contact) -> Profile {
        Profile {
            row: self.profile.definition().profile_row(contact),
            roles: self.roles.definition().role_rows(contact),
        }
    }
}

impl Profile {
    pub async fn load(state: &AppState, registration: &Registration, contact: &Contact) -> Result<Self, IssueError> {
        Ok(ProfileQueries::load(state, registration).await?.profile(contact))
    }

    /// The No Access rule that denies this member, if any.
    pub fn denied_by<'r>(&self, registration: &'r Registration) -> Option<&'r NoAccessRule> {
        let code = self.row.iter().find(|(alias, _)| alias == ACCESS_RESTRICTION_COLUMN)?.1.as_str()?;
        registration.settings.no_access_mapping.rule_for(code)
    }

    /// The `roles` claim in the registration's format.
    pub fn roles_claim(&self, format: RoleFormat) -> Value {
        match format {
            RoleFormat::Array => json!(self.roles),
            RoleFormat::Csv => json!(self.roles.join(",")),
        }
    }

    /// `/userinfo`: the columns (dotted aliases nest) and `roles`; `sub` cannot be overridden.
    pub fn userinfo(&self, registration: &Registration, contact: &Contact) -> Value {
        let mut claims = nest(&self.row);
        claims.insert("roles".into(), self.roles_claim(registration.settings.role_format));
        claims.insert("sub".into(), json!(contact.id));
        Value::Object(claims)
    }

    /// The registration's ID token additional profile fields that are columns.
    pub fn id_token_extras(&self, registration: &Registration) -> Map<String, Value> {
        let mut extras = Map::new();
        for field in &registration.settings.id_token_fields {
            if let Some((alias, value)) = self.row.iter().find(|(alias, _)| alias == field) {
                extras.insert(alias.clone(), value.clone());
            }
        }
        extras
    }
}

/// What the member authorized, ready to turn into a code or tokens.
pub struct Authorization<'a> {
    pub registration: &'a Registration,
    pub contact: &'a Contact,
    pub scope: Scopes,
    pub nonce: Option<String>,
    pub auth_time: OffsetDateTime,
    /// The browser session (`sid`), when there was one.
    pub sid: Option<String>,
    /// How the member signed in (the ID token's `amr`).
    pub method: SignInMethod,
}

pub async fn issue_code(
    state: &AppState,
    auth: &Authorization<'_>,
    redirect_uri: &str,
    redirect_uri_sent: bool,
    code_challenge: Option<String>,
    now: OffsetDateTime,
) -> Result<OpaqueToken, IssueError> {
    let code = OpaqueToken::generate()?;
    let grant = AuthCode {
        client_id: auth.registration.client_id,
        contact_id: auth.contact.id,
        redirect_uri: redirect_uri.to_owned(),
        redirect_uri_sent,
        scope: auth.scope.clone(),
        nonce: auth.nonce.clone(),
        code_challenge,
        auth_time: auth.auth_time,
        sid: auth.sid.clone().unwrap_or_default(),
        expires_at: now + CODE_LIFETIME,
        method: auth.method.clone(),
    };
    state.stores.grants.put_code(&code.digest(), &grant).await?;
    Ok(code)
}

/// The tokens of one response.
pub struct TokenSet {
    pub access_token: OpaqueToken,
    pub refresh_token: Option<OpaqueToken>,
    pub id_token: Option<String>,
    pub scope: Scopes,
    pub expires_in: i64,
}

impl TokenSet {
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "access_token": self.access_token.expose(),
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope.to_string(),
        });
        if let Some(refresh) = &self.refresh_token {
            body["refresh_token"] = json!(refresh.expose());
        }
        if let Some(id) = &self.id_token {
            body["id_token"] = json!(id);
        }
        body
    }
}

pub struct IssueOptions<'a> {
    pub family: FamilyId,
    /// The code or refresh token used up, stored with the new tokens in one write.
    pub spends: Spend<'a>,
    pub with_refresh: bool,
    pub public_client: bool,
    pub with_id_token: bool,
    /// The code being exchanged, for `c_hash` in implicit/hybrid responses.
    pub code: Option<&'a str>,
    pub profile: Option<&'a Profile>,
}

/// One access token and its grant and, when asked, a refresh token of the same family.
pub struct Minted {
    pub access_token: OpaqueToken,
    pub grant: TokenGrant,
    pub refresh_token: Option<OpaqueToken>,
}

/// Fresh tokens for `grant` (whose `expires_at` is the access token's). Neither is stored:
/// each carries its grant sealed, the refresh token's expiring later.
pub async fn mint(
    state: &AppState,
    grant: &TokenGrant,
    with_refresh: bool,
    now: OffsetDateTime,
) -> Result<Minted, IssueError> {
    let key = sealed_tokens::key(state).await?;
    let seal = |use_, grant: &TokenGrant| key.seal(use_, grant).map_err(StoreError::backend);
    let refresh_token = if with_refresh {
        let refresh = TokenGrant { expires_at: now + REFRESH_TOKEN_LIFETIME, ..grant.clone() };
        Some(seal(TokenUse::Refresh, &refresh)?)
    } else {
        None
    };
    let access_token = seal(TokenUse::Access, grant)?;
    Ok(Minted { access_token, grant: grant.clone(), refresh_token })
}

/// Stores what a response spends and the session's note, in one write.
pub async fn store(
    state: &AppState,
    spends: Spend<'_>,
    session: Option<(&str, &SessionGrant, OffsetDateTime)>,
    now: OffsetDateTime,
) -> Result<(), IssueError> {
    match state.stores.grants.store_issuance(&Issuance { spends, session }, now).await? {
        Stored::Written => Ok(()),
        Stored::AlreadySpent => Err(IssueError::AlreadySpent),
    }
}

/// Mints an access token, optionally a refresh token and an ID token, and stores them with
/// what they spend. The ID token is signed first, so a failure stores nothing.
pub async fn issue_tokens(
    state: &AppState,
    auth: &Authorization<'_>,
    options: IssueOptions<'_>,
    now: OffsetDateTime,
) -> Result<TokenSet, IssueError> {
    let grant = TokenGrant {
        client_id: GrantClient::App(auth.registration.client_id),
        contact_id: auth.contact.id,
        scope: auth.scope.clone(),
        family: options.family.clone(),
        auth_time: auth.auth_time,
        expires_at: now + ACCESS_TOKEN_LIFETIME,
        public_client: options.public_client,
        credential: auth.contact.credential_stamp(),
        sid: auth.sid.clone(),
        method: auth.method.clone(),
    };
    let minted = mint(state, &grant, options.with_refresh, now).await?;
    let id_token = if options.with_id_token {
        Some(id_token(state, auth, Some(minted.access_token.expose()), options.code, options.profile, now).await?)
    } else {
        None
    };
    // The session's end revokes these tokens and notifies the app (back-channel logout).
    let entry = SessionGrant { client_id: auth.registration.client_id, family: options.family.clone() };
    let session_until = (auth.auth_time + SESSION_LIFETIME).max(now + ACCESS_TOKEN_LIFETIME);
    // A refresh within the session's lifetime would write again, unchanged, the note its
    // family's first tokens wrote (same session, app, family and end): skipping it spares a
    // refresh a page or two of SQLite and 2 of DynamoDB's 8 write units.
    let note_unchanged = matches!(options.spends, Spend::SealedRefreshToken { .. } | Spend::StoredRefreshToken(_))
        && session_until == auth.auth_time + SESSION_LIFETIME;
    let session = auth.sid.as_deref().filter(|_| !note_unchanged).map(|sid| (sid, &entry, session_until));
    store(state, options.spends, session, now).await?;
    Ok(TokenSet {
        access_token: minted.access_token,
        refresh_token: minted.refresh_token,
        id_token,
        scope: auth.scope.clone(),
        expires_in: ACCESS_TOKEN_LIFETIME.whole_seconds(),
    })
}

/// A signed ID token for this authorization.
pub async fn id_token(
    state: &AppState,
    auth: &Authorization<'_>,
    access_token: Option<&str>,
    code: Option<&str>,
    profile: Option<&Profile>,
    now: OffsetDateTime,
) -> Result<String, IssueError> {
    let (signer, registration_key) = app_signer(state, auth.registration, now).await?;
    let alg = signer.algorithm();
    let facts = IdTokenFacts {
        issuer: state.config.issuer_str(),
        client_id: auth.registration.client_id,
        contact: auth.contact,
        auth_time: auth.auth_time,
        nonce: auth.nonce.as_deref(),
        at_hash: access_token.map(|t| alg.half_hash(t)),
        c_hash: code.map(|c| alg.half_hash(c)),
        sid: auth.sid.as_deref(),
        scope: &auth.scope,
        amr: auth.method.amr(),
        now,
    };
    let extras = profile.map(|p| p.id_token_extras(auth.registration)).unwrap_or_default();
    let mut claims = id_token_claims(&facts, extras);
    if auth.scope.contains(Scope::Roles)
        && let Some(profile) = profile
    {
        claims["roles"] = profile.roles_claim(auth.registration.settings.role_format);
    }
    Ok(signer.sign(&claims, registration_key.as_ref())?)
}

/// The signer of the app's ID tokens, and its HS512 key when HS512 signs (only then is that
/// secret read). Logout tokens are signed the same way.
pub async fn app_signer(
    state: &AppState,
    registration: &Registration,
    now: OffsetDateTime,
) -> Result<(std::sync::Arc<crate::oidc::signer::Signer>, Option<crate::secret::SecretString>), IssueError> {
    let signer = signer(&state.stores, &state.signer, now).await?;
    let registration_key = match signer.algorithm() {
        SigningAlgorithm::HS512 => {
            let secrets = state
                .stores
                .client_secrets(registration)
                .await?
                .ok_or_else(|| IssueError::Misconfigured("the registration has no signing key".into()))?;
            Some(secrets.id_token_hmac_key(registration.settings.id_token_hmac_key).clone())
        }
        SigningAlgorithm::RS256 | SigningAlgorithm::RS512 | SigningAlgorithm::ES256 | SigningAlgorithm::EdDSA => None,
    };
    Ok((signer, registration_key))
}
