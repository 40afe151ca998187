//! The upstream provider settings, kept as one secret.

use crate::services::settings;
use crate::store::{StoreResult, Stores};
use crate::upstream::settings::{SECRET_NAME, UpstreamSettings, from_stored_json};

/// The stored settings; the defaults (Disabled) when never saved. Settings saved before the
/// MFA levels carry the old `mfa_enabled`, which [`from_stored_json`] reads.
pub async fn load(stores: &Stores) -> StoreResult<UpstreamSettings> {
    settings::load_with(stores, SECRET_NAME, from_stored_json).await
}

pub async fn save(stores: &Stores, value: &UpstreamSettings) -> StoreResult<()> {
    settings::save(stores, SECRET_NAME, value).await
}
