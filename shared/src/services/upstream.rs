//! The upstream provider settings, kept as one secret.

use crate::services::settings;
use crate::store::{StoreResult, Stores};
use crate::upstream::settings::{SECRET_NAME, UpstreamSettings};

/// The stored settings; the defaults (Disabled) when never saved.
pub async fn load(stores: &Stores) -> StoreResult<UpstreamSettings> {
    settings::load(stores, SECRET_NAME).await
}

pub async fn save(stores: &Stores, value: &UpstreamSettings) -> StoreResult<()> {
    settings::save(stores, SECRET_NAME, value).await
}
