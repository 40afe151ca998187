//! Saved queries and registrations: one row of JSON per record, written over only at the
//! revision it was read at.

use async_trait::async_trait;
use rusqlite::params;

use super::{Database, conflict_or, db_err, decode};
use crate::query::{QueryPath, SavedQuery};
use crate::registration::{ClientId, Registration};
use crate::store::records::{QueryRecord, RegistrationRecord, from_json, to_json};
use crate::store::{QueryStore, RegistrationStore, StoreError, StoreResult, Taken};

/// The two statements of a revised update on one table.
struct Revised {
    /// Binds the key (?1), the next document (?2) and the revision it replaces (?3).
    update: &'static str,
    exists: &'static str,
}

// Documents from before revisions were counted have none: revision 0.
const QUERIES: Revised = Revised {
    update: "UPDATE queries SET doc = ?2 WHERE path = ?1 AND coalesce(json_extract(doc, '$.revision'), 0) = ?3",
    exists: "SELECT 1 FROM queries WHERE path = ?1",
};
const REGISTRATIONS: Revised = Revised {
    update: "UPDATE registrations SET doc = ?2
             WHERE client_id = ?1 AND coalesce(json_extract(doc, '$.revision'), 0) = ?3",
    exists: "SELECT 1 FROM registrations WHERE client_id = ?1",
};

impl Database {
    /// Writes `doc` (the record at revision `from + 1`) over the row under `key` if it is still
    /// at revision `from`: `Stale` if it was written since, `NotFound` if it is gone.
    fn update_revised(&self, table: &Revised, key: &str, doc: String, from: u64) -> StoreResult<()> {
        let from = i64::try_from(from).map_err(StoreError::backend)?;
        if self.execute(table.update, params![key, doc, from]).map_err(db_err)? == 1 {
            return Ok(());
        }
        match self.value::<i64>(table.exists, [key])? {
            Some(_) => Err(StoreError::Stale),
            None => Err(StoreError::NotFound),
        }
    }
}

#[async_trait]
impl QueryStore for Database {
    async fn insert(&self, query: &SavedQuery) -> StoreResult<()> {
        let doc = to_json(&QueryRecord::from(query))?;
        self.execute("INSERT INTO queries (path, doc) VALUES (?1, ?2)", params![query.path.as_str(), doc])
            .map(drop)
            .map_err(|e| conflict_or(e, |_| Taken::Path(query.path.clone())))
    }

    async fn get(&self, path: &QueryPath) -> StoreResult<Option<SavedQuery>> {
        let doc: Option<String> = self.doc("SELECT doc FROM queries WHERE path = ?1", [path.as_str()])?;
        doc.map(|d| from_json::<QueryRecord>(&d).and_then(SavedQuery::try_from)).transpose()
    }

    async fn update(&self, query: &mut SavedQuery) -> StoreResult<()> {
        let next = query.next_revision();
        let doc = to_json(&QueryRecord::from(&next))?;
        self.update_revised(&QUERIES, query.path.as_str(), doc, query.revision)?;
        *query = next;
        Ok(())
    }

    async fn delete(&self, path: &QueryPath) -> StoreResult<bool> {
        Ok(self.execute("DELETE FROM queries WHERE path = ?1", [path.as_str()]).map_err(db_err)? > 0)
    }

    async fn list(&self) -> StoreResult<Vec<SavedQuery>> {
        let docs = self.docs("SELECT doc FROM queries ORDER BY path", [])?;
        decode::<QueryRecord, SavedQuery>(docs)
    }
}

#[async_trait]
impl RegistrationStore for Database {
    async fn insert(&self, registration: &Registration) -> StoreResult<()> {
        let doc = to_json(&RegistrationRecord::from(registration))?;
        self.execute(
            "INSERT INTO registrations (client_id, doc) VALUES (?1, ?2)",
            params![registration.client_id.to_string(), doc],
        )
        .map(drop)
        .map_err(|e| conflict_or(e, |_| Taken::ClientId(registration.client_id)))
    }

    async fn get(&self, client_id: ClientId) -> StoreResult<Option<Registration>> {
        let doc: Option<String> =
            self.doc("SELECT doc FROM registrations WHERE client_id = ?1", [client_id.to_string()])?;
        doc.map(|d| from_json::<RegistrationRecord>(&d).and_then(Registration::try_from)).transpose()
    }

    async fn update(&self, registration: &mut Registration) -> StoreResult<()> {
        let next = registration.next_revision();
        let doc = to_json(&RegistrationRecord::from(&next))?;
        self.update_revised(&REGISTRATIONS, &registration.client_id.to_string(), doc, registration.revision)?;
        *registration = next;
        Ok(())
    }

    async fn delete(&self, client_id: ClientId) -> StoreResult<bool> {
        Ok(self.execute("DELETE FROM registrations WHERE client_id = ?1", [client_id.to_string()]).map_err(db_err)? > 0)
    }

    async fn list(&self) -> StoreResult<Vec<Registration>> {
        let docs = self.docs("SELECT doc FROM registrations", [])?;
        let mut list = decode::<RegistrationRecord, Registration>(docs)?;
        list.sort_by_key(|a| a.settings.name.to_lowercase());
        Ok(list)
    }
}
