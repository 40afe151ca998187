//! "Forgot my username" and "Forgot my password". While OIDC is on, staff get the configured
//! email body (sign in at the Staff site) instead of a reset. Answers never reveal whether an
//! account exists.

use axum::extract::State;
use gatehouse::app::AppState;
use gatehouse::contact::{Contact, normalize_key};
use gatehouse::local_signin::find_contact;
use gatehouse::password::{PasswordHash, check_strength};
use gatehouse::secret::{OpaqueToken, SecretString};
use gatehouse::services::mail;
use gatehouse::ticket::{Ticket, TicketKind};
use gatehouse::upstream::settings::UpstreamSettings;
use gatehouse::web::SharedState;
use gatehouse::web::error::PageError;
use gatehouse::web::extract::Req;
use gatehouse::web::request::{Params, form, query, source_ip};
use gatehouse::web::response::{html_page, with_cookie};
use gatehouse::web::session::{CSRF_FIELD, login_csrf, login_csrf_ok};
use gatehouse::web::{Request, Response, StatusCode};
use maud::{Markup, html};
use time::{Duration, OffsetDateTime};

use crate::letters;

const RESET_LIFETIME: Duration = Duration::minutes(30);

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Forgot {
    Username,
    Password,
}

impl Forgot {
    fn title(self) -> &'static str {
        match self {
            Self::Username => "Forgot my username",
            Self::Password => "Forgot my password",
        }
    }

    fn action(self) -> &'static str {
        match self {
            Self::Username => "/signin/forgot-username",
            Self::Password => "/signin/forgot-password",
        }
    }
}

fn page(
    state: &AppState,
    req: &Request,
    status: StatusCode,
    title: &str,
    body: impl FnOnce(&str) -> Markup,
) -> Result<Response, PageError> {
    let csrf = login_csrf(state, req)?;
    let response = html_page(status, title, html! { h1 { (title) } (body(&csrf.token)) });
    Ok(match csrf.set_cookie {
        Some(cookie) => with_cookie(response, &cookie),
        None => response,
    })
}

pub async fn show_username(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    show(&state, &req, Forgot::Username).await
}

pub async fn show_password(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    show(&state, &req, Forgot::Password).await
}

pub async fn submit_username(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    submit(&state, &req, Forgot::Username, state.now()).await
}

pub async fn submit_password(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    submit(&state, &req, Forgot::Password, state.now()).await
}

async fn show(state: &AppState, req: &Request, which: Forgot) -> Result<Response, PageError> {
    page(state, req, StatusCode::OK, which.title(), |csrf| {
        html! {
            form method="post" action=(which.action()) {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                label for="email" { @if which == Forgot::Username { "Email" } @else { "Username or email" } }
                input #email type="text" name="email" required autofocus;
                div.actions { button type="submit" { "Send" } a href="/signin" { "Back to sign in" } }
            }
        }
    })
}

/// Staff while OIDC is on get the administrator's message instead of their username or a reset.
fn oidc_redirect_for(settings: &UpstreamSettings, contact: &Contact) -> bool {
    settings.is_on() && contact.profile.is_staff && !settings.forgot_email_body.is_empty()
}

/// Mail a form may cause per typed address, and per source address, in [`LIMIT_WINDOW`].
const PER_ADDRESS: u32 = 5;
const PER_SOURCE: u32 = 30;
const LIMIT_WINDOW: Duration = Duration::hours(1);

/// Counts this request against the address typed and the source; `Some(until)` when over.
async fn over_limit(
    state: &AppState,
    req: &Request,
    typed: &str,
    now: OffsetDateTime,
) -> Result<Option<OffsetDateTime>, PageError> {
    let throttle = &state.stores.throttle;
    let mut keys = vec![(format!("forgot:{}", normalize_key(typed)), PER_ADDRESS)];
    if let Some(source) = source_ip(req) {
        keys.push((format!("forgot-source:{source}"), PER_SOURCE));
    }
    for (key, limit) in keys {
        if throttle.record_failure(&key, now, LIMIT_WINDOW).await? > limit {
            let until = throttle.failures(&key, now).await?.map_or(now + LIMIT_WINDOW, |(_, until)| until);
            return Ok(Some(until));
        }
    }
    Ok(None)
}

async fn submit(state: &AppState, req: &Request, which: Forgot, now: OffsetDateTime) -> Result<Response, PageError> {
    let params = form(req);
    if !login_csrf_ok(state, req, params.text(CSRF_FIELD)) {
        return Err(PageError::new(StatusCode::FORBIDDEN, "The form expired", "Please go back and try again."));
    }
    let typed = params.text("email").trim();
    if let Some(until) = over_limit(state, req, typed, now).await? {
        let minutes = ((until - now).whole_seconds() + 59) / 60;
        return page(state, req, StatusCode::TOO_MANY_REQUESTS, which.title(), |_| {
            html! {
                p.flash.error role="alert" { "Too many requests. Try again in " (minutes) " minute(s)." }
                p { a href="/signin" { "Back to sign in" } }
            }
        });
    }
    let settings = gatehouse::services::upstream::load(&state.stores).await?;
    let contacts: Vec<Contact> = match which {
        Forgot::Username => state.stores.contacts.find_by_email(typed).await?,
        Forgot::Password => find_contact(state, typed).await?.found().into_iter().collect(),
    };
    let org = &state.config.org_name;
    for contact in contacts.into_iter().filter(|c| !c.profile.email.is_empty()) {
        let to = contact.profile.email.clone();
        let message = if oidc_redirect_for(&settings, &contact) {
            letters::staff_sign_in(&to, org, which.title(), &settings.forgot_email_body)
        } else {
            match which {
                Forgot::Username => letters::username(&to, org, &contact.profile.username),
                Forgot::Password => {
                    let username = contact.profile.username.clone();
                    let link = new_reset_link(state, contact, now).await?;
                    letters::reset(&to, org, &username, &link, RESET_LIFETIME.whole_minutes())
                }
            }
        };
        // A failure is in the delivery log and the logs; the page stays the same either way.
        mail::send(&state.stores, &state.mailer, state.now(), &message).await?;
    }
    page(state, req, StatusCode::OK, which.title(), |_| {
        html! {
            p.flash { "If an account matches, we have sent an email to its address. Please check your inbox." }
            p { a href="/signin" { "Back to sign in" } }
        }
    })
}

/// A fresh single-use link; it replaces any earlier one of the contact's.
async fn new_reset_link(state: &AppState, mut contact: Contact, now: OffsetDateTime) -> Result<String, PageError> {
    let token = OpaqueToken::generate()?;
    contact.password_reset = Some(token.digest());
    contact.updated_at = now;
    state.stores.contacts.update(&mut contact).await?;
    let ticket = Ticket::Reset { contact_id: contact.id, credential: contact.credential_stamp() };
    state.stores.grants.put_ticket(&token.digest(), &ticket, now + RESET_LIFETIME).await?;
    Ok(state.config.url(&format!("/signin/reset?token={}", token.expose())))
}

pub async fn show_reset(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    let (state, req) = (&*state, &req);
    let token = query(req).text("token").to_owned();
    reset_form(state, req, StatusCode::OK, &token, None)
}

fn reset_form(
    state: &AppState,
    req: &Request,
    status: StatusCode,
    token: &str,
    error: Option<&str>,
) -> Result<Response, PageError> {
    page(state, req, status, "Choose a new password", |csrf| {
        html! {
            @if let Some(error) = error { p.flash.error role="alert" { (error) } }
            form method="post" action="/signin/reset" {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                input type="hidden" name="token" value=(token);
                label for="password" { "New password" }
                input #password type="password" name="password" autocomplete="new-password" required autofocus;
                p.hint { "At least " (gatehouse::password::MIN_LENGTH) " characters." }
                div.actions { button type="submit" { "Set password" } }
            }
        }
    })
}

pub async fn reset(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    let (state, req, now) = (&*state, &req, state.now());
    let params: Params = form(req);
    if !login_csrf_ok(state, req, params.text(CSRF_FIELD)) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "The form expired",
            "Please open the link from your email again.",
        ));
    }
    let token = params.text("token");
    let password = SecretString::new(params.text("password"));
    // Check the password before spending the link, so a too-short one can be retried.
    if let Err(message) = check_strength(&password) {
        return reset_form(
            state,
            req,
            StatusCode::UNPROCESSABLE_ENTITY,
            token,
            Some(&format!("The password {message}.")),
        );
    }
    let expired = || {
        PageError::new(
            StatusCode::BAD_REQUEST,
            "This link does not work any more",
            format!(
                "Reset links work once, within {} minutes, and only the newest one; a password change also ends them. Ask for a new one.",
                RESET_LIFETIME.whole_minutes()
            ),
        )
    };
    let digest = OpaqueToken::from_presented(token).digest();
    let ticket = state.stores.grants.take_ticket(TicketKind::Reset, &digest, now).await?;
    let Some(Ticket::Reset { contact_id, credential }) = ticket else { return Err(expired()) };
    let mut contact = state.stores.contacts.get(contact_id).await?.ok_or_else(expired)?;
    if contact.password_reset.as_ref() != Some(&digest) || contact.credential_stamp() != credential {
        tracing::info!(contact = %contact.id, "refused a replaced or outdated password reset link");
        return Err(expired());
    }
    let hash = tokio::task::spawn_blocking(move || PasswordHash::create(&password))
        .await
        .map_err(|_| PageError::internal())?
        .map_err(|_| PageError::internal())?;
    contact.password_hash = Some(hash);
    contact.password_reset = None;
    contact.updated_at = now;
    state.stores.contacts.update(&mut contact).await?;
    tracing::info!(contact = %contact.id, "password reset by email link");
    Ok(html_page(
        StatusCode::OK,
        "Password changed",
        html! {
            h1 { "Password changed" }
            p { "Your new password is set." }
            p { a.button href="/signin" { "Sign in" } }
        },
    ))
}
