//! Consent: "Allow [App Name] to access the following information from your account at
//! [Organization Name]?" — remembered per member and app.

use axum::extract::State;
use gatehouse::app::AppState;
use gatehouse::grants::Consent;
use gatehouse::oidc::error::{ErrorCode, OAuthError};
use gatehouse::web::SharedState;
use gatehouse::web::error::PageError;
use gatehouse::web::extract::Req;
use gatehouse::web::request::{Params, form};
use gatehouse::web::response::html_page;
use gatehouse::web::session::CSRF_FIELD;
use gatehouse::web::{Response, StatusCode};
use maud::html;

use crate::answer::answer;
use crate::check::{Checked, Step, check};

/// The request's own parameters, carried through the consent form unchanged.
const CARRIED: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "max_age",
    "login_hint",
    "code_challenge",
    "code_challenge_method",
    "response_mode",
    "login_after",
];

pub(crate) fn page(state: &AppState, checked: &Checked, params: &Params) -> Response {
    let app = &checked.registration.settings.name;
    let body = html! {
        h1 { "Allow " (app) "?" }
        p { "Allow " strong { (app) } " to access the following information from your account at " strong { (state.config.org_name) } "?" }
        ul.consent-scopes {
            @for scope in checked.request.scope.iter() { li { (scope.describe()) } }
        }
        p.hint { "Signed in as " (checked.user.contact.profile.username) ". You can withdraw this later from your account page." }
        form method="post" action="/authorize/consent" {
            input type="hidden" name=(CSRF_FIELD) value=(checked.user.session.csrf_token.expose());
            @for name in CARRIED {
                @if let Some(value) = params.get(name) { input type="hidden" name=(name) value=(value); }
            }
            div.actions {
                button type="submit" name="decision" value="allow" { "Allow" }
                button.secondary type="submit" name="decision" value="deny" { "Deny" }
            }
        }
    };
    html_page(StatusCode::OK, &format!("Allow {app}?"), body)
}

pub async fn decide(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    let (state, req, now) = (&*state, &req, state.now());
    let params = form(req);
    let checked = match check(state, req, &params, now).await? {
        Step::Done(response) => return Ok(response),
        Step::Continue(checked) => checked,
    };
    if !checked.user.csrf_ok(params.get(CSRF_FIELD)) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "Consent not confirmed",
            "The consent form expired. Please start again from the application.",
        ));
    }
    let r = &checked.request;
    match params.get("decision") {
        Some("allow") => {
            let client_id = checked.registration.client_id;
            let previous = state.stores.grants.get_consent(checked.user.contact.id, client_id).await?;
            let scope = previous.map_or_else(|| r.scope.clone(), |p| p.scope.union(&r.scope));
            state
                .stores
                .grants
                .put_consent(&Consent { contact_id: checked.user.contact.id, client_id, scope, granted_at: now })
                .await?;
            answer(state, &checked, now).await
        }
        Some("deny") => {
            let error = OAuthError::new(ErrorCode::AccessDenied, "the member did not allow access");
            Ok(checked.reply.error(&error))
        }
        _ => Err(PageError::bad_request("Choose Allow or Deny.")),
    }
}
