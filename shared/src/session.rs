//! Server-side browser sessions. The cookie holds a random token; the store keeps its digest.

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
}

impl Session {
    /// A new session for `contact`, and the token to put in the cookie.
    pub fn start(contact: &Contact, now: OffsetDateTime) -> Result<(Self, OpaqueToken), RandomError> {
        let token = OpaqueToken::generate()?;
        let session = Self {
            id: token.digest(),
            contact_id: contact.id,
            credential: contact.credential_stamp(),
            csrf_token: SecretString::generate(43)?,
            auth_time: now,
            expires_at: now + SESSION_LIFETIME,
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
