//! `/admin/api/oidc-settings` (the Open ID Connect settings page) and `/admin/api/logs` (its Logs tab).

use gatehouse::app::AppState;
use gatehouse::event_log::{Level, LogFilter};
use gatehouse::services::log::record;
use gatehouse::upstream::client;
use gatehouse::upstream::settings::{Provider, SettingsDraft, UpstreamSettings};
use gatehouse::validation::Invalid;
use gatehouse::web::error::ApiError;
use gatehouse::web::request::{json, query};
use gatehouse::web::response::ok_json;
use gatehouse::web::{Method, Request, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn view(s: &UpstreamSettings) -> Value {
    let secret = s.client_secret.as_ref().map(|c| {
        let tail: String = c.expose().chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        format!("…{tail}")
    });
    json!({
        "mode": s.mode, "provider": s.provider, "name": s.name, "client_id": s.client_id,
        "client_secret_set": s.client_secret.is_some(), "client_secret_hint": secret,
        "well_known_url": s.well_known_url, "tenant": s.tenant, "authority_url": s.authority_url,
        "external_claim_id": s.external_claim_id, "redirect_login_url": s.redirect_login_url, "login_hint": s.login_hint,
        "require_for": s.require_for, "claim_type": s.claim_type, "claim_value": s.claim_value,
        "forgot_email_body": s.forgot_email_body, "mfa_enabled": s.mfa_enabled,
    })
}

/// Validates, checks the provider's discovery document, and saves.
pub async fn save(state: &AppState, draft: &SettingsDraft) -> Result<UpstreamSettings, ApiError> {
    let previous = gatehouse::services::upstream::load(&state.stores).await?;
    let next = draft.validate(&previous, state.config.issuer_str())?;
    if next.is_on()
        && let Err(e) = client::discover(&next, true).await
    {
        record(
            &state.stores,
            state.now(),
            Level::Error,
            "OIDC settings not saved: the provider's discovery failed",
            json!({ "error": e.to_string() }),
        )
        .await;
        let field = if next.provider == Some(Provider::Okta) { "well_known_url" } else { "authority_url" };
        return Err(Invalid::new(field, e.to_string()).into());
    }
    gatehouse::services::upstream::save(&state.stores, &next).await?;
    record(
        &state.stores,
        state.now(),
        Level::Info,
        "OIDC settings saved",
        json!({ "mode": next.mode, "provider": next.provider, "require_for": next.require_for }),
    )
    .await;
    Ok(next)
}

fn parse_time(field: &str, value: &str) -> Result<OffsetDateTime, ApiError> {
    if let Ok(at) = OffsetDateTime::parse(value, &Rfc3339) {
        return Ok(at);
    }
    let date = time::Date::parse(value, time::macros::format_description!("[year]-[month]-[day]")).map_err(|_| {
        ApiError::from(Invalid::new(field, format!("`{value}` is not a date (2026-11-23) or RFC 3339 time")))
    })?;
    Ok(date.midnight().assume_utc()
        + if field == "to" { time::Duration::days(1) - time::Duration::seconds(1) } else { time::Duration::ZERO })
}

/// The Logs tab's query: level, "message contains", occurred between, newest first, paged.
pub fn log_filter(params: &gatehouse::web::request::Params) -> Result<LogFilter, ApiError> {
    let text = |name: &str| params.get(name).map(str::trim).filter(|v| !v.is_empty());
    Ok(LogFilter {
        level: match text("level") {
            None => None,
            Some(v) => Some(
                Level::parse(v)
                    .ok_or_else(|| ApiError::from(Invalid::new("level", "choose debug, info, warning or error")))?,
            ),
        },
        contains: text("contains").map(str::to_owned),
        from: text("from").map(|v| parse_time("from", v)).transpose()?,
        to: text("to").map(|v| parse_time("to", v)).transpose()?,
        before: text("before").map(str::to_owned),
        limit: text("limit").and_then(|v| v.parse().ok()).unwrap_or(50).clamp(1, 500),
    })
}

pub async fn route(state: &AppState, req: &Request, rest: &str, now: OffsetDateTime) -> Result<Response, ApiError> {
    match (req.method(), rest) {
        (&Method::GET, "oidc-settings") => {
            Ok(ok_json(&view(&gatehouse::services::upstream::load(&state.stores).await?)))
        }
        (&Method::PUT, "oidc-settings") => {
            let draft: SettingsDraft = json(req)?;
            Ok(ok_json(&view(&save(state, &draft).await?)))
        }
        (&Method::GET, "logs") => {
            let filter = log_filter(&query(req))?;
            let entries = state.stores.logs.search(&filter, now).await?;
            let next = (entries.len() == filter.limit).then(|| entries.last().map(|e| e.sort_key())).flatten();
            let entries: Vec<Value> = entries
                .iter()
                .map(|e| json!({ "id": e.id, "level": e.level, "message": e.message, "details": e.details, "occurred_at": gatehouse::clock::rfc3339(e.occurred_at) }))
                .collect();
            Ok(ok_json(&json!({ "entries": entries, "next_before": next })))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}
