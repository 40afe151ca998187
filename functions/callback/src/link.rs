//! Which contact a provider identity is: the one linked to it (issuer + subject, or the
//! External Claim ID); else, when an unlinked contact already has its email or username, that
//! contact once its owner proves it (or by verified email, when the administrator allows it);
//! else a new contact, just in time. An email alone never signs anyone in as someone else.

use gatehouse::app::AppState;
use gatehouse::contact::{Contact, ContactId, ContactProfile};
use gatehouse::event_log::Level;
use gatehouse::services::log::record;
use gatehouse::store::StoreError;
use gatehouse::ticket::UpstreamSignIn;
use gatehouse::upstream::claims::{UpstreamPerson, email_is_verified};
use gatehouse::upstream::settings::{RequireFor, UpstreamSettings};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

/// What the callback does with the person.
pub enum Resolved {
    /// Sign this contact in (linked before, linked now by verified email, or just created).
    SignIn(Contact),
    /// An unlinked contact has this email or username: its owner must enter its password once.
    ProvePassword(Contact),
    /// A contact has this email or username but cannot be linked here; an administrator can.
    AskAdmin(&'static str),
}

/// The claims of one verified sign-in.
pub struct Arrival<'a> {
    pub settings: &'a UpstreamSettings,
    pub person: &'a UpstreamPerson,
    pub claims: &'a Map<String, Value>,
    pub is_staff: bool,
    /// The provider session, remembered with the Gatehouse session the sign-in starts.
    pub upstream: &'a UpstreamSignIn,
}

impl Arrival<'_> {
    /// The provider's own username for the person, when it is not just the email.
    fn provider_username(&self) -> Option<&str> {
        ["preferred_username", "upn"]
            .iter()
            .filter_map(|name| self.claims.get(*name).and_then(Value::as_str))
            .map(str::trim)
            .find(|v| !v.is_empty() && !v.eq_ignore_ascii_case(&self.person.email))
    }
}

/// The linked contact with the provider's claims applied. A sign-in of the same person in
/// another tab may write it first: the copy is then read again and the claims applied to that.
async fn synced(
    state: &AppState,
    mut contact: Contact,
    arrival: &Arrival<'_>,
    now: OffsetDateTime,
) -> Result<Contact, StoreError> {
    const ATTEMPTS: usize = 3;
    for _ in 0..ATTEMPTS {
        if !sync(state, &mut contact, arrival.person, arrival.is_staff, arrival.settings).await? {
            return Ok(contact);
        }
        contact.updated_at = now;
        match state.stores.contacts.update(&mut contact).await {
            Err(StoreError::Stale) => {
                contact = state.stores.contacts.get(contact.id).await?.ok_or(StoreError::NotFound)?;
            }
            written => return written.map(|()| contact),
        }
    }
    Err(StoreError::Stale)
}

pub async fn resolve(state: &AppState, arrival: &Arrival<'_>, now: OffsetDateTime) -> Result<Resolved, StoreError> {
    let contacts = &state.stores.contacts;
    let person = arrival.person;
    if let Some(contact) = contacts.find_by_external_id(&person.link_id).await? {
        return Ok(Resolved::SignIn(synced(state, contact, arrival, now).await?));
    }
    let candidates = candidates(state, arrival).await?;
    let [candidate] = candidates.as_slice() else {
        if candidates.is_empty() {
            return create(state, arrival, now).await;
        }
        return Ok(Resolved::AskAdmin("more than one contact has this email or username"));
    };
    if candidate.profile.external_id.is_some() {
        return Ok(Resolved::AskAdmin("the contact with this email is linked to another provider identity"));
    }
    let same_email = !person.email.is_empty() && candidate.profile.email.eq_ignore_ascii_case(&person.email);
    if arrival.settings.link_verified_email
        && same_email
        && !candidate.profile.is_sysadmin
        && email_is_verified(arrival.claims, arrival.settings, &person.email)
    {
        let mut contact = candidate.clone();
        contact.profile.external_id = Some(person.link_id.clone());
        sync(state, &mut contact, person, arrival.is_staff, arrival.settings).await?;
        contact.updated_at = now;
        contacts.update(&mut contact).await?;
        record(
            &state.stores,
            now,
            Level::Info,
            "Linked the provider identity to the existing contact with the same verified email",
            json!({ "username": contact.profile.username, "external_id": person.link_id }),
        )
        .await;
        return Ok(Resolved::SignIn(contact));
    }
    if candidate.profile.is_sysadmin {
        return Ok(Resolved::AskAdmin("the contact with this email is a system administrator"));
    }
    if candidate.password_hash.is_none() {
        return Ok(Resolved::AskAdmin("the contact with this email has no password to prove it is theirs"));
    }
    Ok(Resolved::ProvePassword(candidate.clone()))
}

/// Unlinked or not, every contact whose username or email is the person's email, or whose
/// username is the provider's username for them.
async fn candidates(state: &AppState, arrival: &Arrival<'_>) -> Result<Vec<Contact>, StoreError> {
    let contacts = &state.stores.contacts;
    let mut found: Vec<Contact> = Vec::new();
    let email = arrival.person.email.as_str();
    let mut names: Vec<&str> = Vec::new();
    if !email.is_empty() {
        names.push(email);
        found.extend(contacts.find_by_email(email).await?);
    }
    names.extend(arrival.provider_username());
    for name in names {
        if let Some(contact) = contacts.find_by_username(name).await?
            && !found.iter().any(|c| c.id == contact.id)
        {
            found.push(contact);
        }
    }
    Ok(found)
}

/// A new contact for a person nobody has: the email is their username.
async fn create(state: &AppState, arrival: &Arrival<'_>, now: OffsetDateTime) -> Result<Resolved, StoreError> {
    let person = arrival.person;
    if person.email.is_empty() {
        return Ok(Resolved::AskAdmin("the provider sent no email address, which a new contact needs"));
    }
    let contact = Contact {
        id: ContactId::new_random(),
        profile: ContactProfile {
            username: person.email.clone(),
            email: person.email.clone(),
            first_name: person.first_name.clone(),
            last_name: person.last_name.clone(),
            is_staff: arrival.is_staff,
            is_sysadmin: false,
            status: "A".into(),
            member_type: if arrival.is_staff { "STAFF".into() } else { String::new() },
            roles: Vec::new(),
            attributes: Default::default(),
            external_id: Some(person.link_id.clone()),
        },
        password_hash: None,
        password_reset: None,
        mfa: None,
        created_at: now,
        updated_at: now,
        revision: 0,
    };
    match state.stores.contacts.insert(&contact).await {
        Ok(()) => {
            record(
                &state.stores,
                now,
                Level::Info,
                "Created a user just in time",
                json!({ "username": contact.profile.username, "staff": arrival.is_staff, "external_id": person.link_id }),
            )
            .await;
            Ok(Resolved::SignIn(contact))
        }
        // Someone took the username (or the identity was linked) since we looked.
        Err(StoreError::Conflict(_)) => Ok(Resolved::AskAdmin("a contact took this email or identity meanwhile")),
        Err(e) => Err(e),
    }
}

/// Brings the contact in line with the provider: names and email (unless another contact has
/// that email), and staff status, which the claim decides at every sign-in (system
/// administrators stay staff). Returns whether anything changed.
pub async fn sync(
    state: &AppState,
    contact: &mut Contact,
    person: &UpstreamPerson,
    is_staff: bool,
    settings: &UpstreamSettings,
) -> Result<bool, StoreError> {
    let mut changed = false;
    // With Staff Only, public users' names and emails keep syncing the usual way.
    if is_staff || settings.require_for == RequireFor::StaffAndPublic {
        let p = &mut contact.profile;
        for (field, value) in [(&mut p.first_name, &person.first_name), (&mut p.last_name, &person.last_name)] {
            if !value.is_empty() && field != value {
                value.clone_into(field);
                changed = true;
            }
        }
        if !person.email.is_empty() && !contact.profile.email.eq_ignore_ascii_case(&person.email) {
            let taken = state.stores.contacts.find_by_email(&person.email).await?.iter().any(|c| c.id != contact.id);
            if taken {
                record(
                    &state.stores,
                    state.now(),
                    Level::Warning,
                    "Email not synced: another contact has it",
                    json!({ "username": contact.profile.username, "email": person.email }),
                )
                .await;
            } else {
                contact.profile.email.clone_from(&person.email);
                changed = true;
            }
        }
    }
    let p = &mut contact.profile;
    let staff = is_staff || p.is_sysadmin;
    if p.is_staff != staff {
        record(
            &state.stores,
            state.now(),
            Level::Info,
            if staff { "Made staff by the staff claim" } else { "No longer staff: the staff claim is gone" },
            json!({ "username": p.username }),
        )
        .await;
        p.is_staff = staff;
        changed = true;
    }
    Ok(changed)
}
