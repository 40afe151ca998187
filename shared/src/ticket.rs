//! Single-use tickets: what one request hands out and a later one must find again, once.
//! Each is kept under the digest of the value handed out, in the grant store.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::contact::ContactId;
use crate::secret::{SecretString, TokenDigest};

/// The ticket itself; `kind` names the variant in the stored JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ticket {
    /// A redirect to the upstream provider, keyed by the digest of `state`.
    Login(LoginTransaction),
    /// A password reset link sent by email.
    Reset { contact_id: ContactId },
    /// The Gatehouse session an upstream provider session started, keyed by the digest of the
    /// provider's `iss` and `sid`: what its front-channel logout ends.
    UpstreamSession { session: TokenDigest },
}

/// Which variant a ticket is: tickets of different kinds never answer for each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketKind {
    Login,
    Reset,
    UpstreamSession,
}

impl Ticket {
    pub fn kind(&self) -> TicketKind {
        match self {
            Self::Login(_) => TicketKind::Login,
            Self::Reset { .. } => TicketKind::Reset,
            Self::UpstreamSession { .. } => TicketKind::UpstreamSession,
        }
    }
}

impl TicketKind {
    /// The prefix of its keys in storage, and its `kind` tag.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Reset => "reset",
            Self::UpstreamSession => "upstream_session",
        }
    }
}

/// The login transaction: what a redirect to the provider must find again at the callback.
/// Keyed by the digest of `state`, single use, ten minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginTransaction {
    pub nonce: String,
    pub pkce_verifier: Option<SecretString>,
    /// Checked against the ID token's `iss` (mix-up defence): the provider this redirect went to.
    pub issuer: String,
    /// The email the person typed, for the log and the error page.
    pub email: String,
    /// A same-origin path to finish at.
    pub return_to: Option<String>,
    /// Digest of the value of the browser's login cookie: the callback must come back in the
    /// browser that started the sign-in (login CSRF, RFC 6749 §10.12).
    pub browser: TokenDigest,
    #[serde(with = "time::serde::timestamp")]
    pub expires_at: OffsetDateTime,
}
