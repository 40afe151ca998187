//! Linking the provider's person to a contact: by issuer + subject (or the External Claim ID),
//! never by an unverified email; creating them just in time; syncing names and email.

use gatehouse::app::AppState;
use gatehouse::contact::{Contact, ContactId, ContactProfile};
use gatehouse::store::StoreError;
use gatehouse::upstream::claims::UpstreamPerson;
use gatehouse::upstream::settings::{RequireFor, UpstreamSettings};
use time::OffsetDateTime;

/// The linked contact, synced; or a new one. Errors are messages for the person.
pub async fn link_or_create(
    state: &AppState,
    settings: &UpstreamSettings,
    person: &UpstreamPerson,
    is_staff: bool,
    now: OffsetDateTime,
) -> Result<Contact, String> {
    let internal = |e: StoreError| {
        tracing::error!(error = %e, "linking failed");
        "Something went wrong on our side. Please try again.".to_owned()
    };
    // With Staff Only, public users' names and emails keep syncing the usual way.
    let sync = is_staff || settings.require_for == RequireFor::StaffAndPublic;
    if let Some(mut contact) = state.stores.contacts.find_by_external_id(&person.link_id).await.map_err(internal)? {
        let p = &mut contact.profile;
        let mut changed = false;
        if sync {
            for (field, value) in [
                (&mut p.first_name, &person.first_name),
                (&mut p.last_name, &person.last_name),
                (&mut p.email, &person.email),
            ] {
                if !value.is_empty() && field != value {
                    *field = value.clone();
                    changed = true;
                }
            }
        }
        if is_staff && !p.is_staff {
            p.is_staff = true;
            changed = true;
        }
        if changed {
            contact.updated_at = now;
            state.stores.contacts.update(&contact).await.map_err(internal)?;
        }
        return Ok(contact);
    }
    if person.email.is_empty() {
        return Err("The provider did not send an email address, which is needed to create your account.".into());
    }
    let contact = Contact {
        id: ContactId::new_random(),
        profile: ContactProfile {
            username: person.email.clone(),
            email: person.email.clone(),
            first_name: person.first_name.clone(),
            last_name: person.last_name.clone(),
            is_staff,
            is_sysadmin: false,
            status: "A".into(),
            member_type: if is_staff { "STAFF".into() } else { String::new() },
            roles: Vec::new(),
            attributes: Default::default(),
            external_id: Some(person.link_id.clone()),
        },
        password_hash: None,
        created_at: now,
        updated_at: now,
    };
    match state.stores.contacts.insert(&contact).await {
        Ok(()) => Ok(contact),
        // A local account already uses this email as its username, but it is not linked to
        // this identity: an unverified email must never sign anyone in as someone else.
        Err(StoreError::Conflict(_)) => Err(format!(
            "An account named {} already exists but is not linked to this sign-in. Ask an administrator to link it (set its External ID).",
            person.email
        )),
        Err(e) => Err(internal(e)),
    }
}
