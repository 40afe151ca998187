//! The upstream provider's answer: `/callback` (GET for the code response, POST for
//! `form_post`). Checks state, exchanges the code, verifies the ID token and the staff claim,
//! links or creates the user, syncs names and email, and starts a Gatehouse session.

mod frontchannel;
mod link;
mod link_step;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use gatehouse::app::AppState;
use gatehouse::contact::Contact;
use gatehouse::event_log::Level;
use gatehouse::secret::{OpaqueToken, SecretString, TokenDigest};
use gatehouse::services::log::{record, record_with_reference};
use gatehouse::services::logout::remember_upstream_session;
use gatehouse::session::{Session, SignInMethod};
use gatehouse::ticket::{Ticket, TicketKind, UpstreamSignIn};
use gatehouse::upstream::claims::{UpstreamPerson, has_staff_claim};
use gatehouse::upstream::client::{self, TokenProblem, UpstreamError};
use gatehouse::upstream::settings::{RequireFor, UpstreamSettings};
use gatehouse::upstream::transaction::{LoginTransaction, binding_cookie_name, clear_binding_cookie};
use gatehouse::web::SharedState;
use gatehouse::web::error::PageError;
use gatehouse::web::extract::Req;
use gatehouse::web::request::cookie;
use gatehouse::web::request::{Params, form, query};
use gatehouse::web::response::html_page;
use gatehouse::web::response::{see_other, with_cookie};
use gatehouse::web::{Method, Response, StatusCode};
use maud::html;
use serde_json::json;
use time::OffsetDateTime;

/// The seed's message for a person without the configured staff claim.
pub const NOT_STAFF: &str =
    "Is not a staff user in the OpenID provider, according to the staff claim configured in the settings.";

pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/callback", get(handle).post(handle))
        .route("/callback/link", post(link_step::submit))
        .route("/callback/logout", get(frontchannel::handle))
        .method_not_allowed_fallback(gatehouse::web::error::method_not_allowed)
        .with_state(state)
}

/// GET carries the code response in the query; POST is `form_post`.
async fn handle(State(state): State<SharedState>, Req(req): Req) -> Response {
    let state = &*state;
    let params = if *req.method() == Method::POST { form(&req) } else { query(&req) };
    let state_key = params.get("state").filter(|s| !s.is_empty()).map(|s| OpaqueToken::from_presented(s).digest());
    let browser = state_key
        .as_ref()
        .and_then(|key| cookie(&req, &binding_cookie_name(&state.config, key)))
        .map(|v| OpaqueToken::from_presented(v).digest());
    if browser.is_none() && *req.method() == Method::POST && state_key.is_some() && !params.has("reposted") {
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

pub(crate) fn failed(message: impl Into<String>) -> PageError {
    PageError::new(StatusCode::FORBIDDEN, "Sign-in failed", message)
}

/// Logs a refusal with its detail and a reference; the person sees `shown` and the reference.
pub(crate) async fn refuse(
    state: &AppState,
    level: Level,
    what: &str,
    details: serde_json::Value,
    shown: &str,
) -> PageError {
    let reference = record_with_reference(&state.stores, state.now(), level, what, details).await;
    failed(shown).with_reference(reference)
}

/// A provider problem: the summary for the person, everything else in the log.
async fn upstream_failed(state: &AppState, error: &UpstreamError, email: &str) -> PageError {
    let details = json!({ "error": error.to_string(), "email": email });
    let shown = format!("The sign-in could not be completed: {}.", error.summary());
    refuse(state, Level::Error, "Sign-in through the OpenID provider failed", details, &shown).await
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
    record(&state.stores, now, Level::Debug, "Response received from the OpenID provider", received).await;
    let Some(state_value) = params.get("state").filter(|s| !s.is_empty()) else {
        let shown = "This sign-in response is incomplete. Please sign in again.";
        return Err(refuse(state, Level::Warning, "Callback refused: no state", json!({}), shown).await);
    };
    let state_key = OpaqueToken::from_presented(state_value).digest();
    let ticket = state.stores.grants.take_ticket(TicketKind::Login, &state_key, now).await?;
    let Some(Ticket::Login(login)) = ticket else {
        let what = "Callback refused: unknown, expired or replayed state";
        let shown =
            "This sign-in response is not valid any more (it expired or was already used). Please sign in again.";
        return Err(refuse(state, Level::Warning, what, json!({}), shown).await);
    };
    if browser != Some(&login.browser) {
        let what = "Callback refused: it came back in another browser than the one that started the sign-in";
        let shown = "This sign-in was started in another browser. Please sign in again here.";
        return Err(refuse(state, Level::Warning, what, json!({ "email": login.email }), shown).await);
    }
    if let Some(error) = params.get("error") {
        let description = params.get("error_description").unwrap_or(error);
        let details = json!({ "error": error, "error_description": description, "email": login.email });
        let shown = match hint_for(description) {
            Some(hint) => format!("Error: {} {hint}", with_full_stop(description)),
            None => format!("Error: {description}"),
        };
        return Err(refuse(state, Level::Error, "The OpenID provider returned an error", details, &shown).await);
    }
    let settings = gatehouse::services::upstream::load(&state.stores).await?;
    if !settings.is_on() {
        return Err(failed("Signing in through the OpenID provider is turned off."));
    }
    let (claims, raw_id_token) = match verified_claims(state, &settings, params, &login).await {
        Ok(verified) => verified,
        Err(e) => return Err(upstream_failed(state, &e, &login.email).await),
    };
    record(&state.stores, state.now(), Level::Info, "ID token verified", json!({ "claims": claims })).await;
    let Some(person) = UpstreamPerson::from_claims(&claims, &settings) else {
        let what = "Callback refused: the ID token has no External Claim ID";
        let details = json!({ "claim": settings.external_claim_id, "email": login.email });
        let shown = format!("The ID token has no `{}` claim (External Claim ID).", settings.external_claim_id);
        return Err(refuse(state, Level::Error, what, details, &shown).await);
    };
    let is_staff = has_staff_claim(&claims, &settings);
    if !is_staff && settings.require_for == RequireFor::Staff {
        let details = json!({ "subject": person.subject, "email": person.email });
        return Err(refuse(state, Level::Warning, NOT_STAFF, details, NOT_STAFF).await);
    }
    let upstream = UpstreamSignIn {
        issuer: person.issuer.clone(),
        sid: claims.get("sid").and_then(serde_json::Value::as_str).map(str::to_owned),
        id_token: raw_id_token,
    };
    let arrival =
        link::Arrival { settings: &settings, person: &person, claims: &claims, is_staff, upstream: &upstream };
    let contact = match link::resolve(state, &arrival, now).await? {
        link::Resolved::SignIn(contact) => contact,
        link::Resolved::ProvePassword(contact) => {
            let offer = link_step::offer(state, &login, &arrival, &contact, now).await?;
            return Ok(with_cookie(offer, &clear_binding_cookie(&state.config, &state_key)));
        }
        link::Resolved::AskAdmin(reason) => {
            let what = "Cannot link the signed-in person to an existing contact";
            let details = json!({ "email": person.email, "external_id": person.link_id, "reason": reason });
            return Err(refuse(state, Level::Warning, what, details, ASK_ADMIN).await);
        }
    };
    let method = SignInMethod::provider(claims.get("amr"));
    let (response, session) = start_session(state, &contact, login.return_to.as_deref(), method, now).await?;
    remember_upstream_session(state, &session, &upstream).await?;
    record(
        &state.stores,
        state.now(),
        Level::Info,
        "Signed in through the OpenID provider",
        json!({ "username": contact.profile.username, "staff": contact.profile.is_staff }),
    )
    .await;
    Ok(with_cookie(response, &clear_binding_cookie(&state.config, &state_key)))
}

/// What the person sees when an existing contact has their email but cannot be linked here.
pub(crate) const ASK_ADMIN: &str = "An account with your email address already exists, but it cannot be connected to this sign-in here. Ask an administrator to link it on your contact's page.";

/// Exchanges the code (or takes the posted ID token) and verifies it: its claims, and the raw
/// token (the hint of a later sign-out at the provider).
async fn verified_claims(
    state: &AppState,
    settings: &UpstreamSettings,
    params: &Params,
    login: &LoginTransaction,
) -> Result<(serde_json::Map<String, serde_json::Value>, SecretString), UpstreamError> {
    let mut found = client::discover(settings, false).await?;
    if client::issuer(&found).as_str() != login.issuer {
        let detail = format!("the response came from {}, not {}", client::issuer(&found).as_str(), login.issuer);
        return Err(UpstreamError::invalid(TokenProblem::Issuer, detail));
    }
    let raw_id_token = match (params.get("code"), params.get("id_token")) {
        (Some(code), _) if settings.uses_code_flow() => {
            let verifier = login.pkce_verifier.as_ref().map(|v| v.expose());
            let details = json!({ "code": code });
            record(&state.stores, state.now(), Level::Info, "Exchanging the code at the token endpoint", details).await;
            client::exchange_code(&found, settings, code, verifier).await?
        }
        (_, Some(id_token)) if !settings.uses_code_flow() => id_token.to_owned(),
        _ => {
            let detail = "the response has neither the expected code nor ID token";
            return Err(UpstreamError::invalid(TokenProblem::MissingClaim, detail));
        }
    };
    let claims = client::verify_id_token(&mut found, settings, &raw_id_token, &login.nonce, state.now()).await?;
    Ok((claims, SecretString::new(raw_id_token)))
}

/// A fresh session for `contact`, and the way to where they were going.
pub(crate) async fn start_session(
    state: &AppState,
    contact: &Contact,
    return_to: Option<&str>,
    method: SignInMethod,
    now: OffsetDateTime,
) -> Result<(Response, Session), PageError> {
    let (session, cookie) = gatehouse::web::session::start_session(state, contact, method, now).await?;
    let home = if contact.profile.is_sysadmin { "/admin" } else { "/account" };
    let target = return_to.and_then(gatehouse::web::request::same_origin_path).unwrap_or(home);
    Ok((with_cookie(see_other(target), &cookie), session))
}
