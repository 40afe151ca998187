//! The admin's web pages: server-rendered, no scripts. Every change is a POST form carrying
//! the session's CSRF token, answered with 303 to a page that shows what was done; every
//! destructive action goes through a confirm page first.

mod contacts;
mod logs;
mod oidc;
mod outbox;
mod queries;
mod registrations;
mod signing;

use gatehouse::app::AppState;
use gatehouse::validation::Invalid;
use gatehouse::web::error::{ApiError, PageError};
use gatehouse::web::layout::document;
use gatehouse::web::request::{Params, form, query};
use gatehouse::web::response::{html, see_other};
use gatehouse::web::session::{CSRF_FIELD, SignedIn, signed_in};
use gatehouse::web::{Method, Request, Response, StatusCode};
use maud::{Markup, html};
use time::OffsetDateTime;

use crate::service::AdminError;

/// What a page handler works with: the request, and the system administrator making it.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    pub req: &'a Request,
    pub user: SignedIn,
    pub now: OffsetDateTime,
}

/// The request method, as the pages care about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Other,
}

impl Ctx<'_> {
    pub fn verb(&self) -> Verb {
        match *self.req.method() {
            Method::GET | Method::HEAD => Verb::Get,
            Method::POST => Verb::Post,
            _ => Verb::Other,
        }
    }

    pub fn csrf(&self) -> &str {
        self.user.session.csrf_token.expose()
    }

    pub fn query(&self) -> Params {
        query(self.req)
    }

    /// The submitted form, refused with 403 unless it carries this session's CSRF token.
    pub fn checked_form(&self) -> Result<Params, PageError> {
        let params = form(self.req);
        if self.user.csrf_ok(params.get(CSRF_FIELD)) {
            Ok(params)
        } else {
            Err(PageError::new(
                StatusCode::FORBIDDEN,
                "Not confirmed",
                "The form expired or did not come from this site. Go back, reload the page and try again.",
            ))
        }
    }
}

pub async fn handle(state: &AppState, req: &Request, path: &str) -> Response {
    let now = state.now();
    let user = match signed_in(state, req, now).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            // Back to the same page after signing in, with its query string (`?path=` or `?search=`) on a GET.
            let target = match req.uri().query().filter(|_| *req.method() == Method::GET) {
                Some(q) if !q.is_empty() => format!("{path}?{q}"),
                _ => path.to_owned(),
            };
            return see_other(&format!("/signin?return_to={}", encode(&target)));
        }
        Err(e) => return PageError::from(e).into_response(),
    };
    if !user.contact.profile.is_sysadmin {
        return PageError::new(
            StatusCode::FORBIDDEN,
            "No access",
            "Only system administrators may use the administration.",
        )
        .into_response();
    }
    let ctx = Ctx { state, req, user, now };
    let segments: Vec<&str> =
        path.strip_prefix("/admin").unwrap_or(path).split('/').filter(|s| !s.is_empty()).collect();
    let result = match segments.as_slice() {
        [] if ctx.verb() == Verb::Get => Ok(see_other("/admin/registrations")),
        [] => Err(method_not_allowed()),
        ["registrations", rest @ ..] => registrations::route(&ctx, rest).await,
        ["contacts", rest @ ..] => contacts::route(&ctx, rest).await,
        ["queries", rest @ ..] => queries::route(&ctx, rest).await,
        ["oidc", "logs"] => logs::route(&ctx).await,
        ["oidc", rest @ ..] => oidc::route(&ctx, rest).await,
        ["signing", rest @ ..] => signing::route(&ctx, rest).await,
        ["outbox"] => outbox::route(&ctx).await,
        _ => Err(PageError::not_found()),
    };
    result.unwrap_or_else(PageError::into_response)
}

pub fn method_not_allowed() -> PageError {
    PageError::new(StatusCode::METHOD_NOT_ALLOWED, "Not allowed", "This page does not accept that kind of request.")
}

/// Form-urlencodes one value for a query string.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The sections of the admin, for the header's navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Registrations,
    Contacts,
    Queries,
    Oidc,
    Signing,
    Outbox,
}

const SECTIONS: &[(Section, &str, &str)] = &[
    (Section::Registrations, "/admin/registrations", "App registrations"),
    (Section::Contacts, "/admin/contacts", "Contacts"),
    (Section::Queries, "/admin/queries", "Queries"),
    (Section::Oidc, "/admin/oidc", "Open ID Connect"),
    (Section::Signing, "/admin/signing", "Signing"),
    (Section::Outbox, "/admin/outbox", "Outbox"),
];

fn header(ctx: &Ctx<'_>, current: Section) -> Markup {
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
pub fn admin_page(ctx: &Ctx<'_>, status: StatusCode, section: Section, title: &str, body: Markup) -> Response {
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
            "The app registration was created. Share its Client ID, Client Secret and JWT Signing Key with the third party."
        }
        "registration-saved" => "The app registration was saved.",
        "registration-deleted" => "The app registration was deleted.",
        "secret-regenerated" => "The Client Secret was regenerated. Share the new value with the third party.",
        "signing-key-regenerated" => "The JWT Signing Key was regenerated. Share the new value with the third party.",
        "contact-created" => "The contact was created.",
        "contact-saved" => "The contact was saved.",
        "contact-deleted" => "The contact was deleted.",
        "password-set" => "The password was set.",
        "query-created" => "The query was created.",
        "query-saved" => "The query was saved.",
        "query-deleted" => "The query was deleted.",
        "oidc-saved" => "The Open ID Connect settings were saved.",
        "oidc-saved-mfa-off" => {
            "The Open ID Connect settings were saved. OIDC cannot be used with multi-factor authentication, so MFA was disabled."
        }
        "mfa-on-oidc-off" => {
            "Multi-factor authentication was enabled, so OIDC was disabled: users sign in with their usernames and passwords."
        }
        "signing-saved" => "The signing algorithm was saved.",
        "signing-rotated" => {
            "A new signing key was created and signs from now on. The previous key stays published until the tokens it signed expire."
        }
        _ => return None,
    })
}

fn flash(ctx: &Ctx<'_>) -> Markup {
    let query = ctx.query();
    html! {
        @if let Some(message) = query.get("done").and_then(flash_message) {
            div.flash role="status" { (message) }
        }
    }
}

pub fn csrf_input(ctx: &Ctx<'_>) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(ctx.csrf()); }
}

/// A failed save: which field (if any) and why. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    pub status: StatusCode,
    pub field: Option<String>,
    pub message: String,
}

impl FormError {
    pub fn invalid(invalid: Invalid) -> Self {
        Self { status: StatusCode::UNPROCESSABLE_ENTITY, field: Some(invalid.field), message: invalid.message }
    }

    /// Errors the person can fix in the form; anything else becomes an error page.
    pub fn from_admin(e: AdminError) -> Result<Self, PageError> {
        match e {
            AdminError::Invalid(invalid) => Ok(Self::invalid(invalid)),
            AdminError::Conflict(message) => Ok(Self { status: StatusCode::CONFLICT, field: None, message }),
            other => Err(other.into()),
        }
    }

    /// Like [`FormError::from_admin`], for the admin API's errors (whose messages start with the field).
    pub fn from_api(e: ApiError) -> Result<Self, PageError> {
        match (e.status, e.field) {
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)) => {
                let message = e.message.strip_prefix(&format!("{field}: ")).map_or(e.message.clone(), str::to_owned);
                Ok(Self { status: e.status, field: Some(field), message })
            }
            (StatusCode::CONFLICT, _) => Ok(Self { status: e.status, field: None, message: e.message }),
            (status, _) if status.is_client_error() => {
                Err(PageError::new(status, "Something is wrong with this request", sentence(&e.message)))
            }
            _ => Err(PageError::internal()),
        }
    }

    /// Whether the error is about `name` (or one of its elements, as `name[2]` or `name[2].alias`).
    pub fn is_for(&self, name: &str) -> bool {
        self.field.as_deref().is_some_and(|f| {
            f == name || f.strip_prefix(name).is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
        })
    }
}

/// The summary at the top of a form that failed: the field's label, then the message.
pub fn error_summary(error: Option<&FormError>, label: impl Fn(&str) -> String) -> Markup {
    html! {
        @if let Some(e) = error {
            div.flash.error role="alert" {
                strong { "Nothing was saved. " }
                @match &e.field {
                    Some(field) => { (label(field)) ": " (e.message) }
                    None => (sentence(&e.message)),
                }
            }
        }
    }
}

/// The error under a field, if it is about that field.
pub fn field_error(error: Option<&FormError>, name: &str) -> Markup {
    html! {
        @if let Some(e) = error.filter(|e| e.is_for(name)) {
            p.error-message id=(format!("{name}-error")) { (e.message) }
        }
    }
}

/// A labelled one-line text input named and identified by `name`, with hints under it.
pub fn text_field(
    name: &str,
    label: &str,
    value: &str,
    kind: &str,
    hints: Markup,
    error: Option<&FormError>,
) -> Markup {
    let invalid = error.is_some_and(|e| e.is_for(name));
    html! {
        label for=(name) { (label) }
        input id=(name) type=(kind) name=(name) value=(value) aria-invalid=[invalid.then_some("true")];
        (field_error(error, name))
        (hints)
    }
}

/// A labelled textarea named and identified by `name`.
pub fn textarea_field(
    name: &str,
    label: &str,
    value: &str,
    rows: u8,
    hints: Markup,
    error: Option<&FormError>,
) -> Markup {
    let invalid = error.is_some_and(|e| e.is_for(name));
    html! {
        label for=(name) { (label) }
        textarea id=(name) name=(name) rows=(rows) aria-invalid=[invalid.then_some("true")] { (value) }
        (field_error(error, name))
        (hints)
    }
}

/// A labelled value that cannot be changed here (not submitted with the form).
pub fn readonly_field(id: &str, label: &str, value: &str, hints: Markup) -> Markup {
    html! {
        label for=(id) { (label) }
        input id=(id) type="text" value=(value) readonly;
        (hints)
    }
}

/// The pencil link to a thing's edit page.
pub fn edit_link(href: &str, name: &str) -> Markup {
    html! {
        a.button.secondary href=(href) aria-label=(format!("Edit {name}")) title="Edit" {
            span aria-hidden="true" { "✎" } " Edit"
        }
    }
}

/// The trash icon leading to a thing's delete confirmation.
pub fn delete_link(href: &str, name: &str) -> Markup {
    html! {
        a.button.secondary href=(href) aria-label=(format!("Delete {name}")) title="Delete" {
            span aria-hidden="true" { "🗑" }
        }
    }
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

pub fn confirm_page(ctx: &Ctx<'_>, status: StatusCode, c: Confirm<'_>) -> Response {
    confirm_page_with(ctx, status, c, html! {})
}

/// A confirm page whose form also posts `hidden` (say the values of the form being confirmed).
pub fn confirm_page_with(ctx: &Ctx<'_>, status: StatusCode, c: Confirm<'_>, hidden: Markup) -> Response {
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
    fn form_errors_match_their_field_and_its_elements() {
        let e = FormError::invalid(Invalid::new("redirect_urls[1]", "bad"));
        assert!(e.is_for("redirect_urls"));
        assert!(!e.is_for("redirect"));
        let e = FormError::invalid(Invalid::new("columns[0].alias", "bad"));
        assert!(e.is_for("columns"));
        assert!(!FormError::invalid(Invalid::new("name", "x")).is_for("names"));
    }

    #[test]
    fn api_errors_lose_their_field_prefix() {
        let e = FormError::from_api(Invalid::new("authority_url", "unreachable").into()).unwrap();
        assert_eq!((e.field.as_deref(), e.message.as_str()), (Some("authority_url"), "unreachable"));
        assert_eq!(FormError::from_api(ApiError::conflict("taken")).unwrap().status, StatusCode::CONFLICT);
        assert!(FormError::from_api(ApiError::internal()).is_err());
    }

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
