//! `/account/mfa`: a signed-in member sets up two-step verification (QR code and key, confirmed
//! with a first code; the recovery codes are shown once), or turns it off with a current code.

use axum::extract::State;
use gatehouse::app::AppState;
use gatehouse::seal::Sealed;
use gatehouse::services::mfa::{self, MfaError, Setup};
use gatehouse::web::SharedState;
use gatehouse::web::error::PageError;
use gatehouse::web::extract::Req;
use gatehouse::web::request::form;
use gatehouse::web::response::{html_page, see_other};
use gatehouse::web::session::{CSRF_FIELD, SignedIn, signed_in};
use gatehouse::web::{Request, Response, StatusCode};
use maud::html;

use crate::mfa_pages;

/// The signed-in member, while MFA is on; otherwise where to send them.
async fn member(state: &AppState, req: &Request) -> Result<Result<SignedIn, Response>, PageError> {
    let Some(user) = signed_in(state, req, state.now()).await? else {
        return Ok(Err(see_other("/signin?return_to=%2Faccount%2Fmfa")));
    };
    if !gatehouse::services::upstream::load(&state.stores).await?.mfa.is_on() {
        return Ok(Err(see_other("/account")));
    }
    Ok(Ok(user))
}

fn not_confirmed() -> PageError {
    PageError::new(StatusCode::FORBIDDEN, "Not confirmed", "The form expired. Please try again.")
}

pub async fn show(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    let (state, req) = (&*state, &req);
    let user = match member(state, req).await? {
        Ok(user) => user,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let setup = mfa::begin_setup(&state.stores, user.contact.id).await?;
    Ok(page(state, &user, &setup, StatusCode::OK, None))
}

fn page(state: &AppState, user: &SignedIn, setup: &Setup, status: StatusCode, error: Option<&str>) -> Response {
    let hidden = html! {
        input type="hidden" name=(CSRF_FIELD) value=(user.session.csrf_token.expose());
        input type="hidden" name="setup" value=(setup.sealed.as_str());
    };
    let org = &state.config.org_name;
    let form = mfa_pages::setup_form(org, &user.contact, &setup.secret, "/account/mfa", hidden, error);
    let body = html! {
        h1 { "Set up two-step verification" }
        @if user.contact.mfa.is_some() {
            p.flash role="status" { "Two-step verification is already on: finishing this replaces your app and your recovery codes." }
        }
        p { "After your password, signing in will also ask for a code from an app on your phone." }
        (form)
        p.hint { a href="/account" { "Back to your account" } }
    };
    html_page(status, "Set up two-step verification", body)
}

pub async fn confirm(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    let (state, req, now) = (&*state, &req, state.now());
    let user = match member(state, req).await? {
        Ok(user) => user,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let params = form(req);
    if !user.csrf_ok(params.get(CSRF_FIELD)) {
        return Err(not_confirmed());
    }
    let sealed = Sealed::from_presented(params.text("setup"));
    match mfa::enrol(&state.stores, user.contact.id, &sealed, params.text("code"), now).await {
        Ok(codes) => {
            tracing::info!(contact = %user.contact.id, "second factor set up");
            Ok(html_page(StatusCode::OK, "Save your recovery codes", mfa_pages::recovery_codes(&codes, "/account")))
        }
        Err(MfaError::WrongCode) => {
            let setup = mfa::open_setup(&state.stores, user.contact.id, &sealed).await?;
            let message =
                "The code is incorrect. Check the app shows the account you just added, and enter its current code.";
            Ok(page(state, &user, &setup, StatusCode::UNPROCESSABLE_ENTITY, Some(message)))
        }
        Err(MfaError::Throttled { until }) => {
            let setup = mfa::open_setup(&state.stores, user.contact.id, &sealed).await?;
            let message = mfa_pages::retry_message(until, now);
            Ok(page(state, &user, &setup, StatusCode::TOO_MANY_REQUESTS, Some(&message)))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn disable(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    let (state, req, now) = (&*state, &req, state.now());
    let Some(user) = signed_in(state, req, now).await? else { return Ok(see_other("/signin?return_to=%2Faccount")) };
    let params = form(req);
    if !user.csrf_ok(params.get(CSRF_FIELD)) {
        return Err(not_confirmed());
    }
    match mfa::disable(&state.stores, user.contact.id, params.text("code"), now).await {
        Ok(()) => Ok(see_other("/account?mfa=off")),
        Err(MfaError::WrongCode) => Ok(see_other("/account?mfa=wrong-code")),
        Err(MfaError::Throttled { .. }) => Ok(see_other("/account?mfa=throttled")),
        Err(MfaError::NotEnrolled) => Ok(see_other("/account")),
        Err(e) => Err(e.into()),
    }
}
