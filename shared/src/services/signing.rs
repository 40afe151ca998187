//! The ID token signing configuration, kept as one secret, and this process's signer.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::oidc::signer::{Signer, SignerCache};
use crate::oidc::signing::{SECRET_NAME, SigningConfig, SigningError};
use crate::secret::SecretString;
use crate::store::{StoreError, Stores};

#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Signing(#[from] SigningError),
}

/// The signing setting and keys; HS512 with no keys when never configured.
pub async fn signing_config(stores: &Stores) -> Result<SigningConfig, StoreError> {
    match stores.secrets.get(SECRET_NAME).await? {
        None => Ok(SigningConfig::default()),
        Some(json) => serde_json::from_str(json.expose()).map_err(StoreError::backend),
    }
}

/// Saves the configuration and forgets this process's signer, so the next token uses it.
pub async fn save_signing_config(
    stores: &Stores,
    cache: &SignerCache,
    config: &SigningConfig,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(config).map_err(StoreError::backend)?;
    let saved = stores.secrets.put(SECRET_NAME, &SecretString::new(json)).await;
    cache.clear();
    saved
}

/// This process's signer: the cached one, or read and parsed again once it is a minute old.
pub async fn signer(stores: &Stores, cache: &SignerCache, now: OffsetDateTime) -> Result<Arc<Signer>, SignerError> {
    if let Some(signer) = cache.fresh(now) {
        return Ok(signer);
    }
    let signer = Arc::new(cache.signer_for(&signing_config(stores).await?)?);
    cache.keep(signer.clone(), now);
    Ok(signer)
}
