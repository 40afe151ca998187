//! `/signin`: the form, and checking what it sends.

use axum::extract::State;
use gatehouse::app::AppState;
use gatehouse::event_log::Level;
use gatehouse::local_signin::{self, Lookup, SigninError};
use gatehouse::services::log::record;
use gatehouse::upstream::policy::{NextStep, next_step, password_allowed};
use gatehouse::upstream::settings::UpstreamSettings;
use gatehouse::web::SharedState;
use gatehouse::web::error::PageError;
use gatehouse::web::extract::Req;
use gatehouse::web::request::{Params, form, query, same_origin_path, source_ip};
use gatehouse::web::response::{html_page, see_other, with_cookie};
use gatehouse::web::session::{CSRF_FIELD, login_csrf, login_csrf_ok, signed_in};
use gatehouse::web::{Request, Response, StatusCode};
use maud::html;
use serde_json::json;
use time::OffsetDateTime;

use crate::{mfa_pages, second_step, to_provider};

pub async fn show(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    let (state, req, now) = (&*state, &req, state.now());
    let params = query(req);
    let return_to = same_origin_path(params.text("return_to"));
    // `force=1`: the app asked for a fresh sign-in (prompt=login, max_age), so a session is not enough.
    let force = params.get("force") == Some("1");
    if signed_in(state, req, now).await?.is_some() && !force {
        return Ok(see_other(return_to.unwrap_or("/account")));
    }
    let settings = gatehouse::services::upstream::load(&state.stores).await?;
    if settings.is_on() {
        return step_page(state, req, StatusCode::OK, return_to, Step::Email, params.text("login_hint"), None).await;
    }
    form_page(state, req, StatusCode::OK, return_to, params.text("login_hint"), None).await
}

pub async fn submit(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    let (state, req, now) = (&*state, &req, state.now());
    let params = form(req);
    let return_to = same_origin_path(params.text("return_to"));
    let identifier = params.text("username");
    if !login_csrf_ok(state, req, params.text(CSRF_FIELD)) {
        let message = "Your sign-in form expired. Please try again.";
        return form_page(state, req, StatusCode::FORBIDDEN, return_to, identifier, Some(message)).await;
    }
    if params.has(second_step::STEP_FIELD) {
        return second_step::submit(state, req, &params, now).await;
    }
    let settings = gatehouse::services::upstream::load(&state.stores).await?;
    if settings.is_on() && !params.has("password") {
        return email_step(state, req, &settings, &params, return_to, now).await;
    }
    let named = local_signin::find_contact(state, identifier);
    let password = params.text("password");
    let contact = match local_signin::verify_password(state, identifier, named, password, source_ip(req), now).await {
        Ok(contact) => contact,
        Err(SigninError::Ambiguous) => {
            return form_page(state, req, StatusCode::UNAUTHORIZED, return_to, identifier, Some(AMBIGUOUS)).await;
        }
        Err(SigninError::InvalidCredentials) => {
            let message = "The username or password is incorrect.";
            return form_page(state, req, StatusCode::UNAUTHORIZED, return_to, identifier, Some(message)).await;
        }
        Err(SigninError::Throttled { until }) => {
            let message = mfa_pages::retry_message(until, now);
            return form_page(state, req, StatusCode::TOO_MANY_REQUESTS, return_to, identifier, Some(&message)).await;
        }
        Err(SigninError::Store(e)) => return Err(e.into()),
    };
    if !password_allowed(&settings, &contact) {
        let name = to_provider::provider_name(&settings);
        record(
            &state.stores,
            state.now(),
            Level::Warning,
            "Password sign-in refused: OIDC is required",
            json!({ "username": contact.profile.username }),
        )
        .await;
        let message = format!("Sign in with {name}: passwords no longer work for this account.");
        return step_page(state, req, StatusCode::FORBIDDEN, return_to, Step::Provider, identifier, Some(&message))
            .await;
    }
    second_step::after_password(state, req, &contact, return_to, now).await
}

/// With OIDC on: the email step decides between the provider, a password, or both.
async fn email_step(
    state: &AppState,
    req: &Request,
    settings: &UpstreamSettings,
    params: &Params,
    return_to: Option<&str>,
    now: OffsetDateTime,
) -> Result<Response, PageError> {
    let email = params.text("email").trim();
    if email.is_empty() {
        let message = "Enter your email address or username.";
        return step_page(state, req, StatusCode::UNPROCESSABLE_ENTITY, return_to, Step::Email, "", Some(message))
            .await;
    }
    if params.get("via") == Some("provider") {
        return to_provider::start(state, settings, email, return_to, now).await;
    }
    let contact = match local_signin::find_contact(state, email).await? {
        Lookup::Found(contact) => Some(*contact),
        Lookup::NotFound => None,
        Lookup::Ambiguous => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return step_page(state, req, status, return_to, Step::Email, email, Some(AMBIGUOUS)).await;
        }
    };
    match next_step(settings, contact.as_ref()) {
        NextStep::Provider => to_provider::start(state, settings, email, return_to, now).await,
        NextStep::Password => step_page(state, req, StatusCode::OK, return_to, Step::Password, email, None).await,
        NextStep::Choice => step_page(state, req, StatusCode::OK, return_to, Step::Choice, email, None).await,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Email,
    Password,
    Choice,
    Provider,
}

/// The OIDC-era sign-in screens: email only; then a password, the provider, or both.
async fn step_page(
    state: &AppState,
    req: &Request,
    status: StatusCode,
    return_to: Option<&str>,
    step: Step,
    email: &str,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let settings = gatehouse::services::upstream::load(&state.stores).await?;
    let csrf = login_csrf(state, req)?;
    let app = app_name(state, return_to).await;
    let provider = to_provider::provider_name(&settings);
    let hidden = html! {
        input type="hidden" name=(CSRF_FIELD) value=(csrf.token);
        @if let Some(target) = return_to { input type="hidden" name="return_to" value=(target); }
    };
    let body = html! {
        h1 { "Sign in" }
        @if let Some(app) = &app { p.continue-to { "Sign in to continue to: " strong { (app) } } }
        @if let Some(error) = error { p.flash.error role="alert" { (error) } }
        @match step {
            Step::Email => {
                form method="post" action="/signin" {
                    (hidden)
                    label for="email" { "Email or username" }
                    input #email type="text" name="email" value=(email) autocomplete="username" required autofocus
                        autocapitalize="none" spellcheck="false";
                    div.actions { button type="submit" { "Next" } }
                }
                (forgot_links())
            }
            Step::Password | Step::Choice => {
                form method="post" action="/signin" {
                    (hidden)
                    label for="username" { "Email or username" }
                    input #username type="text" name="username" value=(email) readonly;
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required autofocus;
                    div.actions { button type="submit" { "Sign in with password" } }
                }
                @if step == Step::Choice {
                    p.hint { "or" }
                    form method="post" action="/signin" {
                        (hidden)
                        input type="hidden" name="email" value=(email);
                        input type="hidden" name="via" value="provider";
                        button.secondary type="submit" { "Sign in with " (provider) }
                    }
                }
                p.hint {
                    a href=(another_href(return_to)) { "Use another email or username" }
                    " · " a href="/signin/forgot-password" { "Forgot my password" }
                }
            }
            Step::Provider => {
                form method="post" action="/signin" {
                    (hidden)
                    input type="hidden" name="email" value=(email);
                    input type="hidden" name="via" value="provider";
                    div.actions { button type="submit" { "Sign in with " (provider) } }
                }
            }
        }
    };
    let response = html_page(status, "Sign in", body);
    Ok(match csrf.set_cookie {
        Some(cookie) => with_cookie(response, &cookie),
        None => response,
    })
}

/// The email step again, keeping where the person was going.
fn another_href(return_to: Option<&str>) -> String {
    match return_to {
        Some(target) => format!("/signin?return_to={}", gatehouse::web::request::url_encode(target)),
        None => "/signin".to_owned(),
    }
}

/// Two contacts share the email typed: only the username tells them apart.
const AMBIGUOUS: &str = "More than one account uses this email address. Enter your username instead.";

fn forgot_links() -> maud::Markup {
    html! {
        p.hint {
            a href="/signin/forgot-username" { "Forgot my username" } " · " a href="/signin/forgot-password" { "Forgot my password" }
        }
    }
}

/// The app a member is signing in for, when they came from `/authorize`.
async fn app_name(state: &AppState, return_to: Option<&str>) -> Option<String> {
    let query = return_to?.strip_prefix("/authorize?")?;
    let params = gatehouse::web::request::Params::parse(query);
    let client_id = gatehouse::registration::ClientId::parse(params.get("client_id")?)?;
    let registration = state.stores.registrations.get(client_id).await.ok()??;
    Some(registration.settings.name)
}

async fn form_page(
    state: &AppState,
    req: &Request,
    status: StatusCode,
    return_to: Option<&str>,
    identifier: &str,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let csrf = login_csrf(state, req)?;
    let app = app_name(state, return_to).await;
    let body = html! {
        h1 { "Sign in" }
        @if let Some(app) = &app {
            p.continue-to { "Sign in to continue to: " strong { (app) } }
        }
        p.hint { "with your " (state.config.org_name) " account" }
        @if let Some(error) = error { p.flash.error role="alert" { (error) } }
        form method="post" action="/signin" {
            input type="hidden" name=(CSRF_FIELD) value=(csrf.token);
            @if let Some(target) = return_to { input type="hidden" name="return_to" value=(target); }
            label for="username" { "Username or email" }
            input #username type="text" name="username" value=(identifier) autocomplete="username" required autofocus;
            label for="password" { "Password" }
            input #password type="password" name="password" autocomplete="current-password" required;
            div.actions { button type="submit" { "Sign in" } }
        }
        (forgot_links())
    };
    let response = html_page(status, "Sign in", body);
    Ok(match csrf.set_cookie {
        Some(cookie) => with_cookie(response, &cookie),
        None => response,
    })
}
