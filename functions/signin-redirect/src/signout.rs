//! `/signout`: ends the Gatehouse session, and is the OpenID Provider's `end_session_endpoint`
//! (RP-Initiated Logout 1.0, GET or POST). Without an `id_token_hint` for the current session it
//! only shows a confirmation button, so a link on another site cannot sign anyone out.
//! `/signout/done` is the signed-out page, also where the upstream provider's own sign-out
//! sends the person back.

use axum::extract::State;
use gatehouse::app::AppState;
use gatehouse::upstream::client;
use gatehouse::web::SharedState;
use gatehouse::web::error::PageError;
use gatehouse::web::extract::Req;
use gatehouse::web::request::{Params, form, query};
use gatehouse::web::response::{html_page, see_other, with_cookie};
use gatehouse::web::session::{CSRF_FIELD, SignedIn, clear_session_cookie, signed_in};
use gatehouse::web::{Request, Response, StatusCode};
use maud::html;
use time::OffsetDateTime;

use crate::logout::{self, LogoutRequest};

pub async fn show(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    let params = query(&req);
    rp_logout(&state, &req, &params).await
}

/// A logout request (GET or POST) from an app, or a plain visit: ends the session when the hint
/// names it, else asks; with no session, goes straight back to the app (or to sign-in).
async fn rp_logout(state: &AppState, req: &Request, params: &Params) -> Result<Response, PageError> {
    let now = state.now();
    let request = logout::parse(state, params, now).await?;
    let Some(user) = signed_in(state, req, now).await? else {
        return Ok(match &request.return_to {
            Some(url) => see_other(url.as_str()),
            None => see_other(SIGNED_OUT),
        });
    };
    if request.confirms(&user) {
        end_session(state, &user, now).await?;
        tracing::info!(contact = %user.contact.id, "signed out by the app (RP-initiated logout)");
        let target = request.return_to.as_ref().map_or(SIGNED_OUT, |u| u.as_str());
        return Ok(with_cookie(see_other(target), &clear_session_cookie(&state.config)));
    }
    Ok(confirmation(state, &user, &request))
}

fn confirmation(state: &AppState, user: &SignedIn, request: &LogoutRequest) -> Response {
    let body = html! {
        h1 { "Sign out" }
        p { "Sign out of " (state.config.org_name) "?" }
        @if let Some(registration) = &request.registration {
            p { (registration.settings.name) " asked to sign you out." }
        }
        form method="post" action="/signout" {
            input type="hidden" name=(CSRF_FIELD) value=(user.session.csrf_token.expose());
            @if let (Some(registration), Some(uri)) = (&request.registration, &request.post_logout_redirect_uri) {
                input type="hidden" name="client_id" value=(registration.client_id.to_string());
                input type="hidden" name="post_logout_redirect_uri" value=(uri);
                @if let Some(s) = &request.state { input type="hidden" name="state" value=(s); }
            }
            div.actions {
                button type="submit" { "Sign out" }
                a.button.secondary href="/account" { "Stay signed in" }
            }
        }
    };
    html_page(StatusCode::OK, "Sign out", body)
}

/// Ends the member's session: its apps' tokens stop working and they get back-channel notices.
async fn end_session(state: &AppState, user: &SignedIn, now: OffsetDateTime) -> Result<(), PageError> {
    gatehouse::services::logout::end_session(state, &user.session, "signed out", now).await?;
    Ok(())
}

pub async fn submit(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    let params = form(&req);
    if !params.has(CSRF_FIELD) && logout::is_rp_request(&params) {
        // An app's logout request sent by POST (RP-Initiated Logout §2).
        return rp_logout(&state, &req, &params).await;
    }
    let (state, req, now) = (&*state, &req, state.now());
    let Some(user) = signed_in(state, req, now).await? else {
        return Ok(with_cookie(see_other("/signin"), &clear_session_cookie(&state.config)));
    };
    if !user.csrf_ok(params.get(CSRF_FIELD)) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "Sign-out not confirmed",
            "The sign-out form expired. Please try again.",
        ));
    }
    // The confirmed form of an app's request: the return address is checked again.
    let request = logout::parse(state, &params, now).await?;
    let provider_sign_out = provider_sign_out(state, &user, now).await?;
    end_session(state, &user, now).await?;
    tracing::info!(contact = %user.contact.id, "signed out");
    if let Some(url) = &request.return_to {
        return Ok(with_cookie(see_other(url.as_str()), &clear_session_cookie(&state.config)));
    }
    let response = match provider_sign_out {
        None => see_other(SIGNED_OUT),
        Some((provider, url)) => signed_out_page(state, Some((&provider, url.as_str()))),
    };
    Ok(with_cookie(response, &clear_session_cookie(&state.config)))
}

/// The signed-out page: where a plain sign-out lands, and where the provider's sign-out
/// returns. A visitor who is still signed in is asked to sign out instead.
pub async fn done(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    if signed_in(&state, &req, state.now()).await?.is_some() {
        return Ok(see_other("/signout"));
    }
    Ok(signed_out_page(&state, None))
}

const SIGNED_OUT: &str = "/signout/done";

fn signed_out_page(state: &AppState, provider: Option<(&str, &str)>) -> Response {
    let body = html! {
        h1 { "Signed out" }
        p { "You are signed out of " (state.config.org_name) "." }
        @if let Some((name, _)) = provider {
            p { "You may still be signed in to " (name) ", which other apps on this computer can use." }
        }
        div.actions {
            @if let Some((name, url)) = provider { a.button href=(url) { "Also sign out of " (name) } }
            a.button.secondary href="/signin" { "Sign in again" }
        }
    };
    html_page(StatusCode::OK, "Signed out", body)
}

/// With OIDC on and a member who signed in through the provider (or is linked to it), the
/// provider's own sign-out, where it publishes one: its name and URL, with the session's ID
/// token as the hint and the signed-out page as the way back.
async fn provider_sign_out(
    state: &AppState,
    user: &SignedIn,
    now: OffsetDateTime,
) -> Result<Option<(String, url::Url)>, PageError> {
    let id_token = gatehouse::services::logout::take_upstream_id_token(state, &user.session, now).await?;
    if id_token.is_none() && user.contact.profile.external_id.is_none() {
        return Ok(None);
    }
    let settings = gatehouse::services::upstream::load(&state.stores).await?;
    if !settings.is_on() {
        return Ok(None);
    }
    let Ok(found) = client::discover(&settings, false).await else { return Ok(None) };
    let back = state.config.url(SIGNED_OUT);
    let url = client::end_session_url(&found, &settings, id_token.as_ref(), &back);
    Ok(url.map(|url| (crate::to_provider::provider_name(&settings), url)))
}
