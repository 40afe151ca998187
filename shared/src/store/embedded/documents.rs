//! Saved queries and registrations: one row of JSON per record, written over only at the
//! revision it was read at, and remembered decoded (see `memo.rs`): a memo is filled and
//! forgotten only inside the connection's lock, so a read cannot put back a replaced row.

use std::hash::Hash;

use async_trait::async_trait;
use rusqlite::params;

use super::memo::Memo;
use super::{Database, conflict_or, db_err, decode, value};
use crate::query::{QueryPath, SavedQuery};
use crate::registration::{ClientId, Registration};
use crate::store::records::{QueryRecord, RegistrationRecord, from_json, to_json};
use crate::store::{QueryStore, RegistrationStore, StoreError, StoreResult, Taken};

/// One table's statements, each binding the key as ?1.
struct Table {
    /// Binds the document (?2).
    insert: &'static str,
    get: &'static str,
    /// Binds the next document (?2) and the revision it replaces (?3).
    update: &'static str,
    delete: &'static str,
}

// Documents from before revisions were counted have none: revision 0.
const QUERIES: Table = Table {
    insert: "INSERT INTO queries (path, doc) VALUES (?1, ?2)",
    get: "SELECT doc FROM queries WHERE path = ?1",
    update: "UPDATE queries SET doc = ?2 WHERE path = ?1 AND coalesce(json_extract(doc, '$.revision'), 0) = ?3",
    delete: "DELETE FROM queries WHERE path = ?1",
};
const REGISTRATIONS: Table = Table {
    insert: "INSERT INTO registrations (client_id, doc) VALUES (?1, ?2)",
    get: "SELECT doc FROM registrations WHERE client_id = ?1",
    update: "UPDATE registrations SET doc = ?2
             WHERE client_id = ?1 AND coalesce(json_extract(doc, '$.revision'), 0) = ?3",
    delete: "DELETE FROM registrations WHERE client_id = ?1",
};

/// A record type stored in a [`Table`] as its `Record`, remembered in a [`Memo`] under its key.
trait Document: Clone + TryFrom<Self::Record, Error = StoreError> {
    type Key: Eq + Hash + Clone;
    type Record: serde::Serialize + for<'de> serde::Deserialize<'de> + for<'a> From<&'a Self>;
    const TABLE: Table;
    fn key(&self) -> Self::Key;
    fn column(key: &Self::Key) -> String;
    fn memo(db: &Database) -> &Memo<Self::Key, Self>;
    fn taken(&self) -> Taken;
    fn revision(&self) -> u64;
}

impl Document for SavedQuery {
    type Key = QueryPath;
    type Record = QueryRecord;
    const TABLE: Table = QUERIES;
    fn key(&self) -> QueryPath {
        self.path.clone()
    }
    fn column(key: &QueryPath) -> String {
        key.as_str().to_owned()
    }
    fn memo(db: &Database) -> &Memo<QueryPath, Self> {
        &db.queries
    }
    fn taken(&self) -> Taken {
        Taken::Path(self.path.clone())
    }
    fn revision(&self) -> u64 {
        self.revision
    }
}

impl Document for Registration {
    type Key = ClientId;
    type Record = RegistrationRecord;
    const TABLE: Table = REGISTRATIONS;
    fn key(&self) -> ClientId {
        self.client_id
    }
    fn column(key: &ClientId) -> String {
        key.to_string()
    }
    fn memo(db: &Database) -> &Memo<ClientId, Self> {
        &db.registrations
    }
    fn taken(&self) -> Taken {
        Taken::ClientId(self.client_id)
    }
    fn revision(&self) -> u64 {
        self.revision
    }
}

impl Database {
    fn insert_document<D: Document>(&self, document: &D) -> StoreResult<()> {
        let doc = to_json(&D::Record::from(document))?;
        let key = document.key();
        self.with(|c| {
            c.prepare_cached(D::TABLE.insert)?.execute(params![D::column(&key), doc])?;
            D::memo(self).forget(&key);
            Ok(())
        })
        .map_err(|e| conflict_or(e, |_| document.taken()))
    }

    fn get_document<D: Document>(&self, key: &D::Key) -> StoreResult<Option<D>> {
        self.remembered(D::memo(self), key, D::TABLE.get, D::column(key), |doc| {
            from_json::<D::Record>(doc).and_then(D::try_from)
        })
    }

    /// Writes `next` (the record at its revision) over the row if it is still at the revision
    /// `document` was read at: `Stale` if it was written since, `NotFound` if it is gone.
    fn update_document<D: Document>(&self, document: &D, next: &D) -> StoreResult<()> {
        let from = i64::try_from(document.revision()).map_err(StoreError::backend)?;
        let doc = to_json(&D::Record::from(next))?;
        let key = document.key();
        let column = D::column(&key);
        self.with(|c| {
            // Forgotten, written or not: the next read takes the row as stored (a document read
            // back is what every other read returns), and a refused one may have been overtaken.
            D::memo(self).forget(&key);
            if c.prepare_cached(D::TABLE.update)?.execute(params![column, doc, from])? == 1 {
                return Ok(Ok(()));
            }
            Ok(match value::<String>(c, D::TABLE.get, [&column])? {
                Some(_) => Err(StoreError::Stale),
                None => Err(StoreError::NotFound),
            })
        })
        .map_err(db_err)?
    }

    fn delete_document<D: Document>(&self, key: &D::Key) -> StoreResult<bool> {
        self.with(|c| {
            let removed = c.prepare_cached(D::TABLE.delete)?.execute([D::column(key)])?;
            D::memo(self).forget(key);
            Ok(removed > 0)
        })
        .map_err(db_err)
    }
}

#[async_trait]
impl QueryStore for Database {
    async fn insert(&self, query: &SavedQuery) -> StoreResult<()> {
        self.insert_document(query)
    }

    async fn get(&self, path: &QueryPath) -> StoreResult<Option<SavedQuery>> {
        self.get_document(path)
    }

    async fn update(&self, query: &mut SavedQuery) -> StoreResult<()> {
        let next = query.next_revision();
        self.update_document(query, &next)?;
        *query = next;
        Ok(())
    }

    async fn delete(&self, path: &QueryPath) -> StoreResult<bool> {
        self.delete_document::<SavedQuery>(path)
    }

    async fn list(&self) -> StoreResult<Vec<SavedQuery>> {
        let docs = self.docs("SELECT doc FROM queries ORDER BY path", [])?;
        decode::<QueryRecord, SavedQuery>(docs)
    }
}

#[async_trait]
impl RegistrationStore for Database {
    async fn insert(&self, registration: &Registration) -> StoreResult<()> {
        self.insert_document(registration)
    }

    async fn get(&self, client_id: ClientId) -> StoreResult<Option<Registration>> {
        self.get_document(&client_id)
    }

    async fn update(&self, registration: &mut Registration) -> StoreResult<()> {
        let next = registration.next_revision();
        self.update_document(registration, &next)?;
        *registration = next;
        Ok(())
    }

    async fn delete(&self, client_id: ClientId) -> StoreResult<bool> {
        self.delete_document::<Registration>(&client_id)
    }

    async fn list(&self) -> StoreResult<Vec<Registration>> {
        let docs = self.docs("SELECT doc FROM registrations", [])?;
        let mut list = decode::<RegistrationRecord, Registration>(docs)?;
        list.sort_by_key(|a| a.settings.name.to_lowercase());
        Ok(list)
    }
}
