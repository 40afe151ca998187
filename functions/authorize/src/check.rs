//! Checking an authorization request and deciding the next step: an error back to the client,
//! the sign-in page, the No Access page, or on to consent.

use gatehouse::app::AppState;
use gatehouse::no_access::{self, ContactLine};
use gatehouse::oidc::error::{ErrorCode, OAuthError};
use gatehouse::oidc::request::{self, AuthorizationRequest, Prompt, ResponseType, UnsafeRequest};
use gatehouse::registration::Registration;
use gatehouse::services::issue::Profile;
use gatehouse::services::settings;
use gatehouse::web::error::PageError;
use gatehouse::web::request::Params;
use gatehouse::web::response::{html_page, see_other};
use gatehouse::web::session::{SignedIn, signed_in};
use gatehouse::web::{Request, Response, StatusCode};
use maud::html;
use time::OffsetDateTime;

use crate::reply::ClientReply;

/// A request that passed every check up to consent.
pub(crate) struct Checked {
    pub registration: Registration,
    pub request: AuthorizationRequest,
    pub user: SignedIn,
    pub profile: Profile,
    /// How to answer the client from here on.
    pub reply: ClientReply,
}

pub(crate) enum Step {
    /// Answered already (an error sent back, a sign-in, a No Access page).
    Done(Response),
    Continue(Box<Checked>),
}

fn unsafe_page(e: UnsafeRequest) -> PageError {
    PageError::new(StatusCode::BAD_REQUEST, "This sign-in link is not valid", e.to_string())
}

/// Every check up to consent, shared by the first request and the consent decision.
pub(crate) async fn check(
    state: &AppState,
    req: &Request,
    params: &Params,
    now: OffsetDateTime,
) -> Result<Step, PageError> {
    let issuer = state.config.issuer_str();
    let client_id =
        request::client_id(params).map_err(unsafe_page)?.ok_or_else(|| unsafe_page(UnsafeRequest::UnknownClient))?;
    // The app and the browser's session, read together (on DynamoDB, one round trip fewer).
    let (registration, user) = tokio::join!(state.stores.registrations.get(client_id), signed_in(state, req, now));
    let registration = registration?.ok_or_else(|| unsafe_page(UnsafeRequest::UnknownClient))?;
    let redirect_uri = request::redirect_uri(params, &registration).map_err(unsafe_page)?;
    let request = match AuthorizationRequest::parse(params, &registration, redirect_uri.clone()) {
        Ok(request) => request,
        Err(error) => {
            let response_type = if params.text("response_type").contains("id_token") {
                ResponseType::IdToken
            } else {
                ResponseType::Code
            };
            let reply = ClientReply::new(redirect_uri.as_str(), response_type, params.get("state"), issuer);
            return Ok(Step::Done(reply.error(&error)));
        }
    };
    let reply = ClientReply::for_request(&request, issuer);
    let back = |error: OAuthError| Step::Done(reply.error(&error));

    let user = match user? {
        Some(user) if !needs_login(&request, &user, now) => user,
        _ if request.prompt.none => {
            return Ok(back(OAuthError::new(ErrorCode::LoginRequired, "the member must sign in")));
        }
        user => return Ok(Step::Done(see_other(&signin_url(params, request.prompt, user.is_some(), now)))),
    };

    let profile = match Profile::load(state, &registration, &user.contact).await {
        Ok(profile) => profile,
        Err(e) => return Ok(back(crate::reply::server_error(e))),
    };
    if let Some(rule) = profile.denied_by(&registration) {
        tracing::info!(client_id = %registration.client_id, contact = %user.contact.id, code = %rule.code, "no access");
        return Ok(Step::Done(match &rule.redirect {
            Some(url) => see_other(url.as_str()),
            None => {
                let line = settings::load(&state.stores, no_access::SECRET_NAME).await?;
                no_access_page(state, &registration, &user, &reply, &line)
            }
        }));
    }
    Ok(Step::Continue(Box::new(Checked { registration, request, user, profile, reply })))
}

/// A sign-in that does not satisfy the request must be repeated. After Gatehouse sent the
/// member to sign in (`login_after`), only that fresh sign-in counts.
fn needs_login(request: &AuthorizationRequest, user: &SignedIn, now: OffsetDateTime) -> bool {
    let auth_time = user.session.auth_time.unix_timestamp();
    match request.login_after {
        Some(after) => auth_time < after,
        None => request.prompt.login || request.max_age.is_some_and(|max| now.unix_timestamp() - auth_time > max),
    }
}

/// The sign-in page, coming back to this request. `prompt=login` and `max_age` become
/// `login_after`, so the fresh sign-in satisfies them and the loop ends; `prompt=consent`
/// stays, so the member is still asked.
fn signin_url(params: &Params, prompt: Prompt, signed_in: bool, now: OffsetDateTime) -> String {
    let mut back = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params.pairs() {
        match name {
            "prompt" | "login_after" | "csrf_token" | "decision" => {}
            _ => {
                back.append_pair(name, value);
            }
        }
    }
    if prompt.consent {
        back.append_pair("prompt", "consent");
    }
    back.append_pair("login_after", &now.unix_timestamp().to_string());
    let return_to = format!("/authorize?{}", back.finish());
    let mut signin = url::form_urlencoded::Serializer::new(String::new());
    signin.append_pair("return_to", &return_to);
    if let Some(hint) = params.get("login_hint") {
        signin.append_pair("login_hint", hint);
    }
    if signed_in {
        signin.append_pair("force", "1");
    }
    format!("/signin?{}", signin.finish())
}

/// The seed's No Access page, with ways on: back to the app (which learns `access_denied`),
/// the member's account, or signing out to use another account.
/// The contact line is the administrator's (Member pages), or else names the organisation.
fn no_access_page(
    state: &AppState,
    registration: &Registration,
    user: &SignedIn,
    reply: &ClientReply,
    line: &ContactLine,
) -> Response {
    let app = &registration.settings.name;
    let org = &state.config.org_name;
    let body = html! {
        h1 { "No access" }
        p { "Your account at " (org) " does not have access to " strong { (app) } "." }
        p.hint { "You are signed in as " (user.contact.profile.username) "." }
        p.contact-line {
            @if line.text.is_empty() { "If you think this is a mistake, please contact " (org) "." } @else { (line.text) }
            @if !line.link_url.is_empty() { " " a href=(line.link_url) { (line.link_words()) } }
        }
        div.actions {
            a.button href=(reply.denied_location()) { "Back to " (app) }
            a href="/account" { "Your account" }
            a href="/signout" { "Sign out" }
        }
    };
    html_page(StatusCode::FORBIDDEN, "No access", body)
}
