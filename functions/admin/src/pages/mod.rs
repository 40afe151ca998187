//! The admin's web pages: server-rendered, no scripts. Every change is a POST form carrying
//! the session's CSRF token, answered with 303 to a page that shows what was done; every
//! destructive action goes through a confirm page first.

mod contact_cards;
mod contact_link;
mod contact_sessions;
mod contacts;
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
use gatehouse::validation::Invalid;
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

use crate::service::AdminError;

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

/// A failed save: what is wrong, field by field. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    pub status: StatusCode,
    /// At least one; a problem without a field is about the form as a whole.
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: Option<String>,
    pub message: String,
}

impl FormError {
    pub fn invalid(invalid: Invalid) -> Self {
        Self::all(vec![invalid])
    }

    /// Every problem of the form, shown at once.
    pub fn all(problems: Vec<Invalid>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            problems: problems.into_iter().map(|i| Problem { field: Some(i.field), message: i.message }).collect(),
        }
    }

    /// One problem with the whole form: it clashes with what is stored.
    pub fn conflict(message: String) -> Self {
        Self { status: StatusCode::CONFLICT, problems: vec![Problem { field: None, message }] }
    }

    /// A save refused because `what` ("contact") was changed since its form was opened;
    /// `differs` names the fields that now differ from the form, by the form's `label`s.
    pub fn changed_since_opened(what: &str, differs: &[&str], label: impl Fn(&str) -> String) -> Self {
        let fields = differs.iter().map(|f| label(f)).collect::<Vec<_>>().join(", ");
        let differs = if fields.is_empty() {
            String::new()
        } else {
            format!(" It now differs from what you typed in: {fields}.")
        };
        Self::conflict(format!(
            "Someone else changed this {what} since you opened it.{differs} \
             Save again to keep what you typed, or reload the page to start from the saved {what}."
        ))
    }

    /// Errors the person can fix in the form; anything else becomes an error page.
    pub fn from_admin(e: AdminError) -> Result<Self, PageError> {
        match e {
            AdminError::Invalid(invalid) => Ok(Self::invalid(invalid)),
            AdminError::Conflict(message) => Ok(Self::conflict(message)),
            other => Err(other.into()),
        }
    }

    /// The same problems, all said to be about `field` (a card with one input).
    pub fn about(&self, field: &str) -> Self {
        let problems = self.problems.iter().map(|p| Problem { field: Some(field.to_owned()), ..p.clone() }).collect();
        Self { status: self.status, problems }
    }

    /// Whether an error is about `name` (or one of its elements, as `name[2]` or `name[2].alias`).
    pub fn is_for(&self, name: &str) -> bool {
        self.messages_for(name).next().is_some()
    }

    fn messages_for<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.problems.iter().filter(move |p| p.is_for(name)).map(|p| p.message.as_str())
    }
}

impl Problem {
    fn is_for(&self, name: &str) -> bool {
        self.field.as_deref().is_some_and(|f| {
            f == name || f.strip_prefix(name).is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
        })
    }
}

/// The element a field's error links to: the field itself (`name` of `name[2].alias`).
fn field_anchor(field: &str) -> &str {
    field.split(['[', '.']).next().unwrap_or(field)
}

/// The summary at the top of a form that failed: every problem, each linking to its field
/// (the label, then the message). The script moves the focus here.
pub fn error_summary(error: Option<&FormError>, label: impl Fn(&str) -> String) -> Markup {
    html! {
        @if let Some(e) = error {
            div.flash.error.error-summary role="alert" tabindex="-1" aria-labelledby="error-summary-title" autofocus {
                strong #error-summary-title {
                    "Nothing was saved. "
                    @match e.problems.len() {
                        0 | 1 => "Fix this problem:",
                        n => { "Fix these " (n) " problems:" }
                    }
                }
                ul {
                    @for problem in &e.problems {
                        li {
                            @match &problem.field {
                                Some(field) if !field.is_empty() => {
                                    a href=(format!("#{}", field_anchor(field))) { (label(field)) ": " (problem.message) }
                                }
                                _ => (sentence(&problem.message)),
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The errors under a field, if any are about that field.
pub fn field_error(error: Option<&FormError>, name: &str) -> Markup {
    html! {
        @if let Some(e) = error.filter(|e| e.is_for(name)) {
            p.error-message id=(format!("{name}-error")) {
                @for (i, message) in e.messages_for(name).enumerate() {
                    @if i > 0 { br; }
                    (sentence(message))
                }
            }
        }
    }
}

/// A field's label: its text, and whether the form needs it.
pub struct Label<'a> {
    pub text: &'a str,
    pub required: bool,
}

impl<'a> From<&'a str> for Label<'a> {
    fn from(text: &'a str) -> Self {
        Self { text, required: false }
    }
}

/// The label of a field the form needs (marked, and `aria-required`).
pub fn required(text: &str) -> Label<'_> {
    Label { text, required: true }
}

fn label_element(name: &str, label: &Label<'_>) -> Markup {
    html! {
        @if label.required {
            (required_label(html! { label for=(name) { (label.text) } }))
        } @else {
            label for=(name) { (label.text) }
        }
    }
}

/// A label with the visible "(required)" beside it, outside the label so the field's name stays
/// its label alone (the field itself carries `aria-required`).
pub fn required_label(label: Markup) -> Markup {
    html! {
        div.label-row {
            (label)
            span.required aria-hidden="true" { "(required)" }
        }
    }
}

/// The `aria-describedby` of an input: its error, when it has one.
fn described_by(error: Option<&FormError>, name: &str) -> Option<String> {
    error.filter(|e| e.is_for(name)).map(|_| format!("{name}-error"))
}

/// A labelled one-line text input named and identified by `name`, with hints under it.
pub fn text_field<'a>(
    name: &str,
    label: impl Into<Label<'a>>,
    value: &str,
    kind: &str,
    hints: Markup,
    error: Option<&FormError>,
) -> Markup {
    let label = label.into();
    let invalid = error.is_some_and(|e| e.is_for(name));
    html! {
        (label_element(name, &label))
        input id=(name) type=(kind) name=(name) value=(value) aria-invalid=[invalid.then_some("true")]
            aria-required=[label.required.then_some("true")] aria-describedby=[described_by(error, name)];
        (field_error(error, name))
        (hints)
    }
}

/// A labelled textarea named and identified by `name`.
pub fn textarea_field<'a>(
    name: &str,
    label: impl Into<Label<'a>>,
    value: &str,
    rows: u8,
    hints: Markup,
    error: Option<&FormError>,
) -> Markup {
    let label = label.into();
    let invalid = error.is_some_and(|e| e.is_for(name));
    html! {
        (label_element(name, &label))
        textarea id=(name) name=(name) rows=(rows) aria-invalid=[invalid.then_some("true")]
            aria-required=[label.required.then_some("true")] aria-describedby=[described_by(error, name)] { (value) }
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

/// A value to hand on (a credential, a URL), read-only, with a Copy button; `masked` values
/// also get Show (the script masks them; without it they show as text and Copy is hidden).
/// `extra` follows the buttons (say a Regenerate link).
pub fn copy_field(id: &str, label: &str, value: &str, masked: bool, extra: Markup) -> Markup {
    html! {
        label for=(id) { (label) }
        div.field-row {
            input id=(id) type="text" value=(value) readonly spellcheck="false" autocomplete="off" data-mask[masked];
            @if masked {
                button.secondary type="button" data-reveal aria-controls=(id) hidden data-needs-script {
                    span data-word { "Show" } span.visually-hidden { " " (label) }
                }
            }
            button.secondary type="button" data-copy aria-controls=(id) hidden data-needs-script {
                "Copy" span.visually-hidden { " " (label) }
            }
            (extra)
        }
        p.hint id=(format!("{id}-status")) role="status" aria-live="polite" data-copy-status {}
    }
}

/// A list's search box: a GET form back to `action` with `?search=`.
pub fn search_form(action: &str, search: &str, hint: &str) -> Markup {
    html! {
        form.search method="get" action=(action) role="search" {
            label for="search" { "Search" }
            input id="search" type="text" name="search" value=(search) aria-describedby="search-hint";
            button.secondary type="submit" { "Search" }
            @if !search.is_empty() { a href=(action) { "Show all" } }
            span.hint #search-hint { (hint) }
        }
    }
}

/// "← First page" (when not on it) and "Next page →" (when there is one) under a list.
pub fn pager(label: &str, first: Option<&str>, next: Option<&str>) -> Markup {
    html! {
        @if first.is_some() || next.is_some() {
            nav.pager aria-label=(label) {
                @if let Some(href) = first { a href=(href) { "← First page" } }
                @if let Some(href) = next { a href=(href) rel="next" { "Next page →" } }
            }
        }
    }
}

/// The list at `path` with `search` (when any) and, when `after` is given, from the page after it.
pub fn list_href(path: &str, search: &str, after: Option<&str>) -> String {
    let mut query = Vec::new();
    if !search.is_empty() {
        query.push(format!("search={}", encode(search)));
    }
    if let Some(after) = after {
        query.push(format!("after={}", encode(after)));
    }
    if query.is_empty() { path.to_owned() } else { format!("{path}?{}", query.join("&")) }
}

/// "3 app registrations." or "2 of 3 app registrations match.", from the (singular, plural) noun.
pub fn count_text(shown: usize, total: usize, (one, many): (&str, &str), searching: bool) -> String {
    let noun = if total == 1 { one } else { many };
    if searching { format!("{shown} of {total} {noun} match.") } else { format!("{total} {noun}.") }
}

/// The pencil link to a thing's edit page.
pub fn edit_link(href: &str, name: &str) -> Markup {
    html! {
        a.button.secondary href=(href) aria-label=(format!("Edit {name}")) title="Edit" {
            span aria-hidden="true" { "✎" } " Edit"
        }
    }
}

/// The link to a thing's delete confirmation: a visible word, since an emoji icon is a blank
/// square where no emoji font is installed.
pub fn delete_link(href: &str, name: &str) -> Markup {
    html! {
        a.button.secondary.danger-text href=(href) aria-label=(format!("Delete {name}")) { "Delete" }
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
    fn form_errors_match_their_field_and_its_elements() {
        let e = FormError::invalid(Invalid::new("redirect_urls[1]", "bad"));
        assert!(e.is_for("redirect_urls"));
        assert!(!e.is_for("redirect"));
        let e = FormError::invalid(Invalid::new("columns[0].alias", "bad"));
        assert!(e.is_for("columns"));
        assert!(!FormError::invalid(Invalid::new("name", "x")).is_for("names"));
        assert_eq!(field_anchor("columns[0].alias"), "columns");
    }

    #[test]
    fn the_summary_lists_every_problem_and_links_to_its_field() {
        let e = FormError::all(vec![Invalid::new("name", "is required"), Invalid::new("redirect_urls[0]", "bad")]);
        let summary = error_summary(Some(&e), |f| f.to_uppercase()).into_string();
        assert!(summary.contains("Fix these 2 problems"), "{summary}");
        assert!(summary.contains(r##"<a href="#name">NAME: is required</a>"##), "{summary}");
        assert!(summary.contains(r##"<a href="#redirect_urls">REDIRECT_URLS[0]: bad</a>"##), "{summary}");
        let field = text_field("name", required("Name"), "", "text", html! {}, Some(&e)).into_string();
        assert!(field.contains(r#"aria-describedby="name-error""#), "{field}");
        assert!(field.contains(r#"aria-invalid="true""#) && field.contains(r#"aria-required="true""#), "{field}");
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
