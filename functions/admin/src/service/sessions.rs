//! A contact's browser sessions: listed with the apps signed in through each, and ended all at
//! once (each app's tokens revoked and back-channel notices sent, as at sign-out).

use gatehouse::app::AppState;
use gatehouse::contact::ContactId;
use gatehouse::registration::Registration;
use gatehouse::services::logout;
use gatehouse::session::Session;
use time::OffsetDateTime;

use super::{AdminError, AdminResult};

/// One live session and the registrations that got tokens in it.
pub struct ContactSession {
    pub session: Session,
    pub apps: Vec<Registration>,
}

async fn existing(state: &AppState, id: ContactId) -> AdminResult<()> {
    state.stores.contacts.get(id).await?.map(drop).ok_or(AdminError::NotFound("contact"))
}

pub async fn list(state: &AppState, id: ContactId, now: OffsetDateTime) -> AdminResult<Vec<ContactSession>> {
    existing(state, id).await?;
    let mut out = Vec::new();
    for (session, grants) in logout::contact_sessions(state, id, now).await? {
        let mut apps: Vec<Registration> = Vec::new();
        for grant in grants {
            if apps.iter().any(|a| a.client_id == grant.client_id) {
                continue;
            }
            if let Some(registration) = state.stores.registrations.get(grant.client_id).await? {
                apps.push(registration);
            }
        }
        out.push(ContactSession { session, apps });
    }
    Ok(out)
}

/// Ends every session of the contact; returns how many there were.
pub async fn sign_out_everywhere(state: &AppState, id: ContactId, now: OffsetDateTime) -> AdminResult<usize> {
    existing(state, id).await?;
    let ended = logout::end_all_sessions(state, id, "signed out everywhere by an administrator", now).await?;
    tracing::info!(contact = %id, ended, "signed out everywhere");
    Ok(ended)
}
