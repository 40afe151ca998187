//! The upstream provider's answer: `/callback` (GET for the code response, POST for
//! `form_post`). Checks state, exchanges the code, verifies the ID token and the staff claim,
//! links or creates the user, syncs names and email, and starts a Gatehouse session.

mod frontchannel;
mod link;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use gatehouse::app::AppState;
use gatehouse::event_log::Level;
use gatehouse::secret::OpaqueToken;
use gatehouse::secret::TokenDigest;
use gatehouse::services::log::record;
use gatehouse::session::Session;
use gatehouse::ticket::{Ticket, TicketKind};
use gatehouse::upstream::claims::{UpstreamPerson, has_staff_claim};
use gatehouse::upstream::client::{self, UpstreamError};
use gatehouse::upstream::settings::RequireFor;
use gatehouse::upstream::transaction::{binding_cookie_name, clear_binding_cookie};
use gatehouse::web::SharedState;
use gatehouse::web::error::PageError;
use gatehouse::web::extract::Req;
use gatehouse::web::request::cookie;
use gatehouse::web::request::{Params, form, query};
use gatehouse::web::response::html_page;
use gatehouse::web::response::{see_other, with_cookie};
use gatehouse::web::session::session_cookie;
use gatehouse::web::{Method, Response, StatusCode};
use maud::html;
use serde_json::json;

/// The seed's message for a person without the configured staff claim.
pub const NOT_STAFF: &str =
    "Is not a staff user in the OpenID provider, according to the staff claim configured in the settings.";

pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/callback", get(handle).post(handle))
        .route("/callback/logout", get(frontchannel::handle))
        .method_not_allowed_fallback(gatehouse::web::error::method_not_allowed)
        .with_state(state)
}

/// GET carries the code response in the query; POST is `form_post`.
async fn handle(State(state): State<SharedState>, Req(req): Req) -> Response {
    let state = &*state;
    let params = if *req.method() == Method::POST { form(&req) } else { query(&req) };
    let browser = cookie(&req, binding_cookie_name(&state.config)).map(|v| OpaqueToken::from_presented(v).digest());
    if browser.is_none() && *req.method() == Method::POST && params.has("state") && !params.has("reposted") {
        // A cross-site form_post without our SameSite=Lax cookie (plain http): one same-site
        // re-post, which carries it, keeps the browser check.
        return repost_page(&params);
    }
    // A refused callback leaves the binding cookie alone: a forged request must not spoil the
    // genuine sign-in still under way in this browser.
    callback(state, &params, browser.as_ref()).await.unwrap_or_else(PageError::into_response)
}

/// The provider's answer, posted once more from this site. No scripts: the person continues.
fn repost_page(params: &Params) -> Response {
    let body = html! {
        h1 { "Continue signing in" }
        form method="post" action="/callback" {
            @for (name, value) in params.pairs() {
                @if name != "reposted" { input type="hidden" name=(name) value=(value); }
            }
            input type="hidden" name="reposted" value="1";
            div.actions { button type="submit" { "Continue" } }
        }
    };
    html_page(StatusCode::OK, "Continue signing in", body)
}

fn failed(message: impl Into<String>) -> PageError {
    PageError::new(StatusCode::FORBIDDEN, "Sign-in failed", message)
}

fn with_full_stop(text: &str) -> String {
    let text = text.trim();
    if text.ends_with('.') { text.to_owned() } else { format!("{text}.") }
}

/// The seed's troubleshooting hint for errors the provider returns.
fn hint_for(description: &str) -> Option<&'static str> {
    if description.contains("response_type") && description.contains("id_token") {
        Some("Ensure the Access tokens and ID tokens are enabled on the application.")
    } else {
        None
    }
}

async fn callback(state: &AppState, params: &Params, browser: Option<&TokenDigest>) -> Result<Response, PageError> {
    let now = state.now();
    let received = json!({
        "state": params.get("state"), "code": params.get("code"), "id_token": params.get("id_token"),
        "error": params.get("error"), "error_description": params.get("error_description"),
    });
    record(&state.stores, state.now(), Level::Debug, "Response received from the OpenID provider", received).await;
    let Some(state_value) = params.get("state").filter(|s| !s.is_empty()) else {
        record(&state.stores, state.now(), Level::Warning, "Callback refused: no state", json!({})).await;
        return Err(failed("This sign-in response is incomplete. Please sign in again."));
    };
    let ticket = state
        .stores
        .grants
        .take_ticket(TicketKind::Login, &OpaqueToken::from_presented(state_value).digest(), now)
        .await?;
    let Some(Ticket::Login(login)) = ticket else {
        record(
            &state.stores,
            state.now(),
            Level::Warning,
            "Callback refused: unknown, expired or replayed state",
            json!({}),
        )
        .await;
        return Err(failed(
            "This sign-in response is not valid any more (it expired or was already used). Please sign in again.",
        ));
    };
    if browser != Some(&login.browser) {
        record(
            &state.stores,
            state.now(),
            Level::Warning,
            "Callback refused: it came back in another browser than the one that started the sign-in",
            json!({ "email": login.email }),
        )
        .await;
        return Err(failed("This sign-in was started in another browser or window. Please sign in again here."));
    }
    if let Some(error) = params.get("error") {
        let description = params.get("error_description").unwrap_or(error);
        record(
            &state.stores,
            state.now(),
            Level::Error,
            "The OpenID provider returned an error",
            json!({ "error": error, "error_description": description, "email": login.email }),
        )
        .await;
        let message = match hint_for(description) {
            Some(hint) => format!("Error: {} {hint}", with_full_stop(description)),
            None => format!("Error: {description}"),
        };
        return Err(failed(message));
    }
    let settings = gatehouse::services::upstream::load(&state.stores).await?;
    if !settings.is_on() {
        return Err(failed("Signing in through the OpenID provider is turned off."));
    }
    let fail = |e: UpstreamError| async move {
        record(
            &state.stores,
            state.now(),
            Level::Error,
            "Sign-in through the OpenID provider failed",
            json!({ "error": e.to_string() }),
        )
        .await;
        failed(format!("The sign-in could not be completed: {e}"))
    };
    let mut found = match client::discover(&settings, false).await {
        Ok(found) => found,
        Err(e) => return Err(fail(e).await),
    };
    if client::issuer(&found).as_str() != login.issuer {
        return Err(fail(UpstreamError::InvalidToken(format!(
            "the response came from {}, not {}",
            client::issuer(&found).as_str(),
            login.issuer
        )))
        .await);
    }
    let raw_id_token = match (params.get("code"), params.get("id_token")) {
        (Some(code), _) if settings.uses_code_flow() => {
            let verifier = login.pkce_verifier.as_ref().map(|v| v.expose());
            record(
                &state.stores,
                state.now(),
                Level::Info,
                "Exchanging the code at the token endpoint",
                json!({ "code": code }),
            )
            .await;
            match client::exchange_code(&found, &settings, code, verifier).await {
                Ok(token) => token,
                Err(e) => return Err(fail(e).await),
            }
        }
        (_, Some(id_token)) if !settings.uses_code_flow() => id_token.to_owned(),
        _ => {
            return Err(fail(UpstreamError::InvalidToken(
                "the response has neither the expected code nor ID token".into(),
            ))
            .await);
        }
    };
    let claims = match client::verify_id_token(&mut found, &settings, &raw_id_token, &login.nonce, now).await {
        Ok(claims) => claims,
        Err(e) => return Err(fail(e).await),
    };
    record(&state.stores, state.now(), Level::Info, "ID token verified", json!({ "claims": claims })).await;
    let Some(person) = UpstreamPerson::from_claims(&claims, &settings) else {
        return Err(fail(UpstreamError::InvalidToken(format!(
            "the ID token has no `{}` claim (External Claim ID)",
            settings.external_claim_id
        )))
        .await);
    };
    let is_staff = has_staff_claim(&claims, &settings);
    if !is_staff && settings.require_for == RequireFor::Staff {
        record(
            &state.stores,
            state.now(),
            Level::Warning,
            NOT_STAFF,
            json!({ "subject": person.subject, "email": person.email }),
        )
        .await;
        return Err(failed(NOT_STAFF));
    }
    let contact = match link::link_or_create(state, &settings, &person, is_staff, now).await {
        Ok(contact) => contact,
        Err(message) => {
            record(
                &state.stores,
                state.now(),
                Level::Error,
                "Cannot link the signed-in person to a user",
                json!({ "email": person.email, "reason": message }),
            )
            .await;
            return Err(failed(message));
        }
    };
    let (session, token) = Session::start(&contact, now)?;
    state.stores.sessions.insert(&session).await?;
    if let Some(sid) = claims.get("sid").and_then(serde_json::Value::as_str).filter(|s| !s.is_empty()) {
        // The provider's front-channel logout names its session by `iss` and `sid`.
        let key = gatehouse::services::logout::upstream_session_key(&person.issuer, sid);
        let ticket = Ticket::UpstreamSession { session: session.id.clone() };
        state.stores.grants.put_ticket(&key, &ticket, session.expires_at).await?;
    }
    record(
        &state.stores,
        state.now(),
        Level::Info,
        "Signed in through the OpenID provider",
        json!({ "username": contact.profile.username, "staff": is_staff }),
    )
    .await;
    let home = if contact.profile.is_sysadmin { "/admin" } else { "/account" };
    let target = login.return_to.as_deref().and_then(gatehouse::web::request::same_origin_path).unwrap_or(home);
    let response = with_cookie(see_other(target), &session_cookie(&state.config, &token));
    Ok(with_cookie(response, &clear_binding_cookie(&state.config)))
}
