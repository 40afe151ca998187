//! Secrets as this process last read them, so a warm Lambda instance calls Secrets Manager for
//! each secret at most once a minute instead of on every request.
//!
//! Staleness: a write through this process forgets what it held at once. A write by another
//! instance is seen within [`SECRET_TTL`], except for a registration's credentials, which are
//! read "as of" the registration's `updated_at`: regenerating a credential stamps the record, so
//! the next request anywhere that reads the record reads the credential again. A read made in
//! the [`SETTLE`] after a stamp may have come before the credential's write (which follows the
//! record's, and stamps are whole seconds), so it is kept only until the stamp is that old.
//! Absent secrets are remembered too (a flood of requests for one reads it once a minute); one
//! created by another instance is seen within the same minute.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use super::{SecretEntry, SecretStore, StoreResult};
use crate::clock::Clock;
use crate::secret::SecretString;

/// How long a read serves before the secret is read again.
pub const SECRET_TTL: Duration = Duration::seconds(60);

/// How long after a credential stamp its secret's write may still be under way (the SDK's
/// bounded retries of up to three calls), and two stamps may share a second.
pub const SETTLE: Duration = Duration::seconds(20);

pub struct CachedSecrets {
    inner: Arc<dyn SecretStore>,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    entries: HashMap<String, Entry>,
    /// Counts this process's writes, so a read that a write overtook is not kept.
    writes: u64,
}

struct Entry {
    value: Option<SecretString>,
    as_of: Option<OffsetDateTime>,
    expires_at: OffsetDateTime,
    read_at: OffsetDateTime,
}

impl Entry {
    fn serves(&self, as_of: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
        // A clock that went back reads again rather than trusting an entry from the future.
        self.as_of == as_of && self.read_at <= now && now < self.expires_at
    }
}

impl CachedSecrets {
    pub fn new(inner: Arc<dyn SecretStore>, clock: Arc<dyn Clock>) -> Self {
        Self { inner, clock, state: Mutex::default() }
    }

    async fn read(&self, name: &str, as_of: Option<OffsetDateTime>) -> StoreResult<Option<SecretString>> {
        let now = self.clock.now();
        let writes = {
            let state = self.state();
            if let Some(entry) = state.entries.get(name).filter(|e| e.serves(as_of, now)) {
                return Ok(entry.value.clone());
            }
            state.writes
        };
        let value = self.inner.get(name).await?;
        let mut expires_at = now + SECRET_TTL;
        if let Some(stamp) = as_of
            && now < stamp + SETTLE
        {
            expires_at = expires_at.min(stamp + SETTLE);
        }
        let entry = Entry { value: value.clone(), as_of, expires_at, read_at: now };
        let mut state = self.state();
        if state.writes == writes {
            state.entries.insert(name.to_owned(), entry);
        }
        Ok(value)
    }

    fn forget(&self, name: &str) {
        let mut state = self.state();
        state.writes += 1;
        state.entries.remove(name);
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state holds no invariant a panicking holder could break.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl SecretStore for CachedSecrets {
    async fn get(&self, name: &str) -> StoreResult<Option<SecretString>> {
        self.read(name, None).await
    }

    async fn get_as_of(&self, name: &str, stamp: OffsetDateTime) -> StoreResult<Option<SecretString>> {
        self.read(name, Some(stamp)).await
    }

    async fn put(&self, name: &str, value: &SecretString) -> StoreResult<()> {
        // Forgotten whatever the outcome: a failed write may still have landed.
        let written = self.inner.put(name, value).await;
        self.forget(name);
        written
    }

    async fn delete(&self, name: &str) -> StoreResult<()> {
        let deleted = self.inner.delete(name).await;
        self.forget(name);
        deleted
    }

    async fn list(&self, prefix: &str) -> StoreResult<Vec<SecretEntry>> {
        self.inner.list(prefix).await
    }
}
