//! Small settings documents (the provider settings, the No Access contact line), each kept as
//! JSON under one name in the secret store.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::secret::SecretString;
use crate::store::{StoreError, StoreResult, Stores};

/// The stored document; the defaults when never saved.
pub async fn load<T: DeserializeOwned + Default>(stores: &Stores, name: &str) -> StoreResult<T> {
    match stores.secrets.get(name).await? {
        None => Ok(T::default()),
        Some(json) => serde_json::from_str(json.expose()).map_err(StoreError::backend),
    }
}

pub async fn save<T: Serialize>(stores: &Stores, name: &str, value: &T) -> StoreResult<()> {
    let json = serde_json::to_string(value).map_err(StoreError::backend)?;
    stores.secrets.put(name, &SecretString::new(json)).await
}
