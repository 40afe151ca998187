//! Server-side browser sessions. The cookie holds a random token; the store keeps its digest.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::contact::{Contact, ContactId};
use crate::password::CredentialStamp;
use crate::secret::{OpaqueToken, RandomError, SecretString, TokenDigest};

/// A session lasts eight hours from sign-in.
pub const SESSION_LIFETIME: Duration = Duration::hours(8);

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: TokenDigest,
    pub contact_id: ContactId,
    /// The synchronizer token every form and cookie-authenticated JSON write must echo.
    pub csrf_token: SecretString,
    /// When the user last proved who they are (OIDC `auth_time`).
    pub auth_time: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// The password the session was signed in with; a new password ends the session.
    pub credential: CredentialStamp,
    /// How the person proved who they are (the ID token's `amr`).
    pub method: SignInMethod,
}

/// How someone signed in. Stored with sessions, codes and tokens; records from before it
/// existed read as `Password`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum SignInMethod {
    #[default]
    Password,
    /// A password, then a code from an authenticator app or a recovery code.
    PasswordAndCode,
    /// At the upstream provider; `amr` is what its ID token said about how, when it said.
    Provider {
        #[serde(default)]
        amr: Vec<String>,
    },
}

/// RFC 8176's registered values: only these pass from a provider's ID token into ours.
const REGISTERED_AMR: &[&str] = &[
    "face", "fpt", "geo", "hwk", "iris", "kba", "mca", "mfa", "otp", "pin", "pwd", "rba", "retina", "sc", "sms", "swk",
    "tel", "user", "vbm", "wia",
];

impl SignInMethod {
    /// At the provider, keeping the registered `amr` values its ID token carried.
    pub fn provider(amr: Option<&serde_json::Value>) -> Self {
        let amr = amr
            .and_then(serde_json::Value::as_array)
            .map(|values| {
                values
                    .iter()
                    .filter_map(serde_json::Value::as_str)
                    .filter(|v| REGISTERED_AMR.contains(v))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Self::Provider { amr }
    }

    /// The ID token's `amr` (RFC 8176); empty when unknown, and then the claim is left out.
    pub fn amr(&self) -> Vec<String> {
        match self {
            Self::Password => vec!["pwd".into()],
            Self::PasswordAndCode => vec!["pwd".into(), "otp".into(), "mfa".into()],
            Self::Provider { amr } => amr.clone(),
        }
    }
}

impl Session {
    /// A new session for `contact`, and the token to put in the cookie.
    pub fn start(
        contact: &Contact,
        now: OffsetDateTime,
        method: SignInMethod,
    ) -> Result<(Self, OpaqueToken), RandomError> {
        let token = OpaqueToken::generate()?;
        let session = Self {
            id: token.digest(),
            contact_id: contact.id,
            credential: contact.credential_stamp(),
            csrf_token: SecretString::generate(43)?,
            auth_time: now,
            expires_at: now + SESSION_LIFETIME,
            method,
        };
        Ok((session, token))
    }

    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        now < self.expires_at
    }

    /// The session's public id (`sid` in ID and logout tokens): derived from the stored digest,
    /// so it names the session without being able to act as it.
    pub fn sid(&self) -> String {
        crate::secret::OpaqueToken::from_presented(self.id.as_str()).digest().as_str().chars().take(22).collect()
    }
}
