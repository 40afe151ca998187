//! The OpenID Connect (upstream provider) settings and their log.

use gatehouse::app::AppState;
use gatehouse::event_log::{Level, LogFilter, LogPage};
use gatehouse::mfa::MfaPolicy;
use gatehouse::services::log::record;
use gatehouse::services::upstream as settings;
use gatehouse::upstream::client::{self, UpstreamError};
use gatehouse::upstream::settings::{Mode, Provider, SettingsDraft, UpstreamSettings};
use gatehouse::validation::Invalid;
use gatehouse::web::request::Params;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::AdminResult;

pub async fn load(state: &AppState) -> AdminResult<UpstreamSettings> {
    Ok(settings::load(&state.stores).await?)
}

/// The end of the stored client secret, for recognising it; the secret itself is never shown.
pub fn secret_hint(s: &UpstreamSettings) -> Option<String> {
    s.client_secret.as_ref().map(|c| {
        let tail: String = c.expose().chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        format!("…{tail}")
    })
}

/// Validates, checks the provider's discovery document, and saves.
pub async fn save(state: &AppState, draft: &SettingsDraft) -> AdminResult<UpstreamSettings> {
    let previous = settings::load(&state.stores).await?;
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
        return Err(Invalid::new(field, plainly(&e, next.provider)).into());
    }
    settings::save(&state.stores, &next).await?;
    record(
        &state.stores,
        state.now(),
        Level::Info,
        "OIDC settings saved",
        json!({ "mode": next.mode, "provider": next.provider, "require_for": next.require_for, "mfa": next.mfa }),
    )
    .await;
    Ok(next)
}

/// What "Test connection" found: the discovery document and its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    pub discovery_url: String,
    pub issuer: String,
    pub keys: usize,
}

/// Checks the settings' rules, then fetches the provider's discovery document and keys (not
/// cached), saving nothing. The outer error is about the form's fields; the inner one says
/// plainly what is wrong with the connection.
pub async fn test_connection(state: &AppState, draft: &SettingsDraft) -> AdminResult<Result<Connected, String>> {
    let previous = settings::load(&state.stores).await?;
    // Checked as if switched on (MFA aside), whatever the mode: the connection is what is tested.
    let checked =
        SettingsDraft { confirm: true, confirm_switch: true, mode: Mode::Test, mfa: MfaPolicy::Off, ..draft.clone() };
    let next = checked.validate(&previous, state.config.issuer_str())?;
    Ok(match client::discover(&next, true).await {
        Ok(found) => Ok(Connected {
            discovery_url: next.discovery_url(),
            issuer: client::issuer(&found).as_str().to_owned(),
            keys: found.metadata.jwks().keys().len(),
        }),
        Err(e) => Err(plainly(&e, next.provider)),
    })
}

/// A failed discovery in words an administrator can act on.
pub fn plainly(e: &UpstreamError, provider: Option<Provider>) -> String {
    let address = if provider == Some(Provider::Okta) { "the Well-Known URL" } else { "the Tenant and Authority URL" };
    match e {
        UpstreamError::Unreachable { detail, .. } if detail.starts_with("keys at") => format!(
            "The discovery document was found, but its signing keys could not be fetched ({detail}). Check that the provider publishes its keys (jwks_uri)."
        ),
        UpstreamError::Unreachable { url, .. } => format!(
            "Gatehouse could not connect to {url}: nothing answered. Check {address}, and that this server can reach the provider."
        ),
        UpstreamError::BadDiscovery { url, detail } if detail.starts_with("HTTP ") => {
            format!("{url} answered {}, not a discovery document. Check {address}.", detail.trim_start_matches("HTTP "))
        }
        UpstreamError::BadDiscovery { url, detail } => {
            format!("The discovery document at {url} cannot be used: {detail}.")
        }
        other => other.to_string(),
    }
}

fn parse_time(field: &str, value: &str) -> Result<OffsetDateTime, Invalid> {
    if let Ok(at) = OffsetDateTime::parse(value, &Rfc3339) {
        return Ok(at);
    }
    let date = time::Date::parse(value, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| Invalid::new(field, format!("`{value}` is not a date (2026-11-23) or RFC 3339 time")))?;
    Ok(date.midnight().assume_utc()
        + if field == "to" { time::Duration::days(1) - time::Duration::seconds(1) } else { time::Duration::ZERO })
}

/// The Logs tab's query: level, "message contains", occurred between, newest first, paged.
pub fn log_filter(params: &Params) -> Result<LogFilter, Invalid> {
    let text = |name: &str| params.get(name).map(str::trim).filter(|v| !v.is_empty());
    let from = text("from").map(|v| parse_time("from", v)).transpose()?;
    let to = text("to").map(|v| parse_time("to", v)).transpose()?;
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        // Otherwise the search silently finds nothing.
        return Err(Invalid::new("to", "the end of the period is before its start"));
    }
    Ok(LogFilter {
        level: match text("level") {
            None => None,
            Some(v) => {
                Some(Level::parse(v).ok_or_else(|| Invalid::new("level", "choose debug, info, warning or error"))?)
            }
        },
        contains: text("contains").map(str::to_owned),
        from,
        to,
        before: text("before")
            .map(|b| {
                gatehouse::paging::is_time_cursor(b).then(|| b.to_owned()).ok_or_else(|| {
                    Invalid::new("before", "is not the cursor of a page of the log; start from the newest")
                })
            })
            .transpose()?,
        limit: params.page_size(50, 500),
    })
}

pub async fn logs(state: &AppState, filter: &LogFilter, now: OffsetDateTime) -> AdminResult<LogPage> {
    Ok(state.stores.logs.search(filter, now).await?)
}
