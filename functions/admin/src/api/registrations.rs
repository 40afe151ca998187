//! `/admin/api/registrations`.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use gatehouse::app::AppState;
use gatehouse::registration::{ClientId, RegistrationDraft};
use gatehouse::web::SharedState;
use gatehouse::web::error::ApiError;
use gatehouse::web::extract::{JsonBody, Req};
use gatehouse::web::request::query;
use gatehouse::web::response::{no_content, ok_json};

use super::schemas::RegistrationInput;
use super::views::{RegistrationList, RegistrationView};
use super::{ApiResult, created};
use crate::auth::SysAdmin;
use crate::service::registrations::{self as service, Credential, RegistrationDetails};

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/admin/api/registrations", get(list).post(create))
        .route("/admin/api/registrations/{client_id}", get(read).put(update).delete(delete))
        .route("/admin/api/registrations/{client_id}/regenerate-secret", post(regenerate_secret))
        .route("/admin/api/registrations/{client_id}/regenerate-signing-key", post(regenerate_signing_key))
}

fn client_id(segment: &str) -> Result<ClientId, ApiError> {
    ClientId::parse(segment).ok_or_else(|| ApiError::not_found("registration"))
}

/// The JWT signing key is hidden while an asymmetric algorithm signs, as it is unused.
async fn hide_signing_key(state: &AppState) -> Result<bool, ApiError> {
    Ok(crate::service::signing::get(state).await?.algorithm.is_asymmetric())
}

async fn view(state: &AppState, d: &RegistrationDetails) -> Result<RegistrationView, ApiError> {
    Ok(RegistrationView::new(d, hide_signing_key(state).await?))
}

#[utoipa::path(get, path = "/admin/api/registrations", tag = "registrations",
    params(
        ("after" = Option<String>, Query, description = "The previous page's next_cursor"),
        ("limit" = Option<u32>, Query, description = "1 to 200, 100 by default"),
    ),
    responses((status = 200, body = RegistrationList)))]
async fn list(_: SysAdmin, State(state): State<SharedState>, Req(req): Req) -> ApiResult {
    let params = query(&req);
    let after = params.non_empty("after");
    let limit = params.page_size(100, 200);
    let hide = hide_signing_key(&state).await?;
    let page = service::page(&state, after, limit).await?;
    Ok(ok_json(&RegistrationList {
        registrations: page.items.iter().map(|d| RegistrationView::new(d, hide)).collect(),
        next_cursor: page.next,
    }))
}

#[utoipa::path(post, path = "/admin/api/registrations", tag = "registrations", request_body = RegistrationInput,
    responses((status = 201, body = RegistrationView)))]
async fn create(
    _: SysAdmin,
    State(state): State<SharedState>,
    JsonBody(draft): JsonBody<RegistrationDraft>,
) -> ApiResult {
    let saved = service::create(&state, &draft, state.now()).await?;
    Ok(created(&view(&state, &saved).await?))
}

#[utoipa::path(get, path = "/admin/api/registrations/{client_id}", tag = "registrations",
    params(("client_id" = String, Path)), responses((status = 200, body = RegistrationView)))]
async fn read(_: SysAdmin, State(state): State<SharedState>, Path(id): Path<String>) -> ApiResult {
    let d = service::get(&state, client_id(&id)?).await?;
    Ok(ok_json(&view(&state, &d).await?))
}

#[utoipa::path(put, path = "/admin/api/registrations/{client_id}", tag = "registrations",
    params(("client_id" = String, Path)), request_body = RegistrationInput,
    responses((status = 200, body = RegistrationView)))]
async fn update(
    _: SysAdmin,
    State(state): State<SharedState>,
    Path(id): Path<String>,
    JsonBody(draft): JsonBody<RegistrationDraft>,
) -> ApiResult {
    let d = service::update(&state, client_id(&id)?, &draft, state.now()).await?;
    Ok(ok_json(&view(&state, &d).await?))
}

#[utoipa::path(delete, path = "/admin/api/registrations/{client_id}", tag = "registrations",
    params(("client_id" = String, Path)), responses((status = 204)))]
async fn delete(_: SysAdmin, State(state): State<SharedState>, Path(id): Path<String>) -> ApiResult {
    service::delete(&state, client_id(&id)?).await?;
    Ok(no_content())
}

async fn regenerate(state: &AppState, id: &str, which: Credential) -> ApiResult {
    let d = service::regenerate(state, client_id(id)?, which, state.now()).await?;
    Ok(ok_json(&view(state, &d).await?))
}

#[utoipa::path(post, path = "/admin/api/registrations/{client_id}/regenerate-secret", tag = "registrations",
    params(("client_id" = String, Path)), responses((status = 200, body = RegistrationView)))]
async fn regenerate_secret(_: SysAdmin, State(state): State<SharedState>, Path(id): Path<String>) -> ApiResult {
    regenerate(&state, &id, Credential::ClientSecret).await
}

#[utoipa::path(post, path = "/admin/api/registrations/{client_id}/regenerate-signing-key", tag = "registrations",
    params(("client_id" = String, Path)), responses((status = 200, body = RegistrationView)))]
async fn regenerate_signing_key(_: SysAdmin, State(state): State<SharedState>, Path(id): Path<String>) -> ApiResult {
    regenerate(&state, &id, Credential::JwtSigningKey).await
}
