//! The admin JSON API under `/admin/api/`.

mod contacts;
pub(crate) mod oidc;
mod queries;
mod registrations;
mod signing;

use gatehouse::app::AppState;
use gatehouse::web::error::ApiError;
use gatehouse::web::response::{json_response, ok_json};
use gatehouse::web::{Method, Request, Response, StatusCode};
use serde_json::json;

use crate::auth::api_admin;

const OPENAPI: &str = include_str!("../../openapi.json");

/// `rest` is the path after `/admin/api/`.
pub async fn handle(state: &AppState, req: &Request, rest: &str) -> Response {
    if rest == "openapi.json" && *req.method() == Method::GET {
        return json_response(StatusCode::OK, &serde_json::from_str::<serde_json::Value>(OPENAPI).unwrap_or_default());
    }
    let now = state.now();
    let result = match api_admin(state, req, now).await {
        Ok(admin) => {
            let segments: Vec<&str> = rest.split('/').collect();
            match segments.as_slice() {
                ["session"] => session(&admin, req),
                ["registrations", tail @ ..] => registrations::route(state, req, tail, now).await,
                ["signing", tail @ ..] => signing::route(state, req, tail, now).await,
                [one @ ("oidc-settings" | "logs")] => oidc::route(state, req, one, now).await,
                ["outbox"] if *req.method() == Method::GET => outbox(state, now).await,
                ["contacts", tail @ ..] => contacts::route(state, &admin, req, tail, now).await,
                ["queries", ..] => {
                    queries::route(state, req, rest.trim_start_matches("queries").trim_start_matches('/'), now).await
                }
                _ => Err(ApiError::not_found("this API path")),
            }
        }
        Err(e) => Err(e),
    };
    result.unwrap_or_else(ApiError::into_response)
}

/// Who is signed in, and the CSRF token cookie-authenticated writes must send.
fn session(admin: &crate::auth::Admin, req: &Request) -> Result<Response, ApiError> {
    if *req.method() != Method::GET {
        return Err(ApiError::method_not_allowed());
    }
    Ok(ok_json(&json!({
        "contact_id": admin.contact.id,
        "username": admin.contact.profile.username,
        "csrf_token": admin.session.as_ref().map(|s| s.csrf_token.expose()),
        "expires_at": admin.session.as_ref().map(|s| gatehouse::clock::rfc3339(s.expires_at)),
    })))
}

/// The mail Gatehouse sent, newest first (delivery by SES would come after this outbox).
async fn outbox(state: &AppState, now: time::OffsetDateTime) -> Result<Response, ApiError> {
    let mails = state.stores.outbox.recent(100, now).await?;
    let mails: Vec<_> = mails
        .iter()
        .map(|m| json!({ "to": m.to, "subject": m.subject, "body": m.body, "sent_at": gatehouse::clock::rfc3339(m.sent_at) }))
        .collect();
    Ok(ok_json(&json!({ "mails": mails })))
}

pub(crate) fn created(value: &impl serde::Serialize) -> Response {
    json_response(StatusCode::CREATED, value)
}
