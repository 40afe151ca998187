//! The admin's web pages: server-rendered, no scripts. Every change is a POST form carrying
//! the session's CSRF token, answered with 303 to a page that shows what was done; every
//! destructive action goes through a confirm page first.

mod contact_cards;
mod contact_link;
mod contact_sessions;
mod contacts;
mod fields;
mod lists;
mod logs;
mod member_pages;
mod oidc;
mod outbox;
mod queries;
mod registrations;
mod signing;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::{any, get};
use gatehouse::web::error::PageError;
use gatehouse::web::extract::{Req, from_params};
use gatehouse::web::layout::document;
use gatehouse::web::request::{Params, form, path};
use gatehouse::web::response::{html, see_other};
use gatehouse::web::session::{CSRF_FIELD, SignedIn, signed_in};
use gatehouse::web::{Method, Request, Response, SharedState, StatusCode};
use maud::{Markup, html};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

pub use fields::{
    FormError, copy_field, error_summary, field_error, readonly_field, required, required_label, text_field,
    textarea_field,
};
pub use lists::{count_text, delete_link, edit_link, list_href, pager, search_form};

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/admin", get(home))
        .merge(registrations::routes())
        .merge(contacts::routes())
        .merge(contact_link::routes())
        .merge(contact_sessions::routes())
        .merge(queries::routes())
        .merge(oidc::routes())
        .merge(logs::routes())
        .merge(signing::routes())
        .merge(outbox::routes())
        .merge(member_pages::routes())
        // Unknown admin pages: the sign-in check first, then the not-found page.
        .route("/admin/{*rest}", any(not_found))
}

async fn home(_: Ctx) -> Response {
    see_other("/admin/registrations")
}

async fn not_found(_: Ctx) -> PageError {
    PageError::not_found().with_ways_on(&[("/admin", "Back to the administration")])
}

/// What a page handler works with: the system administrator making the request, and its
/// query string. As an extractor it redirects to sign-in, or answers 403 for anyone else.
pub struct Ctx {
    pub state: SharedState,
    pub user: SignedIn,
    pub now: OffsetDateTime,
    query: Params,
}

impl Ctx {
    pub fn csrf(&self) -> &str {
        self.user.session.csrf_token.expose()
    }

    pub fn query(&self) -> &Params {
        &self.query
    }
}

impl FromRequestParts<SharedState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self, Response> {
        let now = state.now();
        // The shared helpers read a whole request; headers and the URI are all they need here.
        let req = Request::from_parts(parts.clone(), Bytes::new());
        let user = match signed_in(state, &req, now).await {
            Ok(Some(user)) => user,
            Ok(None) => {
                // Back to the same page after signing in, with its query string (`?path=` or `?search=`) on a GET.
                let path = path(&req);
                let target = match req.uri().query().filter(|_| *req.method() == Method::GET) {
                    Some(q) if !q.is_empty() => format!("{path}?{q}"),
                    _ => path.to_owned(),
                };
                return Err(see_other(&format!("/signin?return_to={}", encode(&target))));
            }
            Err(e) => return Err(PageError::from(e).into_response()),
        };
        if !user.contact.profile.is_sysadmin {
            let message = format!(
                "Only system administrators may use the administration. You are signed in as {}.",
                user.contact.profile.username
            );
            let ways_on = [("/account", "Go to your account"), ("/signout", "Sign out")];
            return Err(PageError::new(StatusCode::FORBIDDEN, "No access", message)
                .with_ways_on(&ways_on)
                .into_response());
        }
        // For a `CsrfForm` later in the same handler, so the session is looked up once.
        parts.extensions.insert(user.clone());
        let query = Params::parse(req.uri().query().unwrap_or_default());
        Ok(Self { state: state.clone(), user, now, query })
    }
}

/// A submitted admin form, refused with 403 unless it carries the session's CSRF token.
/// Use it after [`Ctx`], which signs the user in.
pub struct CsrfForm<T>(pub T);

/// A form with nothing but its CSRF token (confirm pages).
#[derive(Deserialize)]
pub struct NoFields {}

/// The submitted form as it came, for pages that post back whatever was shown (confirm pages).
pub struct RawForm(pub Params);

fn not_confirmed() -> PageError {
    PageError::new(
        StatusCode::FORBIDDEN,
        "Not confirmed",
        "The form expired or did not come from this site. Go back, reload the page and try again.",
    )
}

/// The CSRF-checked form parameters.
async fn checked_params(req: axum::extract::Request, state: &SharedState) -> Result<Params, Response> {
    let (mut parts, body) = req.into_parts();
    let user = match parts.extensions.get::<SignedIn>() {
        Some(user) => user.clone(),
        None => Ctx::from_request_parts(&mut parts, state).await?.user,
    };
    let Req(req) = Req::from_request(axum::extract::Request::from_parts(parts, body), state).await?;
    let params = form(&req);
    if user.csrf_ok(params.get(CSRF_FIELD)) { Ok(params) } else { Err(not_confirmed().into_response()) }
}

impl<T: DeserializeOwned> FromRequest<SharedState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &SharedState) -> Result<Self, Response> {
        let params = checked_params(req, state).await?;
        from_params(&params)
            .map(Self)
            .map_err(|e| PageError::bad_request(format!("The form is incomplete or malformed ({e}).")).into_response())
    }
}

impl FromRequest<SharedState> for RawForm {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &SharedState) -> Result<Self, Response> {
        checked_params(req, state).await.map(Self)
    }
}

pub fn method_not_allowed() -> PageError {
    PageError::new(StatusCode::METHOD_NOT_ALLOWED, "Not allowed", "This page does not accept that kind of request.")
}

pub use gatehouse::web::request::url_encode as encode;

/// The sections of the admin, for the header's navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Registrations,
    Contacts,
    Queries,
    Oidc,
    Signing,
    Outbox,
    MemberPages,
}

const SECTIONS: &[(Section, &str, &str)] = &[
    (Section::Registrations, "/admin/registrations", "App registrations"),
    (Section::Contacts, "/admin/contacts", "Contacts"),
    (Section::Queries, "/admin/queries", "Queries"),
    (Section::Oidc, "/admin/oidc", "OpenID Connect"),
    (Section::Signing, "/admin/signing", "Signing"),
    (Section::Outbox, "/admin/outbox", "Outbox"),
    (Section::MemberPages, "/admin/member-pages", "Member pages"),
];

fn header(ctx: &Ctx, current: Section) -> Markup {
    html! {
        header.top {
            span.brand { "Gatehouse admin" }
            nav aria-label="Administration" {
                @for (section, href, label) in SECTIONS {
                    @if *section == current {
                        a href=(href) aria-current="page" { strong { (label) } }
                    } @else {
                        a href=(href) { (label) }
                    }
                }
            }
            form method="post" action="/signout" {
                span.hint { (ctx.user.contact.profile.username) " " }
                (csrf_input(ctx))
                button.secondary type="submit" { "Sign out" }
            }
        }
    }
}

/// A whole admin page: the header, the flash message named by `?done=`, then `body`.
pub fn admin_page(ctx: &Ctx, status: StatusCode, section: Section, title: &str, body: Markup) -> Response {
    let full = html! {
        (flash(ctx))
        (body)
    };
    html(status, document(&format!("{title} · Gatehouse admin"), Some(header(ctx, section)), "", full))
}

/// What `?done=<code>` reports after a redirect. Only these fixed texts are shown, never the parameter itself.
fn flash_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "registration-created" => {
            "The app registration was created. Its credentials are at the top: copy them for the third party."
        }
        "registration-saved" => "The app registration was saved.",
        "registration-deleted" => "The app registration was deleted.",
        "secret-regenerated" => "The Client Secret was regenerated. Share the new value with the third party.",
        "signing-key-regenerated" => "The JWT Signing Key was regenerated. Share the new value with the third party.",
        "contact-created" => "The contact was created.",
        "contact-saved" => "The contact was saved.",
        "contact-deleted" => "The contact was deleted.",
        "password-set" => "The password was set.",
        "identity-linked" => {
            "The provider identity was linked: signing in through the provider now signs in as this contact."
        }
        "identity-unlinked" => "The provider identity was unlinked.",
        "mfa-reset" => "Two-step verification was reset: the contact's app and recovery codes no longer work.",
        "signed-out-everywhere" => "Every session of the contact was ended.",
        "query-created" => "The query was created.",
        "query-saved" => "The query was saved.",
        "query-deleted" => "The query was deleted.",
        "oidc-saved" => "The OpenID Connect settings were saved.",
        "oidc-saved-mfa-off" => {
            "The OpenID Connect settings were saved. OIDC cannot be used with multi-factor authentication, so MFA was disabled."
        }
        "mfa-on-oidc-off" => {
            "Multi-factor authentication was enabled, so OIDC was disabled: users sign in with their usernames and passwords."
        }
        "signing-saved" => "The signing algorithm was saved.",
        "member-pages-saved" => "The member pages' wording was saved.",
        "signing-rotated" => {
            "A new signing key was created and signs from now on. The previous key stays published until the tokens it signed expire."
        }
        _ => return None,
    })
}

fn flash(ctx: &Ctx) -> Markup {
    let query = ctx.query();
    html! {
        @if let Some(message) = query.get("done").and_then(flash_message) {
            div.flash role="status" { (message) }
        }
    }
}

pub fn csrf_input(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(ctx.csrf()); }
}

/// The revision an edit form was opened at, sent back with it (nothing on an add form).
pub fn revision_input(revision: Option<u64>) -> Markup {
    html! { @if let Some(revision) = revision { input type="hidden" name="revision" value=(revision); } }
}

/// A confirmation before something that cannot be undone: what will happen, then one POST button.
pub struct Confirm<'a> {
    pub section: Section,
    pub title: &'a str,
    pub message: Markup,
    pub action: &'a str,
    pub button: &'a str,
    pub cancel: &'a str,
    /// Why the last attempt was refused, if it was.
    pub error: Option<&'a str>,
}

pub fn confirm_page(ctx: &Ctx, status: StatusCode, c: Confirm<'_>) -> Response {
    confirm_page_with(ctx, status, c, html! {})
}

/// A confirm page whose form also posts `hidden` (say the values of the form being confirmed).
pub fn confirm_page_with(ctx: &Ctx, status: StatusCode, c: Confirm<'_>, hidden: Markup) -> Response {
    let body = html! {
        div.card {
            h1 { (c.title) }
            @if let Some(error) = c.error { div.flash.error role="alert" { (sentence(error)) } }
            (c.message)
            form method="post" action=(c.action) {
                (csrf_input(ctx))
                (hidden)
                div.actions {
                    button.danger type="submit" { (c.button) }
                    a href=(c.cancel) { "Cancel" }
                }
            }
        }
    };
    admin_page(ctx, status, c.section, c.title, body)
}

/// A service message as a sentence: capitalised, with a full stop.
pub fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    let mut out: String = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
    if !out.is_empty() && !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// Non-empty trimmed lines of a textarea.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_flash_codes_show() {
        assert!(flash_message("registration-created").is_some());
        assert!(flash_message("<script>").is_none());
    }

    #[test]
    fn messages_become_sentences() {
        assert_eq!(sentence("you cannot delete your own account"), "You cannot delete your own account.");
        assert_eq!(sentence("Done."), "Done.");
        assert_eq!(sentence(""), "");
    }

    #[test]
    fn lines_skip_blanks() {
        assert_eq!(lines(" a \n\n b\r\n").collect::<Vec<_>>(), ["a", "b"]);
    }
}
