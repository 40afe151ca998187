//! "Link your existing account": the provider signed in someone whose email (or username) an
//! unlinked contact has. They prove the contact is theirs by entering its password once; from
//! then on the identity is linked to it. `POST /callback/link` checks that password.

use axum::extract::State;
use gatehouse::app::AppState;
use gatehouse::contact::Contact;
use gatehouse::event_log::Level;
use gatehouse::local_signin::{self, Lookup, SigninError};
use gatehouse::secret::OpaqueToken;
use gatehouse::services::log::record;
use gatehouse::services::logout::remember_upstream_session;
use gatehouse::session::SignInMethod;
use gatehouse::store::StoreError;
use gatehouse::ticket::{PendingLink, Ticket, TicketKind};
use gatehouse::upstream::claims::UpstreamPerson;
use gatehouse::upstream::transaction::{LIFETIME, LoginTransaction};
use gatehouse::web::SharedState;
use gatehouse::web::error::PageError;
use gatehouse::web::extract::Req;
use gatehouse::web::request::{cookie, form, source_ip};
use gatehouse::web::response::{html_page, with_cookie};
use gatehouse::web::{Response, StatusCode};
use maud::html;
use serde_json::json;
use time::OffsetDateTime;

use crate::link::{self, Arrival};
use crate::{ASK_ADMIN, failed, refuse, start_session};

fn link_cookie_name(state: &AppState) -> &'static str {
    if state.config.is_https() { "__Host-gatehouse_link" } else { "gatehouse_link" }
}

fn link_cookie(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = if state.config.is_https() { "; Secure" } else { "" };
    format!("{}={value}; Path=/; HttpOnly; SameSite=Lax{secure}; Max-Age={max_age}", link_cookie_name(state))
}

/// Shows the password step for `contact` and keeps what the callback learned for it.
pub async fn offer(
    state: &AppState,
    login: &LoginTransaction,
    arrival: &Arrival<'_>,
    contact: &Contact,
    now: OffsetDateTime,
) -> Result<Response, PageError> {
    let (token, browser) = (OpaqueToken::generate()?, OpaqueToken::generate()?);
    let person = arrival.person;
    let pending = PendingLink {
        contact_id: contact.id,
        link_id: person.link_id.clone(),
        first_name: person.first_name.clone(),
        last_name: person.last_name.clone(),
        email: person.email.clone(),
        is_staff: arrival.is_staff,
        return_to: login.return_to.clone(),
        upstream: Some(arrival.upstream.clone()),
        browser: browser.digest(),
        expires_at: now + LIFETIME,
    };
    state.stores.grants.put_ticket(&token.digest(), &Ticket::Link(pending.clone()), pending.expires_at).await?;
    record(
        &state.stores,
        now,
        Level::Info,
        "Asked the person to link the existing contact with their password",
        json!({ "email": person.email, "external_id": person.link_id }),
    )
    .await;
    let page = page(state, &token, &pending, StatusCode::OK, None).await?;
    Ok(with_cookie(page, &link_cookie(state, browser.expose(), LIFETIME.whole_seconds())))
}

async fn page(
    state: &AppState,
    token: &OpaqueToken,
    pending: &PendingLink,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let settings = gatehouse::services::upstream::load(&state.stores).await?;
    let provider = if settings.name.is_empty() { "your organisation's sign-in service" } else { &settings.name };
    let org = &state.config.org_name;
    let body = html! {
        h1 { "Link your existing account" }
        p {
            "An account with the email " strong { (pending.email) } " already exists in " (org) ". "
            "To sign in to it with " (provider) " from now on, enter that account's " (org) " password once."
        }
        @if let Some(error) = error { p.flash.error role="alert" { (error) } }
        form method="post" action="/callback/link" {
            input type="hidden" name="link" value=(token.expose());
            label for="password" { (org) " password" }
            input #password type="password" name="password" autocomplete="current-password" required autofocus;
            div.actions { button type="submit" { "Link and sign in" } }
        }
        p.hint {
            a href="/signin/forgot-password" { "Forgot my password" }
            " · Not your account? " a href="/signin" { "Start again" }
            " or ask an administrator to link it."
        }
    };
    Ok(html_page(status, "Link your existing account", body))
}

pub async fn submit(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    let (state, req, now) = (&*state, &req, state.now());
    let params = form(req);
    let token = OpaqueToken::from_presented(params.text("link"));
    let Some(Ticket::Link(pending)) = state.stores.grants.take_ticket(TicketKind::Link, &token.digest(), now).await?
    else {
        return Err(failed("This step has expired or was already used. Please sign in again."));
    };
    let browser = cookie(req, link_cookie_name(state)).map(|v| OpaqueToken::from_presented(v).digest());
    if browser.as_ref() != Some(&pending.browser) {
        let what = "Link refused: it was finished in another browser than the one the provider sent back";
        let shown = "This step was started in another browser. Please sign in again here.";
        return Err(refuse(state, Level::Warning, what, json!({ "email": pending.email }), shown).await);
    }
    let contact = state.stores.contacts.get(pending.contact_id).await?;
    let Some(contact) = contact.filter(|c| c.profile.external_id.is_none() && !c.profile.is_sysadmin) else {
        let what = "Cannot link: the contact changed since the password step was offered";
        let details = json!({ "email": pending.email, "external_id": pending.link_id });
        return Err(refuse(state, Level::Warning, what, details, ASK_ADMIN).await);
    };
    let source = source_ip(req);
    let (username, named) = (&contact.profile.username, Lookup::Found(Box::new(contact.clone())));
    let named = std::future::ready(Ok(named));
    match local_signin::verify_password(state, username, named, params.text("password"), source, now).await {
        Ok(proven) => link(state, proven, &pending, now).await,
        Err(SigninError::InvalidCredentials | SigninError::Ambiguous) => {
            again(state, &pending, StatusCode::UNAUTHORIZED, "The password is incorrect.").await
        }
        Err(SigninError::Throttled { until }) => {
            let minutes = ((until - now).whole_seconds() + 59) / 60;
            let message = format!("Too many failed attempts. Try again in {minutes} minute(s).");
            again(state, &pending, StatusCode::TOO_MANY_REQUESTS, &message).await
        }
        Err(SigninError::Store(e)) => Err(e.into()),
    }
}

/// A wrong password: the same step again under a new token (each is used once), while the
/// first one's ten minutes last; the throttle counts the attempts.
async fn again(
    state: &AppState,
    pending: &PendingLink,
    status: StatusCode,
    message: &str,
) -> Result<Response, PageError> {
    let token = OpaqueToken::generate()?;
    state.stores.grants.put_ticket(&token.digest(), &Ticket::Link(pending.clone()), pending.expires_at).await?;
    page(state, &token, pending, status, Some(message)).await
}

async fn link(
    state: &AppState,
    mut contact: Contact,
    pending: &PendingLink,
    now: OffsetDateTime,
) -> Result<Response, PageError> {
    let settings = gatehouse::services::upstream::load(&state.stores).await?;
    let person = UpstreamPerson {
        issuer: String::new(),
        subject: String::new(),
        link_id: pending.link_id.clone(),
        first_name: pending.first_name.clone(),
        last_name: pending.last_name.clone(),
        email: pending.email.clone(),
    };
    contact.profile.external_id = Some(pending.link_id.clone());
    link::sync(state, &mut contact, &person, pending.is_staff, &settings).await?;
    contact.updated_at = now;
    match state.stores.contacts.update(&mut contact).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            let what = "Cannot link: the provider identity was linked to another contact meanwhile";
            let details = json!({ "username": contact.profile.username, "external_id": pending.link_id });
            return Err(refuse(state, Level::Warning, what, details, ASK_ADMIN).await);
        }
        Err(e) => return Err(e.into()),
    }
    record(
        &state.stores,
        now,
        Level::Info,
        "Linked the provider identity to an existing contact (its password was entered)",
        json!({ "username": contact.profile.username, "external_id": pending.link_id, "staff": contact.profile.is_staff }),
    )
    .await;
    // The provider's own `amr` is not kept through this step; the password was entered here too.
    let method = SignInMethod::provider(None);
    let (response, session) = start_session(state, &contact, pending.return_to.as_deref(), method, now).await?;
    if let Some(upstream) = &pending.upstream {
        remember_upstream_session(state, &session, upstream).await?;
    }
    Ok(with_cookie(response, &link_cookie(state, "", 0)))
}
