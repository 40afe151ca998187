//! `/admin/api/registrations`.

use gatehouse::app::AppState;
use gatehouse::clock::rfc3339;
use gatehouse::registration::{ClientId, IdTokenHmacKey, RegistrationDraft};
use gatehouse::web::error::ApiError;
use gatehouse::web::request::json;
use gatehouse::web::response::{no_content, ok_json};
use gatehouse::web::{Method, Request, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::created;
use crate::service::registrations::{self as service, Credential, RegistrationDetails};

/// The JSON shape. The JWT signing key is hidden while it is unused: an asymmetric algorithm
/// signs, or HS512 is keyed by the client secret.
pub fn view(d: &RegistrationDetails, hide_signing_key: bool) -> Value {
    let r = &d.registration;
    let s = &r.settings;
    let hide_signing_key = hide_signing_key || s.id_token_hmac_key == IdTokenHmacKey::ClientSecret;
    json!({
        "client_id": r.client_id,
        "name": s.name,
        "redirect_urls": s.redirect_urls,
        "profile_query": s.profile_query,
        "id_token_fields": s.id_token_fields,
        "ignored_id_token_fields": d.ignored_id_token_fields,
        "role_query": s.role_query,
        "role_format": s.role_format,
        "no_access_mapping": s.no_access_mapping.to_text(),
        "grant_types": s.grant_types,
        "id_token_hmac_key": s.id_token_hmac_key,
        "client_secret": d.secrets.as_ref().map(|c| c.client_secret.expose()),
        "jwt_signing_key": if hide_signing_key { None } else { d.secrets.as_ref().map(|c| c.jwt_signing_key.expose()) },
        "created_at": rfc3339(r.created_at),
        "updated_at": rfc3339(r.updated_at),
    })
}

fn client_id(segment: &str) -> Result<ClientId, ApiError> {
    ClientId::parse(segment).ok_or_else(|| ApiError::not_found("registration"))
}

pub async fn route(state: &AppState, req: &Request, tail: &[&str], now: OffsetDateTime) -> Result<Response, ApiError> {
    let hide = gatehouse::oidc::issue::signing_config(state).await?.algorithm.is_asymmetric();
    let view = |d: &RegistrationDetails| view(d, hide);
    match (req.method(), tail) {
        (&Method::GET, [] | [""]) => {
            let list = service::list(state).await?;
            Ok(ok_json(&json!({ "registrations": list.iter().map(&view).collect::<Vec<_>>() })))
        }
        (&Method::POST, [] | [""]) => {
            let draft: RegistrationDraft = json(req)?;
            Ok(created(&view(&service::create(state, &draft, now).await?)))
        }
        (&Method::GET, [id]) => Ok(ok_json(&view(&service::get(state, client_id(id)?).await?))),
        (&Method::PUT, [id]) => {
            let id = client_id(id)?;
            let draft: RegistrationDraft = json(req)?;
            Ok(ok_json(&view(&service::update(state, id, &draft, now).await?)))
        }
        (&Method::DELETE, [id]) => {
            service::delete(state, client_id(id)?).await?;
            Ok(no_content())
        }
        (&Method::POST, [id, "regenerate-secret"]) => {
            Ok(ok_json(&view(&service::regenerate(state, client_id(id)?, Credential::ClientSecret, now).await?)))
        }
        (&Method::POST, [id, "regenerate-signing-key"]) => {
            Ok(ok_json(&view(&service::regenerate(state, client_id(id)?, Credential::JwtSigningKey, now).await?)))
        }
        (_, [] | [""] | [_] | [_, "regenerate-secret" | "regenerate-signing-key"]) => {
            Err(ApiError::method_not_allowed())
        }
        _ => Err(ApiError::not_found("this API path")),
    }
}
