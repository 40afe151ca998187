//! Contacts: the directory administrators keep.

use gatehouse::app::AppState;
use gatehouse::contact::{Contact, ContactDraft, ContactId};
use gatehouse::contact_search::{ContactCursor, ContactPage, ContactSearch};
use gatehouse::event_log::Level;
use gatehouse::password::PasswordHash;
use gatehouse::secret::SecretString;
use gatehouse::services::log::record;
use gatehouse::services::mfa::MfaError;
use gatehouse::store::StoreError;
use gatehouse::validation::{Invalid, required_text};
use serde_json::json;
use time::OffsetDateTime;

use super::{AdminError, AdminResult, conflict, unchanged_since};

async fn hash(password: SecretString) -> AdminResult<PasswordHash> {
    tokio::task::spawn_blocking(move || PasswordHash::create(&password))
        .await
        .map_err(|_| AdminError::Hash)?
        .map_err(|_| AdminError::Hash)
}

pub async fn get(state: &AppState, id: ContactId) -> AdminResult<Contact> {
    state.stores.contacts.get(id).await?.ok_or(AdminError::NotFound("contact"))
}

/// The `after` parameter of a contacts list: a cursor this admin wrote (a blank one is none).
pub fn cursor(text: &str) -> Result<Option<ContactCursor>, Invalid> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    ContactCursor::parse(text.trim())
        .map(Some)
        .ok_or_else(|| Invalid::new("after", "is not the cursor of a page of this list; start from the first page"))
}

/// A page of the contacts whose username, last name or email starts with `search`, after
/// `after`. There is no total: counting would read every match.
pub async fn page(
    state: &AppState,
    search: &ContactSearch,
    after: Option<&ContactCursor>,
    limit: usize,
) -> AdminResult<ContactPage> {
    Ok(state.stores.contacts.list(search, after, limit).await?)
}

pub async fn create(state: &AppState, draft: &ContactDraft, now: OffsetDateTime) -> AdminResult<Contact> {
    let profile = draft.validate()?;
    let password_hash = match &draft.password {
        Some(p) => Some(hash(p.clone()).await?),
        None => None,
    };
    let contact = Contact {
        id: ContactId::new_random(),
        profile,
        password_hash,
        password_reset: None,
        mfa: None,
        created_at: now,
        updated_at: now,
        revision: 0,
    };
    state.stores.contacts.insert(&contact).await.map_err(conflict)?;
    tracing::info!(contact = %contact.id, "contact created");
    Ok(contact)
}

/// Replaces the contact's profile; its password changes only when one is given.
pub async fn update(
    state: &AppState,
    acting: &Contact,
    id: ContactId,
    draft: &ContactDraft,
    now: OffsetDateTime,
) -> AdminResult<Contact> {
    let existing = get(state, id).await?;
    let profile = draft.validate()?;
    unchanged_since(draft.revision, existing.revision, || existing.profile.differing_fields(&profile))?;
    if acting.id == id && !profile.is_sysadmin {
        return Err(Invalid::new("is_sysadmin", "you cannot remove your own system administrator rights").into());
    }
    let upstream = gatehouse::services::upstream::load(&state.stores).await?;
    let synced = upstream.is_on() && existing.profile.external_id.is_some();
    let e = &existing.profile;
    for (field, before, after) in [
        ("first_name", &e.first_name, &profile.first_name),
        ("last_name", &e.last_name, &profile.last_name),
        ("email", &e.email, &profile.email),
    ] {
        if synced && before != after {
            return Err(AdminError::Conflict(format!(
                "{field} is synchronized from the OpenID provider while OIDC is on, so it cannot be changed here"
            )));
        }
    }
    let password_hash = match &draft.password {
        Some(p) => Some(hash(p.clone()).await?),
        None => existing.password_hash.clone(),
    };
    let before = existing.profile.external_id.clone();
    let status_changed = profile.status != existing.profile.status;
    let mut contact = Contact { profile, password_hash, updated_at: now, ..existing };
    save(state, &mut contact).await?;
    tracing::info!(contact = %id, "contact updated");
    if before != contact.profile.external_id {
        log_link_change(state, acting, &contact, before.as_deref(), now).await;
    }
    if status_changed && denied_anywhere(state, &contact).await? {
        // A status some app's No Access Mapping lists: their sessions (and the tokens apps got
        // in them) stop working at once, as at sign-out.
        gatehouse::services::logout::end_all_sessions(state, id, "status now denies access", now).await?;
    }
    Ok(contact)
}

/// Removes the contact's second factor (a lost phone), logged in the OIDC log; nothing
/// happens when there is none.
pub async fn reset_mfa(state: &AppState, acting: &Contact, id: ContactId, now: OffsetDateTime) -> AdminResult<Contact> {
    match gatehouse::services::mfa::reset(&state.stores, acting, id, now).await {
        Ok(_) => get(state, id).await,
        Err(MfaError::NoContact) => Err(AdminError::NotFound("contact")),
        Err(MfaError::Store(e)) => Err(e.into()),
        Err(e) => {
            tracing::error!(error = %e, "resetting the second factor failed");
            Err(AdminError::Internal)
        }
    }
}

async fn save(state: &AppState, contact: &mut Contact) -> AdminResult<()> {
    state.stores.contacts.update(contact).await.map_err(|e| match e {
        StoreError::NotFound => AdminError::NotFound("contact"),
        other => conflict(other),
    })
}

/// Links a provider identity (the External Claim ID's value, or `issuer|subject` as the OIDC
/// log shows it) to a contact that has none: the provider then signs in as this contact.
pub async fn link_identity(
    state: &AppState,
    acting: &Contact,
    id: ContactId,
    external_id: &str,
    now: OffsetDateTime,
) -> AdminResult<Contact> {
    let external_id = required_text("external_id", external_id, 255)?;
    let mut contact = get(state, id).await?;
    if let Some(linked) = &contact.profile.external_id {
        if *linked == external_id {
            return Ok(contact);
        }
        return Err(AdminError::Conflict(format!(
            "the contact is already linked to {linked}; unlink it first to link another identity"
        )));
    }
    contact.profile.external_id = Some(external_id);
    contact.updated_at = now;
    save(state, &mut contact).await?;
    log_link_change(state, acting, &contact, None, now).await;
    Ok(contact)
}

/// Removes the contact's provider identity: the provider no longer signs in as this contact.
pub async fn unlink_identity(
    state: &AppState,
    acting: &Contact,
    id: ContactId,
    now: OffsetDateTime,
) -> AdminResult<Contact> {
    let mut contact = get(state, id).await?;
    let Some(before) = contact.profile.external_id.take() else {
        return Ok(contact);
    };
    contact.updated_at = now;
    save(state, &mut contact).await?;
    log_link_change(state, acting, &contact, Some(&before), now).await;
    Ok(contact)
}

/// Every change of a contact's provider identity goes to the OIDC log, with who made it.
async fn log_link_change(
    state: &AppState,
    acting: &Contact,
    contact: &Contact,
    before: Option<&str>,
    now: OffsetDateTime,
) {
    let after = contact.profile.external_id.as_deref();
    let message = match (before, after) {
        (None, Some(_)) => "An administrator linked a provider identity to a contact",
        (Some(_), None) => "An administrator unlinked a contact's provider identity",
        _ => "An administrator changed a contact's provider identity",
    };
    let details = json!({
        "username": contact.profile.username, "administrator": acting.profile.username,
        "external_id": after, "previous_external_id": before,
    });
    record(&state.stores, now, Level::Info, message, details).await;
}

/// Whether any registration's No Access Mapping now denies the contact.
async fn denied_anywhere(state: &AppState, contact: &Contact) -> AdminResult<bool> {
    for registration in state.stores.registrations.list().await? {
        // A registration whose queries are broken cannot deny anyone; it is not this change's concern.
        if let Ok(profile) = gatehouse::services::issue::Profile::load(state, &registration, contact).await
            && profile.denied_by(&registration).is_some()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

pub async fn set_password(
    state: &AppState,
    id: ContactId,
    password: SecretString,
    now: OffsetDateTime,
) -> AdminResult<Contact> {
    gatehouse::password::check_strength(&password).map_err(|m| Invalid::new("password", m))?;
    let mut contact = get(state, id).await?;
    contact.password_hash = Some(hash(password).await?);
    contact.updated_at = now;
    state.stores.contacts.update(&mut contact).await.map_err(conflict)?;
    tracing::info!(contact = %id, "password set by an administrator");
    Ok(contact)
}

pub async fn delete(state: &AppState, acting: &Contact, id: ContactId, now: OffsetDateTime) -> AdminResult<()> {
    if acting.id == id {
        return Err(AdminError::Conflict("you cannot delete your own account".into()));
    }
    if state.stores.contacts.get(id).await?.is_none() {
        return Err(AdminError::NotFound("contact"));
    }
    // Their sessions end first (apps told, tokens revoked), so none outlives the contact.
    gatehouse::services::logout::end_all_sessions(state, id, "contact deleted", now).await?;
    if !state.stores.contacts.delete(id).await? {
        return Err(AdminError::NotFound("contact"));
    }
    tracing::info!(contact = %id, "contact deleted");
    Ok(())
}
