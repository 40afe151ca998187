//! `/admin/api/contacts/{id}/sessions` and `/admin/api/contacts/{id}/sign-out-everywhere`.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use gatehouse::clock::rfc3339;
use gatehouse::contact::ContactId;
use gatehouse::web::SharedState;
use gatehouse::web::error::ApiError;
use gatehouse::web::response::ok_json;
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiResult;
use crate::auth::SysAdmin;
use crate::service::sessions::{self as service, ContactSession};

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/admin/api/contacts/{id}/sessions", get(list))
        .route("/admin/api/contacts/{id}/sign-out-everywhere", post(sign_out_everywhere))
}

/// An app a member signed in to during a session.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = SessionApp)]
pub struct SessionAppView {
    pub client_id: String,
    pub name: String,
}

/// One of a member's active Gatehouse sessions.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = MemberSession)]
pub struct MemberSessionView {
    /// The session id apps see as `sid` in ID and logout tokens.
    pub sid: String,
    /// RFC 3339.
    pub signed_in_at: String,
    /// RFC 3339.
    pub expires_at: String,
    pub apps: Vec<SessionAppView>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = MemberSessionList)]
pub struct MemberSessionList {
    pub sessions: Vec<MemberSessionView>,
}

/// How many sessions were ended.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct SignedOutView {
    pub ended: usize,
}

impl From<&ContactSession> for MemberSessionView {
    fn from(s: &ContactSession) -> Self {
        Self {
            sid: s.session.sid(),
            signed_in_at: rfc3339(s.session.auth_time),
            expires_at: rfc3339(s.session.expires_at),
            apps: s
                .apps
                .iter()
                .map(|r| SessionAppView { client_id: r.client_id.to_string(), name: r.settings.name.clone() })
                .collect(),
        }
    }
}

fn contact_id(segment: &str) -> Result<ContactId, ApiError> {
    ContactId::parse(segment).ok_or_else(|| ApiError::not_found("contact"))
}

#[utoipa::path(get, path = "/admin/api/contacts/{id}/sessions", tag = "contacts",
    params(("id" = String, Path)), responses((status = 200, body = MemberSessionList)))]
pub(super) async fn list(_: SysAdmin, State(state): State<SharedState>, Path(id): Path<String>) -> ApiResult {
    let sessions = service::list(&state, contact_id(&id)?, state.now()).await?;
    Ok(ok_json(&MemberSessionList { sessions: sessions.iter().map(MemberSessionView::from).collect() }))
}

#[utoipa::path(post, path = "/admin/api/contacts/{id}/sign-out-everywhere", tag = "contacts",
    params(("id" = String, Path)), responses((status = 200, body = SignedOutView)))]
pub(super) async fn sign_out_everywhere(
    _: SysAdmin,
    State(state): State<SharedState>,
    Path(id): Path<String>,
) -> ApiResult {
    let ended = service::sign_out_everywhere(&state, contact_id(&id)?, state.now()).await?;
    Ok(ok_json(&SignedOutView { ended }))
}
