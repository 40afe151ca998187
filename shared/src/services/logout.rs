//! Ending a member's browser session everywhere: the session goes, the tokens apps got in it
//! stop working (their families are revoked), and every app with a back-channel logout URL is
//! sent a logout token (OpenID Back-Channel Logout 1.0), signed like that app's ID tokens.
//! Deliveries run off the member's request path (see [`super::backchannel`]).

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::app::AppState;
use crate::contact::ContactId;
use crate::event_log::Level;
use crate::grants::SessionGrant;
use crate::oidc::tokens::REFRESH_TOKEN_LIFETIME;
use crate::registration::Registration;
use crate::secret::{OpaqueToken, SecretString, TokenDigest, random_alphanumeric};
use crate::services::issue::{IssueError, app_signer};
use crate::services::{backchannel, log};
use crate::session::Session;
use crate::store::StoreError;
use crate::ticket::{Ticket, TicketKind, UpstreamSignIn};

/// How long a logout token is valid: enough for the retries, no more.
pub const LOGOUT_TOKEN_LIFETIME: Duration = Duration::minutes(2);

pub const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// Ends `session` (why: for the log). Store failures are returned; a notice that cannot be
/// signed or sent is logged and does not stop the sign-out.
pub async fn end_session(
    state: &AppState,
    session: &Session,
    why: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let sid = session.sid();
    state.stores.sessions.delete(&session.id).await?;
    let grants = state.stores.grants.session_grants(&sid, now).await?;
    for grant in &grants {
        state.stores.grants.revoke_family(&grant.family, now + REFRESH_TOKEN_LIFETIME).await?;
    }
    let mut clients: Vec<_> = grants.iter().map(|g: &SessionGrant| g.client_id).collect();
    clients.dedup();
    let mut deliveries = Vec::new();
    for client_id in clients {
        let Some(registration) = state.stores.registrations.get(client_id).await? else { continue };
        let Some(url) = registration.settings.backchannel_logout_url.clone() else { continue };
        match logout_token(state, &registration, &sid, session, now).await {
            Ok(token) => {
                deliveries.push(backchannel::deliver(state, registration.client_id, url.as_str().to_owned(), token));
            }
            Err(e) => {
                let details = json!({ "client_id": client_id, "error": e.to_string() });
                log::record(&state.stores, now, Level::Error, "back-channel logout token not signed", details).await;
            }
        }
    }
    backchannel::wait_briefly(deliveries).await;
    tracing::info!(contact = %session.contact_id, apps = grants.len(), reason = why, "session ended");
    Ok(())
}

/// A contact's live sessions, each with what apps got in it.
pub async fn contact_sessions(
    state: &AppState,
    contact: ContactId,
    now: OffsetDateTime,
) -> Result<Vec<(Session, Vec<SessionGrant>)>, StoreError> {
    let mut out = Vec::new();
    for session in state.stores.sessions.list_for_contact(contact, now).await? {
        let grants = state.stores.grants.session_grants(&session.sid(), now).await?;
        out.push((session, grants));
    }
    Ok(out)
}

/// Ends every session of the contact (as [`end_session`] does each); returns how many.
pub async fn end_all_sessions(
    state: &AppState,
    contact: ContactId,
    why: &str,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let sessions = state.stores.sessions.list_for_contact(contact, now).await?;
    for session in &sessions {
        end_session(state, session, why, now).await?;
    }
    Ok(sessions.len())
}

/// Where the Gatehouse session started by an upstream provider session (`iss`, `sid`) is kept.
pub fn upstream_session_key(issuer: &str, sid: &str) -> TokenDigest {
    OpaqueToken::from_presented(format!("{issuer} {sid}")).digest()
}

/// Where the provider's ID token for a Gatehouse session is kept.
pub fn upstream_sign_out_key(session: &TokenDigest) -> TokenDigest {
    OpaqueToken::from_presented(format!("sign-out {}", session.as_str())).digest()
}

/// Remembers the provider session `session` came from, for as long as `session` lasts: its
/// front-channel logout then finds the session, and Gatehouse's sign-out can offer the
/// provider's with the ID token as the hint.
pub async fn remember_upstream_session(
    state: &AppState,
    session: &Session,
    upstream: &UpstreamSignIn,
) -> Result<(), StoreError> {
    let grants = &state.stores.grants;
    if let Some(sid) = upstream.sid.as_deref().filter(|s| !s.is_empty()) {
        let ticket = Ticket::UpstreamSession { session: session.id.clone() };
        grants.put_ticket(&upstream_session_key(&upstream.issuer, sid), &ticket, session.expires_at).await?;
    }
    let ticket = Ticket::UpstreamSignOut { id_token: upstream.id_token.clone() };
    grants.put_ticket(&upstream_sign_out_key(&session.id), &ticket, session.expires_at).await
}

/// The provider's ID token for `session`, once (the sign-out that offers the provider's).
pub async fn take_upstream_id_token(
    state: &AppState,
    session: &Session,
    now: OffsetDateTime,
) -> Result<Option<SecretString>, StoreError> {
    let key = upstream_sign_out_key(&session.id);
    Ok(match state.stores.grants.take_ticket(TicketKind::UpstreamSignOut, &key, now).await? {
        Some(Ticket::UpstreamSignOut { id_token }) => Some(id_token),
        _ => None,
    })
}

/// The logout token's claims (Back-Channel Logout 1.0 §2.4): no `nonce`, an `events` member.
pub fn logout_claims(
    issuer: &str,
    registration: &Registration,
    sid: &str,
    session: &Session,
    jti: &str,
    now: OffsetDateTime,
) -> Value {
    json!({
        "iss": issuer,
        "aud": registration.client_id,
        "iat": now.unix_timestamp(),
        "exp": (now + LOGOUT_TOKEN_LIFETIME).unix_timestamp(),
        "jti": jti,
        "sub": session.contact_id,
        "sid": sid,
        "events": { BACKCHANNEL_EVENT: {} },
    })
}

async fn logout_token(
    state: &AppState,
    registration: &Registration,
    sid: &str,
    session: &Session,
    now: OffsetDateTime,
) -> Result<String, IssueError> {
    let (signer, key) = app_signer(state, registration, now).await?;
    let jti = random_alphanumeric(22)?;
    let claims = logout_claims(state.config.issuer_str(), registration, sid, session, &jti, now);
    Ok(signer.sign(&claims, key.as_ref())?)
}
