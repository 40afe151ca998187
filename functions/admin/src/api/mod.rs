//! The admin JSON API under `/admin/api/`. Every route but the OpenAPI document takes a
//! [`SysAdmin`]; bodies come through [`JsonBody`], answers are the typed views in [`views`].

mod contacts;
mod doc;
mod oidc;
mod queries;
mod registrations;
mod schemas;
mod sessions;
mod signing;
pub mod views;

use axum::Router;
use axum::extract::State;
use axum::routing::{any, get};
use gatehouse::web::error::ApiError;
use gatehouse::web::extract::Req;
use gatehouse::web::response::{json_response, json_text, ok_json};
use gatehouse::web::{Response, SharedState, StatusCode};

use crate::auth::SysAdmin;
use crate::service;
use views::{OutboxView, SessionView};

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/admin/api/openapi.json", get(openapi))
        .route("/admin/api/session", get(session))
        .route("/admin/api/outbox", get(outbox))
        .merge(registrations::routes())
        .merge(contacts::routes())
        .merge(sessions::routes())
        .merge(queries::routes())
        .merge(signing::routes())
        .merge(oidc::routes())
        // Unknown API paths: still only for administrators, then a JSON 404.
        .route("/admin/api/{*rest}", any(not_found))
}

pub type ApiResult = Result<Response, ApiError>;

async fn openapi() -> Response {
    json_text(StatusCode::OK, doc::DOCUMENT)
}

async fn not_found(_: SysAdmin) -> ApiError {
    ApiError::not_found("this API path")
}

#[utoipa::path(get, path = "/admin/api/session", tag = "session",
    responses((status = 200, description = "Who is signed in", body = SessionView)))]
async fn session(admin: SysAdmin) -> Response {
    ok_json(&SessionView::from(&admin))
}

#[utoipa::path(get, path = "/admin/api/outbox", tag = "outbox",
    params(
        ("before" = Option<String>, Query, description = "The previous page's next_before"),
        ("limit" = Option<u32>, Query, description = "1 to 500, 100 by default"),
    ),
    responses((status = 200, description = "The mail Gatehouse sent, newest first", body = OutboxView)))]
async fn outbox(_: SysAdmin, State(state): State<SharedState>, Req(req): Req) -> ApiResult {
    let params = gatehouse::web::request::query(&req);
    let before = params.non_empty("before");
    let limit = params.page_size(100, 500);
    let page = service::outbox::recent(&state, before, limit, state.now()).await?;
    Ok(ok_json(&OutboxView::from(&page)))
}

pub(crate) fn created(value: &impl serde::Serialize) -> Response {
    json_response(StatusCode::CREATED, value)
}
