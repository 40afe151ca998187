//! Saved queries, and the seed's "Validate IQA": check a definition and preview its result.

use gatehouse::app::AppState;
use gatehouse::query::{QueryDefinition, QueryDraft, QueryKind, QueryPath, SavedQuery, nest};
use gatehouse::store::StoreError;
use gatehouse::validation::Invalid;
use serde_json::Value;
use time::OffsetDateTime;

use super::{AdminError, AdminResult, conflict, unchanged_since};

pub async fn get(state: &AppState, path: &QueryPath) -> AdminResult<SavedQuery> {
    state.stores.queries.get(path).await?.ok_or(AdminError::NotFound("query"))
}

pub async fn list(state: &AppState) -> AdminResult<Vec<SavedQuery>> {
    Ok(state.stores.queries.list().await?)
}

/// Registrations that use `path`, by name.
async fn users_of(state: &AppState, path: &QueryPath) -> AdminResult<Vec<(String, QueryKind)>> {
    Ok(state
        .stores
        .registrations
        .list()
        .await?
        .into_iter()
        .filter_map(|r| {
            if &r.settings.profile_query == path {
                Some((r.settings.name, QueryKind::Profile))
            } else if &r.settings.role_query == path {
                Some((r.settings.name, QueryKind::Role))
            } else {
                None
            }
        })
        .collect())
}

pub async fn create(state: &AppState, draft: &QueryDraft, now: OffsetDateTime) -> AdminResult<SavedQuery> {
    let def = draft.validate()?;
    let query = SavedQuery {
        path: def.path,
        kind: def.kind,
        columns: def.columns,
        created_at: now,
        updated_at: now,
        revision: 0,
    };
    state.stores.queries.insert(&query).await.map_err(conflict)?;
    tracing::info!(path = %query.path, "query created");
    Ok(query)
}

/// Changes a query's kind or columns. Its path is its identity and stays.
pub async fn update(
    state: &AppState,
    path: &QueryPath,
    draft: &QueryDraft,
    now: OffsetDateTime,
) -> AdminResult<SavedQuery> {
    let existing = get(state, path).await?;
    let def = draft.validate()?;
    unchanged_since(draft.revision, existing.revision, || {
        [("kind", def.kind != existing.kind), ("columns", def.columns != existing.columns)]
            .into_iter()
            .filter_map(|(name, differs)| differs.then_some(name))
            .collect()
    })?;
    if &def.path != path {
        return Err(Invalid::new("path", "a query's path cannot be changed; create a new query instead").into());
    }
    if def.kind != existing.kind
        && let Some((name, _)) = users_of(state, path).await?.into_iter().next()
    {
        return Err(AdminError::Conflict(format!(
            "{path} is used by registration `{name}`, so its kind cannot change"
        )));
    }
    let mut query = SavedQuery { kind: def.kind, columns: def.columns, updated_at: now, ..existing };
    state.stores.queries.update(&mut query).await.map_err(|e| match e {
        StoreError::NotFound => AdminError::NotFound("query"),
        other => conflict(other),
    })?;
    tracing::info!(%path, "query updated");
    Ok(query)
}

pub async fn delete(state: &AppState, path: &QueryPath) -> AdminResult<()> {
    if let Some((name, _)) = users_of(state, path).await?.into_iter().next() {
        return Err(AdminError::Conflict(format!(
            "{path} is used by registration `{name}`; change that registration first"
        )));
    }
    if !state.stores.queries.delete(path).await? {
        return Err(AdminError::NotFound("query"));
    }
    tracing::info!(%path, "query deleted");
    Ok(())
}

/// The result of running a query for one username.
#[derive(Debug)]
pub enum Preview {
    Profile(serde_json::Map<String, Value>),
    Roles(Vec<String>),
}

/// Runs a definition for `username`: exactly one row for a profile query, the role rows for a role query.
pub async fn preview(state: &AppState, def: &QueryDefinition, username: &str) -> AdminResult<Preview> {
    let contact = state.stores.contacts.find_by_username(username).await?.ok_or_else(|| {
        Invalid::new(
            "username",
            format!("{} returned no row for username `{}`: it must return exactly one", def.path, username.trim()),
        )
    })?;
    Ok(match def.kind {
        QueryKind::Profile => Preview::Profile(nest(&def.profile_row(&contact))),
        QueryKind::Role => Preview::Roles(def.role_rows(&contact)),
    })
}
