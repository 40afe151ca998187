//! The cards below a contact's form on its admin page, each with its own form and errors:
//! set password, the provider identity, and the second factor.

use gatehouse::contact::Contact;
use maud::{Markup, html};

use super::{Ctx, FormError, csrf_input, error_summary, field_error, text_field};

/// Which card a refused form belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Card {
    Password,
    Identity,
}

pub fn password_card(ctx: &Ctx, c: &Contact, error: Option<&FormError>) -> Markup {
    html! {
        form.card method="post" action=(format!("/admin/contacts/{}/password", c.id)) {
            h2 { "Set password" }
            (error_summary(error, |_| "Password".to_owned()))
            p.hint {
                @if c.password_hash.is_some() { "The contact has a password. A new one replaces it." }
                @else { "The contact has no password yet." }
            }
            (csrf_input(ctx))
            label for="new_password" { "New password" }
            input id="new_password" type="password" name="password" autocomplete="new-password";
            (field_error(error, "password"))
            div.actions { button type="submit" { "Set password" } }
        }
    }
}

/// The card on the contact's page.
pub fn identity_card(ctx: &Ctx, c: &Contact, error: Option<&FormError>) -> Markup {
    html! {
        div.card {
            h2 { "Sign-in through the OpenID provider" }
            @match &c.profile.external_id {
                Some(linked) => {
                    p { "Linked to the provider identity " code { (linked) } "." }
                    p { a.button.secondary href=(format!("/admin/contacts/{}/unlink", c.id)) { "Unlink…" } }
                }
                None => {
                    form method="post" action=(format!("/admin/contacts/{}/link", c.id)) {
                        (error_summary(error, |_| "Provider identity".to_owned()))
                        p.hint { "Not linked. Link the identity the provider signs this person in as, when they cannot prove this account is theirs themselves." }
                        (csrf_input(ctx))
                        (text_field("link_external_id", "Provider identity", "", "text", html! {
                            p.hint {
                                "The External Claim ID's value, or " span.mono { "issuer|subject" }
                                ": the OIDC log shows it under the reference the person was given."
                            }
                        }, error.map(|e| e.about("link_external_id")).as_ref()))
                        div.actions { button type="submit" { "Link" } }
                    }
                }
            }
        }
    }
}

/// Two-step verification: whether it is set up, and the reset for a lost phone.
pub fn mfa_card(c: &Contact) -> Markup {
    html! {
        div.card {
            h2 { "Two-step verification" }
            @match &c.mfa {
                Some(enrolment) => {
                    p { "Set up (" (enrolment.recovery_codes.len()) " recovery codes left)." }
                    p { a.button.secondary href=(format!("/admin/contacts/{}/mfa/reset", c.id)) { "Reset…" } }
                }
                None => { p.hint { "Not set up." } }
            }
        }
    }
}
