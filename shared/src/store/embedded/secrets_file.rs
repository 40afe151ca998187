//! Secrets as a JSON object in a file only the owner can read.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::secret::SecretString;
use crate::store::{SecretEntry, SecretStore, StoreError, StoreResult};

/// Secrets as a JSON object in a file only the owner can read, rewritten atomically.
pub struct SecretsFile {
    path: PathBuf,
    values: Mutex<BTreeMap<String, SecretString>>,
}

impl SecretsFile {
    pub fn open(path: PathBuf) -> StoreResult<Self> {
        let values = match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| StoreError::Backend(format!("secrets file {} is unreadable: {e}", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => {
                return Err(StoreError::Backend(format!("cannot read {}: {e}", path.display())));
            }
        };
        Ok(Self { path, values: Mutex::new(values) })
    }

    fn values(&self) -> MutexGuard<'_, BTreeMap<String, SecretString>> {
        match self.values.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Writes a temporary 0600 file and renames it over the old one: a crash leaves either.
    fn persist(&self, values: &BTreeMap<String, SecretString>) -> StoreResult<()> {
        let tmp = self.path.with_extension("json.tmp");
        let json = serde_json::to_vec_pretty(values).map_err(StoreError::backend)?;
        let write = || -> std::io::Result<()> {
            let mut file = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
            file.write_all(&json)?;
            file.sync_all()?;
            fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| StoreError::Backend(format!("cannot write {}: {e}", self.path.display())))
    }
}

#[async_trait]
impl SecretStore for SecretsFile {
    async fn get(&self, name: &str) -> StoreResult<Option<SecretString>> {
        Ok(self.values().get(name).cloned())
    }

    async fn put(&self, name: &str, value: &SecretString) -> StoreResult<()> {
        let mut values = self.values();
        let mut next = values.clone();
        next.insert(name.to_owned(), value.clone());
        self.persist(&next)?;
        *values = next;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> StoreResult<Vec<SecretEntry>> {
        let values = self.values();
        let names = values.keys().filter(|name| name.starts_with(prefix));
        Ok(names.map(|name| SecretEntry { name: name.clone(), created_at: None }).collect())
    }

    async fn delete(&self, name: &str) -> StoreResult<()> {
        let mut values = self.values();
        if values.contains_key(name) {
            let mut next = values.clone();
            next.remove(name);
            self.persist(&next)?;
            *values = next;
        }
        Ok(())
    }
}
