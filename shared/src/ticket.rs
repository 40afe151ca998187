//! Single-use tickets: what one request hands out and a later one must find again, once.
//! Each is kept under the digest of the value handed out, in the grant store.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::contact::ContactId;
use crate::password::CredentialStamp;
use crate::seal::Sealed;
use crate::secret::{SecretString, TokenDigest};

/// The ticket itself; `kind` names the variant in the stored JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ticket {
    /// A redirect to the upstream provider, keyed by the digest of `state`.
    Login(LoginTransaction),
    /// A password reset link sent by email. It works only while the contact's password is the
    /// one it was sent for (`credential`) and it is the newest link (`Contact::password_reset`).
    Reset {
        contact_id: ContactId,
        #[serde(default)]
        credential: CredentialStamp,
    },
    /// A provider identity waiting for its owner to prove the existing account is theirs.
    Link(PendingLink),
    /// The Gatehouse session an upstream provider session started, keyed by the digest of the
    /// provider's `iss` and `sid`: what its front-channel logout ends.
    UpstreamSession { session: TokenDigest },
    /// The provider's ID token for a Gatehouse session it started, keyed by the digest of the
    /// session's id: the `id_token_hint` of the provider sign-out offered at Gatehouse's.
    UpstreamSignOut { id_token: SecretString },
    /// A correct password waiting for the second factor, or for the member to set one up.
    SecondFactor(PendingSignin),
}

/// Which variant a ticket is: tickets of different kinds never answer for each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketKind {
    Login,
    Reset,
    Link,
    UpstreamSession,
    UpstreamSignOut,
    SecondFactor,
}

impl Ticket {
    pub fn kind(&self) -> TicketKind {
        match self {
            Self::Login(_) => TicketKind::Login,
            Self::Reset { .. } => TicketKind::Reset,
            Self::Link(_) => TicketKind::Link,
            Self::UpstreamSession { .. } => TicketKind::UpstreamSession,
            Self::UpstreamSignOut { .. } => TicketKind::UpstreamSignOut,
            Self::SecondFactor(_) => TicketKind::SecondFactor,
        }
    }
}

impl TicketKind {
    /// The prefix of its keys in storage, and its `kind` tag.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Reset => "reset",
            Self::Link => "link",
            Self::UpstreamSession => "upstream_session",
            Self::UpstreamSignOut => "upstream_sign_out",
            Self::SecondFactor => "second_factor",
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

/// "Link your existing account": the provider has signed someone in whose email (or username)
/// an unlinked contact already has. Keyed by the digest of the token in the link form; single
/// use (a wrong password puts a new one back), ten minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingLink {
    /// The existing contact the person says is theirs.
    pub contact_id: ContactId,
    /// What links the identity from now on: the External Claim ID's value or `issuer|subject`.
    pub link_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// Whether the ID token carried the staff claim.
    pub is_staff: bool,
    pub return_to: Option<String>,
    /// The provider session the sign-in came from, remembered once the link is made.
    #[serde(default)]
    pub upstream: Option<UpstreamSignIn>,
    /// Digest of the browser's link cookie: only the browser the provider sent back may finish.
    pub browser: TokenDigest,
    #[serde(with = "time::serde::timestamp")]
    pub expires_at: OffsetDateTime,
}

/// What a sign-in through the provider leaves behind for signing out again: the provider
/// session (`iss`, `sid` when the provider sends one) and its raw ID token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpstreamSignIn {
    pub issuer: String,
    pub sid: Option<String>,
    pub id_token: SecretString,
}

/// The sign-in step after a correct password when MFA applies. Keyed by the digest of the
/// token in the code form; single use (a wrong code puts a new one back), ten minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingSignin {
    pub contact_id: ContactId,
    /// The password that was entered: a new password meanwhile voids the step.
    pub credential: CredentialStamp,
    /// A same-origin path to finish at.
    pub return_to: Option<String>,
    /// Digest of the browser's login CSRF cookie: only the browser that entered the password may finish.
    pub browser: TokenDigest,
    /// Set up at sign-in (MFA required, none yet): the new secret, sealed, until its first code.
    pub enrolling: Option<Sealed>,
    #[serde(with = "time::serde::timestamp")]
    pub expires_at: OffsetDateTime,
}
