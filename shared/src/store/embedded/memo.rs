//! Registrations and saved queries as last read or written, kept decoded: nearly every
//! protocol request reads a registration and two queries, and administrators change them
//! rarely. Sound because this process is the database's only writer (the file is held
//! through `unix-excl`) and every read and write of these tables goes through
//! `documents.rs`, which fills and updates a memo only while holding the connection: a read
//! cannot put back a row that a write replaced meanwhile.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

/// Past this many entries the memo starts afresh: lookups of unknown keys are never kept, so
/// only real records fill it, but a bound keeps memory flat whatever the table's size.
const MOST: usize = 4096;

pub(super) struct Memo<K, V> {
    entries: Mutex<HashMap<K, V>>,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    pub fn new() -> Self {
        Self { entries: Mutex::new(HashMap::new()) }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        self.entries().get(key).cloned()
    }

    pub fn keep(&self, key: K, value: V) {
        let mut entries = self.entries();
        if entries.len() >= MOST && !entries.contains_key(&key) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_forgets_and_stays_bounded() {
        let memo = Memo::new();
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
