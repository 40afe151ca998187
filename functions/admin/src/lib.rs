//! The admin: web pages under `/admin` and a JSON API under `/admin/api/`, for system
//! administrators only.

mod api;
mod auth;
mod pages;
pub mod service;

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use gatehouse::web::{Response, SharedState};

pub fn router(state: SharedState) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(pages::routes())
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// The admin Lambda's router. Once per cold start it also sweeps client credentials left
/// without a registration, in the background so the first request never waits for it.
pub fn router_with_upkeep(state: SharedState) -> Router {
    let upkeep = state.clone();
    tokio::spawn(async move {
        let moment = gatehouse::services::secrets::SweepMoment::Running;
        match gatehouse::services::secrets::sweep_orphan_client_secrets(&upkeep.stores, upkeep.now(), moment).await {
            Ok(0) => {}
            Ok(swept) => tracing::info!(swept, "orphaned client credentials swept"),
            Err(e) => tracing::warn!(error = %e, "the sweep of orphaned client credentials failed"),
        }
    });
    router(state)
}

/// A known path asked with the wrong method: whoever may not use the admin gets the same
/// answer as on any admin path (401/403 or the sign-in redirect); administrators get 405.
async fn method_not_allowed(State(state): State<SharedState>, mut parts: Parts) -> Response {
    if parts.uri.path().starts_with("/admin/api/") {
        match auth::SysAdmin::from_request_parts(&mut parts, &state).await {
            Ok(_) => gatehouse::web::error::ApiError::method_not_allowed().into_response(),
            Err(e) => e.into_response(),
        }
    } else {
        match pages::Ctx::from_request_parts(&mut parts, &state).await {
            Ok(_) => pages::method_not_allowed().into_response(),
            Err(e) => e,
        }
    }
}
