//! App registrations: create, change, delete, and regenerate their credentials.

use gatehouse::app::AppState;
use gatehouse::query::QueryKind;
use gatehouse::registration::{
    ClientId, ClientSecrets, IgnoredField, Registration, RegistrationDraft, RegistrationSettings,
    ignored_id_token_fields,
};
use gatehouse::secret::SecretString;
use gatehouse::store::StoreError;
use gatehouse::validation::Invalid;
use time::OffsetDateTime;

use super::short_list::{ShortPage, page_of};
use super::{AdminError, AdminResult, conflict, unchanged_since};

/// A registration with its credentials and the ID token fields that will be ignored.
#[derive(Debug)]
pub struct RegistrationDetails {
    pub registration: Registration,
    pub secrets: Option<ClientSecrets>,
    pub ignored_id_token_fields: Vec<IgnoredField>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    ClientSecret,
    JwtSigningKey,
}

/// Both queries must exist and be of the right kind.
async fn check_queries(state: &AppState, settings: &RegistrationSettings) -> AdminResult<()> {
    for (field, path, kind) in [
        ("profile_query", &settings.profile_query, QueryKind::Profile),
        ("role_query", &settings.role_query, QueryKind::Role),
    ] {
        match state.stores.queries.get(path).await? {
            None => {
                return Err(
                    Invalid::new(field, format!("query {path} does not exist: create it under Queries first")).into()
                );
            }
            Some(q) if q.kind != kind => {
                let wanted = gatehouse::query::kind_name(kind);
                return Err(Invalid::new(field, format!("query {path} is not a {wanted} query")).into());
            }
            Some(_) => {}
        }
    }
    Ok(())
}

pub async fn details(state: &AppState, registration: Registration) -> AdminResult<RegistrationDetails> {
    let secrets = state.stores.client_secrets(&registration).await?;
    let columns: Option<Vec<String>> = state
        .stores
        .queries
        .get(&registration.settings.profile_query)
        .await?
        .map(|q| q.columns.into_iter().map(|c| c.alias).collect());
    let ignored_id_token_fields = ignored_id_token_fields(&registration.settings, columns.as_deref());
    Ok(RegistrationDetails { registration, secrets, ignored_id_token_fields })
}

pub async fn get(state: &AppState, client_id: ClientId) -> AdminResult<RegistrationDetails> {
    let registration = state.stores.registrations.get(client_id).await?.ok_or(AdminError::NotFound("registration"))?;
    details(state, registration).await
}

/// Every registration, without its secrets or query columns (what the list page shows).
pub async fn registrations(state: &AppState) -> AdminResult<Vec<Registration>> {
    Ok(state.stores.registrations.list().await?)
}

/// The order of the registrations' lists, and their page cursor: name (any case), then Client ID.
pub fn list_key(registration: &Registration) -> String {
    format!("{}\n{}", registration.settings.name.to_lowercase(), registration.client_id)
}

/// A page of the registrations, with their secrets and query columns.
pub async fn page(state: &AppState, after: Option<&str>, limit: usize) -> AdminResult<ShortPage<RegistrationDetails>> {
    let page = page_of(registrations(state).await?, list_key, after, limit);
    let mut items = Vec::new();
    for registration in page.items {
        items.push(details(state, registration).await?);
    }
    Ok(ShortPage { items, next: page.next })
}

pub async fn create(
    state: &AppState,
    draft: &RegistrationDraft,
    now: OffsetDateTime,
) -> AdminResult<RegistrationDetails> {
    let settings = draft.validate()?;
    check_queries(state, &settings).await?;
    let registration =
        Registration { client_id: ClientId::new_random(), settings, created_at: now, updated_at: now, revision: 0 };
    // Secrets first: a registration must never exist without its credentials.
    state.stores.put_client_secrets(registration.client_id, &ClientSecrets::generate()?).await?;
    if let Err(e) = state.stores.registrations.insert(&registration).await {
        let _ = state.stores.delete_client_secrets(registration.client_id).await;
        return Err(e.into());
    }
    tracing::info!(client_id = %registration.client_id, "registration created");
    details(state, registration).await
}

pub async fn update(
    state: &AppState,
    client_id: ClientId,
    draft: &RegistrationDraft,
    now: OffsetDateTime,
) -> AdminResult<RegistrationDetails> {
    let existing = state.stores.registrations.get(client_id).await?.ok_or(AdminError::NotFound("registration"))?;
    let settings = draft.validate()?;
    unchanged_since(draft.revision, existing.revision, || existing.settings.differing_fields(&settings))?;
    check_queries(state, &settings).await?;
    let mut registration = Registration { settings, updated_at: now, ..existing };
    state.stores.registrations.update(&mut registration).await.map_err(|e| match e {
        StoreError::NotFound => AdminError::NotFound("registration"),
        other => conflict(other),
    })?;
    tracing::info!(%client_id, "registration updated");
    details(state, registration).await
}

/// Deleting stops the app's SSO at once; its credentials go with it. Once the registration
/// is gone the deletion has happened: a credential that cannot be deleted as well is logged
/// (and is useless without its registration) rather than reported as a failed deletion.
pub async fn delete(state: &AppState, client_id: ClientId) -> AdminResult<()> {
    if !state.stores.registrations.delete(client_id).await? {
        return Err(AdminError::NotFound("registration"));
    }
    if let Err(e) = state.stores.delete_client_secrets(client_id).await {
        tracing::warn!(%client_id, error = %e, "registration deleted, but its credentials were left behind");
    }
    tracing::info!(%client_id, "registration deleted");
    Ok(())
}

pub async fn regenerate(
    state: &AppState,
    client_id: ClientId,
    which: Credential,
    now: OffsetDateTime,
) -> AdminResult<RegistrationDetails> {
    let mut registration =
        state.stores.registrations.get(client_id).await?.ok_or(AdminError::NotFound("registration"))?;
    let mut secrets = match state.stores.client_secrets(&registration).await? {
        Some(secrets) => secrets,
        None => ClientSecrets::generate()?,
    };
    let fresh = SecretString::generate(gatehouse::registration::CREDENTIAL_LENGTH)?;
    match which {
        Credential::ClientSecret => secrets.client_secret = fresh,
        Credential::JwtSigningKey => secrets.jwt_signing_key = fresh,
    }
    // The record first: if it cannot be written, the old credential still works and the
    // caller's error is true. The credential's write is then the last step, so an answer of
    // success or failure always matches which credential is in force.
    registration.updated_at = now;
    state.stores.registrations.update(&mut registration).await.map_err(conflict)?;
    state.stores.put_client_secrets(client_id, &secrets).await?;
    tracing::info!(%client_id, credential = ?which, "credential regenerated");
    details(state, registration).await
}
