//! Registrations, saved queries and contacts as last read, kept decoded: nearly every protocol
//! request reads a registration, two queries and its member, and they change rarely next to
//! how often they are read. Sound because this process is the database's only writer (the file
//! is held through `unix-excl`) and every read and write by key of these tables goes through
//! `documents.rs` or `contacts.rs`, which fill and forget a memo entry only while holding the
//! connection: a read cannot put back a row that a write replaced meanwhile.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

use super::{Database, db_err, value};
use crate::store::StoreResult;

pub(super) struct Memo<K, V> {
    entries: Mutex<HashMap<K, V>>,
    /// Past this many entries the memo starts afresh: lookups of unknown keys are never kept,
    /// so only real records fill it, but a bound keeps memory flat whatever the table's size.
    most: usize,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    pub fn new(most: usize) -> Self {
        Self { entries: Mutex::new(HashMap::new()), most }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        self.entries().get(key).cloned()
    }

    pub fn keep(&self, key: K, value: V) {
        let mut entries = self.entries();
        if entries.len() >= self.most && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, value);
    }

    pub fn forget(&self, key: &K) {
        self.entries().remove(key);
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<K, V>> {
        // A panic while holding it cannot leave a half-made entry: insert and remove are whole.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Database {
    /// The record under `key`: remembered in `memo`, or else the `doc` that `get` (binding
    /// `column` as ?1) reads, decoded and remembered. A hit does not take the connection; a
    /// fill holds it, so that it cannot interleave with a write's forgetting.
    pub(super) fn remembered<K: Eq + Hash + Clone, V: Clone>(
        &self,
        memo: &Memo<K, V>,
        key: &K,
        get: &str,
        column: String,
        decode: impl FnOnce(&str) -> StoreResult<V>,
    ) -> StoreResult<Option<V>> {
        if let Some(hit) = memo.get(key) {
            return Ok(Some(hit));
        }
        self.with(|c| {
            let Some(doc) = value::<String>(c, get, [column]).map_err(db_err)? else { return Ok(None) };
            let record = decode(&doc)?;
            memo.keep(key.clone(), record.clone());
            Ok(Some(record))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_forgets_and_stays_bounded() {
        const MOST: usize = 64;
        let memo = Memo::new(MOST);
        memo.keep(1, "one");
        assert_eq!(memo.get(&1), Some("one"));
        memo.keep(1, "uno");
        assert_eq!(memo.get(&1), Some("uno"));
        memo.forget(&1);
        assert_eq!(memo.get(&1), None);
        for key in 0..MOST + 10 {
            memo.keep(key, "n");
        }
        assert!(memo.entries().len() <= MOST);
        assert_eq!(memo.get(&(MOST + 9)), Some("n"), "the newest entry is kept");
    }
}
