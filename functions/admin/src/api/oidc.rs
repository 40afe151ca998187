//! `/admin/api/oidc-settings` (the OpenID Connect settings page) and `/admin/api/logs` (its Logs tab).

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use gatehouse::upstream::settings::SettingsDraft;
use gatehouse::web::SharedState;
use gatehouse::web::error::ApiError;
use gatehouse::web::extract::{JsonBody, Req};
use gatehouse::web::request::query;
use gatehouse::web::response::ok_json;

use super::ApiResult;
use super::schemas::OidcSettingsInput;
use super::views::{LogPageView, SettingsView};
use crate::auth::SysAdmin;
use crate::service::oidc as service;

pub fn routes() -> Router<SharedState> {
    Router::new().route("/admin/api/oidc-settings", get(read).put(save)).route("/admin/api/logs", get(logs))
}

#[utoipa::path(get, path = "/admin/api/oidc-settings", tag = "oidc", responses((status = 200, body = SettingsView)))]
async fn read(_: SysAdmin, State(state): State<SharedState>) -> ApiResult {
    Ok(ok_json(&SettingsView::from(&service::load(&state).await?)))
}

#[utoipa::path(put, path = "/admin/api/oidc-settings", tag = "oidc", request_body = OidcSettingsInput,
    responses((status = 200, body = SettingsView)))]
async fn save(_: SysAdmin, State(state): State<SharedState>, JsonBody(draft): JsonBody<SettingsDraft>) -> ApiResult {
    Ok(ok_json(&SettingsView::from(&service::save(&state, &draft).await?)))
}

#[utoipa::path(get, path = "/admin/api/logs", tag = "oidc",
    params(
        ("level" = Option<String>, Query, description = "debug, info, warning or error: this level and above"),
        ("contains" = Option<String>, Query, description = "Text the message contains"),
        ("from" = Option<String>, Query, description = "A date (2026-11-23) or RFC 3339 time"),
        ("to" = Option<String>, Query, description = "A date (through its end) or RFC 3339 time"),
        ("before" = Option<String>, Query, description = "The previous page's next_before"),
        ("limit" = Option<u32>, Query, description = "1 to 500, 50 by default"),
    ),
    responses((status = 200, body = LogPageView)))]
async fn logs(_: SysAdmin, State(state): State<SharedState>, Req(req): Req) -> ApiResult {
    let filter = service::log_filter(&query(&req)).map_err(ApiError::from)?;
    Ok(ok_json(&LogPageView::from(&service::logs(&state, &filter, state.now()).await?)))
}
