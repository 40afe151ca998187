//! `/callback/logout`: OpenID Front-Channel Logout 1.0 from the upstream provider (Entra ID,
//! Okta). When the staff member signs out there, the provider loads this page in a hidden
//! frame with its `iss` and the `sid` of its session; the Gatehouse session that came from
//! that provider session ends, and its apps get back-channel notices. Only this page may be
//! framed, and only by the provider's origin.

use axum::extract::State;
use axum::http::HeaderValue;
use gatehouse::app::AppState;
use gatehouse::event_log::Level;
use gatehouse::services::log::record;
use gatehouse::services::logout::{end_session, upstream_session_key};
use gatehouse::ticket::{Ticket, TicketKind};
use gatehouse::web::error::PageError;
use gatehouse::web::extract::Req;
use gatehouse::web::layout::content_security_policy;
use gatehouse::web::request::query;
use gatehouse::web::response::html_page;
use gatehouse::web::{Response, SharedState, StatusCode};
use maud::html;
use serde_json::json;
use url::Url;

pub async fn handle(State(state): State<SharedState>, Req(req): Req) -> Response {
    let params = query(&req);
    let (Some(iss), Some(sid)) =
        (params.get("iss").filter(|v| !v.is_empty()), params.get("sid").filter(|v| !v.is_empty()))
    else {
        return PageError::bad_request("A front-channel logout needs the provider's iss and sid.").into_response();
    };
    match logout(&state, iss, sid).await {
        Ok(()) => framable_by(iss, signed_out()),
        Err(e) => e.into_response(),
    }
}

async fn logout(state: &AppState, iss: &str, sid: &str) -> Result<(), PageError> {
    let now = state.now();
    let ticket =
        state.stores.grants.take_ticket(TicketKind::UpstreamSession, &upstream_session_key(iss, sid), now).await?;
    let session = match ticket {
        Some(Ticket::UpstreamSession { session }) => state.stores.sessions.get(&session, now).await?,
        _ => None,
    };
    match session {
        Some(session) => {
            end_session(state, &session, "signed out at the OpenID provider", now).await?;
            record(&state.stores, now, Level::Info, "Front-channel logout: the session ended", json!({ "iss": iss }))
                .await;
        }
        None => {
            record(&state.stores, now, Level::Info, "Front-channel logout: no such session", json!({ "iss": iss }))
                .await;
        }
    }
    Ok(())
}

fn signed_out() -> Response {
    html_page(StatusCode::OK, "Signed out", html! { h1 { "Signed out" } })
}

/// The page may be framed by the provider's origin only (the layout forbids framing elsewhere).
fn framable_by(issuer: &str, mut response: Response) -> Response {
    let Some(origin) = Url::parse(issuer).ok().map(|u| u.origin().ascii_serialization()).filter(|o| o != "null") else {
        return response;
    };
    let policy = content_security_policy().replace("frame-ancestors 'none'", &format!("frame-ancestors {origin}"));
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.headers_mut().insert("content-security-policy", value);
        response.headers_mut().remove("x-frame-options");
    }
    response
}
