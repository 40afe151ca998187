//! `/admin/registrations`: the seed's App Registrations overview, the add/edit form with
//! Validate IQA, delete, and regenerating a registration's credentials.

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use gatehouse::query::{QueryKind, QueryPath, SavedQuery, kind_name};
use gatehouse::registration::{ClientId, GrantType, IdTokenHmacKey, Registration, RegistrationDraft, RoleFormat};
use gatehouse::validation::Invalid;
use gatehouse::web::error::PageError;
use gatehouse::web::request::Params;
use gatehouse::web::response::see_other;
use gatehouse::web::{Response, SharedState, StatusCode};
use maud::html;

use super::{
    Confirm, CsrfForm, Ctx, FormError, NoFields, RawForm, Section, admin_page, confirm_page, count_text, delete_link,
    edit_link, list_href, pager, search_form,
};
use crate::service::AdminError;
use crate::service::queries as query_service;
use crate::service::registrations::{self as service, Credential};
use crate::service::short_list::page_of;

mod form;

use form::{RegistrationView, render_form};

use crate::service::registrations::RegistrationDetails;

/// The optional grant types: the form's value and the seed's label.
pub(super) const GRANTS: &[(GrantType, &str, &str)] = &[
    (GrantType::Implicit, "implicit", "Implicit"),
    (GrantType::PasswordConfidential, "password_confidential", "ROPC (Confidential)"),
    (GrantType::PasswordPublic, "password_public", "ROPC (Public)"),
];

fn grant_label(grant: GrantType) -> &'static str {
    match grant {
        GrantType::AuthorizationCode => "Authorization Code",
        other => GRANTS.iter().find(|(g, _, _)| *g == other).map_or("", |(_, _, label)| label),
    }
}

const DELETE_WARNING: &str = "Deleting an app registration will cause the third party SSO to immediately stop working.";
pub(super) const REGENERATE_WARNING: &str = "Regenerating the Client Secret or JWT Signing Key can cause third party integrations to stop working. Always share the new Client Secret and JWT Signing Key with the third party if the values are regenerated. When HS512 ID tokens are signed with the Client Secret, regenerating it changes the key that verifies ID tokens too.";

/// The HS512 key choices: the form's value and label.
pub(super) const HMAC_KEYS: &[(IdTokenHmacKey, &str, &str)] = &[
    (IdTokenHmacKey::ClientSecret, "client_secret", "Client Secret (OIDC Core §10.1)"),
    (IdTokenHmacKey::JwtSigningKey, "jwt_signing_key", "Separate JWT Signing Key"),
];

/// The form's fields as typed, kept when the form is shown again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct RegistrationForm {
    pub name: String,
    pub redirect_urls: String,
    pub post_logout_redirect_urls: String,
    pub backchannel_logout_url: String,
    pub profile_query: String,
    pub id_token_fields: String,
    pub role_query: String,
    pub role_format: String,
    pub no_access_mapping: String,
    pub grant_types: Vec<String>,
    pub id_token_hmac_key: String,
    /// The revision the edit form was opened at (none on the add form).
    pub revision: Option<u64>,
}

impl RegistrationForm {
    fn new_defaults() -> Self {
        // New apps get what standard libraries verify unchanged; the API keeps the seed's default.
        Self { role_format: "array".into(), id_token_hmac_key: "client_secret".into(), ..Self::default() }
    }

    fn from_params(p: &Params) -> Self {
        Self {
            name: p.text("name").to_owned(),
            redirect_urls: p.text("redirect_urls").to_owned(),
            post_logout_redirect_urls: p.text("post_logout_redirect_urls").to_owned(),
            backchannel_logout_url: p.text("backchannel_logout_url").to_owned(),
            profile_query: p.text("profile_query").to_owned(),
            id_token_fields: p.text("id_token_fields").to_owned(),
            role_query: p.text("role_query").to_owned(),
            role_format: p.text("role_format").to_owned(),
            no_access_mapping: p.text("no_access_mapping").to_owned(),
            grant_types: p.all("grant_types").map(str::to_owned).collect(),
            id_token_hmac_key: p.text("id_token_hmac_key").to_owned(),
            revision: p.text("revision").parse().ok(),
        }
    }

    fn from_registration(r: &Registration) -> Self {
        let s = &r.settings;
        Self {
            name: s.name.clone(),
            redirect_urls: s.redirect_urls.iter().map(|u| u.as_str()).collect::<Vec<_>>().join("\n"),
            post_logout_redirect_urls: s
                .post_logout_redirect_urls
                .iter()
                .map(|u| u.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            backchannel_logout_url: s
                .backchannel_logout_url
                .as_ref()
                .map(|u| u.as_str().to_owned())
                .unwrap_or_default(),
            profile_query: s.profile_query.to_string(),
            id_token_fields: s.id_token_fields.join(","),
            role_query: s.role_query.to_string(),
            role_format: match s.role_format {
                RoleFormat::Array => "array",
                RoleFormat::Csv => "csv",
            }
            .into(),
            no_access_mapping: s.no_access_mapping.to_text(),
            grant_types: GRANTS
                .iter()
                .filter(|(g, _, _)| s.allows(*g))
                .map(|(_, value, _)| (*value).to_owned())
                .collect(),
            id_token_hmac_key: HMAC_KEYS
                .iter()
                .find(|(k, _, _)| *k == s.id_token_hmac_key)
                .map_or("", |(_, value, _)| value)
                .to_owned(),
            revision: Some(r.revision),
        }
    }

    pub fn has_grant(&self, value: &str) -> bool {
        self.grant_types.iter().any(|g| g == value)
    }

    /// The draft the service validates. Every line of the redirect URLs is one element, so an
    /// error's index is the line (blank lines are skipped by the validation).
    fn draft(&self) -> Result<RegistrationDraft, Invalid> {
        let role_format = match self.role_format.as_str() {
            "" => None,
            "array" => Some(RoleFormat::Array),
            "csv" => Some(RoleFormat::Csv),
            other => return Err(Invalid::new("role_format", format!("`{other}` is not a role field format"))),
        };
        let mut grant_types = Vec::new();
        for value in &self.grant_types {
            match GRANTS.iter().find(|(_, v, _)| v == value) {
                Some((grant, _, _)) => grant_types.push(*grant),
                None => return Err(Invalid::new("grant_types", format!("`{value}` is not a grant type"))),
            }
        }
        let id_token_hmac_key = match self.id_token_hmac_key.as_str() {
            "" => None,
            value => match HMAC_KEYS.iter().find(|(_, v, _)| *v == value) {
                Some((key, _, _)) => Some(*key),
                None => return Err(Invalid::new("id_token_hmac_key", format!("`{value}` is not an HS512 key choice"))),
            },
        };
        Ok(RegistrationDraft {
            name: self.name.clone(),
            redirect_urls: self.redirect_urls.lines().map(str::to_owned).collect(),
            post_logout_redirect_urls: self.post_logout_redirect_urls.lines().map(str::to_owned).collect(),
            backchannel_logout_url: Some(self.backchannel_logout_url.clone()),
            profile_query: self.profile_query.clone(),
            id_token_fields: vec![self.id_token_fields.clone()],
            role_query: self.role_query.clone(),
            role_format,
            no_access_mapping: self.no_access_mapping.clone(),
            grant_types,
            id_token_hmac_key,
            revision: self.revision,
        })
    }
}

/// A form field's label, for error messages.
pub(super) fn label(field: &str) -> String {
    if let Some(index) = field.strip_prefix("redirect_urls[").and_then(|r| r.strip_suffix(']')) {
        let line = index.parse::<usize>().map_or(0, |i| i + 1);
        return format!("Redirect URL(s), line {line}");
    }
    if let Some(index) = field.strip_prefix("post_logout_redirect_urls[").and_then(|r| r.strip_suffix(']')) {
        let line = index.parse::<usize>().map_or(0, |i| i + 1);
        return format!("Post-Logout Return URL(s), line {line}");
    }
    match field {
        "name" => "App / Integration Name",
        "redirect_urls" => "Redirect URL(s)",
        "post_logout_redirect_urls" => "Post-Logout Return URL(s)",
        "backchannel_logout_url" => "Back-Channel Logout URL",
        "profile_query" => "Profile query",
        "id_token_fields" => "ID Token Additional Profile Fields",
        "role_query" => "Role query",
        "role_format" => "Role Field Format",
        "no_access_mapping" => "No Access Mapping",
        "grant_types" => "Allowed Grant Types",
        "id_token_hmac_key" => "HS512 ID Token Key",
        other => other,
    }
    .to_owned()
}

/// What the Validate IQA button found for one of the two query fields.
pub(super) struct QueryCheck {
    pub kind: QueryKind,
    pub outcome: Result<SavedQuery, String>,
}

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/admin/registrations", get(list))
        .route("/admin/registrations/new", get(new_form).post(create))
        .route("/admin/registrations/{id}", get(edit_form).post(update))
        .route("/admin/registrations/{id}/delete", get(confirm_delete).post(delete))
        .route("/admin/registrations/{id}/regenerate-secret", get(confirm_secret).post(regenerate_secret))
        .route(
            "/admin/registrations/{id}/regenerate-signing-key",
            get(confirm_signing_key).post(regenerate_signing_key),
        )
}

async fn new_form(ctx: Ctx) -> Result<Response, PageError> {
    let form = RegistrationForm::new_defaults();
    show(&ctx, StatusCode::OK, &form, None, None, None).await
}

async fn create(ctx: Ctx, RawForm(params): RawForm) -> Result<Response, PageError> {
    submit(&ctx, &params, None).await
}

async fn edit_form(ctx: Ctx, Path(id): Path<String>) -> Result<Response, PageError> {
    let details = service::get(&ctx.state, client_id(&id)?).await?;
    let form = RegistrationForm::from_registration(&details.registration);
    show(&ctx, StatusCode::OK, &form, Some(&details), None, None).await
}

async fn update(ctx: Ctx, Path(id): Path<String>, RawForm(params): RawForm) -> Result<Response, PageError> {
    submit(&ctx, &params, Some(client_id(&id)?)).await
}

async fn delete(ctx: Ctx, Path(id): Path<String>, _: CsrfForm<NoFields>) -> Result<Response, PageError> {
    service::delete(&ctx.state, client_id(&id)?).await?;
    Ok(see_other("/admin/registrations?done=registration-deleted"))
}

async fn confirm_secret(ctx: Ctx, Path(id): Path<String>) -> Result<Response, PageError> {
    confirm_regenerate(&ctx, client_id(&id)?, Credential::ClientSecret).await
}

async fn confirm_signing_key(ctx: Ctx, Path(id): Path<String>) -> Result<Response, PageError> {
    confirm_regenerate(&ctx, client_id(&id)?, Credential::JwtSigningKey).await
}

async fn regenerate_secret(ctx: Ctx, Path(id): Path<String>, _: CsrfForm<NoFields>) -> Result<Response, PageError> {
    regenerate(&ctx, client_id(&id)?, Credential::ClientSecret).await
}

async fn regenerate_signing_key(
    ctx: Ctx,
    Path(id): Path<String>,
    _: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    regenerate(&ctx, client_id(&id)?, Credential::JwtSigningKey).await
}

async fn regenerate(ctx: &Ctx, id: ClientId, which: Credential) -> Result<Response, PageError> {
    service::regenerate(&ctx.state, id, which, ctx.now).await?;
    let done = match which {
        Credential::ClientSecret => "secret-regenerated",
        Credential::JwtSigningKey => "signing-key-regenerated",
    };
    Ok(see_other(&format!("/admin/registrations/{id}?done={done}")))
}

fn client_id(segment: &str) -> Result<ClientId, PageError> {
    ClientId::parse(segment).ok_or_else(|| PageError::from(AdminError::NotFound("registration")))
}

/// Registrations shown on one page of the list.
const PER_PAGE: usize = 50;

async fn list(ctx: Ctx) -> Result<Response, PageError> {
    let ctx = &ctx;
    let search = ctx.query().text("search").trim().to_lowercase();
    let after = ctx.query().non_empty("after").map(str::to_owned);
    // The list shows no secrets: none is read (each would be a Secrets Manager call).
    let all = service::registrations(&ctx.state).await?;
    let total = all.len();
    // A few dozen registrations at most: filtered here, by name, Client ID or redirect URL.
    let matching: Vec<_> = all
        .into_iter()
        .filter(|r| {
            search.is_empty()
                || r.settings.name.to_lowercase().contains(&search)
                || r.client_id.to_string().contains(&search)
                || r.settings.redirect_urls.iter().any(|u| u.as_str().to_lowercase().contains(&search))
        })
        .collect();
    let shown = matching.len();
    let page = page_of(matching, service::list_key, after.as_deref(), PER_PAGE);
    let registrations = &page.items;
    let body = html! {
        div.actions {
            h1 { "App registrations" }
            a.button href="/admin/registrations/new" { "Add App Registration" }
        }
        p.hint { "Each app registration stores information about, and allows, the corresponding third party system to connect with the SSO." }
        @if total == 0 {
            div.card { p { "There are no app registrations yet. Select " strong { "Add App Registration" } " to connect a third party system." } }
        } @else {
            (search_form("/admin/registrations", &search, "Name, Client ID or redirect URL"))
            p role="status" { (count_text(shown, total, ("app registration", "app registrations"), !search.is_empty())) }
            div.table-scroll {
                table.stack {
                    thead { tr { th { "Name" } th { "Client ID" } th { "Redirect URLs" } th { "Grant types" } th { span.hint { "Actions" } } } }
                    tbody {
                        @for r in registrations {
                            @let name = &r.settings.name;
                            tr {
                                td data-label="Name" { a href=(format!("/admin/registrations/{}", r.client_id)) { (name) } }
                                td data-label="Client ID" { span.mono.nowrap { (r.client_id) } }
                                td data-label="Redirect URLs" { @for url in &r.settings.redirect_urls { span.mono { (url.as_str()) } br; } }
                                td data-label="Grant types" { (r.settings.grant_types.iter().map(|g| grant_label(*g)).collect::<Vec<_>>().join(", ")) }
                                td.icons {
                                    (edit_link(&format!("/admin/registrations/{}", r.client_id), name)) " "
                                    (delete_link(&format!("/admin/registrations/{}/delete", r.client_id), name))
                                }
                            }
                        }
                    }
                }
            }
        }
        (pager(
            "Pages of app registrations",
            after.is_some().then(|| list_href("/admin/registrations", &search, None)).as_deref(),
            page.next.as_deref().map(|next| list_href("/admin/registrations", &search, Some(next))).as_deref(),
        ))
    };
    Ok(admin_page(ctx, StatusCode::OK, Section::Registrations, "App registrations", body))
}

/// Whether the JWT signing key is unused because an asymmetric algorithm signs ID tokens.
async fn signing_key_hidden(ctx: &Ctx) -> Result<bool, PageError> {
    Ok(gatehouse::services::signing::signing_config(&ctx.state.stores).await?.algorithm.is_asymmetric())
}

async fn show(
    ctx: &Ctx,
    status: StatusCode,
    form: &RegistrationForm,
    details: Option<&RegistrationDetails>,
    error: Option<&FormError>,
    check: Option<&QueryCheck>,
) -> Result<Response, PageError> {
    let hide_signing_key = signing_key_hidden(ctx).await?;
    let queries = query_service::list(&ctx.state).await?;
    let (title, action) = match details {
        Some(d) => (
            format!("Edit {}", d.registration.settings.name),
            format!("/admin/registrations/{}", d.registration.client_id),
        ),
        None => ("Add App Registration".to_owned(), "/admin/registrations/new".to_owned()),
    };
    let view = RegistrationView { form, action: &action, queries: &queries, details, error, check };
    let body = render_form(ctx, &view, hide_signing_key);
    Ok(admin_page(ctx, status, Section::Registrations, &title, body))
}

/// Saves the form, or with `validate=profile|role` only checks that query and shows the form again.
async fn submit(ctx: &Ctx, params: &Params, id: Option<ClientId>) -> Result<Response, PageError> {
    let form = RegistrationForm::from_params(params);
    let details = match id {
        Some(id) => Some(service::get(&ctx.state, id).await?),
        None => None,
    };
    let details = details.as_ref();
    if let Some(which) = params.get("validate") {
        let check = check_query(ctx, which, &form).await?;
        let status = if check.outcome.is_ok() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
        return show(ctx, status, &form, details, None, Some(&check)).await;
    }
    // Every problem the form has, at once; then the service's own checks (the queries exist).
    let draft = form.draft().map_err(|invalid| vec![invalid]).and_then(|draft| draft.validate_all().map(|_| draft));
    let draft = match draft {
        Ok(draft) => draft,
        Err(problems) => {
            let error = FormError::all(problems);
            return show(ctx, error.status, &form, details, Some(&error), None).await;
        }
    };
    let saved = match id {
        None => service::create(&ctx.state, &draft, ctx.now).await,
        Some(id) => service::update(&ctx.state, id, &draft, ctx.now).await,
    };
    match saved {
        Ok(saved) if id.is_none() => {
            Ok(see_other(&format!("/admin/registrations/{}?done=registration-created", saved.registration.client_id)))
        }
        Ok(_) => Ok(see_other("/admin/registrations?done=registration-saved")),
        Err(AdminError::Stale { current, differs, .. }) => {
            // What was typed stays, now over the stored revision: saving again keeps it.
            let form = RegistrationForm { revision: Some(current), ..form };
            let error = FormError::changed_since_opened("registration", &differs, label);
            show(ctx, error.status, &form, details, Some(&error), None).await
        }
        Err(e) => {
            let error = FormError::from_admin(e)?;
            show(ctx, error.status, &form, details, Some(&error), None).await
        }
    }
}

/// The seed's Validate IQA: the query must exist and be of the field's kind; then its
/// parameter and columns are shown.
async fn check_query(ctx: &Ctx, which: &str, form: &RegistrationForm) -> Result<QueryCheck, PageError> {
    let (kind, field, text) = match which {
        "profile" => (QueryKind::Profile, "profile_query", &form.profile_query),
        "role" => (QueryKind::Role, "role_query", &form.role_query),
        _ => return Err(PageError::bad_request("Validate which query? The form is incomplete.")),
    };
    let path = match QueryPath::parse(field, text) {
        Ok(path) => path,
        Err(invalid) => return Ok(QueryCheck { kind, outcome: Err(invalid.message) }),
    };
    let outcome = match query_service::get(&ctx.state, &path).await {
        Ok(query) if query.kind == kind => Ok(query),
        Ok(query) => Err(format!("{path} is a {} query, not a {} query.", kind_name(query.kind), kind_name(kind))),
        Err(AdminError::NotFound(_)) => Err(format!("Query {path} does not exist: create it under Queries first.")),
        Err(other) => return Err(other.into()),
    };
    Ok(QueryCheck { kind, outcome })
}

async fn confirm_delete(ctx: Ctx, Path(id): Path<String>) -> Result<Response, PageError> {
    let (ctx, id) = (&ctx, client_id(&id)?);
    let details = service::get(&ctx.state, id).await?;
    let name = &details.registration.settings.name;
    let action = format!("/admin/registrations/{id}/delete");
    let message = html! {
        p { "Delete the app registration " strong { (name) } " (Client ID " span.mono { (id) } ")?" }
        div.warning role="alert" { strong { "Warning! " } (DELETE_WARNING) }
    };
    let confirm = Confirm {
        section: Section::Registrations,
        title: "Delete App Registration",
        message,
        action: &action,
        button: "Delete",
        cancel: "/admin/registrations",
        error: None,
    };
    Ok(confirm_page(ctx, StatusCode::OK, confirm))
}

async fn confirm_regenerate(ctx: &Ctx, id: ClientId, which: Credential) -> Result<Response, PageError> {
    let details = service::get(&ctx.state, id).await?;
    let (what, action) = match which {
        Credential::ClientSecret => ("Client Secret", "regenerate-secret"),
        Credential::JwtSigningKey => ("JWT Signing Key", "regenerate-signing-key"),
    };
    let title = format!("Regenerate {what}");
    let action = format!("/admin/registrations/{id}/{action}");
    let cancel = format!("/admin/registrations/{id}");
    let message = html! {
        p { "Regenerate the " (what) " of " strong { (details.registration.settings.name) } "? The current value stops working at once." }
        div.warning role="alert" { strong { "Warning! " } (REGENERATE_WARNING) }
    };
    let confirm = Confirm {
        section: Section::Registrations,
        title: &title,
        message,
        action: &action,
        button: "Regenerate",
        cancel: &cancel,
        error: None,
    };
    Ok(confirm_page(ctx, StatusCode::OK, confirm))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::parse(
            &pairs.iter().map(|(k, v)| format!("{k}={}", super::super::encode(v))).collect::<Vec<_>>().join("&"),
        )
    }

    #[test]
    fn the_form_becomes_a_draft() {
        let form = RegistrationForm::from_params(&params(&[
            ("name", "Example App Solutions"),
            ("redirect_urls", "https://a.example/cb\r\n\r\nhttps://b.example/cb"),
            ("profile_query", "$/SSO/ProfileData"),
            ("id_token_fields", "first_name, email"),
            ("role_query", "$/SSO/RoleData"),
            ("role_format", "csv"),
            ("no_access_mapping", "S"),
            ("grant_types", "implicit"),
            ("grant_types", "password_public"),
        ]));
        let draft = form.draft().unwrap();
        assert_eq!(draft.redirect_urls, ["https://a.example/cb", "", "https://b.example/cb"]);
        assert_eq!(draft.id_token_fields, ["first_name, email"]);
        assert_eq!(draft.role_format, Some(RoleFormat::Csv));
        assert_eq!(draft.grant_types, [GrantType::Implicit, GrantType::PasswordPublic]);
        assert_eq!(draft.id_token_hmac_key, None, "a form without the choice keeps the API default");
        let settings = draft.validate().unwrap();
        assert_eq!(settings.redirect_urls.len(), 2);
        let now = time::OffsetDateTime::UNIX_EPOCH;
        let stored = Registration {
            client_id: ClientId::new_random(),
            settings: settings.clone(),
            created_at: now,
            updated_at: now,
            revision: 7,
        };
        let again = RegistrationForm::from_registration(&stored).draft().unwrap();
        assert_eq!(again.revision, Some(7), "the edit form carries the revision it was opened at");
        assert_eq!(again.validate().unwrap(), settings);
    }

    #[test]
    fn bad_choices_name_their_field() {
        let form = RegistrationForm { role_format: "xml".into(), ..RegistrationForm::default() };
        assert_eq!(form.draft().unwrap_err().field, "role_format");
        let form =
            RegistrationForm { grant_types: vec!["client_credentials".into()], ..RegistrationForm::new_defaults() };
        assert_eq!(form.draft().unwrap_err().field, "grant_types");
    }

    #[test]
    fn new_registrations_default_to_the_client_secret_and_the_choice_round_trips() {
        assert_eq!(
            RegistrationForm::new_defaults().draft().unwrap().id_token_hmac_key,
            Some(IdTokenHmacKey::ClientSecret)
        );
        for (key, value, _) in HMAC_KEYS {
            let form = RegistrationForm { id_token_hmac_key: (*value).into(), ..RegistrationForm::new_defaults() };
            assert_eq!(form.draft().unwrap().id_token_hmac_key, Some(*key));
        }
        let form = RegistrationForm { id_token_hmac_key: "password".into(), ..RegistrationForm::new_defaults() };
        assert_eq!(form.draft().unwrap_err().field, "id_token_hmac_key");
    }

    #[test]
    fn every_problem_of_the_empty_form_shows_at_once() {
        let problems = RegistrationForm::new_defaults().draft().unwrap().validate_all().unwrap_err();
        let fields: Vec<_> = problems.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(fields, ["name", "redirect_urls", "profile_query", "role_query"]);
    }

    #[test]
    fn redirect_url_errors_name_the_line() {
        assert_eq!(label("redirect_urls[1]"), "Redirect URL(s), line 2");
        assert_eq!(label("profile_query"), "Profile query");
    }
}
