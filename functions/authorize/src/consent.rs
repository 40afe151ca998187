//! Consent: "Allow [App Name] to access the following information from your account at
//! [Organization Name]?" — remembered per member and app.

use axum::extract::State;
use gatehouse::app::AppState;
use gatehouse::grants::Consent;
use gatehouse::oidc::error::{ErrorCode, OAuthError};
use gatehouse::oidc::scope::Scope;
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

/// A column alias as a person reads it: `given_name` → "Given name",
/// `AccessRestrictionCode` → "Access restriction code", `address.locality` → "Address locality".
fn in_words(alias: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in alias.chars() {
        let boundary = matches!(c, '_' | '.' | '-' | ' ') || (c.is_uppercase() && previous_lower);
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        if c.is_alphanumeric() {
            current.extend(c.to_lowercase());
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    if !current.is_empty() {
        words.push(current);
    }
    let mut text = words.join(" ");
    if let Some(first) = text.get(..1) {
        text = first.to_uppercase() + &text[1..];
    }
    text
}

/// The authorization request again, for "Not you?": a fresh sign-in that comes back here.
fn sign_in_as_someone_else(params: &Params) -> String {
    let mut back = url::form_urlencoded::Serializer::new(String::new());
    for name in CARRIED {
        if let Some(value) = params.get(name) {
            back.append_pair(name, value);
        }
    }
    let return_to = format!("/authorize?{}", back.finish());
    format!("/signin?force=1&return_to={}", gatehouse::web::request::url_encode(&return_to))
}

pub(crate) fn page(state: &AppState, checked: &Checked, params: &Params) -> Response {
    let app = &checked.registration.settings.name;
    let profile = &checked.profile;
    // What /userinfo and the tokens carry: the profile query's columns and the role query's roles.
    let fields: Vec<String> = profile.row.iter().map(|(alias, _)| in_words(alias)).collect();
    let body = html! {
        h1 { "Allow " (app) "?" }
        p { "Allow " strong { (app) } " to access the following information from your account at " strong { (state.config.org_name) } "?" }
        ul.consent-scopes {
            @for scope in checked.request.scope.iter() {
                @match scope {
                    Scope::Profile | Scope::Email | Scope::Roles => {}
                    other => li { (other.describe()) },
                }
            }
            @if !fields.is_empty() { li { "From your profile: " (fields.join(", ")) } }
            li {
                @if profile.roles.is_empty() { "Your roles (you have none at the moment)" }
                @else { "Your roles: " (profile.roles.join(", ")) }
            }
        }
        p.hint {
            "Signed in as " (checked.user.contact.profile.username) ". "
            a href=(sign_in_as_someone_else(params)) { "Not you? Sign in as someone else" }
            ". You can withdraw this later from your account page."
        }
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

#[cfg(test)]
mod tests {
    use super::in_words;

    #[test]
    fn aliases_read_as_words() {
        assert_eq!(in_words("given_name"), "Given name");
        assert_eq!(in_words("AccessRestrictionCode"), "Access restriction code");
        assert_eq!(in_words("address.locality"), "Address locality");
        assert_eq!(in_words("email"), "Email");
        assert_eq!(in_words("member_type2"), "Member type2");
    }
}
