//! Writing the OIDC log.

use serde_json::Value;
use time::OffsetDateTime;

use crate::event_log::{Level, LogEntry};
use crate::store::Stores;

/// Writes one entry. A failing log store must not fail the sign-in: it goes to tracing instead.
pub async fn record(stores: &Stores, now: OffsetDateTime, level: Level, message: &str, details: Value) {
    let entry = LogEntry::new(level, message, details, now);
    match level {
        Level::Error => tracing::error!(message, details = %entry.details, "oidc"),
        Level::Warning => tracing::warn!(message, details = %entry.details, "oidc"),
        _ => tracing::info!(message, "oidc"),
    }
    if let Err(e) = stores.logs.append(&entry).await {
        tracing::error!(error = %e, "cannot write the OIDC log");
    }
}
