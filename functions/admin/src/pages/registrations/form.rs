//! The add/edit form of an app registration, with the seed's labels, hints and warnings,
//! and on the edit page the registration's credentials.

use gatehouse::query::{PARAMETER, QueryKind, SavedQuery, kind_name};
use gatehouse::registration::{IdTokenHmacKey, RESERVED_CLAIMS};
use gatehouse::services::issue::ACCESS_RESTRICTION_COLUMN;
use maud::{Markup, html};

use super::{GRANTS, HMAC_KEYS, QueryCheck, REGENERATE_WARNING, RegistrationForm, label};
use crate::pages::{
    Ctx, FormError, copy_field, csrf_input, encode, error_summary, field_error, readonly_field, required,
    required_label, revision_input, text_field, textarea_field,
};
use crate::service::registrations::RegistrationDetails;

pub struct RegistrationView<'a> {
    pub form: &'a RegistrationForm,
    /// Where the form posts.
    pub action: &'a str,
    /// The saved queries, to pick the profile and role queries from.
    pub queries: &'a [SavedQuery],
    /// The stored registration, on the edit page.
    pub details: Option<&'a RegistrationDetails>,
    pub error: Option<&'a FormError>,
    pub check: Option<&'a QueryCheck>,
}

pub fn render_form(ctx: &Ctx, view: &RegistrationView<'_>, hide_signing_key: bool) -> Markup {
    let f = view.form;
    let e = view.error;
    let title = match view.details {
        Some(d) => format!("Edit {}", d.registration.settings.name),
        None => "Add App Registration".to_owned(),
    };
    let action = view.action;
    let app = if f.name.trim().is_empty() { "[App Name]" } else { f.name.trim() };
    let org = &ctx.state.config.org_name;
    html! {
        p { a href="/admin/registrations" { "← App registrations" } }
        h1 { (title) }
        @if let Some(d) = view.details { (credentials(ctx, d, hide_signing_key)) }
        (error_summary(e, label))
        form method="post" action=(action) {
            (csrf_input(ctx))
            (revision_input(view.form.revision))
            // Enter in a text field submits with the first submit button: make that Save, not Validate.
            // (An input, not a button: the layout styles buttons `display: inline-block`, which beats `hidden`.)
            input type="submit" value="Save" hidden tabindex="-1" aria-hidden="true";
            div.card {
                (text_field("name", required("App / Integration Name"), &f.name, "text", html! {
                    p.hint { "The name members see when signing in and giving consent. Example: Example App Solutions" }
                    details.hint {
                        summary { "Where members see it" }
                        p { "On the sign-in page: " em { "Sign in to continue to: " (app) } }
                        p { "On the consent page: " em { "Allow " (app) " to access the following information from your account at " (org) "?" } }
                    }
                }, e))
                (textarea_field("redirect_urls", required("Redirect URL(s)"), &f.redirect_urls, 3, html! {
                    p.hint { "One per line, as the third party gives them. Example: https://thirdparty.example.org/sso/callback" }
                }, e))
                (textarea_field("post_logout_redirect_urls", "Post-Logout Return URL(s)", &f.post_logout_redirect_urls, 2, html! {
                    p.hint { "Optional, one per line. Example: https://thirdparty.example.org/signed-out" }
                    details.hint {
                        summary { "More about return URLs" }
                        p { "Where the app may send members back after signing them out of Gatehouse (RP-Initiated Logout). Matched exactly, like redirect URLs." }
                    }
                }, e))
                (text_field("backchannel_logout_url", "Back-Channel Logout URL", &f.backchannel_logout_url, "url", html! {
                    p.hint { "Optional. Example: https://thirdparty.example.org/sso/backchannel-logout" }
                    details.hint {
                        summary { "More about back-channel logout" }
                        p { "When a member's Gatehouse session ends, Gatehouse POSTs a signed logout token here (OpenID Back-Channel Logout 1.0) so the app can end its own session." }
                    }
                }, e))
                (query_field("profile_query", "Profile query", &f.profile_query, QueryKind::Profile, view, html! {
                    p.hint { "The saved query whose columns are the member's profile." }
                    details.hint {
                        summary { "More about the profile query" }
                        p { "The query takes one parameter, the username of the member signing in, and returns one row: that member's profile fields. Validate previews its parameter and columns." }
                    }
                }))
                (text_field("id_token_fields", "ID Token Additional Profile Fields", &f.id_token_fields, "text", html! {
                    p.hint { "Optional, comma-separated column names of the profile query. Example: first_name,last_name,email" }
                    details.hint {
                        summary { "More about ID token fields" }
                        p { "These columns are also put in the ID Token itself (they are always available from the UserInfo endpoint). Column names that the profile query does not return, and reserved names, are ignored. Leave blank to add none." }
                        p { "Reserved and disallowed field names:" }
                        p.mono { (RESERVED_CLAIMS.join(", ")) }
                    }
                    @if let Some(d) = view.details.filter(|d| !d.ignored_id_token_fields.is_empty()) {
                        div.warning {
                            p { strong { "These saved fields are ignored:" } }
                            ul { @for field in &d.ignored_id_token_fields { li { (field.reason) } } }
                        }
                    }
                }, e))
                (query_field("role_query", "Role query", &f.role_query, QueryKind::Role, view, html! {
                    p.hint { "The saved query whose one column lists the member's roles." }
                    details.hint {
                        summary { "More about the role query" }
                        p { "The query takes one parameter, the username of the member signing in, and returns one column: each row is one of the member's roles." }
                    }
                }))
                div #role_format role="radiogroup" aria-labelledby="role_format-label" aria-describedby="role_format-hint" {
                    (required_label(html! { label id="role_format-label" { "Role Field Format" } }))
                    p.hint id="role_format-hint" { "How the app expects the roles: ask the third party." }
                    label.check {
                        input type="radio" name="role_format" value="array" checked[f.role_format == "array"];
                        "Separate Values (Array)"
                        span.hint.mono { r#""roles": ["Administrator", "Staff", "BoardOfDirectors", "Volunteer"]"# }
                    }
                    label.check {
                        input type="radio" name="role_format" value="csv" checked[f.role_format == "csv"];
                        "Comma-separated String"
                        span.hint.mono { r#""roles": "Administrator,Staff,BoardOfDirectors,Volunteer""# }
                    }
                    (field_error(e, "role_format"))
                }
                (readonly_field("role_field_name", "Role Field Name", "roles", html! {
                    p.hint { "The name of the role field, roles is always the same and cannot be changed." }
                }))
            }
            div.card {
                h2 { "Advanced Options" }
                (textarea_field("no_access_mapping", "No Access Mapping", &f.no_access_mapping, 4, no_access_hints(), e))
                div #grant_types role="group" aria-labelledby="grant_types-label" {
                    label id="grant_types-label" { "Allowed Grant Types" }
                    p.hint { "Optionally enable additional grant types for this client application here." }
                    div.warning { strong { "Warning! " } "Certain grant types, such as ROPC and Implicit, have weaker security than other grant types (such as Authorization Code). Only enable these grant types if the third party specifically requires them to be on." }
                    label.check {
                        input type="checkbox" checked disabled;
                        "Authorization Code" span.hint { "(Enabled by default, cannot be disabled)" }
                    }
                    @for (_, value, name) in GRANTS {
                        label.check {
                            input type="checkbox" name="grant_types" value=(value) checked[f.has_grant(value)];
                            (name)
                        }
                    }
                    (field_error(e, "grant_types"))
                }
                div #id_token_hmac_key role="radiogroup" aria-labelledby="id_token_hmac_key-label" aria-describedby="id_token_hmac_key-hint" {
                    label id="id_token_hmac_key-label" { "HS512 ID Token Key" }
                    p.hint id="id_token_hmac_key-hint" { "The key of HS512 ID tokens: pick the Client Secret for apps using a standard OpenID Connect library (OIDC Core §10.1), the separate JWT Signing Key only for apps already set up with it or using Implicit or ROPC (Public). Unused while ID tokens are signed with Gatehouse's own keys (ES256, EdDSA, RS256 or RS512)." }
                    @for (_, value, name) in HMAC_KEYS {
                        label.check {
                            input type="radio" name="id_token_hmac_key" value=(value) checked[f.id_token_hmac_key == *value];
                            (name)
                        }
                    }
                    (field_error(e, "id_token_hmac_key"))
                }
            }
            div.actions {
                button type="submit" { @if view.details.is_some() { "Save" } @else { "Add App Registration" } }
                a href="/admin/registrations" { "Cancel" }
            }
        }
    }
}

/// A saved query of `kind` picked from a list (with a link to create one), its Validate button,
/// and what the button found when it was pressed (shown next to the field).
fn query_field(
    name: &str,
    label: &str,
    value: &str,
    kind: QueryKind,
    view: &RegistrationView<'_>,
    hints: Markup,
) -> Markup {
    let e = view.error;
    let invalid = e.is_some_and(|e| e.is_for(name));
    let choices: Vec<&str> = view.queries.iter().filter(|q| q.kind == kind).map(|q| q.path.as_str()).collect();
    // A value that is not a saved query of this kind (one since deleted) stays selectable, so nothing is lost.
    let unknown = !value.is_empty() && !choices.contains(&value);
    html! {
        (required_label(html! { label for=(name) { (label) } }))
        div.field-row {
            select id=(name) name=(name) aria-invalid=[invalid.then_some("true")] aria-required="true"
                aria-describedby=[invalid.then(|| format!("{name}-error"))] {
                option value="" selected[value.is_empty()] { "Choose a " (kind_name(kind)) " query…" }
                @for path in &choices {
                    option value=(path) selected[*path == value] { (path) }
                }
                @if unknown { option value=(value) selected { (value) " (not a saved " (kind_name(kind)) " query)" } }
            }
            button.secondary type="submit" name="validate" value=(kind_name(kind)) formaction=(format!("{}#{name}", view.action)) {
                "Validate" span.visually-hidden { " " (label) }
            }
        }
        (field_error(e, name))
        @if let Some(check) = view.check.filter(|c| c.kind == kind) { (check_result(check, view.form)) }
        @if choices.is_empty() {
            p.hint { "There is no saved " (kind_name(kind)) " query yet: " a href="/admin/queries/new" { "create one under Queries" } ", then come back." }
        } @else {
            p.hint { a href="/admin/queries/new" { "Create a new query" } " (opens the Queries page)." }
        }
        (hints)
    }
}

fn check_result(check: &QueryCheck, form: &RegistrationForm) -> Markup {
    match &check.outcome {
        Ok(query) => html! {
            div.flash role="status" {
                strong { "Validated " span.mono { (query.path) } ": a " (kind_name(query.kind)) " query." }
                dl.fields {
                    dt { "Parameters" }
                    dd { span.mono { (PARAMETER) } " (required): the username of the user signing in" }
                    dt { @if query.kind == QueryKind::Role { "Column (its rows are the user's roles)" } @else { "Columns (profile fields)" } }
                    dd {
                        ul {
                            @for column in &query.columns {
                                li { span.mono { (column.alias) } " from " span.mono { (column.source.name()) } }
                            }
                        }
                    }
                }
                @if query.kind == QueryKind::Profile
                    && !form.no_access_mapping.trim().is_empty()
                    && !query.columns.iter().any(|c| c.alias == ACCESS_RESTRICTION_COLUMN)
                {
                    p { "This query returns no " span.mono { (ACCESS_RESTRICTION_COLUMN) } " column, so the No Access Mapping has no effect." }
                }
                a href=(format!("/admin/queries/edit?path={}", encode(query.path.as_str()))) { "Open this query" }
            }
        },
        Err(message) => html! {
            div.flash.error role="alert" { strong { "Validate: " } (message) }
        },
    }
}

fn no_access_hints() -> Markup {
    html! {
        p.hint { "Optional. Values of the profile query's " span.mono { (ACCESS_RESTRICTION_COLUMN) } " column that deny access, one per line; " span.mono { "VALUE|https://…" } " sends those members to that page instead." }
        details.hint {
        summary { "More about the No Access Mapping" }
        p { "This field restricts access to this app based on the results of the profile query, which must return a column named " span.mono { (ACCESS_RESTRICTION_COLUMN) } ". If the member's value is listed here, they do not get access to the app." }
        ul {
            li { "Specify the value(s) to deny access for, one entry per line." }
            li { "The value must match what the query returns exactly." }
            li { "To display the built-in (customizable) No Access screen, put the value on a line by itself." }
            li { "To redirect the user to an external site that matches this value, put a pipe character (|) between the value and a fully-qualified URL beginning with https://." }
            li { "Don't include the pipe character if you don't want to redirect the user to a separate URL." }
            li { "Don't include more than one pipe character per line, including in the destination URL (you must URL-encode it)." }
        }
        p { "Each line must be in this format: " span.mono { "CODE_VAL1" } " or " span.mono { "CODE_VAL2|https://example.org/my/custom/redirect-destination?with=optional%20parameters" } "." }
        }
        details.hint {
            summary { "Example" }
            p { "With the profile query returning the contact's status as " span.mono { (ACCESS_RESTRICTION_COLUMN) } " (" span.mono { "status AS AccessRestrictionCode" } "), this mapping:" }
            pre { "S\nX|https://example.org/\nI|https://example.org/reactivate" }
            ul {
                li { "Members with a status of A are allowed to sign into and use this client app." }
                li { "Members with a status of S will see a generic No Access screen." }
                li { "Members with a status of I will be redirected to the /reactivate page on example.org." }
                li { "Members with a status of X will be redirected to the homepage of example.org." }
            }
        }
    }
}

/// The top of the edit page: everything the third party needs, each with Copy (secrets masked
/// with Show), Regenerate beside each secret, and the warning about regenerating.
fn credentials(ctx: &Ctx, d: &RegistrationDetails, hide_signing_key: bool) -> Markup {
    let id = d.registration.client_id;
    let secret = d.secrets.as_ref().map_or("", |s| s.client_secret.expose());
    let key = d.secrets.as_ref().map_or("", |s| s.jwt_signing_key.expose());
    let keyed_by_secret = d.registration.settings.id_token_hmac_key == IdTokenHmacKey::ClientSecret;
    let config = &ctx.state.config;
    let regenerate = |path: &str, what: &str| {
        html! {
            a.button.secondary.danger-text href=(format!("/admin/registrations/{id}/{path}")) aria-label=(format!("Regenerate {what}")) { "Regenerate" }
        }
    };
    html! {
        section.card.credentials aria-labelledby="credentials-heading" {
            h2 #credentials-heading { "Credentials to share with the third party" }
            p.hint { "The app's developers enter these in their OpenID Connect client. Send secrets by a private channel." }
            (copy_field("client_id", "Client ID", &id.to_string(), false, html! {}))
            (copy_field("client_secret", "Client Secret", secret, true, regenerate("regenerate-secret", "Client Secret")))
            @if hide_signing_key {
                p.hint { "No JWT Signing Key to share: ID tokens are signed with an asymmetric algorithm (such as RS256), which apps verify with the public keys of the discovery document." }
            } @else if keyed_by_secret {
                p.hint { "No JWT Signing Key to share: HS512 ID tokens are signed with the Client Secret (HS512 ID Token Key, under Advanced Options)." }
            } @else {
                (copy_field("jwt_signing_key", "JWT Signing Key", key, true, regenerate("regenerate-signing-key", "JWT Signing Key")))
                p.hint { "Verifies the ID tokens' HMAC SHA-512 signatures." }
            }
            (copy_field("issuer", "Issuer", config.issuer_str(), false, html! {}))
            (copy_field("discovery_url", "Discovery URL", &config.url("/.well-known/openid-configuration"), false, html! {}))
            p.hint { "Most OpenID Connect libraries need only the discovery URL (or the issuer), the Client ID and the Client Secret." }
            h3 { "Redirect URLs" }
            ul { @for url in &d.registration.settings.redirect_urls { li.mono { (url.as_str()) } } }
            div.warning role="note" { strong { "Warning! " } (REGENERATE_WARNING) }
        }
    }
}
