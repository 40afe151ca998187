//! `/admin/api/contacts`.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use gatehouse::contact::{ContactDraft, ContactId};
use gatehouse::contact_search::ContactSearch;
use gatehouse::secret::SecretString;
use gatehouse::web::SharedState;
use gatehouse::web::error::ApiError;
use gatehouse::web::extract::{JsonBody, Req};
use gatehouse::web::request::query;
use gatehouse::web::response::{no_content, ok_json};
use serde::Deserialize;
use utoipa::ToSchema;

use super::schemas::ContactInput;
use super::views::{ContactList, ContactView};
use super::{ApiResult, created};
use crate::auth::SysAdmin;
use crate::service::contacts as service;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/admin/api/contacts", get(list).post(create))
        .route("/admin/api/contacts/{id}", get(read).put(update).delete(delete))
        .route("/admin/api/contacts/{id}/password", post(set_password))
        .route("/admin/api/contacts/{id}/external-id", put(link_identity).delete(unlink_identity))
        .route("/admin/api/contacts/{id}/mfa", axum::routing::delete(reset_mfa))
}

fn contact_id(segment: &str) -> Result<ContactId, ApiError> {
    ContactId::parse(segment).ok_or_else(|| ApiError::not_found("contact"))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

#[utoipa::path(get, path = "/admin/api/contacts", tag = "contacts",
    params(
        ("search" = Option<String>, Query, description = "The start of a username, last name or email (any case); \
            username matches come first, then last names, then emails"),
        ("after" = Option<String>, Query, description = "The previous page's next_cursor"),
        ("limit" = Option<u32>, Query, description = "1 to 200, 100 by default"),
    ),
    responses((status = 200, body = ContactList)))]
async fn list(_: SysAdmin, State(state): State<SharedState>, Req(req): Req) -> ApiResult {
    // Read through `Params`, so a repeated parameter reads as absent as everywhere else.
    let params = query(&req);
    let after = service::cursor(params.text("after")).map_err(ApiError::from)?;
    let limit = params.page_size(100, 200);
    let search = ContactSearch::new(params.text("search"));
    Ok(ok_json(&ContactList::from(&service::page(&state, &search, after.as_ref(), limit).await?)))
}

#[utoipa::path(post, path = "/admin/api/contacts", tag = "contacts", request_body = ContactInput,
    responses((status = 201, body = ContactView)))]
async fn create(_: SysAdmin, State(state): State<SharedState>, JsonBody(draft): JsonBody<ContactDraft>) -> ApiResult {
    Ok(created(&ContactView::from(&service::create(&state, &draft, state.now()).await?)))
}

#[utoipa::path(get, path = "/admin/api/contacts/{id}", tag = "contacts",
    params(("id" = String, Path)), responses((status = 200, body = ContactView)))]
async fn read(_: SysAdmin, State(state): State<SharedState>, Path(id): Path<String>) -> ApiResult {
    Ok(ok_json(&ContactView::from(&service::get(&state, contact_id(&id)?).await?)))
}

#[utoipa::path(put, path = "/admin/api/contacts/{id}", tag = "contacts",
    params(("id" = String, Path)), request_body = ContactInput, responses((status = 200, body = ContactView)))]
async fn update(
    admin: SysAdmin,
    State(state): State<SharedState>,
    Path(id): Path<String>,
    JsonBody(draft): JsonBody<ContactDraft>,
) -> ApiResult {
    let id = contact_id(&id)?;
    Ok(ok_json(&ContactView::from(&service::update(&state, &admin.contact, id, &draft, state.now()).await?)))
}

#[utoipa::path(delete, path = "/admin/api/contacts/{id}", tag = "contacts",
    params(("id" = String, Path)), responses((status = 204)))]
async fn delete(admin: SysAdmin, State(state): State<SharedState>, Path(id): Path<String>) -> ApiResult {
    service::delete(&state, &admin.contact, contact_id(&id)?, state.now()).await?;
    Ok(no_content())
}

#[utoipa::path(post, path = "/admin/api/contacts/{id}/password", tag = "contacts",
    params(("id" = String, Path)), request_body = PasswordBody, responses((status = 204)))]
async fn set_password(
    _: SysAdmin,
    State(state): State<SharedState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PasswordBody>,
) -> ApiResult {
    service::set_password(&state, contact_id(&id)?, body.password, state.now()).await?;
    Ok(no_content())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalIdBody {
    /// The External Claim ID's value, or `issuer|subject` as the OIDC log shows it.
    external_id: String,
}

/// Links a provider identity to the contact (it must have none): signing in through the
/// provider as that identity then signs in as this contact. Logged in the OIDC log.
#[utoipa::path(put, path = "/admin/api/contacts/{id}/external-id", tag = "contacts",
    params(("id" = String, Path)), request_body = ExternalIdBody, responses((status = 200, body = ContactView)))]
async fn link_identity(
    admin: SysAdmin,
    State(state): State<SharedState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ExternalIdBody>,
) -> ApiResult {
    let contact =
        service::link_identity(&state, &admin.contact, contact_id(&id)?, &body.external_id, state.now()).await?;
    Ok(ok_json(&ContactView::from(&contact)))
}

/// Unlinks the contact's provider identity. Logged in the OIDC log.
#[utoipa::path(delete, path = "/admin/api/contacts/{id}/external-id", tag = "contacts",
    params(("id" = String, Path)), responses((status = 200, body = ContactView)))]
async fn unlink_identity(admin: SysAdmin, State(state): State<SharedState>, Path(id): Path<String>) -> ApiResult {
    let contact = service::unlink_identity(&state, &admin.contact, contact_id(&id)?, state.now()).await?;
    Ok(ok_json(&ContactView::from(&contact)))
}

/// Resets the contact's second factor (a lost phone): their app and recovery codes stop
/// working; where MFA is required they set up a new one at their next sign-in. Logged in the
/// OIDC log. Nothing happens when there is none.
#[utoipa::path(delete, path = "/admin/api/contacts/{id}/mfa", tag = "contacts",
    params(("id" = String, Path)), responses((status = 200, body = ContactView)))]
async fn reset_mfa(admin: SysAdmin, State(state): State<SharedState>, Path(id): Path<String>) -> ApiResult {
    let contact = service::reset_mfa(&state, &admin.contact, contact_id(&id)?, state.now()).await?;
    Ok(ok_json(&ContactView::from(&contact)))
}
