//! Secrets in Secrets Manager, one secret per name, as a string value.
//! Errors name the secret id, never its value.

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata as _;

use super::sdk_error;
use crate::secret::SecretString;
use crate::store::{SecretEntry, SecretStore, StoreError, StoreResult};
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
use time::OffsetDateTime;

pub struct SecretsManager {
    pub client: Client,
    pub prefix: String,
}

impl SecretsManager {
    fn secret_id(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    async fn create(&self, id: &str, value: &SecretString) -> StoreResult<bool> {
        let result = self.client.create_secret().name(id).secret_string(value.expose()).send().await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_exists_exception()) => Ok(false),
            Err(e) => Err(sdk_error("CreateSecret", id, e)),
        }
    }

    /// Sets a new current value; `false` when there is no such secret.
    async fn replace(&self, id: &str, value: &SecretString) -> StoreResult<bool> {
        let result = self.client.put_secret_value().secret_id(id).secret_string(value.expose()).send().await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => Ok(false),
            Err(e) => Err(sdk_error("PutSecretValue", id, e)),
        }
    }
}

#[async_trait]
impl SecretStore for SecretsManager {
    async fn get(&self, name: &str) -> StoreResult<Option<SecretString>> {
        let id = self.secret_id(name);
        match self.client.get_secret_value().secret_id(&id).send().await {
            Ok(output) => match output.secret_string {
                Some(value) => Ok(Some(SecretString::new(value))),
                None => Err(StoreError::Backend(format!("secret {id} has no string value"))),
            },
            Err(e)
                if e.as_service_error().is_some_and(|e| {
                    e.is_resource_not_found_exception()
                        // A deleted secret can linger briefly as "marked for deletion".
                        || (e.is_invalid_request_exception()
                            && e.message().is_some_and(|m| m.contains("deletion")))
                }) =>
            {
                Ok(None)
            }
            Err(e) => Err(sdk_error("GetSecretValue", &id, e)),
        }
    }

    async fn put(&self, name: &str, value: &SecretString) -> StoreResult<()> {
        let id = self.secret_id(name);
        if self.replace(&id, value).await? || self.create(&id, value).await? {
            return Ok(());
        }
        // Someone created it between our two calls: ours is the later write.
        if self.replace(&id, value).await? {
            Ok(())
        } else {
            Err(StoreError::Backend(format!("secret {id} was created and deleted while being written")))
        }
    }

    async fn list(&self, prefix: &str) -> StoreResult<Vec<SecretEntry>> {
        let full = self.secret_id(prefix);
        let filter = Filter::builder().key(FilterNameStringType::Name).values(&full).build();
        let mut pages = self.client.list_secrets().filters(filter).into_paginator().send();
        let mut entries = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("ListSecrets", &full, e))?;
            for secret in page.secret_list() {
                // The name filter matches by prefix, but words elsewhere in a name match too.
                let Some(name) = secret.name().and_then(|n| n.strip_prefix(&self.prefix)) else { continue };
                if name.starts_with(prefix) {
                    let created_at =
                        secret.created_date().and_then(|d| OffsetDateTime::from_unix_timestamp(d.secs()).ok());
                    entries.push(SecretEntry { name: name.to_owned(), created_at });
                }
            }
        }
        Ok(entries)
    }

    async fn delete(&self, name: &str) -> StoreResult<()> {
        let id = self.secret_id(name);
        let result = self.client.delete_secret().secret_id(&id).force_delete_without_recovery(true).send().await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => Ok(()),
            Err(e) => Err(sdk_error("DeleteSecret", &id, e)),
        }
    }
}
