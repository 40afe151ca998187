//! `/signout`: ends the Gatehouse session. A GET only shows a button, so a link
//! on another site cannot sign anyone out.

use axum::extract::State;
use gatehouse::web::SharedState;
use gatehouse::web::error::PageError;
use gatehouse::web::extract::Req;
use gatehouse::web::request::form;
use gatehouse::web::response::{html_page, see_other, with_cookie};
use gatehouse::web::session::{CSRF_FIELD, clear_session_cookie, signed_in};
use gatehouse::web::{Response, StatusCode};
use maud::html;

pub async fn show(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    let (state, req, now) = (&*state, &req, state.now());
    let Some(user) = signed_in(state, req, now).await? else {
        return Ok(see_other("/signin"));
    };
    let body = html! {
        h1 { "Sign out" }
        p { "Sign out of " (state.config.org_name) "?" }
        form method="post" action="/signout" {
            input type="hidden" name=(CSRF_FIELD) value=(user.session.csrf_token.expose());
            div.actions { button type="submit" { "Sign out" } }
        }
    };
    Ok(html_page(StatusCode::OK, "Sign out", body))
}

pub async fn submit(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    let (state, req, now) = (&*state, &req, state.now());
    let Some(user) = signed_in(state, req, now).await? else {
        return Ok(with_cookie(see_other("/signin"), &clear_session_cookie(&state.config)));
    };
    if !user.csrf_ok(form(req).get(CSRF_FIELD)) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "Sign-out not confirmed",
            "The sign-out form expired. Please try again.",
        ));
    }
    state.stores.sessions.delete(&user.session.id).await?;
    tracing::info!(contact = %user.contact.id, "signed out");
    // With OIDC on, also offer the provider's own sign-out, where it publishes one.
    let settings = gatehouse::services::upstream::load(&state.stores).await?;
    let end_session = match settings.is_on() && user.contact.profile.external_id.is_some() {
        true => gatehouse::upstream::client::discover(&settings, false)
            .await
            .ok()
            .and_then(|f| gatehouse::upstream::client::end_session_url(&f)),
        false => None,
    };
    let response = match end_session {
        None => see_other("/signin"),
        Some(url) => {
            let body = html! {
                h1 { "Signed out" }
                p { "You are signed out of " (state.config.org_name) "." }
                p { a href=(url) { "Also sign out of " (crate::to_provider::provider_name(&settings)) } }
                p { a href="/signin" { "Sign in again" } }
            };
            html_page(StatusCode::OK, "Signed out", body)
        }
    };
    Ok(with_cookie(response, &clear_session_cookie(&state.config)))
}
