//! The upstream provider settings, kept as one secret.

use crate::secret::SecretString;
use crate::store::{StoreError, StoreResult, Stores};
use crate::upstream::settings::{self, SECRET_NAME, UpstreamSettings};

/// The stored settings; the defaults (Disabled) when never saved.
pub async fn load(stores: &Stores) -> StoreResult<UpstreamSettings> {
    match stores.secrets.get(SECRET_NAME).await? {
        None => Ok(UpstreamSettings::default()),
        Some(json) => settings::from_stored_json(json.expose()).map_err(StoreError::backend),
    }
}

pub async fn save(stores: &Stores, settings: &UpstreamSettings) -> StoreResult<()> {
    let json = serde_json::to_string(settings).map_err(StoreError::backend)?;
    stores.secrets.put(SECRET_NAME, &SecretString::new(json)).await
}
