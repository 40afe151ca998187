//! What an authorization leaves behind: codes, access and refresh tokens, and consents.
//! Tokens from one authorization share a family, so a replayed code or refresh token can
//! revoke everything that authorization produced.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::contact::ContactId;
use crate::password::CredentialStamp;
use crate::registration::ClientId;
use crate::scope::Scopes;
use crate::secret::{RandomError, TokenDigest, random_alphanumeric};
use crate::session::SignInMethod;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FamilyId(String);

impl FamilyId {
    pub fn generate() -> Result<Self, RandomError> {
        random_alphanumeric(22).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(value: String) -> Self {
        Self(value)
    }
}

/// The built-in first-party public client that may get admin API tokens by password.
pub const ADMIN_CLIENT_ID: &str = "gatehouse-admin";

/// Whom a token was issued to: a registered app, or the built-in admin client (whose id is
/// not a UUID). Stored as the client id string, as before it had a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum GrantClient {
    App(ClientId),
    Admin,
}

impl GrantClient {
    pub fn parse(value: &str) -> Option<Self> {
        if value == ADMIN_CLIENT_ID { Some(Self::Admin) } else { ClientId::parse(value).map(Self::App) }
    }
}

impl fmt::Display for GrantClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::App(id) => id.fmt(f),
            Self::Admin => f.write_str(ADMIN_CLIENT_ID),
        }
    }
}

impl From<GrantClient> for String {
    fn from(client: GrantClient) -> Self {
        client.to_string()
    }
}

impl TryFrom<String> for GrantClient {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or_else(|| format!("`{value}` is not a client id"))
    }
}

/// How long an authorization code lives (the embedded store sweeps by it too).
pub const CODE_LIFETIME: Duration = Duration::seconds(60);

/// An authorization code: single use, short-lived, bound to client, redirect URI and PKCE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthCode {
    pub client_id: ClientId,
    pub contact_id: ContactId,
    pub redirect_uri: String,
    /// The authorization request named `redirect_uri`, so the token request must repeat it (RFC 6749 §4.1.3).
    #[serde(default)]
    pub redirect_uri_sent: bool,
    pub scope: Scopes,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    #[serde(with = "time::serde::timestamp")]
    pub auth_time: OffsetDateTime,
    pub sid: String,
    #[serde(with = "time::serde::timestamp")]
    pub expires_at: OffsetDateTime,
    /// How the member signed in (the ID token's `amr`).
    #[serde(default)]
    pub method: SignInMethod,
}

/// An access or refresh token's grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenGrant {
    pub client_id: GrantClient,
    pub contact_id: ContactId,
    pub scope: Scopes,
    pub family: FamilyId,
    #[serde(with = "time::serde::timestamp")]
    pub auth_time: OffsetDateTime,
    #[serde(with = "time::serde::timestamp")]
    pub expires_at: OffsetDateTime,
    /// Issued to a public client (ROPC public): refreshing needs no client secret.
    #[serde(default)]
    pub public_client: bool,
    /// The password the member signed in with; a new password ends the grant.
    #[serde(default)]
    pub credential: CredentialStamp,
    /// The browser session (`sid`) the authorization came from, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// How the member signed in, for the ID tokens a refresh issues.
    #[serde(default)]
    pub method: SignInMethod,
}

/// What one app got in one browser session: which tokens to revoke and whom to notify when
/// the session ends.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SessionGrant {
    pub client_id: ClientId,
    pub family: FamilyId,
}

/// What a presented single-use item turns out to be (when spent, or only looked up).
#[derive(Debug, Clone, PartialEq)]
pub enum Redeemed<T> {
    /// Unused: here it is.
    Fresh(T),
    /// Used before; `family` is what the first use issued, to be revoked.
    Replayed { family: Option<FamilyId> },
    /// Never issued, or expired.
    Unknown,
}

/// One token response's writes, stored together or not at all (one write transaction): the
/// code or refresh token it spends and the browser session's note of the app. The new tokens
/// are not here: they carry their grants sealed (`oidc::sealed_token`), so a response that
/// spends nothing and notes nothing writes nothing.
#[derive(Debug, Clone, Copy)]
pub struct Issuance<'a> {
    pub spends: Spend<'a>,
    /// The session (`sid`) that got these tokens, kept until the session ends.
    pub session: Option<(&'a str, &'a SessionGrant, OffsetDateTime)>,
}

/// What an issuance uses up; it must still be unused and live when the tokens are stored.
#[derive(Debug, Clone, Copy)]
pub enum Spend<'a> {
    /// Nothing (the password grant).
    Nothing,
    /// An authorization code, marked with the family its use issued.
    Code { code: &'a TokenDigest, family: &'a FamilyId },
    /// A sealed refresh token (they rotate on every use): spending it records its digest, kept
    /// until `until`, its expiry; a second spend finds it recorded.
    SealedRefreshToken { token: &'a TokenDigest, until: OffsetDateTime },
    /// A refresh token issued before they were sealed: a stored row, marked spent.
    StoredRefreshToken(&'a TokenDigest),
}

/// Whether an issuance was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Written,
    /// What it spends was spent meanwhile (a racing request) or expired: nothing was written.
    AlreadySpent,
}

/// A member's consent for one app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consent {
    pub contact_id: ContactId,
    pub client_id: ClientId,
    pub scope: Scopes,
    #[serde(with = "time::serde::timestamp")]
    pub granted_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_clients_store_as_their_id_strings() {
        let id = ClientId::new_random();
        assert_eq!(serde_json::to_value(GrantClient::App(id)).unwrap(), serde_json::json!(id.to_string()));
        assert_eq!(serde_json::to_value(GrantClient::Admin).unwrap(), serde_json::json!("gatehouse-admin"));
        assert_eq!(
            serde_json::from_value::<GrantClient>(serde_json::json!("gatehouse-admin")).unwrap(),
            GrantClient::Admin
        );
        assert!(serde_json::from_value::<GrantClient>(serde_json::json!("client-1")).is_err());
    }
}
