//! What an authorization leaves behind: codes, access and refresh tokens, and consents.
//! Tokens from one authorization share a family, so a replayed code or refresh token can
//! revoke everything that authorization produced.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::contact::ContactId;
use crate::scope::Scopes;
use crate::secret::{RandomError, random_alphanumeric};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// How long an authorization code lives (the embedded store sweeps by it too).
pub const CODE_LIFETIME: Duration = Duration::seconds(60);

/// An authorization code: single use, short-lived, bound to client, redirect URI and PKCE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthCode {
    pub client_id: String,
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
}

/// An access or refresh token's grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenGrant {
    pub client_id: String,
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
}

/// The outcome of spending a single-use item.
#[derive(Debug, Clone, PartialEq)]
pub enum Redeemed<T> {
    /// First use: here it is.
    Fresh(T),
    /// Used before; `family` is what the first use issued, to be revoked.
    Replayed { family: Option<FamilyId> },
    /// Never issued, or expired.
    Unknown,
}

/// A member's consent for one app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consent {
    pub contact_id: ContactId,
    pub client_id: String,
    pub scope: Scopes,
    #[serde(with = "time::serde::timestamp")]
    pub granted_at: OffsetDateTime,
}
