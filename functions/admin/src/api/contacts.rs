//! `/admin/api/contacts`.

use gatehouse::app::AppState;
use gatehouse::contact::{ContactDraft, ContactId, ContactView};
use gatehouse::secret::SecretString;
use gatehouse::web::error::ApiError;
use gatehouse::web::request::{json, query};
use gatehouse::web::response::{no_content, ok_json};
use gatehouse::web::{Method, Request, Response};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use super::created;
use crate::auth::Admin;
use crate::service::contacts as service;

fn contact_id(segment: &str) -> Result<ContactId, ApiError> {
    ContactId::parse(segment).ok_or_else(|| ApiError::not_found("contact"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    password: SecretString,
}

pub async fn route(
    state: &AppState,
    admin: &Admin,
    req: &Request,
    tail: &[&str],
    now: OffsetDateTime,
) -> Result<Response, ApiError> {
    let acting = &admin.contact;
    match (req.method(), tail) {
        (&Method::GET, [] | [""]) => {
            let contacts = service::list(state, query(req).text("search")).await?;
            Ok(ok_json(&json!({ "contacts": contacts.iter().map(ContactView::from).collect::<Vec<_>>() })))
        }
        (&Method::POST, [] | [""]) => {
            let draft: ContactDraft = json(req)?;
            Ok(created(&ContactView::from(&service::create(state, &draft, now).await?)))
        }
        (&Method::GET, [id]) => Ok(ok_json(&ContactView::from(&service::get(state, contact_id(id)?).await?))),
        (&Method::PUT, [id]) => {
            let id = contact_id(id)?;
            let draft: ContactDraft = json(req)?;
            Ok(ok_json(&ContactView::from(&service::update(state, acting, id, &draft, now).await?)))
        }
        (&Method::DELETE, [id]) => {
            service::delete(state, acting, contact_id(id)?).await?;
            Ok(no_content())
        }
        (&Method::POST, [id, "password"]) => {
            let id = contact_id(id)?;
            let body: PasswordBody = json(req)?;
            service::set_password(state, id, body.password, now).await?;
            Ok(no_content())
        }
        (_, [] | [""] | [_] | [_, "password"]) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::not_found("this API path")),
    }
}
