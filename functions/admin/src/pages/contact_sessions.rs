//! `/admin/contacts/{id}/sessions`: a contact's active sessions with the apps signed in through
//! each, and a button that ends them all (apps are told; their tokens stop working).

use axum::Router;
use axum::extract::Path;
use axum::routing::{get, post};
use gatehouse::clock::rfc3339;
use gatehouse::contact::ContactId;
use gatehouse::web::error::PageError;
use gatehouse::web::response::see_other;
use gatehouse::web::{Response, SharedState, StatusCode};
use maud::html;

use super::{CsrfForm, Ctx, NoFields, Section, admin_page, csrf_input};
use crate::service::contacts as contacts_service;
use crate::service::sessions as service;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/admin/contacts/{id}/sessions", get(show))
        .route("/admin/contacts/{id}/sign-out-everywhere", post(sign_out_everywhere))
}

fn contact_id(segment: &str) -> Result<ContactId, PageError> {
    ContactId::parse(segment).ok_or_else(PageError::not_found)
}

async fn show(ctx: Ctx, Path(id): Path<String>) -> Result<Response, PageError> {
    let contact = contacts_service::get(&ctx.state, contact_id(&id)?).await?;
    let sessions = service::list(&ctx.state, contact.id, ctx.now).await?;
    let title = format!("Sessions of {}", contact.profile.username);
    let body = html! {
        p { a href=(format!("/admin/contacts/{}", contact.id)) { "← " (contact.profile.username) } }
        h1 { (title) }
        @if sessions.is_empty() {
            p { "No active sessions." }
        } @else {
            div.table-scroll { table.stack {
                thead { tr { th { "Signed in" } th { "Ends" } th { "Apps signed in to" } } }
                tbody {
                    @for s in &sessions {
                        tr {
                            td.mono data-label="Signed in" { (rfc3339(s.session.auth_time)) }
                            td.mono data-label="Ends" { (rfc3339(s.session.expires_at)) }
                            td data-label="Apps signed in to" {
                                @if s.apps.is_empty() { "None" }
                                @for app in &s.apps { (app.settings.name) br; }
                            }
                        }
                    }
                }
            } }
            form.card method="post" action=(format!("/admin/contacts/{}/sign-out-everywhere", contact.id)) {
                (csrf_input(&ctx))
                p.hint { "Ends every session above. Apps with a back-channel logout URL are told, and the tokens they got in these sessions stop working." }
                div.actions { button type="submit" { "Sign out everywhere" } }
            }
        }
    };
    Ok(admin_page(&ctx, StatusCode::OK, Section::Contacts, &title, body))
}

async fn sign_out_everywhere(ctx: Ctx, Path(id): Path<String>, _: CsrfForm<NoFields>) -> Result<Response, PageError> {
    let contact = contacts_service::get(&ctx.state, contact_id(&id)?).await?;
    service::sign_out_everywhere(&ctx.state, contact.id, ctx.now).await?;
    Ok(see_other(&format!("/admin/contacts/{}/sessions?done=signed-out-everywhere", contact.id)))
}
