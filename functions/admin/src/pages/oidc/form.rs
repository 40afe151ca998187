//! The OpenID Connect settings form, with the seed's labels, hints and warnings.

use maud::{Markup, html};

use super::super::{Ctx, FormError, csrf_input, error_summary, field_error, text_field, textarea_field};
use super::{MFA_LEVELS, MODES, OidcForm, PROVIDERS, REQUIRE_FOR, Tab, label, tabs};
use crate::service::oidc::Connected;

const ROLE_CLAIM_TYPE: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";
const MFA_NOTE: &str = "OIDC cannot be used with multi-factor authentication (MFA). If OIDC is enabled or in test mode, then MFA is automatically disabled. Similarly, if MFA is enabled, then OIDC is disabled.";

/// A labelled checkbox named and identified by `name`, with hints under it.
fn checkbox(name: &str, text: &str, checked: bool, hints: Markup, error: Option<&FormError>) -> Markup {
    html! {
        label.check {
            input id=(name) type="checkbox" name=(name) checked[checked];
            (text)
        }
        (field_error(error, name))
        (hints)
    }
}

/// A labelled drop-down of `(value, text)` choices, with an empty first choice when `blank` is given.
fn select(
    name: &str,
    text: &str,
    value: &str,
    blank: Option<&str>,
    choices: &[(&str, &str)],
    hints: Markup,
    error: Option<&FormError>,
) -> Markup {
    let invalid = error.is_some_and(|e| e.is_for(name));
    html! {
        label for=(name) { (text) }
        select id=(name) name=(name) aria-invalid=[invalid.then_some("true")] {
            @if let Some(blank) = blank { option value="" selected[value.is_empty()] { (blank) } }
            @for (v, t) in choices { option value=(v) selected[value == *v] { (t) } }
        }
        (field_error(error, name))
        (hints)
    }
}

/// What Test connection found, next to its button.
fn connection_result(outcome: &Result<Connected, String>) -> Markup {
    html! {
        @match outcome {
            Ok(c) => div.flash role="status" {
                strong { "Connected." }
                " The discovery document at " span.mono { (c.discovery_url) } " names the issuer " span.mono { (c.issuer) }
                " and publishes " (c.keys) @if c.keys == 1 { " signing key" } @else { " signing keys" } ". Nothing was saved yet."
            },
            Err(message) => div.flash.error role="alert" { strong { "The connection failed. " } (message) },
        }
    }
}

pub(super) fn render(
    ctx: &Ctx,
    f: &OidcForm,
    secret_hint: Option<&str>,
    e: Option<&FormError>,
    connection: Option<&Result<Connected, String>>,
) -> Markup {
    let issuer = ctx.state.config.issuer_str();
    let providers: Vec<(&str, &str)> = PROVIDERS.iter().map(|(_, v, t)| (*v, *t)).collect();
    let require_for: Vec<(&str, &str)> = REQUIRE_FOR.iter().map(|(_, v, t)| (*v, *t)).collect();
    let mfa_levels: Vec<(&str, &str)> = MFA_LEVELS.iter().map(|(_, v, t)| (*v, *t)).collect();
    html! {
        h1 { "OpenID Connect" }
        (tabs(Tab::Settings))
        p.hint { "With OpenID Connect (OIDC), users sign in to Gatehouse with their company's external directory. Entra ID and Okta are currently the only supported external directories. When OIDC is enabled or in test mode, users are presented with a sign-in screen that only displays an email field, and are sent to the external directory for the rest." }
        (error_summary(e, label))
        form method="post" action="/admin/oidc" {
            (csrf_input(ctx))
            div.card {
                div role="radiogroup" aria-labelledby="mode-label" {
                    h2 id="mode-label" { "OIDC authentication" }
                    @for (_, value, name, description) in MODES {
                        @let id = format!("mode-{value}");
                        label.check {
                            input id=(id) type="radio" name="mode" value=(value) checked[f.mode == *value] aria-describedby=(format!("{id}-hint"));
                            strong { (name) }
                        }
                        p.hint id=(format!("{id}-hint")) { (description) }
                    }
                    (field_error(e, "mode"))
                    (field_error(e, "confirm"))
                }
                p.hint { strong { "Note: " } "To avoid disruption for staff users, it is recommended to test and configure OIDC during non-business hours." }
            }
            div.card {
                h2 { "Authentication service" }
                (select("provider", "Type", &f.provider, Some("Choose…"), &providers, html! {
                    p.hint { "Select your directory provider. Currently, Entra ID and Okta are supported." }
                }, e))
                (text_field("name", "Name", &f.name, "text", html! {
                    p.hint { "Enter the Name of your external directory; for example, ASI OpenID Connect. This can be any name: the sign-in page shows it on its button (“Sign in with " em { "Name" } "”)." }
                }, e))
                (text_field("client_id", "Client ID", &f.client_id, "text", html! {
                    p.hint { "The Client ID assigned to your app. For Entra ID users, this is the Application (client) ID. For Okta users, this is the Client ID." }
                }, e))
                // Never shown back, not even as typed.
                (text_field("client_secret", "Client Secret", "", "password", html! {
                    @match secret_hint {
                        Some(tail) => {
                            p.hint { "A secret is stored (" span.mono { (tail) } "). Leave blank to keep it." }
                            label.check {
                                input id="remove_secret" type="checkbox" name="remove_secret" checked[f.remove_secret];
                                "Remove the stored Client Secret"
                            }
                        }
                        None => p.hint { "No secret is stored." },
                    }
                    @if !f.client_secret.is_empty() {
                        p.hint { "The Client Secret you typed was not saved and is not shown back: type it again." }
                    }
                    p.hint { "(Okta) The Client Secret is located on the General tab of your Application. (Entra ID) Optional: with a secret Gatehouse exchanges an authorization code; without one the ID token comes back directly, which needs ID tokens enabled for the app." }
                }, e))
                div data-provider="okta" {
                    (text_field("well_known_url", "Well-Known URL", &f.well_known_url, "text", html! {
                        p.hint { "(Okta only) This is the Metadata URI located on the Settings tab of the default Authorization Server." }
                        p.hint { "Example: https://example.okta.com/oauth2/default/.well-known/openid-configuration" }
                    }, e))
                }
                div data-provider="entra" {
                    (text_field("tenant", "Tenant", &f.tenant, "text", html! {
                        p.hint { "(Entra ID only) The Tenant assigned to your app is the Directory (tenant) ID." }
                    }, e))
                }
                (text_field("authority_url", "Authority URL", &f.authority_url, "text", html! {
                    p.hint data-provider="entra" { "Entra ID: pre-filled from the Tenant when left blank, as " span.mono { "https://login.microsoftonline.com/<tenant>/v2.0" } ". Example: https://login.microsoftonline.com/ae2d240f-abc1-def2-ghi3-jklmnop45678/v2.0" }
                    p.hint data-provider="okta" { "Okta: the Issuer (Okta URL) of your authorization server, from the Settings tab of the default authorization server (Security > API)." }
                    p.hint { "Test connection (below) and Save check the provider's discovery document and keys, and say here what is wrong." }
                }, e))
                (text_field("external_claim_id", "External Claim ID", &f.external_claim_id, "text", html! {
                    p.hint { "When set, this custom claim enables you to assign a unique identifier to users that is not their email address. The value entered in this field must correspond to your active directory configuration." }
                }, e))
                (text_field("redirect_login_url", "Redirect login URL", &f.redirect_login_url, "text", html! {
                    p.hint { "The redirect URL where the external directory sends its authentication responses: Gatehouse's " span.mono { (issuer) "/callback" } " (used when left blank)." }
                    p.hint { "This URL must match exactly with the Redirect URI defined in your external directory." }
                    p.hint { "For sign-out, register " span.mono { (issuer) "/callback/logout" } " as the Front-channel logout URL and " span.mono { (issuer) "/signout/done" } " as a sign-out redirect URL. Entra ID: also add the " span.mono { "sid" } " optional claim to the ID token, so that signing out of Microsoft ends the Gatehouse session." }
                }, e))
                (checkbox("login_hint", "Set login hint", f.login_hint, html! {
                    p.hint { "When enabled, the staff user only needs to enter their email address in Gatehouse. When they are redirected to the OIDC provider, their email address is automatically populated in the OIDC authentication interface." }
                }, e))
                p.hint { strong { "Note: " } "Some of the Authentication service values are in your organization's external directory portal (such as the Azure portal). You must have access to the specific tenant to find these values." }
                div.actions #test-connection {
                    button.secondary type="submit" name="test" value="1" formaction="/admin/oidc#test-connection" { "Test connection" }
                    span.hint { "Fetches the provider's discovery document and keys; saves nothing." }
                }
                @if let Some(outcome) = connection { (connection_result(outcome)) }
            }
            div.card {
                h2 { "User authentication" }
                p.hint { "Define the claim information that is used to verify that a user authenticated by the identity provider is a staff user." }
                (select("require_for", "Require OIDC for", &f.require_for, None, &require_for, html! {
                    p.hint { "Select Staff Only or Staff & Public Users to restrict OIDC logins for specific users. If Staff & Public Users is selected, all users are authenticated by the external provider, with no exception." }
                    p.hint { "When Staff Only is enabled, OIDC syncs staff user names and email addresses from the external directory, while public users keep theirs. If Staff & Public Users is enabled, all synchronization comes from the external directory." }
                }, e))
                (text_field("claim_type", "Claim type", &f.claim_type, "text", html! {
                    p.hint { "Entra ID: the URI (Claim type) for the associated Claim value. With an app role as the Claim value, the Claim type URI is " span.mono { (ROLE_CLAIM_TYPE) } "." }
                    p.hint { "Okta: this field is not required for Okta configuration but is required to have a value. Enter " span.mono { (ROLE_CLAIM_TYPE) } " to populate the field." }
                    div.warning role="note" { strong { "Important! " } "If you are not using the app Role to verify the user's authentication, review the Microsoft list of claim types to determine which claim type URI is right for you, and copy the URI exactly as it appears there. The URI must begin with http and cannot begin with https." }
                }, e))
                (text_field("claim_value", "Claim value", &f.claim_value, "text", html! {
                    p.hint { "Entra ID: the Value of the app role you created, for example iMIS_OIDC_Access. Okta: enter SysAdmin (the group your claim filters on)." }
                }, e))
            }
            div.card {
                h2 { "Existing contacts" }
                p.hint { "When someone signs in through the provider for the first time and a contact that is not linked yet already has their email or username, Gatehouse creates no second contact: the person enters that contact's password once to link it, or an administrator links it on the contact's page (Sign-in through the OpenID provider)." }
                (checkbox("link_verified_email", "Link existing contacts by verified email", f.link_verified_email, html! {
                    p.hint { "Skips the password step when the ID token proves the email: Okta's " span.mono { "email_verified" } ", Entra ID's " span.mono { "xms_edov" } " optional claim, or a " span.mono { "upn" } " in one of the verified domains below. Never for system administrators." }
                    div.warning role="note" { strong { "Risk: " } "turn this on only when the directory is your organisation's own single-tenant directory and its emails are managed by you. A directory where users can set their own email, or a multi-tenant app, lets an outsider claim a member's email and take over their account (the \"nOAuth\" class of takeover)." }
                }, e))
                div data-provider="entra" {
                    (textarea_field("verified_domains", "Verified domains", &f.verified_domains, 3, html! {
                        p.hint { "(Entra ID only) One per line: the custom domains verified in your tenant, e.g. org.example." }
                    }, e))
                }
            }
            div.card {
                h2 { "Forgot username or password email" }
                (textarea_field("forgot_email_body", "Email body", &f.forgot_email_body, 5, html! {
                    p.hint { "The Email body that is sent to a staff user when they use the Forgot my username or Forgot my password forms while OIDC is on. It is important that the Email body tells the staff user to sign in through the external directory, with a link to your organization's sign-in page." }
                }, e))
            }
            div.card {
                h2 { "Multi-factor authentication" }
                (select("mfa", "Multi-factor authentication", &f.mfa, None, &mfa_levels, html! {
                    p.hint { "A code from an authenticator app (TOTP) after the password. Optional: members may set it up on their account page. Required: those members set it up at their next sign-in. An administrator can reset a member's second factor on the contact's page." }
                    div.warning role="note" { (MFA_NOTE) }
                    p.hint { "MFA is still recommended for the external directory sign in." }
                }, e))
            }
            div.actions {
                button type="submit" { "Save" }
                a href="/admin/oidc" { "Cancel" }
            }
        }
    }
}
