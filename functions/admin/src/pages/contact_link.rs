//! A contact's provider identity on its admin page: link one (the person could not prove the
//! existing account was theirs) or unlink it; and resetting their second factor (a lost
//! phone). Each is written to the OIDC log.

use axum::Router;
use axum::extract::Path;
use axum::routing::post;
use gatehouse::contact::ContactId;
use gatehouse::web::error::PageError;
use gatehouse::web::response::see_other;
use gatehouse::web::{Response, SharedState, StatusCode};
use maud::html;
use serde::Deserialize;

use super::contact_cards::Card;
use super::{Confirm, CsrfForm, Ctx, FormError, NoFields, Section, confirm_page};
use crate::service::AdminError;
use crate::service::contacts as service;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/admin/contacts/{id}/link", post(link))
        .route("/admin/contacts/{id}/unlink", axum::routing::get(confirm_unlink).post(unlink))
        .route("/admin/contacts/{id}/mfa/reset", axum::routing::get(confirm_reset_mfa).post(reset_mfa))
}

#[derive(Deserialize)]
struct LinkForm {
    /// Named apart from the contact form's own External ID field on the same page.
    #[serde(default, rename = "link_external_id")]
    external_id: String,
}

fn contact_id(segment: &str) -> Result<ContactId, PageError> {
    ContactId::parse(segment).ok_or_else(|| PageError::from(AdminError::NotFound("contact")))
}

async fn link(ctx: Ctx, Path(id): Path<String>, CsrfForm(form): CsrfForm<LinkForm>) -> Result<Response, PageError> {
    let contact = service::get(&ctx.state, contact_id(&id)?).await?;
    match service::link_identity(&ctx.state, &ctx.user.contact, contact.id, &form.external_id, ctx.now).await {
        Ok(_) => Ok(see_other(&format!("/admin/contacts/{}?done=identity-linked", contact.id))),
        Err(e) => {
            let error = FormError::from_admin(e)?;
            Ok(super::contacts::show_with_card_error(&ctx, &contact, Card::Identity, &error))
        }
    }
}

async fn confirm_unlink(ctx: Ctx, Path(id): Path<String>) -> Result<Response, PageError> {
    let contact = service::get(&ctx.state, contact_id(&id)?).await?;
    let action = format!("/admin/contacts/{}/unlink", contact.id);
    let cancel = format!("/admin/contacts/{}", contact.id);
    let message = html! {
        p {
            "Signing in through the OpenID provider as "
            code { (contact.profile.external_id.as_deref().unwrap_or_default()) }
            " will no longer sign in as " strong { (contact.profile.username) } "."
        }
        p.hint { "If that identity signs in again, it is asked to prove this account is theirs with its password, or an administrator links it again." }
    };
    let confirm = Confirm {
        section: Section::Contacts,
        title: "Unlink the provider identity?",
        message,
        action: &action,
        button: "Unlink",
        cancel: &cancel,
        error: None,
    };
    Ok(confirm_page(&ctx, StatusCode::OK, confirm))
}

async fn unlink(ctx: Ctx, Path(id): Path<String>, _: CsrfForm<NoFields>) -> Result<Response, PageError> {
    let contact = service::get(&ctx.state, contact_id(&id)?).await?;
    service::unlink_identity(&ctx.state, &ctx.user.contact, contact.id, ctx.now).await?;
    Ok(see_other(&format!("/admin/contacts/{}?done=identity-unlinked", contact.id)))
}

async fn confirm_reset_mfa(ctx: Ctx, Path(id): Path<String>) -> Result<Response, PageError> {
    let contact = service::get(&ctx.state, contact_id(&id)?).await?;
    let action = format!("/admin/contacts/{}/mfa/reset", contact.id);
    let cancel = format!("/admin/contacts/{}", contact.id);
    let message = html! {
        p { strong { (contact.profile.username) } "'s authenticator app and recovery codes will stop working." }
        p.hint { "Do this only once you are sure who asks (a lost phone). Where MFA is required, they set up a new app at their next sign-in; otherwise they sign in with their password alone until they set one up again." }
    };
    let confirm = Confirm {
        section: Section::Contacts,
        title: "Reset two-step verification?",
        message,
        action: &action,
        button: "Reset",
        cancel: &cancel,
        error: None,
    };
    Ok(confirm_page(&ctx, StatusCode::OK, confirm))
}

async fn reset_mfa(ctx: Ctx, Path(id): Path<String>, _: CsrfForm<NoFields>) -> Result<Response, PageError> {
    let contact = service::get(&ctx.state, contact_id(&id)?).await?;
    service::reset_mfa(&ctx.state, &ctx.user.contact, contact.id, ctx.now).await?;
    Ok(see_other(&format!("/admin/contacts/{}?done=mfa-reset", contact.id)))
}
