//! `/admin/contacts`: the directory of people who sign in, with search, add, edit, set
//! password and delete.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::Path;
use axum::routing::{get, post};
use gatehouse::contact::{Contact, ContactDraft, ContactId};
use gatehouse::contact_search::ContactSearch;
use gatehouse::secret::SecretString;
use gatehouse::validation::Invalid;
use gatehouse::web::error::PageError;
use gatehouse::web::request::Params;
use gatehouse::web::response::see_other;
use gatehouse::web::{Response, SharedState, StatusCode};
use maud::{Markup, html};
use serde::Deserialize;

use super::contact_cards::{self as cards, Card};
use super::{
    Confirm, CsrfForm, Ctx, FormError, NoFields, RawForm, Section, admin_page, confirm_page, csrf_input, delete_link,
    edit_link, error_summary, field_error, lines, list_href, pager, revision_input, search_form, text_field,
    textarea_field,
};
use crate::service::AdminError;
use crate::service::contacts as service;

/// The form's fields as typed. Passwords are never shown again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ContactForm {
    username: String,
    email: String,
    first_name: String,
    last_name: String,
    is_staff: bool,
    is_sysadmin: bool,
    status: String,
    member_type: String,
    roles: String,
    attributes: String,
    external_id: String,
    /// The revision the edit form was opened at (none on the add form).
    revision: Option<u64>,
}

impl ContactForm {
    fn new_defaults() -> Self {
        Self { status: "A".into(), ..Self::default() }
    }

    fn from_params(p: &Params) -> Self {
        Self {
            username: p.text("username").to_owned(),
            email: p.text("email").to_owned(),
            first_name: p.text("first_name").to_owned(),
            last_name: p.text("last_name").to_owned(),
            is_staff: p.has("is_staff"),
            is_sysadmin: p.has("is_sysadmin"),
            status: p.text("status").to_owned(),
            member_type: p.text("member_type").to_owned(),
            roles: p.text("roles").to_owned(),
            attributes: p.text("attributes").to_owned(),
            external_id: p.text("external_id").to_owned(),
            revision: p.text("revision").parse().ok(),
        }
    }

    fn from_contact(c: &Contact) -> Self {
        let p = &c.profile;
        Self {
            username: p.username.clone(),
            email: p.email.clone(),
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
            is_staff: p.is_staff,
            is_sysadmin: p.is_sysadmin,
            status: p.status.clone(),
            member_type: p.member_type.clone(),
            roles: p.roles.join("\n"),
            attributes: p.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("\n"),
            external_id: p.external_id.clone().unwrap_or_default(),
            revision: Some(c.revision),
        }
    }

    fn draft(&self, password: Option<SecretString>) -> Result<ContactDraft, Invalid> {
        Ok(ContactDraft {
            username: self.username.clone(),
            email: self.email.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            is_staff: self.is_staff,
            is_sysadmin: self.is_sysadmin,
            status: Some(self.status.clone()),
            member_type: self.member_type.clone(),
            roles: lines(&self.roles).map(str::to_owned).collect(),
            attributes: parse_attributes(&self.attributes)?,
            external_id: Some(self.external_id.clone()),
            password,
            revision: self.revision,
        })
    }
}

/// `name=value` lines; blank lines are skipped, and errors name the line.
fn parse_attributes(text: &str) -> Result<BTreeMap<String, String>, Invalid> {
    let mut out = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let at = |message: String| Invalid::new("attributes", format!("line {}: {message}", index + 1));
        let Some((name, value)) = line.split_once('=') else {
            return Err(at(format!("`{line}` is not in the form name=value")));
        };
        let name = name.trim();
        if out.insert(name.to_owned(), value.trim().to_owned()).is_some() {
            return Err(at(format!("attribute `{name}` is given twice")));
        }
    }
    Ok(out)
}

fn label(field: &str) -> String {
    match field {
        "username" => "Username",
        "email" => "Email",
        "first_name" => "First name",
        "last_name" => "Last name",
        "is_sysadmin" => "System administrator",
        "status" => "Status",
        "member_type" => "Member type",
        "roles" => "Roles",
        "attributes" => "Attributes",
        "external_id" => "External ID",
        "password" => "Password",
        other => other,
    }
    .to_owned()
}

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/admin/contacts", get(list))
        .route("/admin/contacts/new", get(new_form).post(create))
        .route("/admin/contacts/{id}", get(edit_form).post(update))
        .route("/admin/contacts/{id}/password", post(set_password))
        .route("/admin/contacts/{id}/delete", get(delete_form).post(delete))
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    password: String,
}

/// The contact's page with one card's form refused.
pub fn show_with_card_error(ctx: &Ctx, contact: &Contact, card: Card, error: &FormError) -> Response {
    show(ctx, &ContactForm::from_contact(contact), Some(contact), None, Some((card, error)))
}

async fn new_form(ctx: Ctx) -> Response {
    show(&ctx, &ContactForm::new_defaults(), None, None, None)
}

async fn create(ctx: Ctx, RawForm(params): RawForm) -> Result<Response, PageError> {
    let form = ContactForm::from_params(&params);
    let password = Some(params.text("password")).filter(|p| !p.is_empty()).map(SecretString::new);
    let draft = match form.draft(password) {
        Ok(draft) => draft,
        Err(invalid) => return Ok(show(&ctx, &form, None, Some(&FormError::invalid(invalid)), None)),
    };
    // Every problem of the form at once; the service checks again (and what needs the store).
    if let Err(problems) = draft.validate_all() {
        return Ok(show(&ctx, &form, None, Some(&FormError::all(problems)), None));
    }
    let created = service::create(&ctx.state, &draft, ctx.now).await;
    match created {
        Ok(_) => Ok(see_other("/admin/contacts?done=contact-created")),
        Err(e) => Ok(show(&ctx, &form, None, Some(&FormError::from_admin(e)?), None)),
    }
}

async fn edit_form(ctx: Ctx, Path(id): Path<String>) -> Result<Response, PageError> {
    let contact = service::get(&ctx.state, contact_id(&id)?).await?;
    Ok(show(&ctx, &ContactForm::from_contact(&contact), Some(&contact), None, None))
}

async fn update(ctx: Ctx, Path(id): Path<String>, RawForm(params): RawForm) -> Result<Response, PageError> {
    let contact = service::get(&ctx.state, contact_id(&id)?).await?;
    let form = ContactForm::from_params(&params);
    let draft = match form.draft(None) {
        Ok(draft) => draft,
        Err(invalid) => return Ok(show(&ctx, &form, Some(&contact), Some(&FormError::invalid(invalid)), None)),
    };
    if let Err(problems) = draft.validate_all() {
        return Ok(show(&ctx, &form, Some(&contact), Some(&FormError::all(problems)), None));
    }
    let saved = service::update(&ctx.state, &ctx.user.contact, contact.id, &draft, ctx.now).await;
    match saved {
        Ok(_) => Ok(see_other("/admin/contacts?done=contact-saved")),
        Err(AdminError::Stale { current, differs, .. }) => {
            // What was typed stays, now over the stored revision: saving again keeps it.
            let form = ContactForm { revision: Some(current), ..form };
            let error = FormError::changed_since_opened("contact", &differs, label);
            Ok(show(&ctx, &form, Some(&contact), Some(&error), None))
        }
        Err(e) => Ok(show(&ctx, &form, Some(&contact), Some(&FormError::from_admin(e)?), None)),
    }
}

async fn set_password(
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, PageError> {
    let contact = service::get(&ctx.state, contact_id(&id)?).await?;
    match service::set_password(&ctx.state, contact.id, SecretString::new(form.password), ctx.now).await {
        Ok(_) => Ok(see_other(&format!("/admin/contacts/{}?done=password-set", contact.id))),
        Err(e) => Ok(show_with_card_error(&ctx, &contact, Card::Password, &FormError::from_admin(e)?)),
    }
}

async fn delete_form(ctx: Ctx, Path(id): Path<String>) -> Result<Response, PageError> {
    let contact = service::get(&ctx.state, contact_id(&id)?).await?;
    Ok(confirm_delete(&ctx, StatusCode::OK, &contact, None))
}

async fn delete(ctx: Ctx, Path(id): Path<String>, _: CsrfForm<NoFields>) -> Result<Response, PageError> {
    let contact = service::get(&ctx.state, contact_id(&id)?).await?;
    match service::delete(&ctx.state, &ctx.user.contact, contact.id, ctx.now).await {
        Ok(()) => Ok(see_other("/admin/contacts?done=contact-deleted")),
        Err(AdminError::Conflict(message)) => Ok(confirm_delete(&ctx, StatusCode::CONFLICT, &contact, Some(&message))),
        Err(e) => Err(e.into()),
    }
}

fn contact_id(segment: &str) -> Result<ContactId, PageError> {
    ContactId::parse(segment).ok_or_else(|| PageError::from(AdminError::NotFound("contact")))
}

fn display_name(c: &Contact) -> String {
    format!("{} {}", c.profile.first_name, c.profile.last_name).trim().to_owned()
}

/// The usual status codes in words (any other code is shown as it is).
const STATUS_WORDS: &[(&str, &str)] = &[("A", "Active"), ("S", "Suspended"), ("I", "Inactive"), ("X", "Expired")];

/// "Active (A)", or the code itself when it is not one of the usual ones.
fn status_words(code: &str) -> String {
    match STATUS_WORDS.iter().find(|(c, _)| *c == code) {
        Some((_, word)) => format!("{word} ({code})"),
        None => code.to_owned(),
    }
}

/// Contacts shown on one page of the list.
const PER_PAGE: usize = 50;

async fn list(ctx: Ctx) -> Result<Response, PageError> {
    let ctx = &ctx;
    let query = ctx.query();
    let text = query.text("search");
    let search = ContactSearch::new(text);
    let after = match service::cursor(query.text("after")) {
        Ok(after) => after,
        Err(invalid) => {
            let error = FormError::invalid(invalid);
            let body = html! {
                h1 { "Contacts" }
                div.flash.error role="alert" {
                    "This page of the list cannot be found: its link is mistyped or from another version. "
                    a href=(list_href("/admin/contacts", text, None)) { "Go to the first page" }
                }
            };
            return Ok(admin_page(ctx, error.status, Section::Contacts, "Contacts", body));
        }
    };
    let found = service::page(&ctx.state, &search, after.as_ref(), PER_PAGE).await?;
    let body = html! {
        div.actions {
            h1 { "Contacts" }
            a.button href="/admin/contacts/new" { "Add contact" }
        }
        (search_form("/admin/contacts", text, "The start of a username, last name or email"))
        p role="status" {
            @if search.is_everyone() {
                @if found.contacts.is_empty() && after.is_none() { "There are no contacts yet." }
                @else { "All contacts, by username." }
            } @else if found.contacts.is_empty() && after.is_none() && found.next.is_none() {
                "No contact’s username, last name or email starts with “" (text) "”."
            } @else {
                "Contacts whose username, last name or email starts with “" (text) "”: usernames first."
            }
        }
        @if !found.contacts.is_empty() {
            (table(&found.contacts))
        } @else if after.is_some() || found.next.is_some() {
            div.card { p { "No more matches on this page." } }
        }
        (pager(
            "Pages of contacts",
            after.is_some().then(|| list_href("/admin/contacts", text, None)).as_deref(),
            found.next.as_ref().map(|next| list_href("/admin/contacts", text, Some(&next.encode()))).as_deref(),
        ))
    };
    Ok(admin_page(ctx, StatusCode::OK, Section::Contacts, "Contacts", body))
}

fn table(contacts: &[Contact]) -> Markup {
    html! {
        div.table-scroll {
            table.stack {
                thead { tr { th { "Username" } th { "Name" } th { "Email" } th { "Status" } th { "Member type" } th { "Access" } th { span.hint { "Actions" } } } }
                tbody {
                    @for c in contacts {
                        @let p = &c.profile;
                        tr {
                            td data-label="Username" { a href=(format!("/admin/contacts/{}", c.id)) { (p.username) } }
                            td data-label="Name" { (display_name(c)) }
                            td.breakable data-label="Email" { (p.email) }
                            td data-label="Status" { (status_words(&p.status)) }
                            td data-label="Member type" { (p.member_type) }
                            td data-label="Access" { @if p.is_sysadmin { "System administrator" } @else if p.is_staff { "Staff" } @else { "Member" } }
                            td.icons {
                                (edit_link(&format!("/admin/contacts/{}", c.id), &p.username)) " "
                                (delete_link(&format!("/admin/contacts/{}/delete", c.id), &p.username))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The add or edit page. `error` is about the contact form, `card_error` about one of the cards below it.
fn show(
    ctx: &Ctx,
    f: &ContactForm,
    contact: Option<&Contact>,
    error: Option<&FormError>,
    card_error: Option<(Card, &FormError)>,
) -> Response {
    let card = |which: Card| card_error.filter(|(c, _)| *c == which).map(|(_, e)| e);
    let status = error.or(card_error.map(|(_, e)| e)).map_or(StatusCode::OK, |e| e.status);
    let e = error;
    let (title, action) = match contact {
        Some(c) => (format!("Edit contact {}", c.profile.username), format!("/admin/contacts/{}", c.id)),
        None => ("Add contact".to_owned(), "/admin/contacts/new".to_owned()),
    };
    let body = html! {
        p { a href="/admin/contacts" { "← Contacts" } }
        h1 { (title) }
        (error_summary(e, label))
        form.card method="post" action=(action) {
            (csrf_input(ctx))
            (revision_input(f.revision))
            (text_field("username", "Username", &f.username, "text", html! {}, e))
            (text_field("email", "Email", &f.email, "email", html! {}, e))
            (text_field("first_name", "First name", &f.first_name, "text", html! {}, e))
            (text_field("last_name", "Last name", &f.last_name, "text", html! {}, e))
            label.check { input type="checkbox" name="is_staff" value="1" checked[f.is_staff]; "Staff" }
            label.check { input type="checkbox" name="is_sysadmin" value="1" checked[f.is_sysadmin]; "System administrator" span.hint { "(may use this administration; always staff)" } }
            (field_error(e, "is_sysadmin"))
            (text_field("status", "Status", &f.status, "text", html! {
                p.hint { "A status code such as " (STATUS_WORDS.iter().map(|(code, word)| format!("{code} ({})", word.to_lowercase())).collect::<Vec<_>>().join(", ")) "." }
            }, e))
            (text_field("member_type", "Member type", &f.member_type, "text", html! {}, e))
            (textarea_field("roles", "Roles", &f.roles, 3, html! { p.hint { "One role per line, e.g. Administrator." } }, e))
            (textarea_field("attributes", "Attributes", &f.attributes, 3, html! {
                p.hint { "One " span.mono { "name=value" } " per line, e.g. " span.mono { "company=Example Ltd" } ". Queries read them as " span.mono { "attributes.<name>" } "." }
            }, e))
            (text_field("external_id", "External ID", &f.external_id, "text", html! {}, e))
            @if contact.is_none() {
                (text_field("password", "Password", "", "password", html! {
                    p.hint { "Optional; leave blank for a contact who cannot sign in with a password yet." }
                }, e))
            }
            div.actions {
                button type="submit" { @if contact.is_some() { "Save" } @else { "Add contact" } }
                a href="/admin/contacts" { "Cancel" }
            }
        }
        @if let Some(c) = contact {
            (cards::password_card(ctx, c, card(Card::Password)))
            (cards::identity_card(ctx, c, card(Card::Identity)))
            (cards::mfa_card(c))
            p { a href=(format!("/admin/contacts/{}/sessions", c.id)) { "Active sessions and sign out everywhere" } }
        }
    };
    admin_page(ctx, status, Section::Contacts, &title, body)
}

fn confirm_delete(ctx: &Ctx, status: StatusCode, c: &Contact, error: Option<&str>) -> Response {
    let action = format!("/admin/contacts/{}/delete", c.id);
    let message = html! {
        p { "Delete the contact " strong { (c.profile.username) } @if !display_name(c).is_empty() { " (" (display_name(c)) ")" } "?" }
        div.warning { "They can no longer sign in, and apps stop receiving their profile." }
    };
    let confirm = Confirm {
        section: Section::Contacts,
        title: "Delete contact",
        message,
        action: &action,
        button: "Delete",
        cancel: "/admin/contacts",
        error,
    };
    confirm_page(ctx, status, confirm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_show_in_words() {
        assert_eq!(status_words("S"), "Suspended (S)");
        assert_eq!(status_words("Q"), "Q");
    }

    #[test]
    fn attributes_are_name_value_lines() {
        let map = parse_attributes("company = Example Ltd\n\nurl=https://a.example/?x=1\r\n").unwrap();
        assert_eq!(map.get("company").map(String::as_str), Some("Example Ltd"));
        assert_eq!(map.get("url").map(String::as_str), Some("https://a.example/?x=1"));
        let err = parse_attributes("a=1\nnope").unwrap_err();
        assert_eq!((err.field.as_str(), err.message.starts_with("line 2")), ("attributes", true));
        assert!(parse_attributes("a=1\na=2").unwrap_err().message.contains("twice"));
    }

    #[test]
    fn a_contact_round_trips_through_the_form() {
        let form = ContactForm {
            username: "bsmith".into(),
            roles: "Staff\n\n Volunteer ".into(),
            attributes: "company=Example".into(),
            ..ContactForm::new_defaults()
        };
        let draft = form.draft(None).unwrap();
        assert_eq!(draft.roles, ["Staff", "Volunteer"]);
        let profile = draft.validate().unwrap();
        assert_eq!(profile.status, "A");
        assert_eq!(profile.external_id, None);
    }
}
