//! The step after a correct password where MFA applies: a code from the authenticator app or a
//! recovery code; or, where MFA is required and none is set up yet, setting one up first. The
//! session starts only after this step. The step posts to `/signin` with [`STEP_FIELD`].

use gatehouse::app::AppState;
use gatehouse::contact::Contact;
use gatehouse::mfa::AfterPassword;
use gatehouse::secret::OpaqueToken;
use gatehouse::services::mfa::{self, Factor, MfaError};
use gatehouse::session::SignInMethod;
use gatehouse::ticket::{PendingSignin, Ticket, TicketKind};
use gatehouse::web::error::PageError;
use gatehouse::web::request::Params;
use gatehouse::web::response::{html_page, see_other, with_cookie};
use gatehouse::web::session::{CSRF_FIELD, login_browser, login_csrf, start_session};
use gatehouse::web::{Request, Response, StatusCode};
use maud::html;
use time::{Duration, OffsetDateTime};

use crate::mfa_pages;

/// The hidden field naming the pending step (the token whose digest keys its ticket).
pub const STEP_FIELD: &str = "second_factor";
/// How long the person has to enter the code after their password.
const STEP_LIFETIME: Duration = Duration::minutes(10);

/// Where a signed-in user goes when no `return_to` was given.
pub fn home_for(contact: &Contact) -> &'static str {
    if contact.profile.is_sysadmin { "/admin" } else { "/account" }
}

/// After a correct password: the session at once, or the second step.
pub async fn after_password(
    state: &AppState,
    req: &Request,
    contact: &Contact,
    return_to: Option<&str>,
    now: OffsetDateTime,
) -> Result<Response, PageError> {
    let policy = gatehouse::services::upstream::load(&state.stores).await?.mfa;
    let enrolling = match contact.after_password(policy) {
        AfterPassword::SignedIn => {
            let (_, cookie) = start_session(state, contact, SignInMethod::Password, now).await?;
            tracing::info!(contact = %contact.id, "signed in with password");
            return Ok(with_cookie(see_other(return_to.unwrap_or_else(|| home_for(contact))), &cookie));
        }
        AfterPassword::Code => None,
        AfterPassword::Enrol => Some(mfa::begin_setup(&state.stores, contact.id).await?.sealed),
    };
    // The password form passed the login CSRF check, so the browser has its cookie.
    let browser = login_browser(state, req).ok_or_else(expired)?;
    let pending = PendingSignin {
        contact_id: contact.id,
        credential: contact.credential_stamp(),
        return_to: return_to.map(str::to_owned),
        browser,
        enrolling,
        expires_at: now + STEP_LIFETIME,
    };
    show(state, req, contact, &pending, StatusCode::OK, None).await
}

fn expired() -> PageError {
    PageError::new(StatusCode::BAD_REQUEST, "Sign-in expired", "This sign-in step has expired. Please sign in again.")
        .with_ways_on(&[("/signin", "Sign in again")])
}

/// The step's page under a new token (each token is used once).
async fn show(
    state: &AppState,
    req: &Request,
    contact: &Contact,
    pending: &PendingSignin,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let token = OpaqueToken::generate()?;
    let ticket = Ticket::SecondFactor(pending.clone());
    state.stores.grants.put_ticket(&token.digest(), &ticket, pending.expires_at).await?;
    let csrf = login_csrf(state, req)?;
    let hidden = html! {
        input type="hidden" name=(CSRF_FIELD) value=(csrf.token);
        input type="hidden" name=(STEP_FIELD) value=(token.expose());
    };
    let (title, body) = match &pending.enrolling {
        None => (
            "Two-step verification",
            html! {
                h1 { "Two-step verification" }
                p { "Enter the 6-digit code from your authenticator app, or one of your recovery codes." }
                @if let Some(error) = error { p.flash.error role="alert" { (error) } }
                form method="post" action="/signin" {
                    (hidden)
                    label for="code" { "Code" }
                    input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus
                        spellcheck="false" autocapitalize="none";
                    div.actions { button type="submit" { "Verify" } }
                }
                p.hint { "Lost your phone and your recovery codes? Ask an administrator to reset your two-step verification." }
            },
        ),
        Some(sealed) => {
            let setup = mfa::open_setup(&state.stores, contact.id, sealed).await?;
            let form = mfa_pages::setup_form(&state.config.org_name, contact, &setup.secret, "/signin", hidden, error);
            (
                "Set up two-step verification",
                html! {
                    h1 { "Set up two-step verification" }
                    p { (state.config.org_name) " asks for a second step when you sign in: a code from an app on your phone." }
                    (form)
                },
            )
        }
    };
    let response = html_page(status, title, body);
    Ok(match csrf.set_cookie {
        Some(cookie) => with_cookie(response, &cookie),
        None => response,
    })
}

/// The code (or the first code of a new set-up) was posted.
pub async fn submit(
    state: &AppState,
    req: &Request,
    params: &Params,
    now: OffsetDateTime,
) -> Result<Response, PageError> {
    let token = OpaqueToken::from_presented(params.text(STEP_FIELD));
    let ticket = state.stores.grants.take_ticket(TicketKind::SecondFactor, &token.digest(), now).await?;
    let Some(Ticket::SecondFactor(pending)) = ticket else { return Err(expired()) };
    if login_browser(state, req).as_ref() != Some(&pending.browser) {
        return Err(expired());
    }
    // A password changed meanwhile voids the step.
    let contact = state.stores.contacts.get(pending.contact_id).await?;
    let Some(contact) = contact.filter(|c| c.credential_stamp() == pending.credential) else { return Err(expired()) };
    let code = params.text("code");
    let outcome = match &pending.enrolling {
        None => mfa::verify(&state.stores, contact.id, code, now).await.map(Done::Verified),
        Some(sealed) => mfa::enrol(&state.stores, contact.id, sealed, code, now).await.map(Done::Enrolled),
    };
    let done = match outcome {
        Ok(done) => done,
        Err(MfaError::WrongCode) => {
            let message = "The code is incorrect, or was already used. Enter the current code.";
            return show(state, req, &contact, &pending, StatusCode::UNAUTHORIZED, Some(message)).await;
        }
        Err(MfaError::Throttled { until }) => {
            let message = mfa_pages::retry_message(until, now);
            return show(state, req, &contact, &pending, StatusCode::TOO_MANY_REQUESTS, Some(&message)).await;
        }
        Err(e) => return Err(e.into()),
    };
    let (_, cookie) = start_session(state, &contact, SignInMethod::PasswordAndCode, now).await?;
    tracing::info!(contact = %contact.id, "signed in with password and second factor");
    let target = pending.return_to.as_deref().unwrap_or_else(|| home_for(&contact));
    Ok(match done {
        Done::Verified(Factor::AppCode) => with_cookie(see_other(target), &cookie),
        Done::Verified(Factor::RecoveryCode { left }) => {
            let body = html! {
                h1 { "Signed in with a recovery code" }
                p.flash role="status" { "That recovery code is now used up. You have " (left) " left." }
                p { "If you lost your phone, set up two-step verification again on your account page." }
                div.actions { a.button href=(target) { "Continue" } }
            };
            with_cookie(html_page(StatusCode::OK, "Signed in with a recovery code", body), &cookie)
        }
        Done::Enrolled(codes) => {
            let body = mfa_pages::recovery_codes(&codes, target);
            with_cookie(html_page(StatusCode::OK, "Save your recovery codes", body), &cookie)
        }
    })
}

enum Done {
    Verified(Factor),
    Enrolled(Vec<gatehouse::mfa::RecoveryCode>),
}
