//! `/account`: who is signed in, and the apps they allowed, each with a Withdraw button.

use axum::extract::State;
use gatehouse::registration::ClientId;
use gatehouse::web::SharedState;
use gatehouse::web::error::PageError;
use gatehouse::web::extract::Req;
use gatehouse::web::request::{form, query};
use gatehouse::web::response::{html_page, see_other};
use gatehouse::web::session::{CSRF_FIELD, signed_in};
use gatehouse::web::{Response, StatusCode};
use maud::html;

pub async fn show(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    let (state, req, now) = (&*state, &req, state.now());
    let Some(user) = signed_in(state, req, now).await? else { return Ok(see_other("/signin?return_to=%2Faccount")) };
    let mut apps = Vec::new();
    for consent in state.stores.grants.list_consents(user.contact.id).await? {
        let name = state.stores.registrations.get(consent.client_id).await?.map(|r| r.settings.name);
        // Consents of deleted registrations are left to expire with nothing to show.
        if let Some(name) = name {
            apps.push((name, consent));
        }
    }
    let p = &user.contact.profile;
    let csrf = user.session.csrf_token.expose();
    // After a withdrawal: which app, by name (only ids of this member's apps are looked up).
    let withdrawn = match query(req).get("withdrawn").and_then(ClientId::parse) {
        Some(id) => state.stores.registrations.get(id).await?.map(|r| r.settings.name),
        None => None,
    };
    let policy = gatehouse::services::upstream::load(&state.stores).await?.mfa;
    let mfa_notice = match query(req).get("mfa") {
        Some("off") => Some(("status", "Two-step verification is off.")),
        Some("wrong-code") => Some(("alert", "Two-step verification is still on: the code was incorrect.")),
        Some("throttled") => Some(("alert", "Too many failed attempts. Please try again later.")),
        _ => None,
    };
    let body = html! {
        @if let Some((role, text)) = mfa_notice {
            p.flash.error[role == "alert"] role=(role) { (text) }
        }
        @if let Some(name) = &withdrawn {
            p.flash role="status" { (name) " no longer has access to your account. It will ask again the next time you use it." }
        }
        h1 { "Your account" }
        p { "Signed in to " (state.config.org_name) " as " strong { (format!("{} {}", p.first_name, p.last_name).trim()) } " (" (p.username) ")." }
        h2 { "Apps you allowed" }
        @if apps.is_empty() {
            p.hint { "You have not allowed any app to access your account." }
        } @else {
            div.table-scroll { table.stack {
                thead { tr { th { "App" } th { "Can access" } th { "Allowed" } th {} } }
                tbody {
                    @for (name, consent) in &apps {
                        tr {
                            td data-label="App" { (name) }
                            td data-label="Can access" { (sentence_case(&consent.scope.iter().map(|s| s.label()).collect::<Vec<_>>().join(", "))) }
                            td data-label="Allowed" { time datetime=(gatehouse::clock::rfc3339(consent.granted_at)) { (gatehouse::clock::long_date(consent.granted_at)) } }
                            td.icons {
                                // A second, explicit step before the access goes (no script needed).
                                details {
                                    summary { "Withdraw…" }
                                    form method="post" action="/account/consents/withdraw" {
                                        input type="hidden" name=(CSRF_FIELD) value=(csrf);
                                        input type="hidden" name="client_id" value=(consent.client_id);
                                        p.hint { (name) " will lose access to your account." }
                                        button.danger type="submit" aria-label=(format!("Withdraw consent for {name}")) { "Withdraw access" }
                                    }
                                }
                            }
                        }
                    }
                }
            } }
            p.hint { "After you withdraw, the app asks for your permission again the next time you sign in to it." }
        }
        @if policy.is_on() || user.contact.mfa.is_some() {
            h2 { "Two-step verification" }
            @match &user.contact.mfa {
                Some(enrolment) if policy.is_on() => {
                    p { "On: signing in asks for a code from your authenticator app after your password. "
                        (enrolment.recovery_codes.len()) " recovery codes left." }
                    details {
                        summary { "Turn off…" }
                        form method="post" action="/account/mfa/disable" {
                            input type="hidden" name=(CSRF_FIELD) value=(csrf);
                            label for="mfa-off-code" { "Current code from the app (or a recovery code)" }
                            input #mfa-off-code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required;
                            @if policy.requires(p.is_staff) {
                                p.hint { (state.config.org_name) " requires two-step verification: you will set it up again at your next sign-in." }
                            }
                            button.danger type="submit" { "Turn off two-step verification" }
                        }
                    }
                    p { a href="/account/mfa" { "Move to a new phone (set up again)" } }
                }
                Some(_) => {
                    p.hint { "Your authenticator app is set up, but " (state.config.org_name) " does not ask for it at the moment." }
                }
                None => {
                    p { "Protect your account with a code from an app on your phone as well as your password." }
                    a.button href="/account/mfa" { "Set up two-step verification" }
                }
            }
        }
        div.actions {
            @if p.is_sysadmin { a.button href="/admin" { "Open the administration" } }
            form method="post" action="/signout" {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                button.secondary type="submit" { "Sign out" }
            }
        }
    };
    Ok(html_page(StatusCode::OK, "Your account", body))
}

pub async fn withdraw(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    let (state, req, now) = (&*state, &req, state.now());
    let Some(user) = signed_in(state, req, now).await? else { return Ok(see_other("/signin?return_to=%2Faccount")) };
    let params = form(req);
    if !user.csrf_ok(params.get(CSRF_FIELD)) {
        return Err(PageError::new(StatusCode::FORBIDDEN, "Not confirmed", "The form expired. Please try again."));
    }
    let client_id =
        params.get("client_id").ok_or_else(|| PageError::bad_request("Which app? The form is incomplete."))?;
    // An id that is no client id has no consent to withdraw.
    if let Some(id) = ClientId::parse(client_id) {
        state.stores.grants.delete_consent(user.contact.id, id).await?;
    }
    tracing::info!(contact = %user.contact.id, %client_id, "consent withdrawn");
    Ok(see_other(&format!("/account?withdrawn={}", gatehouse::web::request::url_encode(client_id))))
}

fn sentence_case(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
