//! Writing the OIDC log.

use serde_json::Value;
use time::OffsetDateTime;

use crate::event_log::{Level, LogEntry};
use crate::store::Stores;

/// Writes one entry. A failing log store must not fail the sign-in: it goes to tracing instead.
pub async fn record(stores: &Stores, now: OffsetDateTime, level: Level, message: &str, details: Value) {
    write(stores, LogEntry::new(level, message, details, now)).await;
}

/// Writes one entry with a `reference` a person can quote (shown on their error page; the
/// administrator's log search finds it); returns the reference.
pub async fn record_with_reference(
    stores: &Stores,
    now: OffsetDateTime,
    level: Level,
    message: &str,
    mut details: Value,
) -> String {
    let reference = crate::secret::random_alphanumeric(10).unwrap_or_default().to_uppercase();
    if let Value::Object(fields) = &mut details {
        fields.insert("reference".into(), Value::String(reference.clone()));
    }
    write(stores, LogEntry::new(level, message, details, now)).await;
    reference
}

async fn write(stores: &Stores, entry: LogEntry) {
    let (level, message) = (entry.level, entry.message.as_str());
    match level {
        Level::Error => tracing::error!(message, details = %entry.details, "oidc"),
        Level::Warning => tracing::warn!(message, details = %entry.details, "oidc"),
        _ => tracing::info!(message, "oidc"),
    }
    if let Err(e) = stores.logs.append(&entry).await {
        tracing::error!(error = %e, "cannot write the OIDC log");
    }
}
