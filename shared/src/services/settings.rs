//! Small settings documents (the provider settings, the No Access contact line), each kept as
//! JSON under one name in the secret store.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::secret::SecretString;
use crate::store::{StoreError, StoreResult, Stores};

/// The stored document; the defaults when never saved.
pub async fn load<T: DeserializeOwned + Default>(stores: &Stores, name: &str) -> StoreResult<T> {
    load_with(stores, name, |json| serde_json::from_str(json)).await
}

/// The same, read by `parse` (for documents whose older forms need reading too).
pub async fn load_with<T: Default>(
    stores: &Stores,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, serde_json::Error>,
) -> StoreResult<T> {
    match stores.secrets.get(name).await? {
        None => Ok(T::default()),
        Some(json) => parse(json.expose()).map_err(StoreError::backend),
    }
}

pub async fn save<T: Serialize>(stores: &Stores, name: &str, value: &T) -> StoreResult<()> {
    let json = serde_json::to_string(value).map_err(StoreError::backend)?;
    stores.secrets.put(name, &SecretString::new(json)).await
}
