//! "Forgot my username" and "Forgot my password". While OIDC is on, staff get the configured
//! email body (sign in at the Staff site) instead of a reset. Answers never reveal whether an
//! account exists.

use axum::extract::State;
use gatehouse::app::AppState;
use gatehouse::contact::Contact;
use gatehouse::local_signin::find_contact;
use gatehouse::password::{PasswordHash, check_strength};
use gatehouse::secret::{OpaqueToken, SecretString};
use gatehouse::services::mail;
use gatehouse::ticket::{Ticket, TicketKind};
use gatehouse::upstream::settings::UpstreamSettings;
use gatehouse::web::SharedState;
use gatehouse::web::error::PageError;
use gatehouse::web::extract::Req;
use gatehouse::web::request::{Params, form, query};
use gatehouse::web::response::{html_page, with_cookie};
use gatehouse::web::session::{CSRF_FIELD, login_csrf, login_csrf_ok};
use gatehouse::web::{Request, Response, StatusCode};
use maud::{Markup, html};
use time::{Duration, OffsetDateTime};

const RESET_LIFETIME: Duration = Duration::hours(1);

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

async fn submit(state: &AppState, req: &Request, which: Forgot, now: OffsetDateTime) -> Result<Response, PageError> {
    let params = form(req);
    if !login_csrf_ok(state, req, params.text(CSRF_FIELD)) {
        return Err(PageError::new(StatusCode::FORBIDDEN, "The form expired", "Please go back and try again."));
    }
    let typed = params.text("email").trim();
    let settings = gatehouse::services::upstream::load(&state.stores).await?;
    let contacts: Vec<Contact> = match which {
        Forgot::Username => state.stores.contacts.find_by_email(typed).await?,
        Forgot::Password => find_contact(state, typed).await?.found().into_iter().collect(),
    };
    for contact in contacts.iter().filter(|c| !c.profile.email.is_empty()) {
        let to = &contact.profile.email;
        if oidc_redirect_for(&settings, contact) {
            mail::send(&state.stores, state.now(), to, which.title(), &settings.forgot_email_body).await?;
            continue;
        }
        match which {
            Forgot::Username => {
                let body = format!("Your username at {} is: {}", state.config.org_name, contact.profile.username);
                mail::send(&state.stores, state.now(), to, "Your username", &body).await?;
            }
            Forgot::Password => {
                let token = OpaqueToken::generate()?;
                let ticket = Ticket::Reset { contact_id: contact.id };
                state.stores.grants.put_ticket(&token.digest(), &ticket, now + RESET_LIFETIME).await?;
                let link = state.config.url(&format!("/signin/reset?token={}", token.expose()));
                let body = format!(
                    "To choose a new password for {}, open this link within an hour:\n\n{link}\n\nIf you did not ask for this, ignore this email.",
                    contact.profile.username
                );
                mail::send(&state.stores, state.now(), to, "Reset your password", &body).await?;
            }
        }
    }
    page(state, req, StatusCode::OK, which.title(), |_| {
        html! {
            p.flash { "If an account matches, we have sent an email to its address. Please check your inbox." }
            p { a href="/signin" { "Back to sign in" } }
        }
    })
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
            "This link has expired",
            "Reset links work once, within an hour. Ask for a new one.",
        )
    };
    let ticket =
        state.stores.grants.take_ticket(TicketKind::Reset, &OpaqueToken::from_presented(token).digest(), now).await?;
    let Some(Ticket::Reset { contact_id }) = ticket else { return Err(expired()) };
    let mut contact = state.stores.contacts.get(contact_id).await?.ok_or_else(expired)?;
    let hash = tokio::task::spawn_blocking(move || PasswordHash::create(&password))
        .await
        .map_err(|_| PageError::internal())?
        .map_err(|_| PageError::internal())?;
    contact.password_hash = Some(hash);
    contact.updated_at = now;
    state.stores.contacts.update(&contact).await?;
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
