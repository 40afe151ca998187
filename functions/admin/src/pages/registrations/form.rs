//! The add/edit form of an app registration, with the seed's labels, hints and warnings,
//! and on the edit page the registration's credentials.

use gatehouse::query::{PARAMETER, QueryKind, kind_name};
use gatehouse::registration::{IdTokenHmacKey, RESERVED_CLAIMS};
use gatehouse::services::issue::ACCESS_RESTRICTION_COLUMN;
use maud::{Markup, html};

use super::{GRANTS, HMAC_KEYS, QueryCheck, REGENERATE_WARNING, RegistrationForm, label};
use crate::pages::{
    Ctx, FormError, csrf_input, encode, error_summary, field_error, readonly_field, text_field, textarea_field,
};
use crate::service::registrations::RegistrationDetails;

pub struct RegistrationView<'a> {
    pub form: &'a RegistrationForm,
    /// The stored registration, on the edit page.
    pub details: Option<&'a RegistrationDetails>,
    pub error: Option<&'a FormError>,
    pub check: Option<&'a QueryCheck>,
}

pub fn render_form(ctx: &Ctx, view: &RegistrationView<'_>, hide_signing_key: bool) -> Markup {
    let f = view.form;
    let e = view.error;
    let (title, action) = match view.details {
        Some(d) => (
            format!("Edit {}", d.registration.settings.name),
            format!("/admin/registrations/{}", d.registration.client_id),
        ),
        None => ("Add App Registration".to_owned(), "/admin/registrations/new".to_owned()),
    };
    let app = if f.name.trim().is_empty() { "[App Name]" } else { f.name.trim() };
    let org = &ctx.state.config.org_name;
    html! {
        p { a href="/admin/registrations" { "← App registrations" } }
        h1 { (title) }
        (error_summary(e, label))
        form method="post" action=(action) {
            (csrf_input(ctx))
            // Enter in a text field submits with the first submit button: make that Save, not Validate IQA.
            // (An input, not a button: the layout styles buttons `display: inline-block`, which beats `hidden`.)
            input type="submit" value="Save" hidden tabindex="-1" aria-hidden="true";
            div.card {
                (text_field("name", "App / Integration Name", &f.name, "text", html! {
                    p.hint { "Example: Example App Solutions" }
                    p.hint { "Enter a name for the integration or third party. This is the name that members will see when signing in / giving consent during the SSO process." }
                    p.hint { "Users will see the following message on the login screen: " em { "Sign in to continue to: " (app) } }
                    p.hint { "Users will see the following message on the consent screen: " em { "Allow " (app) " to access the following information from your account at " (org) "?" } }
                }, e))
                (textarea_field("redirect_urls", "Redirect URL(s)", &f.redirect_urls, 3, html! {
                    p.hint { "Example: https://thirdparty.example.org/sso/callback" }
                    p.hint { "Enter one or more redirect URLs, one per line. These should be provided by the third party." }
                }, e))
                (textarea_field("post_logout_redirect_urls", "Post-Logout Return URL(s)", &f.post_logout_redirect_urls, 2, html! {
                    p.hint { "Example: https://thirdparty.example.org/signed-out" }
                    p.hint { "Optional. Where the app may send members back after signing them out of Gatehouse (RP-Initiated Logout), one per line. Matched exactly, like redirect URLs." }
                }, e))
                (text_field("backchannel_logout_url", "Back-Channel Logout URL", &f.backchannel_logout_url, "url", html! {
                    p.hint { "Example: https://thirdparty.example.org/sso/backchannel-logout" }
                    p.hint { "Optional. When a member's Gatehouse session ends, Gatehouse POSTs a signed logout token here (OpenID Back-Channel Logout 1.0) so the app can end its own session." }
                }, e))
                (query_field("profile_query", "Profile IQA Query Path", &f.profile_query, QueryKind::Profile, view, html! {
                    p.hint { "Example: $/SSO/ProfileData" }
                    p.hint { "Enter a fully qualified path to an IQA (starting with $/) that will represent the information returned as part of the user's profile." }
                    p.hint { "This IQA must take exactly one (required or optional) parameter - the username of the user signing in. It should always return exactly one result - profile fields and information for only that user." }
                    p.hint { "Click the Validate IQA button to preview the parameters and fields for that IQA. IQAs are defined under " a href="/admin/queries" { "Queries" } "." }
                }))
                (text_field("id_token_fields", "ID Token Additional Profile Fields", &f.id_token_fields, "text", html! {
                    p.hint { "Example: first_name,last_name,email,member_type" }
                    p.hint { "Optional. Enter a comma-separated list of column names that exist in the Profile IQA that will also be included in the ID Token itself (in addition to being accessible via the UserInfo endpoint)." }
                    p.hint { "Column names that do not exist in the IQA, or reserved column names, are ignored." }
                    p.hint { "Leave this field blank to disable adding any additional claims and fields to the ID Token. This setting does not affect the UserInfo endpoint." }
                    details.hint {
                        summary { "Reserved and disallowed field names" }
                        p.mono { (RESERVED_CLAIMS.join(", ")) }
                    }
                    @if let Some(d) = view.details.filter(|d| !d.ignored_id_token_fields.is_empty()) {
                        div.warning {
                            p { strong { "These saved fields are ignored:" } }
                            ul { @for field in &d.ignored_id_token_fields { li { (field.reason) } } }
                        }
                    }
                }, e))
                (query_field("role_query", "Role IQA Query Path", &f.role_query, QueryKind::Role, view, html! {
                    p.hint { "Example: $/SSO/RoleData" }
                    p.hint { "Enter a fully qualified path to an IQA (starting with $/) that will represent a list of roles for the current user." }
                    p.hint { "This IQA must take exactly one (required or optional) parameter - the username of the user signing in. It should always return exactly one column of data. The rows in this column will be sent as the role values for this user." }
                    p.hint { "Click the Validate IQA button to preview the parameters and fields for that IQA." }
                }))
                div role="radiogroup" aria-labelledby="role_format-label" aria-describedby="role_format-hint" {
                    label id="role_format-label" { "Role Field Format" }
                    p.hint id="role_format-hint" { "Specify one of two data types for the roles. The RP / third-party may expect roles in a specific format, so be sure to choose the correct one." }
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
                div role="group" aria-labelledby="grant_types-label" {
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
                div role="radiogroup" aria-labelledby="id_token_hmac_key-label" aria-describedby="id_token_hmac_key-hint" {
                    label id="id_token_hmac_key-label" { "HS512 ID Token Key" }
                    p.hint id="id_token_hmac_key-hint" { "The key of HS512 ID tokens: pick the Client Secret for apps using a standard OpenID Connect library (OIDC Core §10.1), the separate JWT Signing Key only for apps already set up with it or using Implicit or ROPC (Public). Unused while ID tokens are signed RS256 or RS512." }
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
        @if let Some(d) = view.details { (credentials(d, hide_signing_key)) }
    }
}

/// A query path with its Validate IQA button, and what the button found when it was pressed.
fn query_field(
    name: &str,
    label: &str,
    value: &str,
    kind: QueryKind,
    view: &RegistrationView<'_>,
    hints: Markup,
) -> Markup {
    let invalid = view.error.is_some_and(|e| e.is_for(name));
    html! {
        label for=(name) { (label) }
        div.check {
            input id=(name) type="text" name=(name) value=(value) aria-invalid=[invalid.then_some("true")];
            button.secondary type="submit" name="validate" value=(kind_name(kind)) aria-label=(format!("Validate IQA: {label}")) {
                // A no-break space keeps the label on one line beside the full-width input.
                "Validate\u{a0}IQA"
            }
        }
        (field_error(view.error, name))
        @if let Some(check) = view.check.filter(|c| c.kind == kind) { (check_result(check, view.form)) }
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
                    p { "This IQA returns no " span.mono { (ACCESS_RESTRICTION_COLUMN) } " column, so the No Access Mapping has no effect." }
                }
                a href=(format!("/admin/queries/edit?path={}", encode(query.path.as_str()))) { "Open this query" }
            }
        },
        Err(message) => html! {
            div.flash.error role="alert" { strong { "Validate IQA: " } (message) }
        },
    }
}

fn no_access_hints() -> Markup {
    html! {
        p.hint { "This field allows staff users to restrict access to this client app / connection based on the results of the IQA." }
        p.hint { "The IQA must return a column named " span.mono { (ACCESS_RESTRICTION_COLUMN) } ". The value of this column is checked, and if it is listed in this field, the user will not have access to the third-party client app." }
        p.hint { "The format of this field is as follows:" }
        ul.hint {
            li { "Specify the value(s) to deny access for, one entry per line." }
            li { "The value must match what is being returned by the IQA exactly." }
            li { "To display the built-in (customizable) No Access screen, put the value on a line by itself." }
            li { "To redirect the user to an external site that matches this value, put a pipe character (|) between the value and a fully-qualified URL beginning with https://." }
            li { "Don't include the pipe character if you don't want to redirect the user to a separate URL." }
            li { "Don't include more than one pipe character per line, including in the destination URL (you must URL-encode it)." }
        }
        p.hint { "Each line must be in this format: " span.mono { "CODE_VAL1" } " or " span.mono { "CODE_VAL2|https://example.org/my/custom/redirect-destination?with=optional%20parameters" } "." }
        details.hint {
            summary { "Example" }
            p { "With the Profile IQA returning the contact's status as " span.mono { (ACCESS_RESTRICTION_COLUMN) } " (" span.mono { "status AS AccessRestrictionCode" } "), this mapping:" }
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

/// The edit page's Client ID, Client Secret and JWT Signing Key, with the Regenerate buttons.
fn credentials(d: &RegistrationDetails, hide_signing_key: bool) -> Markup {
    let id = d.registration.client_id;
    let secret = d.secrets.as_ref().map_or("", |s| s.client_secret.expose());
    let key = d.secrets.as_ref().map_or("", |s| s.jwt_signing_key.expose());
    let keyed_by_secret = d.registration.settings.id_token_hmac_key == IdTokenHmacKey::ClientSecret;
    html! {
        div.card {
            h2 { "Client credentials" }
            (readonly_field("client_id", "Client ID", &id.to_string(), html! {
                p.hint { "This is the OAuth Client ID that should be sent to the third party for use in their OpenID Connect client." }
                p.hint { "This value is auto-generated and cannot be changed." }
            }))
            label for="client_secret" { "Client Secret" }
            div.check {
                input id="client_secret" type="text" value=(secret) readonly;
                a.button.secondary href=(format!("/admin/registrations/{id}/regenerate-secret")) aria-label="Regenerate Client Secret" { "Regenerate" }
            }
            p.hint { "This is the OAuth Client Secret that should be sent to the third party for use in their OpenID Connect client." }
            p.hint { "This value is auto-generated and cannot be changed manually. Select the Regenerate button to change this value if it becomes accidentally exposed or compromised." }
            @if hide_signing_key {
                p.hint { "The JWT Signing Key is hidden: ID tokens are signed with an asymmetric algorithm (such as RS256 or RS512), which does not use it." }
            } @else if keyed_by_secret {
                p.hint { "The JWT Signing Key is hidden: HS512 ID tokens are signed with the Client Secret (HS512 ID Token Key above), so apps verify them with the Client Secret." }
            } @else {
                label for="jwt_signing_key" { "JWT Signing Key" }
                div.check {
                    input id="jwt_signing_key" type="text" value=(key) readonly;
                    a.button.secondary href=(format!("/admin/registrations/{id}/regenerate-signing-key")) aria-label="Regenerate JWT Signing Key" { "Regenerate" }
                }
                p.hint { "This is the key that can be used to verify the authenticity of any ID tokens generated via the SSO. ID tokens are signed using HMAC SHA 512. This value should be sent to the third party for use in their OpenID Connect client." }
                p.hint { "This value is auto-generated and cannot be changed manually. Select the Regenerate button to change this value if it becomes accidentally exposed or compromised." }
            }
            div.warning role="note" { strong { "Warning! " } (REGENERATE_WARNING) }
        }
    }
}
